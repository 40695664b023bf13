"""Cumulative ops along one dim: cumprod, cummax/cummin (values and indices), logcumsumexp
(cumsum lives in reduce.py with the other sums).

cumprod and logcumsumexp are nodes with their own rules, each written in nabla ops so that it is
differentiable again. cummax and cummin are derived: the running indices are computed on the
array (no gradient), then the values are gathered at them, whose rule scatter-adds each value's
gradient back to the element it came from.
"""

import operator
from collections import namedtuple
from functools import partial

from nabla import dtype as _dt
from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.casts import to_dtype
from nabla.ops.elementwise import exp, log, where
from nabla.ops.flip import Flip
from nabla.ops.reduce import Cumsum, ReverseCumsum, _int_to_long, _plain, _quiet, _raw
from nabla.ops.scatter import gather
from nabla.ops.shape import reshape
from nabla.tensor import Tensor

__all__ = ["cumprod", "cummax", "cummin", "logcumsumexp"]

# The (values, indices) pairs, as torch.return_types.cummax / .cummin (named like sorting.py's).
cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


def _cum_dim(op: str, dim, input: Tensor) -> int:
    """``dim`` in [0, ndim) from PyTorch's [-ndim, ndim); a 0-d input accepts 0 and -1."""
    if isinstance(dim, bool) or dim is None or isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be one int, got {dim!r}")
    dim = operator.index(dim)
    n = max(input.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for an input of shape "
                         f"{tuple(input.shape)}; pass a dim in [{-n}, {n - 1}]")
    return dim % n


def _along(op, input: Tensor, dim: int) -> Tensor:
    """``op.apply(input, dim)``; a 0-d input runs as one element and comes back 0-d."""
    if input.ndim == 0:
        return reshape(op.apply(reshape(input, (1,)), 0), ())
    return op.apply(input, dim)


def _accumulate(fn, x, dim: int):
    """``fn(x, axis=dim)`` (cumprod, logaddexp.accumulate); half and single precision accumulate
    in float64 and round once at the end, as PyTorch does on the CPU (same values to the bit)."""
    if x.dtype.kind == "f" and x.dtype.itemsize < 8:
        return fn(x.astype(_dt.float64), axis=dim).astype(x.dtype)
    return fn(x, axis=dim)


# -- cumprod -------------------------------------------------------------------------------------
class Cumprod(Op):
    """y_j = x_0 x_1 ... x_j along dim;  dy/dx_k = sum_{j >= k} grad_j prod_{i <= j, i != k} x_i,
    which is the reversed cumsum of grad * y divided by x_k when x holds no zero."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        y = _accumulate(array_module(x).cumprod, x, dim)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        zero = _raw(x) == 0
        if not zero.any():
            return ReverseCumsum.apply(grad * y, ctx.dim) / x, None
        return _cumprod_grad_with_zeros(grad, x, zero, ctx.dim), None


def _cumprod_grad_with_zeros(grad, x, zero, dim: int):
    """Cumprod's gradient where x has zeros, without dividing by one.

    With c_j the number of zeros in x_0..x_j, q_j = grad_j * (product of the nonzeros up to j)
    and s_j = the sum of those zeros (0 in value, but it carries their derivatives), the product
    omitting x_k is q_j / x_k (c_j = 0) or s_j q_j / x_k (c_j = 1) for a nonzero x_k; for a zero
    x_k it is q_j (c_j = 1) or (s_j - x_k) q_j (c_j = 2); 0 otherwise. Written so, the first
    derivative of the result is exact too (the second derivative of cumprod), as prod's rule.
    """
    count = array_module(zero).cumsum(zero, axis=dim)
    nonzero = where(zero, 1.0, x)
    q = grad * Cumprod.apply(nonzero, dim)
    s = Cumsum.apply(where(zero, x, 0.0), dim, None)

    def later(mask, t):  # sum over j >= k of t_j where mask_j
        return ReverseCumsum.apply(where(mask, t, 0.0), dim)

    one, two = count == 1, count == 2
    at_nonzero = (later(count == 0, q) + later(one, q * s)) / nonzero
    at_zero = later(one, q) + later(two, q * s) - x * later(two, q)
    return where(zero, at_zero, at_nonzero)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative product along ``dim``: y_j = x_0 * x_1 * ... * x_j.

    Args:
        input: tensor of any shape.
        dim: the dimension to accumulate along (negative counts from the end).
        dtype: cast the input to this dtype first (integers and bools default to int64).

    Returns:
        A tensor of the input's shape. Its gradient is exact where the input holds zeros.
    """
    d = _cum_dim("cumprod", dim, input)
    dtype = _int_to_long(input, _dt.to_dtype(dtype))
    if dtype is not None:
        input = to_dtype(input, dtype)
    return _along(Cumprod, input, d)


# -- cummax, cummin ------------------------------------------------------------------------------
def running_indices(a, dim: int, running):
    """Where the running max (``running`` = maximum) or min of array ``a`` along ``dim`` sits:
    as PyTorch, the latest position whose element is >= (for min, <=) all before it, and once
    a NaN was seen the latest NaN."""
    xp = array_module(a)
    best = running.accumulate(a, axis=dim)  # NaN propagates, as in PyTorch's values
    new = a == best
    if a.dtype.kind in "fc":
        new |= xp.isnan(a)
    position = xp.arange(a.shape[dim]).reshape((-1,) + (1,) * (a.ndim - dim - 1))
    return xp.maximum.accumulate(xp.where(new, position, 0), axis=dim).astype(_dt.int64)


def _cum_extreme(op: str, input: Tensor, dim, result):
    d = _cum_dim(op, dim, input)
    xp = array_module(input._data)
    if input.ndim == 0:
        indices = Tensor._make(xp.zeros((), _dt.int64))
    else:
        running = xp.maximum if op == "cummax" else xp.minimum
        indices = _plain(partial(running_indices, dim=d, running=running), input)
    return result(gather(input, d, indices), indices)


def cummax(input: Tensor, dim: int):
    """Running maximum along ``dim``: values_j = max(x_0, ..., x_j), and where it is.

    Ties give the latest index; a NaN propagates (values NaN, index the latest NaN), as PyTorch.

    Returns:
        A namedtuple (values, indices) of the input's shape (indices int64); the gradient of a
        value goes to the element at its index (scatter-added along ``dim``).
    """
    return _cum_extreme("cummax", input, dim, cummax_result)


def cummin(input: Tensor, dim: int):
    """Running minimum along ``dim``: values_j = min(x_0, ..., x_j), and where it is.

    Ties and NaN as ``cummax``. Returns a namedtuple (values, indices) of the input's shape.
    """
    return _cum_extreme("cummin", input, dim, cummin_result)


# -- logcumsumexp --------------------------------------------------------------------------------
class Logcumsumexp(Op):
    """y_j = log(exp(x_0) + ... + exp(x_j)) along dim, accumulated pairwise by logaddexp (stable);
    dy/dx_k = sum_{j >= k} grad_j exp(x_k - y_j) (a softmax weight per j), summed in log space."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        xp = array_module(x)
        with _quiet(xp, invalid="ignore"):
            y = _accumulate(xp.logaddexp.accumulate, x, dim)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g = _raw(grad)
        xp = array_module(g)
        # exp(-y_j) overflows for very negative y: sum the positive and negative parts of grad
        # in log space instead (PyTorch's rule, after TensorFlow); the dtype's lowest finite
        # value stands for log(0), and log sees 1 there so that its derivative stays finite.
        lowest = float(xp.finfo(g.dtype).min)
        pos, neg = g > 0, g < 0
        with _quiet(xp, invalid="ignore", over="ignore", divide="ignore"):
            log_pos = where(pos, log(where(pos, grad, 1.0)), lowest)
            log_neg = where(neg, log(where(neg, -grad, 1.0)), lowest)
            grad_input = (exp(x + _reverse_logcumsumexp(log_pos - y, ctx.dim))
                          - exp(x + _reverse_logcumsumexp(log_neg - y, ctx.dim)))
        return grad_input, None


def _reverse_logcumsumexp(t, dim: int):
    """z_k = log(sum_{j >= k} exp(t_j)) along dim (differentiable)."""
    return Flip.apply(Logcumsumexp.apply(Flip.apply(t, (dim,)), dim), (dim,))


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """Log of the cumulative sum of exponentials along ``dim``: y_j = log(sum_{i <= j} exp(x_i)),
    without overflow or underflow (values of +-1e4 and -inf are fine).

    Args:
        input: floating tensor of any shape.
        dim: the dimension to accumulate along (negative counts from the end).

    Returns:
        A tensor of the input's shape. Where y_j is -inf (all of x_0..x_j are -inf) the
        gradient is nan, as in PyTorch.
    """
    d = _cum_dim("logcumsumexp", dim, input)
    if input.dtype.kind not in "fc":
        raise RuntimeError(f"logcumsumexp: expected a floating point input, got {input.dtype} "
                           f"(shape {tuple(input.shape)}); convert it first (x.float())")
    return _along(Logcumsumexp, input, d)
