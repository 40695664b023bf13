"""Reductions: sum, mean, var/std, prod, max/min, logsumexp, cumsum, softmax, all/any.

A reduction's gradient spreads ``grad`` back over the reduced dimensions: reshape it to the
keepdim shape, then broadcast (``_unreduce``). Dimensions follow PyTorch: ``dim`` is None (all),
an int or a tuple, negatives count from the end, and a 0-d tensor accepts dim 0 and -1.
"""

import builtins
import contextlib
import math
import operator
import warnings
from collections import namedtuple

from nabla import dtype as _dt
from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.arithmetic import maximum, minimum
from nabla.ops.elementwise import exp, to_dtype, where
from nabla.ops.shape import broadcast_to, reshape
from nabla.tensor import Tensor

__all__ = ["sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax",
           "argmin", "logsumexp", "cumsum", "softmax", "log_softmax", "all", "any"]

# The (values, indices) pair of max/min along a dim, as torch.return_types.max / .min.
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


# -- dimension helpers --------------------------------------------------------------------------
def _dims(dim, ndim: int, name: str) -> tuple:
    """``dim`` (None, an int or a sequence; negatives allowed) as sorted non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if not isinstance(dim, (tuple, list)) else tuple(dim)
    if not dims:  # PyTorch: an empty dim list reduces every dimension
        return tuple(range(ndim))
    n = builtins.max(ndim, 1)  # a 0-d tensor behaves as 1-d for dim checks, as in PyTorch
    out = []
    for d in dims:
        d = operator.index(d)
        if not -n <= d < n:
            raise IndexError(
                f"{name}: dim {d} is out of range for a tensor of {ndim} dimension(s) "
                f"(expected a dim in [{-n}, {n - 1}])"
            )
        d %= n
        if d in out:
            raise RuntimeError(f"{name}: dim {d} appears more than once in {dim}")
        out.append(d)
    return tuple(sorted(out)) if ndim else ()


def _kept_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _out_shape(shape: tuple, dims: tuple, keepdim: bool) -> tuple:
    if keepdim:
        return _kept_shape(shape, dims)
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _count(shape: tuple, dims: tuple) -> int:
    return math.prod(shape[d] for d in dims)


def _keep(t: Tensor, in_shape: tuple, dims: tuple, keepdim: bool) -> Tensor:
    """A reduced tensor reshaped to the keepdim shape, so it broadcasts against the input."""
    return t if keepdim else reshape(t, _kept_shape(in_shape, dims))


def _unreduce(grad: Tensor, in_shape: tuple, dims: tuple, keepdim: bool) -> Tensor:
    """The gradient of a reduction spread back over the reduced dimensions."""
    return broadcast_to(_keep(grad, in_shape, dims, keepdim), in_shape)


def _raw(value):
    """The array of a Tensor (backward rules here run on Tensors or, in the engine's fast mode,
    on raw arrays: constants such as masks are built from the arrays either way)."""
    return value._data if isinstance(value, Tensor) else value


def _quiet(xp, **which):
    """Silence NumPy's floating-point warnings where PyTorch is silent (CuPy never warns)."""
    errstate = getattr(xp, "errstate", None)
    return contextlib.nullcontext() if errstate is None else errstate(**which)


def _safe_div(num: Tensor, den: Tensor) -> Tensor:
    """num / den, and 0 where den == 0 (no nan, also in the second derivative: den is replaced
    by 1 there before dividing, so no 0/0 appears in either pass)."""
    zero = _raw(den) == 0
    return where(zero, 0.0, num / where(zero, 1.0, den))


def _int_to_long(x, dtype):
    """Sums and products of integers and bools accumulate in int64, as in PyTorch."""
    if dtype is None and x.dtype.kind in "biu":
        return _dt.int64
    return dtype


# -- sum, mean, var, std, prod ------------------------------------------------------------------
class Sum(Op):
    """y = sum of x over dims;  dy/dx = grad broadcast back over the summed dims."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return array_module(x).sum(x, axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return _unreduce(grad, ctx.in_shape, ctx.dims, ctx.keepdim), None, None, None


class Mean(Op):
    """y = mean of x over dims (n elements each);  dy/dx = grad / n broadcast back."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.n = n = _count(x.shape, dims)
        xp = array_module(x)
        with _quiet(xp, invalid="ignore"):  # the mean of nothing is nan, silently as PyTorch
            return xp.asarray(xp.mean(x, axis=dims, keepdims=keepdim, dtype=dtype) if n else
                              xp.sum(x, axis=dims, keepdims=keepdim, dtype=dtype) / n)

    @staticmethod
    def backward(ctx, grad):
        return _unreduce(grad, ctx.in_shape, ctx.dims, ctx.keepdim) / ctx.n, None, None, None


def _variance(x, dims, keepdim, correction):
    """sum((x - mean)^2) / max(n - correction, 0) over dims, and n - correction (PyTorch's
    backward divides by it unclamped)."""
    xp = array_module(x)
    n = _count(x.shape, dims)
    divisor = n - correction
    if divisor <= 0:  # as PyTorch, a warning and an inf or nan result
        warnings.warn(f"var/std: degrees of freedom n - correction = {divisor} <= 0 (n={n}, "
                      f"correction={correction}); the result is inf or nan", RuntimeWarning,
                      stacklevel=5)
    with _quiet(xp, divide="ignore", invalid="ignore"):
        d = x - x.mean(axis=dims, keepdims=True)
        v = xp.sum(d * d, axis=dims, keepdims=keepdim) / x.dtype.type(builtins.max(divisor, 0))
    return v, divisor


class Var(Op):
    """y = sum((x - mean)^2) / (n - correction);  dy/dx = grad * 2 (x - mean) / (n - correction)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, correction):
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        v, ctx.divisor = _variance(x, dims, keepdim, correction)
        ctx.save_for_backward(x)
        return v

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        g = _unreduce(grad, ctx.in_shape, ctx.dims, ctx.keepdim)
        scale = 2.0 / ctx.divisor if ctx.divisor else math.inf
        return g * (x - mean(x, ctx.dims, True)) * scale, None, None, None


class Std(Op):
    """y = sqrt(var(x));  dy/dx = grad * (x - mean) / ((n - correction) y), 0 where y = 0."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, correction):
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        v, ctx.divisor = _variance(x, dims, keepdim, correction)
        y = array_module(x).asarray(array_module(x).sqrt(v))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g = _safe_div(grad, y)  # PyTorch masks the gradient of a zero std to 0
        g = _unreduce(g, ctx.in_shape, ctx.dims, ctx.keepdim)
        scale = 1.0 / ctx.divisor if ctx.divisor else math.inf
        return g * (x - mean(x, ctx.dims, True)) * scale, None, None, None


class Prod(Op):
    """y = product of x over dims;  dy/dx_i = grad * (product of the others), computed without
    dividing by zero where x has zeros (and with exact second derivatives there too)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        y = array_module(x).asarray(x.prod(axis=dims, keepdims=keepdim, dtype=dtype))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        g = _unreduce(grad, ctx.in_shape, dims, keepdim)
        zero = _raw(x) == 0
        if not zero.any():
            return g * _keep(y, ctx.in_shape, dims, keepdim) / x, None, None, None
        return g * _prod_of_others(x, zero, dims), None, None, None


def _prod_of_others(x, zero, dims: tuple):
    """For each element, the product of the other elements of its slice, where x has zeros.

    With p = the product of the nonzeros and s = the sum of the zeros (0 in value, but it carries
    their derivatives), a slice with one zero z gives p at z and s * p / x_j elsewhere; with two
    zeros, (s - x_z) * p at each zero and 0 elsewhere; with more, 0. Written so, the first
    derivative of the result is exact too (the second derivative of prod).
    """
    count = zero.sum(axis=dims, keepdims=True)
    nonzero = where(zero, 1.0, x)
    p = Prod.apply(nonzero, dims, True, None)
    s = sum(where(zero, x, 0.0), dims, True)
    q = p / nonzero
    two = where(zero & (count == 2), (s - x) * p, 0.0)
    return where(count == 0, q, where(count == 1, where(zero, p, s * q), two))


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum of elements over ``dim``.

    Args:
        input: tensor of any shape.
        dim: int, tuple of ints or None (all dimensions).
        keepdim: keep the reduced dimensions with size 1.
        dtype: accumulate and return in this dtype (integers and bools default to int64).

    Returns:
        The input's shape without (or with size 1 at, if keepdim) the reduced dimensions.
    """
    dims = _dims(dim, input.ndim, "sum")
    return Sum.apply(input, dims, keepdim, _int_to_long(input, _dt.to_dtype(dtype)))


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of elements over ``dim`` (floating inputs only, as in PyTorch); shapes as ``sum``."""
    dtype = _dt.to_dtype(dtype)
    if (dtype or input.dtype).kind not in "fc":
        raise RuntimeError(
            f"mean: input dtype must be floating point, got {input.dtype}. Convert it first "
            "(x.float()) or pass dtype=nabla.float32."
        )
    return Mean.apply(input, _dims(dim, input.ndim, "mean"), keepdim, dtype)


def _correction(name: str, unbiased, correction) -> int:
    if unbiased is not None and correction is not None:
        raise ValueError(f"{name}: pass either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance sum((x - mean)^2) / (n - correction) over ``dim``.

    Args:
        input: floating tensor of any shape.
        dim: int, tuple of ints or None (all). A bool here is taken as ``unbiased`` (old API).
        unbiased: False for correction 0 (population variance), True for 1.
        keepdim: keep the reduced dimensions with size 1.
        correction: the number subtracted from n (default 1, Bessel's correction).

    Returns:
        The input's shape without (or with size 1 at, if keepdim) the reduced dimensions.
    """
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    c = _correction("var", unbiased, correction)
    return Var.apply(input, _dims(dim, input.ndim, "var"), keepdim, c)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation sqrt(var); arguments and shapes as ``var``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    c = _correction("std", unbiased, correction)
    return Std.apply(input, _dims(dim, input.ndim, "std"), keepdim, c)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of elements over ``dim`` (None: all); shapes as ``sum``."""
    dims = _dims(dim, input.ndim, "prod")
    return Prod.apply(input, dims, keepdim, _int_to_long(input, _dt.to_dtype(dtype)))


def _one_dim(name: str, dim, ndim: int):
    """A single ``dim`` as a non-negative axis; () for a 0-d tensor (which accepts 0 and -1)."""
    if isinstance(dim, (tuple, list, bool)) or dim is None:
        raise TypeError(f"{name}: dim must be one int, got {dim!r}")
    dims = _dims(dim, ndim, name)
    return dims[0] if dims else ()


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
        return Amax.apply(input, tuple(range(input.ndim)), False)
    d = _one_dim("max", dim, input.ndim)
    return max_result(*Max.apply(input, 0 if d == () else d, keepdim))


def min(input: Tensor, dim=None, keepdim: bool = False):
    """The smallest element, or the smallest along ``dim`` with its index; as ``max``."""
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    if dim is None:
        return Amin.apply(input, tuple(range(input.ndim)), False)
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
        return Tensor._make(fn(x, axis=None, keepdims=keepdim))
    d = _one_dim(name, dim, x.ndim)
    if d == ():  # 0-d input
        return Tensor._make(array_module(x).zeros((), _dt.int64))
    if x.shape[d] == 0:
        raise IndexError(f"{name}: cannot take the {name} of an empty dimension {d} of {x.shape}")
    return Tensor._make(fn(x, axis=d, keepdims=keepdim).astype(_dt.int64, copy=False))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first maximum; of the flattened input when dim is None. No grad."""
    return _arg("argmax", input, dim, keepdim, array_module(input._data).argmax)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first minimum; of the flattened input when dim is None. No grad."""
    return _arg("argmin", input, dim, keepdim, array_module(input._data).argmin)


# -- logsumexp, cumsum, softmax, log_softmax ----------------------------------------------------
class Logsumexp(Op):
    """y = m + log(sum(exp(x - m))) over dims with m = max x (no overflow);
    dy/dx = grad * exp(x - y)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = array_module(x)
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        if x.size:
            m = xp.asarray(x.max(axis=dims, keepdims=True))  # (an array also for 0-d x)
            m[xp.isinf(m)] = 0  # rows of -inf (or holding +inf): avoid inf - inf = nan
        else:
            m = xp.zeros(_kept_shape(x.shape, dims), x.dtype)
        with _quiet(xp, divide="ignore"):  # log(0) = -inf for all -inf rows, as PyTorch
            y = xp.log(xp.exp(x - m).sum(axis=dims, keepdims=True)) + m
        if not keepdim:
            y = y.reshape(_out_shape(x.shape, dims, False))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        y = _keep(y, ctx.in_shape, ctx.dims, ctx.keepdim)
        return _keep(grad, ctx.in_shape, ctx.dims, ctx.keepdim) * exp(x - y), None, None


class Cumsum(Op):
    """y_i = sum_{j <= i} x_j along dim;  dy/dx = the reversed cumulative sum of grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, dtype):
        ctx.dim = dim
        return array_module(x).cumsum(x, axis=dim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return ReverseCumsum.apply(grad, ctx.dim), None, None


class ReverseCumsum(Op):
    """y_i = sum_{j >= i} x_j along dim (the gradient of cumsum);  dy/dx = cumsum of grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        xp = array_module(x)
        return xp.flip(xp.cumsum(xp.flip(x, dim), axis=dim), dim)

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, ctx.dim, None), None


class Softmax(Op):
    """y = exp(x - max x) / sum(exp(x - max x)) along dim;  dy/dx = y * (grad - sum(grad * y))."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        xp = array_module(x)
        ctx.dim = dim
        if x.size == 0:
            e = x.copy()
            ctx.save_for_backward(e)
            return e
        e = xp.asarray(x - x.max(axis=dim, keepdims=True))  # (an array also for 0-d x)
        xp.exp(e, out=e)
        e /= e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(e)
        return e

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - sum(grad * y, ctx.dim, True)), None


class LogSoftmax(Op):
    """y = x - max x - log(sum(exp(x - max x))) along dim;
    dy/dx = grad - exp(y) * sum(grad)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        xp = array_module(x)
        ctx.dim = dim
        if x.size == 0:
            s = x.copy()
            ctx.save_for_backward(s)
            return s
        s = xp.asarray(x - x.max(axis=dim, keepdims=True))
        s -= xp.log(xp.exp(s).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - exp(y) * sum(grad, ctx.dim, True), None


def _float_input(name: str, input: Tensor, dtype=None) -> Tensor:
    """``input`` cast to ``dtype``, or integers to the default float (PyTorch's promotion)."""
    dtype = _dt.to_dtype(dtype)
    if dtype is None and input.dtype.kind not in "fc":
        dtype = _dt.get_default_dtype()
    return input if dtype is None else to_dtype(input, dtype)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over ``dim``, computed without overflow.

    Args:
        input: tensor of any shape (integers are promoted to the default float dtype).
        dim: int or tuple of ints.
        keepdim: keep the reduced dimensions with size 1.

    Returns:
        The input's shape without (or with size 1 at, if keepdim) the reduced dimensions.
    """
    input = _float_input("logsumexp", input)
    return Logsumexp.apply(input, _dims(dim, input.ndim, "logsumexp"), keepdim)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative sum along ``dim``: y_i = x_0 + ... + x_i; same shape as the input."""
    d = _one_dim("cumsum", dim, input.ndim)
    dtype = _int_to_long(input, _dt.to_dtype(dtype))
    if d == ():  # a 0-d input: its cumulative sum is itself
        return reshape(Cumsum.apply(reshape(input, (1,)), 0, dtype), ())
    return Cumsum.apply(input, d, dtype)


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim``, computed stably.

    Args:
        input: tensor of any shape.
        dim: the dimension that sums to 1.
        dtype: cast the input to this dtype first.

    Returns:
        Same shape as the input.
    """
    input = _float_input("softmax", input, dtype)
    return Softmax.apply(input, _one_dim("softmax", dim, input.ndim))


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """x_i - log(sum_j exp(x_j)) along ``dim``, computed stably; shapes as ``softmax``."""
    input = _float_input("log_softmax", input, dtype)
    return LogSoftmax.apply(input, _one_dim("log_softmax", dim, input.ndim))


# -- all, any ---------------------------------------------------------------------------------
def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element over ``dim`` is nonzero (bool tensor, no gradient)."""
    dims = _dims(dim, input.ndim, "all")
    return Tensor._make(array_module(input._data).all(input._data, axis=dims, keepdims=keepdim))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element over ``dim`` is nonzero (bool tensor, no gradient)."""
    dims = _dims(dim, input.ndim, "any")
    return Tensor._make(array_module(input._data).any(input._data, axis=dims, keepdims=keepdim))
