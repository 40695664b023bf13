"""PyTorch's other names for existing ops (arccos for acos, multiply for mul, ...), each a
one-line call, and a few small elementwise ops PyTorch has beside them: clamp_min/clamp_max,
deg2rad/rad2deg, float_power and logaddexp2 (derived: no rule of their own), heaviside and
signbit (no gradient), and fmax/fmin, copysign, sinc and divide's rounding modes, whose
gradient rules sit below their forwards."""

import math

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.dtype import float64, get_default_dtype
from nabla.ops.arithmetic import _like_torch, _xp, div, mul, neg, pow, rpow, sub
from nabla.ops.casts import to_dtype
from nabla.ops.compare import _binary, _raw, ge, gt, le, lt, ne
from nabla.ops.elementwise import abs, clamp, cos, sign, sin, where, zeros_like_grad
from nabla.ops.logexp import logaddexp
from nabla.ops.reduce import _plain, _quiet
from nabla.ops.rounding import trunc
from nabla.ops.trigonometry import acos, acosh, asin, asinh, atan, atan2, atanh
from nabla.tensor import Tensor

__all__ = ["absolute", "arccos", "arcsin", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh",
           "divide", "multiply", "subtract", "negative", "true_divide", "greater", "greater_equal",
           "less", "less_equal", "not_equal", "positive", "sgn", "fix", "clamp_min", "clamp_max",
           "deg2rad", "rad2deg", "fmax", "fmin", "copysign", "heaviside", "signbit", "sinc",
           "float_power", "logaddexp2", "detach", "conj", "conj_physical", "resolve_conj",
           "resolve_neg", "adjoint"]


# -- other names ----------------------------------------------------------------------------------
def absolute(input: Tensor) -> Tensor:
    """Alias of abs."""
    return abs(input)


def arccos(input: Tensor) -> Tensor:
    """Alias of acos."""
    return acos(input)


def arcsin(input: Tensor) -> Tensor:
    """Alias of asin."""
    return asin(input)


def arctan(input: Tensor) -> Tensor:
    """Alias of atan."""
    return atan(input)


def arctan2(input: Tensor, other: Tensor) -> Tensor:
    """Alias of atan2."""
    return atan2(input, other)


def arcsinh(input: Tensor) -> Tensor:
    """Alias of asinh."""
    return asinh(input)


def arccosh(input: Tensor) -> Tensor:
    """Alias of acosh."""
    return acosh(input)


def arctanh(input: Tensor) -> Tensor:
    """Alias of atanh."""
    return atanh(input)


def multiply(input, other) -> Tensor:
    """Alias of mul."""
    return mul(input, other)


def subtract(input, other, *, alpha=1) -> Tensor:
    """Alias of sub: input - alpha * other."""
    return sub(input, other, alpha=alpha)


def negative(input: Tensor) -> Tensor:
    """Alias of neg."""
    return neg(input)


def true_divide(input, other) -> Tensor:
    """Alias of div (true division)."""
    return div(input, other)


def greater(input, other) -> Tensor:
    """Alias of gt."""
    return gt(input, other)


def greater_equal(input, other) -> Tensor:
    """Alias of ge."""
    return ge(input, other)


def less(input, other) -> Tensor:
    """Alias of lt."""
    return lt(input, other)


def less_equal(input, other) -> Tensor:
    """Alias of le."""
    return le(input, other)


def not_equal(input, other) -> Tensor:
    """Alias of ne."""
    return ne(input, other)


def sgn(input: Tensor) -> Tensor:
    """Alias of sign (for real tensors, the only kind nabla has)."""
    return sign(input)


def fix(input: Tensor) -> Tensor:
    """Alias of trunc."""
    return trunc(input)


def clamp_min(input: Tensor, min) -> Tensor:
    """clamp with a lower bound only: max(input, min)."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    """clamp with an upper bound only: min(input, max)."""
    return clamp(input, max=max)


def positive(input: Tensor) -> Tensor:
    """+input: the input itself (not a copy, as PyTorch); refused for bool tensors."""
    if input.dtype.kind == "b":
        raise RuntimeError("positive: the + operator is not supported on a bool tensor; "
                           "convert it first (x.int())")
    return input


# -- divide, with PyTorch's rounding modes ---------------------------------------------------------
def divide(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """Alias of div (with its rounding_mode: None, 'trunc' or 'floor')."""
    return div(input, other, rounding_mode=rounding_mode)


# -- NaN-ignoring max and min ---------------------------------------------------------------------
def _route(ctx, grad, to_x):
    """grad where ``to_x`` to x, elsewhere to y."""
    need_x, need_y = ctx.needs_input_grad
    return (where(to_x, grad, 0.0) if need_x else None), (where(to_x, 0.0, grad) if need_y
                                                          else None)


class Fmax(Op):
    """z = max(x, y), or the other one where one is NaN;  dz/dx = grad where x >= y or y is NaN,
    dz/dy = grad elsewhere (a tie goes to x, as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _like_torch(_xp(x, y).fmax(x, y), x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = map(_raw, ctx.saved_tensors)
        xp = _xp(x, y)
        with _quiet(xp, invalid="ignore"):
            return _route(ctx, grad, (x >= y) | xp.isnan(y))


class Fmin(Op):
    """z = min(x, y), or the other one where one is NaN;  dz/dx = grad where x <= y or y is NaN,
    dz/dy = grad elsewhere (a tie goes to x, as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _like_torch(_xp(x, y).fmin(x, y), x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = map(_raw, ctx.saved_tensors)
        xp = _xp(x, y)
        with _quiet(xp, invalid="ignore"):
            return _route(ctx, grad, (x <= y) | xp.isnan(y))


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum that ignores NaN (NaN only where both are NaN), broadcasting."""
    return Fmax.apply(input, other)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum that ignores NaN (NaN only where both are NaN), broadcasting."""
    return Fmin.apply(input, other)


# -- copysign, sinc -------------------------------------------------------------------------------
class Copysign(Op):
    """z = |x| with the sign bit of y (-0.0 counts as negative);
    dz/dx = grad * (+1 or -1: whether z and x share a sign), 0 at x = 0 (as PyTorch); dz/dy = 0."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        xp = _xp(x, y)
        z = _like_torch(xp.asarray(xp.copysign(x, y)), x, y, true_division=True)
        flip = xp.signbit(z) != xp.signbit(x)
        ctx.save_for_backward(xp.where(x == 0, 0, xp.where(flip, -1, 1)).astype(z.dtype))
        return z

    @staticmethod
    def backward(ctx, grad):
        (ratio,) = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad * ratio if need_x else None), (zeros_like_grad(grad) if need_y else None)


def copysign(input: Tensor, other) -> Tensor:
    """|input| with the sign of other (a tensor or number), broadcasting; floating result."""
    return Copysign.apply(input, other)


_PI2 = math.pi**2
_SINC_SERIES = 1e-2  # below this |x|, sinc's derivative comes from its Taylor series


class Sinc(Op):
    """y = sin(pi x) / (pi x), 1 at 0;  dy/dx = grad * (cos(pi x) - y) / x, and exactly
    -pi^2 x / 3 + pi^4 x^3 / 30 - pi^6 x^5 / 840 near 0 (0 at 0; the formula cancels there)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind not in "fc":
            x = x.astype(get_default_dtype())
        ctx.save_for_backward(x)
        xp = array_module(x)
        with _quiet(xp, invalid="ignore"):  # sin(+-inf): NaN, as PyTorch
            return xp.sinc(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        near = array_module(_raw(x)).abs(_raw(x)) < _SINC_SERIES
        xs = where(near, 1.0, x)  # keeps 0 / 0 out of the exact formula (and its derivative)
        px = xs * math.pi
        far = (cos(px) - sin(px) / px) / xs
        x2 = x * x
        close = x * (x2 * (x2 * (-_PI2**3 / 840) + _PI2**2 / 30) - _PI2 / 3)
        return grad * where(near, close, far)


def sinc(input: Tensor) -> Tensor:
    """The normalized sinc sin(pi x) / (pi x), 1 at x = 0; floating result."""
    return Sinc.apply(input)


# -- derived, and without gradient ---------------------------------------------------------------
def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians: input * pi / 180 (floating result)."""
    return input * (math.pi / 180.0)


def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees: input * 180 / pi (floating result)."""
    return input * (180.0 / math.pi)


def float_power(input, exponent) -> Tensor:
    """input ** exponent computed in float64: the result is float64 whatever the inputs are
    (gradients are cast back to each input's dtype)."""
    exponent = to_dtype(exponent, float64) if isinstance(exponent, Tensor) else float(exponent)
    if not isinstance(input, Tensor):
        return rpow(exponent, float(input))
    return pow(to_dtype(input, float64), exponent)


_LN2 = math.log(2.0)


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log2(2^input + 2^other) elementwise, broadcasting, without overflow (derived from
    logaddexp: log2(2^a + 2^b) = logaddexp(a ln 2, b ln 2) / ln 2)."""
    try:
        return logaddexp(input * _LN2, other * _LN2) / _LN2
    except ValueError as err:  # name this op, not the logaddexp it calls
        raise ValueError(
            f"logaddexp2: shapes {tuple(input.shape)} and {tuple(other.shape)} are not "
            "broadcastable: trailing dimensions must be equal or 1. Reshape or unsqueeze one."
        ) from err


def heaviside(input: Tensor, values) -> Tensor:
    """The step function: 0 where input < 0 (and where it is NaN, as PyTorch), ``values`` where
    input == 0, 1 where input > 0; broadcasting, no gradient.

    Args:
        input: tensor.
        values: tensor of the same dtype (or number), broadcastable with ``input``.

    Returns:
        The broadcast shape, input's dtype.
    """
    if isinstance(values, Tensor) and values.dtype != input.dtype:
        raise RuntimeError(
            f"heaviside: input and values must have the same dtype, got {input.dtype} and "
            f"{values.dtype}; cast one of them (values.to(input.dtype))"
        )
    return _binary("heaviside", _heaviside, input, values)


def _heaviside(a, v):
    """heaviside on the arrays (a function of the module, so that onnx.export knows it)."""
    return array_module(a).where(a == 0, v, a > 0).astype(a.dtype)


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0); bool, no gradient."""
    return _plain(array_module(input._data).signbit, input)


# -- torch's functions of Tensor methods -------------------------------------------------------
def detach(input: Tensor) -> Tensor:
    return input.detach()


def conj(input: Tensor) -> Tensor:
    """The input itself: nabla's tensors are real (PyTorch returns a real input too)."""
    return input.conj()


def conj_physical(input: Tensor) -> Tensor:
    return input.conj_physical()


def resolve_conj(input: Tensor) -> Tensor:
    return input.resolve_conj()


def resolve_neg(input: Tensor) -> Tensor:
    return input.resolve_neg()


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (a view, as PyTorch)."""
    return input.adjoint()
