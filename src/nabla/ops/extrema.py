"""Extremes: max/min (values and indices along a dim), amax/amin, argmax/argmin.

The gradient of a max goes to the element that won: to its index for max/min along a dim, split
evenly among ties for amax/amin and for max()/min() of all elements (as PyTorch, whose
max()/min() give 0 to the others even for an infinite or NaN gradient, where amax/amin multiply).
"""

import builtins
from collections import namedtuple
from functools import partial

from nabla import dtype as _dt
from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.arithmetic import maximum, minimum
from nabla.ops.elementwise import masked_grad, where
from nabla.ops.reduce import _dims, _keep, _one_dim, _out_shape, _plain, _quiet, _raw, _unreduce
from nabla.tensor import Tensor

__all__ = ["max", "min", "amax", "amin", "argmax", "argmin"]

# The (values, indices) pair of max/min along a dim, as torch.return_types.max / .min.
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


# -- max, min, amax, amin, argmax, argmin -------------------------------------------------------
def _select(ctx, x, dim: int, keepdim: bool, arg):
    """(values, indices) of ``arg`` (argmax or argmin) along ``dim``; the indices with the dim
    kept are saved for backward."""
    xp = array_module(x)
    ctx.in_shape, ctx.dim, ctx.keepdim = x.shape, dim, keepdim
    if x.ndim == 0:
        idx = xp.zeros((), _dt.int64)
        values = x.copy()
    else:
        if x.shape[dim] == 0:
            raise IndexError(f"cannot take the extreme of an empty dimension {dim} of {x.shape}")
        kept = arg(x, axis=dim, keepdims=True).astype(_dt.int64, copy=False)
        ctx.save_for_backward(kept)  # a constant, not the indices output: no graph around it
        values = xp.take_along_axis(x, kept, axis=dim)
        idx = kept
        if not keepdim:
            values, idx = values.squeeze(dim), kept.squeeze(dim)
    ctx.mark_non_differentiable(idx)
    return values, idx


def _to_index(ctx, grad: Tensor) -> Tensor:
    """``grad`` placed at the saved (keepdim) indices along ``ctx.dim``, zero elsewhere."""
    if not ctx.in_shape:
        return grad
    i = _raw(ctx.saved_tensors[0])
    xp = array_module(i)
    trailing = (1,) * (len(ctx.in_shape) - ctx.dim - 1)
    span = xp.arange(ctx.in_shape[ctx.dim]).reshape((-1,) + trailing)
    hit = span == i
    return where(hit, _keep(grad, ctx.in_shape, (ctx.dim,), ctx.keepdim), 0.0)


class Max(Op):
    """(values, indices) = max of x along dim;  dvalues/dx = grad at the index of each max."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        return _select(ctx, x, dim, keepdim, array_module(x).argmax)

    @staticmethod
    def backward(ctx, grad, grad_indices):
        return _to_index(ctx, grad), None, None


class Min(Op):
    """(values, indices) = min of x along dim;  dvalues/dx = grad at the index of each min."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        return _select(ctx, x, dim, keepdim, array_module(x).argmin)

    @staticmethod
    def backward(ctx, grad, grad_indices):
        return _to_index(ctx, grad), None, None


def _extreme_backward(ctx, grad: Tensor) -> Tensor:
    """grad split evenly among the elements equal to the extreme (PyTorch's rule for amax)."""
    x, y = ctx.saved_tensors
    hit = _raw(x) == _raw(y)
    with _quiet(array_module(hit), invalid="ignore"):  # a NaN extreme: no hit, NaN as PyTorch
        weight = hit / hit.sum(axis=ctx.dims, keepdims=True).astype(x.dtype)
    return _unreduce(grad, ctx.in_shape, ctx.dims, ctx.keepdim) * weight


def _extreme(ctx, x, dims, keepdim, reduce):
    if builtins.any(x.shape[d] == 0 for d in dims):
        raise IndexError(f"cannot reduce over the empty dims {dims} of a tensor of {x.shape}")
    ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
    y = array_module(x).asarray(reduce(x, axis=dims, keepdims=True))  # not a NumPy scalar
    ctx.save_for_backward(x, y)
    return y if keepdim else y.reshape(_out_shape(x.shape, dims, False))


class Amax(Op):
    """y = max of x over dims;  dy/dx = grad split evenly among the elements equal to y."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        return _extreme(ctx, x, dims, keepdim, array_module(x).max)

    @staticmethod
    def backward(ctx, grad):
        return _extreme_backward(ctx, grad), None, None


class Amin(Op):
    """y = min of x over dims;  dy/dx = grad split evenly among the elements equal to y."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        return _extreme(ctx, x, dims, keepdim, array_module(x).min)

    @staticmethod
    def backward(ctx, grad):
        return _extreme_backward(ctx, grad), None, None


def _evenly_backward(ctx, grad: Tensor) -> Tensor:
    """PyTorch's rule for max() and min() of all elements: grad / n at each of the n elements
    equal to the result (at the NaNs when it is NaN), 0 elsewhere (even for an infinite grad)."""
    x, y = ctx.saved_tensors
    xr, yr = _raw(x), _raw(y)
    xp = array_module(xr)
    hit = xp.isnan(xr) if xp.isnan(yr).any() else xr == yr
    return masked_grad(grad, (hit / hit.sum()).astype(xr.dtype))


class MaxAll(Op):
    """y = max of all elements of x;  dy/dx = grad split evenly among the elements equal to y
    (the NaNs when y is NaN), 0 elsewhere."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return _extreme(ctx, x, tuple(range(x.ndim)), False, array_module(x).max)

    @staticmethod
    def backward(ctx, grad):
        return _evenly_backward(ctx, grad)


class MinAll(Op):
    """y = min of all elements of x;  dy/dx as for MaxAll."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return _extreme(ctx, x, tuple(range(x.ndim)), False, array_module(x).min)

    @staticmethod
    def backward(ctx, grad):
        return _evenly_backward(ctx, grad)


def max(input: Tensor, dim=None, keepdim: bool = False):
    """The largest element, or the largest along ``dim`` with its index.

    Args:
        input: tensor of any shape.
        dim: None for the max of all elements, or an int. A Tensor here means
            ``maximum(input, dim)``, as ``torch.max(a, b)``.
        keepdim: keep the reduced dimension with size 1.

    Returns:
        A 0-d tensor when dim is None (its gradient split among ties); otherwise a namedtuple
        ``(values, indices)`` with the input's shape without ``dim`` (indices: int64, the first
        maximum; the gradient goes to that index).
    """
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    if dim is None:
        return MaxAll.apply(input)
    d = _one_dim("max", dim, input.ndim)
    return max_result(*Max.apply(input, 0 if d == () else d, keepdim))


def min(input: Tensor, dim=None, keepdim: bool = False):
    """The smallest element, or the smallest along ``dim`` with its index; as ``max``."""
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    if dim is None:
        return MinAll.apply(input)
    d = _one_dim("min", dim, input.ndim)
    return min_result(*Min.apply(input, 0 if d == () else d, keepdim))


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Max over ``dim`` (int or tuple; () or None: all); the gradient is split among ties."""
    return Amax.apply(input, _dims(dim, input.ndim, "amax"), keepdim)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Min over ``dim`` (int or tuple; () or None: all); the gradient is split among ties."""
    return Amin.apply(input, _dims(dim, input.ndim, "amin"), keepdim)


def _arg(name: str, input: Tensor, dim, keepdim: bool, fn) -> Tensor:
    x = input._data
    if dim is None:
        return _plain(partial(arg_index, which=fn, axis=None, keepdims=keepdim), input)
    d = _one_dim(name, dim, x.ndim)
    if d == ():  # 0-d input
        return Tensor._make(array_module(x).zeros((), _dt.int64))
    if x.shape[d] == 0:
        raise IndexError(f"{name}: cannot take the {name} of an empty dimension {d} of {x.shape}")
    # through _plain, so that nabla.jit.trace replays it instead of freezing the indices
    return _plain(partial(arg_index, which=fn, axis=d, keepdims=keepdim), input)


def arg_index(a, which, axis, keepdims: bool):
    """``which`` (the array module's argmax or argmin) of array ``a`` along ``axis``, int64."""
    return which(a, axis=axis, keepdims=keepdims).astype(_dt.int64, copy=False)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first maximum; of the flattened input when dim is None. No grad."""
    return _arg("argmax", input, dim, keepdim, array_module(input._data).argmax)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first minimum; of the flattened input when dim is None. No grad."""
    return _arg("argmin", input, dim, keepdim, array_module(input._data).argmin)
