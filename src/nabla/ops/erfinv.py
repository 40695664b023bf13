"""The inverse error function: y = erfinv(x) solves erf(y) = x on (-1, 1); +-inf at +-1, NaN
outside. NumPy has none (nor SciPy here): Winitzki's closed-form approximation (relative error
about 2e-3) is refined by two Halley steps on erf(y) - |x|, computed in float64 with the erf of
_erf.py, so the result is as accurate as that erf (about 2e-13 relative; float32 rounds it).

In the tails the residual is formed from erfc rather than erf (|x| near 1 leaves few digits in
erf(y) - |x|): c - erfc(y) with c = 1 - |x| exact there, erfc from _erf.py's tail fit."""

import math

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops._erf import _LARGE, _horner
from nabla.ops._erf import erf as _erf_array
from nabla.ops.elementwise import exp, floating
from nabla.ops.reduce import _quiet
from nabla.tensor import Tensor

__all__ = ["erfinv"]

_WINITZKI = 0.147
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)


def _erfc_nonnegative(y, erf_y):
    """erfc(y) for y >= 0 given erf(y): 1 - erf(y) below 2, the relative tail fit above."""
    xp = array_module(y)
    out = 1.0 - erf_y
    big = y >= 2.0
    if big.any():
        tail = xp.minimum(y[big], 6.0)  # erfinv of a float64 below 1 stays below 5.9
        out[big] = xp.exp(-tail * tail) * _horner((tail - 2.0) * 0.5 - 1.0, _LARGE)
    return out


def _erfinv_array(x):
    """erfinv elementwise, in float64."""
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    a = xp.abs(x)
    c = 1.0 - a  # exact for a >= 1/2, where the tail residual uses it
    with _quiet(xp, all="ignore"):
        log = xp.log(c * (1.0 + a))  # log(1 - x^2), accurate near |x| = 1
        t = 2.0 / (math.pi * _WINITZKI) + 0.5 * log
        y = xp.sqrt(xp.sqrt(t * t - log / _WINITZKI) - t)
        y = xp.where(a < 1.0, y, 0.0)  # keep the iteration finite; the ends are set below
        # Halley's method on f(y) = erf(y) - a, with f' = 2/sqrt(pi) e^-y^2 and f'' = -2 y f':
        # y -= f / (f' + y f); cubic convergence, so two steps take 2e-3 to full precision
        for _ in range(2):
            erf_y = _erf_array(y)
            f = xp.where(a < 0.5, erf_y - a, c - _erfc_nonnegative(y, erf_y))
            y = y - f / (_TWO_OVER_SQRT_PI * xp.exp(-y * y) + y * f)
        y = xp.where(a < 1.0, y, xp.where(a == 1.0, xp.inf, xp.nan))
    return xp.copysign(y, x)  # odd, and -0.0 stays -0.0


class Erfinv(Op):
    """y = erfinv(x);  dy/dx = grad * sqrt(pi)/2 * exp(y^2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        y = _erfinv_array(x).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * _HALF_SQRT_PI * exp(y * y)


def erfinv(input: Tensor) -> Tensor:
    """The inverse error function elementwise: erf(erfinv(x)) = x for x in (-1, 1); +-inf at
    +-1 and NaN outside [-1, 1]. Integer inputs give the default float dtype.

    Args:
        input: tensor of any shape.
    Returns:
        Tensor of input's shape.
    """
    return Erfinv.apply(input)
