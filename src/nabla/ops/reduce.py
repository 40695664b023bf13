"""Reductions: sum, mean, var/std, prod, cumsum, all/any (max/min and friends are in extrema.py,
logsumexp and softmax in softmax.py; the dimension helpers below serve all three).

A reduction's gradient spreads ``grad`` back over the reduced dimensions: reshape it to the
keepdim shape, then broadcast (``_unreduce``). Dimensions follow PyTorch: ``dim`` is None (all),
an int or a tuple, negatives count from the end, and a 0-d tensor accepts dim 0 and -1.
"""

import builtins
import math
import operator
import warnings
from functools import partial

from nabla import dtype as _dt
from nabla.autograd.function import Op
from nabla.autograd.grad_mode import _trace
from nabla.backend import array_module
from nabla.backend import quiet as _quiet  # noqa: F401  (the ops import it from here)
from nabla.ops.elementwise import where
from nabla.ops.shape import broadcast_to, reshape
from nabla.tensor import Tensor

__all__ = ["sum", "mean", "var", "std", "var_mean", "std_mean", "prod", "cumsum", "all", "any"]



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
        if ctx.divisor:
            return g * (x - mean(x, ctx.dims, True)) * (2.0 / ctx.divisor), None, None, None
        with _quiet(array_module(_raw(x)), invalid="ignore"):  # n <= correction: inf * 0 is
            return g * (x - mean(x, ctx.dims, True)) * math.inf, None, None, None  # nan, silently


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


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """(var, mean) over ``dim``; arguments as ``var``."""
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, None if isinstance(dim, bool) else dim, keepdim))


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """(std, mean) over ``dim``; arguments as ``var``."""
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, None if isinstance(dim, bool) else dim, keepdim))


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


# -- cumsum ------------------------------------------------------------------------------------
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


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative sum along ``dim``: y_i = x_0 + ... + x_i; same shape as the input."""
    d = _one_dim("cumsum", dim, input.ndim)
    dtype = _int_to_long(input, _dt.to_dtype(dtype))
    if d == ():  # a 0-d input: its cumulative sum is itself
        return reshape(Cumsum.apply(reshape(input, (1,)), 0, dtype), ())
    return Cumsum.apply(input, d, dtype)


# -- all, any ---------------------------------------------------------------------------------
def _plain(fn, *args):
    """``fn`` of the arrays of ``args`` (Tensors; other values as they are) as a Tensor, or a
    tuple of them, without gradient; when ``nabla.jit.trace`` is recording it is told which
    function made the result, so a replay recomputes it (a ``functools.partial`` shows its
    settings to ``nabla.onnx.export`` too)."""
    out = fn(*(a._data if isinstance(a, Tensor) else a for a in args))
    result = tuple(map(Tensor._make, out)) if type(out) is tuple else Tensor._make(out)
    if _trace.tracer is not None:
        _trace.tracer.plain(fn, args, result)
    return result


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element over ``dim`` is nonzero (bool tensor, no gradient)."""
    dims = _dims(dim, input.ndim, "all")
    xp = array_module(input._data)
    return _plain(partial(xp.all, axis=dims, keepdims=keepdim), input)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element over ``dim`` is nonzero (bool tensor, no gradient)."""
    dims = _dims(dim, input.ndim, "any")
    xp = array_module(input._data)
    return _plain(partial(xp.any, axis=dims, keepdims=keepdim), input)
