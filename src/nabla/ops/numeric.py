"""Number-theoretic and floating-point helpers: gcd/lcm, frexp/ldexp, nextafter, isposinf/
isneginf/isreal (no gradient where PyTorch has none), cross with torch.cross's default dim,
trapezoid/trapz/cumulative_trapezoid and vander (compositions of differentiable ops).

The special functions and matrix_exp that torch also has at top level live in modules of their
own and are re-exported here: i0 (bessel.py, with torch.special's i0e/i1/i1e), erfinv
(erfinv.py), matrix_exp (matrix_exp.py).
"""

import math
import operator
from collections import namedtuple
from functools import partial

from nabla import dtype as _dt
from nabla.autograd.function import Op
from nabla.backend import array_module, as_array
from nabla.ops.bessel import i0
from nabla.ops.casts import to_dtype
from nabla.ops.compare import _binary
from nabla.ops.cumulative import cumprod
from nabla.ops.erfinv import erfinv
from nabla.ops.flip import flip
from nabla.ops.index import _zeros
from nabla.ops.join import cat, narrow, select
from nabla.ops.matrix import diff
from nabla.ops.matrix_exp import matrix_exp
from nabla.ops.reduce import _plain, _quiet, cumsum, sum
from nabla.ops.shape import expand, reshape, unsqueeze
from nabla.tensor import Tensor

__all__ = ["gcd", "lcm", "frexp", "ldexp", "nextafter", "isposinf", "isneginf", "isreal", "i0",
           "erfinv", "cross", "trapezoid", "trapz", "cumulative_trapezoid", "vander",
           "matrix_exp"]

# (mantissa, exponent), as torch.return_types.frexp
frexp_result = namedtuple("frexp", ["mantissa", "exponent"])


def _dtype_of(value):
    return value.dtype if isinstance(value, Tensor) else as_array(value).dtype


# -- gcd, lcm (integers, no gradient) ----------------------------------------------------------
def _cast_then(fn, dtype, a, b):
    """``fn`` of a and b converted to ``dtype`` (the pair's PyTorch result type)."""
    xp = array_module(a if hasattr(a, "dtype") else b)
    return fn(xp.asarray(a, dtype=dtype), xp.asarray(b, dtype=dtype))


def _integer_op(name: str, fn, input, other) -> Tensor:
    dtype = _dt.result_type(input, other)
    if dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer tensors, got {_dtype_of(input)} and "
                        f"{_dtype_of(other)}; {name} is defined for integers only (round or "
                        "convert with .long() first)")
    return _binary(name, partial(_cast_then, fn, dtype), input, other)


def gcd(input: Tensor, other: Tensor) -> Tensor:
    """The greatest common divisor of each pair, elementwise (broadcasting); gcd(0, 0) = 0 and
    the result is non-negative (except where it overflows, as -128 in int8).

    Args:
        input, other: integer tensors of broadcastable shapes.
    Returns:
        Integer tensor of the broadcast shape and promoted dtype.
    """
    return _integer_op("gcd", array_module(getattr(input, "_data", None)).gcd, input, other)


def lcm(input: Tensor, other: Tensor) -> Tensor:
    """The least common multiple |a b| / gcd(a, b) of each pair, elementwise (broadcasting);
    0 if either is 0. Overflow wraps around, as in PyTorch.

    Args:
        input, other: integer tensors of broadcastable shapes.
    Returns:
        Integer tensor of the broadcast shape and promoted dtype.
    """
    return _integer_op("lcm", array_module(getattr(input, "_data", None)).lcm, input, other)


# -- frexp, ldexp, nextafter ---------------------------------------------------------------------
class Frexp(Op):
    """(m, e) with x = m 2^e, 0.5 <= |m| < 1 (m = x, e = 0 for 0, inf, nan);
    dm/dx = 2^-e, so dx = ldexp(grad_m, -e); the integer e has no gradient."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        mantissa, exponent = array_module(x).frexp(x)
        exponent = exponent.astype(_dt.int32, copy=False)
        ctx.save_for_backward(exponent)
        ctx.mark_non_differentiable(exponent)
        return mantissa, exponent

    @staticmethod
    def backward(ctx, grad, grad_exponent):
        (exponent,) = ctx.saved_tensors
        return Ldexp.apply(grad, -exponent, grad.dtype)


def frexp(input: Tensor):
    """Split each element into a mantissa in [0.5, 1) (in absolute value) and a power of two:
    input = mantissa * 2 ** exponent.

    Args:
        input: floating tensor of any shape.
    Returns:
        (mantissa, exponent): a tensor of input's dtype and an int32 tensor, both input's shape.
    """
    if input.dtype.kind != "f":
        raise TypeError(f"frexp: expected a floating tensor, got {input.dtype}; convert it "
                        "first with .float() or .double()")
    return frexp_result(*Frexp.apply(input))


class Ldexp(Op):
    """y = x 2^e;  dx = ldexp(grad, e), de = grad * y * ln 2 (a floating e only)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, e, dtype):
        xp = array_module(x)
        ctx.dtype = dtype
        x = xp.asarray(x, dtype=dtype)
        with _quiet(xp, over="ignore", under="ignore"):
            if e.dtype.kind in "biu":  # exact and without an overflowing 2^e in between
                y = xp.ldexp(x, xp.clip(e, -4096, 4096).astype(_dt.int32))
            else:
                y = x * xp.exp2(xp.asarray(e, dtype=dtype))
        ctx.save_for_backward(e, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        e, y = ctx.saved_tensors
        need_x, need_e = ctx.needs_input_grad[:2]
        grad_input = Ldexp.apply(grad, e, ctx.dtype) if need_x else None
        grad_other = grad * y * math.log(2.0) if need_e else None
        return grad_input, grad_other, None


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """input * 2 ** other, elementwise (broadcasting); integer inputs give the default float
    dtype.

    Args:
        input: tensor of mantissas.
        other: tensor of exponents (usually integer), broadcastable with input.
    Returns:
        Floating tensor of the broadcast shape.
    """
    dtype = _dt.result_type(input, other)
    if dtype.kind != "f":
        dtype = _dt.get_default_dtype()
    return Ldexp.apply(input, other if isinstance(other, Tensor) else as_array(other), dtype)


class Nextafter(Op):
    """y = the next representable value after x towards other;  dx = grad, dother = 0
    (PyTorch's rule: y differs from x by one unit in the last place)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, other, dtype):
        xp = array_module(x)
        return xp.nextafter(xp.asarray(x, dtype=dtype), xp.asarray(other, dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        need_x, need_other = ctx.needs_input_grad[:2]
        zeros = _zeros(grad, tuple(grad.shape)) if need_other else None
        return (grad if need_x else None), zeros, None


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next floating-point value after ``input`` towards ``other``, elementwise
    (broadcasting, in the promoted floating dtype).

    Args:
        input, other: floating tensors of broadcastable shapes.
    Returns:
        Tensor of the broadcast shape.
    """
    dtype = _dt.result_type(input, other)
    if dtype.kind != "f":
        raise TypeError(f"nextafter: expected floating tensors, got {_dtype_of(input)} and "
                        f"{_dtype_of(other)}; convert them first with .float() or .double()")
    return Nextafter.apply(input, other, dtype)


# -- tests of values (bool, no gradient) ---------------------------------------------------------
def isposinf(input: Tensor) -> Tensor:
    """True where the element is +inf (bool, same shape)."""
    return _plain(array_module(input._data).isposinf, input)


def isneginf(input: Tensor) -> Tensor:
    """True where the element is -inf (bool, same shape)."""
    return _plain(array_module(input._data).isneginf, input)


def isreal(input: Tensor) -> Tensor:
    """True where the element has no imaginary part: everywhere, for nabla's real dtypes."""
    xp = array_module(input._data)
    return _plain(partial(xp.ones_like, dtype=bool), input)


# -- cross product with torch.cross's default dim -----------------------------------------------
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (broadcasting the other dims).

    Unlike ``linalg.cross`` (default dim=-1), ``dim=None`` takes the first dimension of
    ``input`` of size 3, as ``torch.cross`` does.

    Args:
        input: tensor (*, 3, *) with size 3 at ``dim``.
        other: tensor with as many dimensions, size 3 at ``dim``.
        dim: the dimension of the vectors.
    Returns:
        Tensor of the broadcast shape.
    """
    from nabla.linalg.products import cross as linalg_cross  # nabla.linalg builds on nabla.ops

    if dim is None:
        threes = [d for d, n in enumerate(input.shape) if n == 3]
        if not threes:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape "
                               f"{tuple(input.shape)}; pass dim= naming the vectors' dimension")
        dim = threes[0]
    return linalg_cross(input, other, dim=dim)


# -- integration by the trapezoid rule -----------------------------------------------------------
def _sample_dim(name: str, y: Tensor, dim: int) -> int:
    if not -y.ndim <= dim < y.ndim:
        raise IndexError(f"{name}: dim {dim} is out of range for y of shape {tuple(y.shape)} "
                         f"(valid: [{-y.ndim}, {y.ndim - 1}]); y needs at least one dimension")
    return dim % y.ndim


def _widths(name: str, y: Tensor, x, dim: int) -> Tensor:
    """x[i + 1] - x[i] along dim, shaped to broadcast against y's neighbouring pairs."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: x must be a Tensor of sample points, got "
                        f"{type(x).__name__}; for an even spacing pass dx= instead")
    if x.ndim == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError(f"{name}: there must be one x value for each sample point: x has "
                               f"{x.shape[0]}, y has {y.shape[dim]} along dim {dim}")
        x = reshape(x, tuple(x.shape[0] if d == dim else 1 for d in range(y.ndim)))
    elif x.ndim < y.ndim:
        x = reshape(x, (1,) * (y.ndim - x.ndim) + tuple(x.shape))
    if x.shape[dim] == 0:
        raise RuntimeError(f"{name}: x of shape {tuple(x.shape)} has no sample points along "
                           f"dim {dim}")
    return diff(x, dim=dim)


def _pair_sums(y: Tensor, dim: int) -> Tensor:
    """y[i] + y[i + 1] along dim."""
    n = y.shape[dim]
    return narrow(y, dim, 0, n - 1) + narrow(y, dim, 1, n - 1)


def _check_spacing(name: str, x, dx) -> None:
    if x is not None and dx is not None:
        raise TypeError(f"{name}: pass either the sample points x or the spacing dx, not both")


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """The integral of ``y`` along ``dim`` by the trapezoid rule:
    sum_i (x[i+1] - x[i]) (y[i] + y[i+1]) / 2, with x the sample points (spacing ``dx``, default
    1, when x is not given).

    Args:
        y: tensor of shape (..., n, ...) with n samples along ``dim``.
        x: sample points: 1-D of length n, or broadcastable with y.
        dx: the constant spacing of the samples (instead of x).
        dim: the dimension to integrate over.
    Returns:
        Tensor of y's shape without ``dim`` (0 where n is 0 or 1).
    """
    _check_spacing("trapezoid", x, dx)
    d = _sample_dim("trapezoid", y, dim)
    if y.shape[d] == 0:
        return _zeros(y, tuple(n for i, n in enumerate(y.shape) if i != d))
    if x is not None:
        return sum(_widths("trapezoid", y, x, d) * _pair_sums(y, d), d) / 2
    ends = select(y, d, 0) + select(y, d, -1)
    return (sum(y, d) - ends * 0.5) * (1 if dx is None else dx)


def trapz(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoid rule; PyTorch's older name of :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None,
                         dim: int = -1) -> Tensor:
    """The running integral of ``y`` along ``dim`` by the trapezoid rule: entry i is the
    integral from the first sample to sample i + 1.

    Args:
        y: tensor of shape (..., n, ...) with n samples along ``dim``.
        x: sample points: 1-D of length n, or broadcastable with y.
        dx: the constant spacing of the samples (instead of x; default 1).
        dim: the dimension to integrate over.
    Returns:
        Tensor of y's shape with n - 1 entries along ``dim`` (0 if n is 0).
    """
    _check_spacing("cumulative_trapezoid", x, dx)
    d = _sample_dim("cumulative_trapezoid", y, dim)
    if y.shape[d] == 0:
        return narrow(y, d, 0, 0) * 0.5
    if x is not None:
        return cumsum(_widths("cumulative_trapezoid", y, x, d) * _pair_sums(y, d), d) / 2
    return cumsum(_pair_sums(y, d) * ((1 if dx is None else dx) / 2.0), d)


# -- Vandermonde matrix --------------------------------------------------------------------------
def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of ``x``: column j holds x ** (N - 1 - j) (x ** j if
    ``increasing``). The powers are running products, so the gradient is exact at x = 0.

    Args:
        x: 1-D tensor of length n; bool and integer inputs give int64.
        N: the number of columns (default n).
        increasing: the powers ascend from x ** 0 instead of descending to it.
    Returns:
        Tensor of shape (n, N).
    """
    if x.ndim != 1:
        raise RuntimeError(f"vander: x must be a one-dimensional tensor, got shape "
                           f"{tuple(x.shape)}")
    columns = x.shape[0] if N is None else operator.index(N)
    if columns < 0:
        raise RuntimeError(f"vander: N must be non-negative, got {columns}")
    if x.dtype.kind in "biu":
        x = to_dtype(x, _dt.int64)
    xp = array_module(x._data)
    ones = Tensor._make(xp.ones((x.shape[0], min(columns, 1)), dtype=x.dtype))
    if columns <= 1:
        return ones
    powers = cumprod(expand(unsqueeze(x, -1), (x.shape[0], columns - 1)), 1)
    out = cat([ones, powers], dim=1)
    return out if increasing else flip(out, (1,))
