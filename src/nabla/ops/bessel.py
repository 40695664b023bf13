"""Modified Bessel functions of the first kind, orders 0 and 1: i0, i1 and their exponentially
scaled forms i0e(x) = exp(-|x|) i0(x), i1e(x) = exp(-|x|) i1(x). NumPy has only i0 (and no
derivative): the values here come from two series, computed in float64 (about 2e-15 relative)
and rounded to the input's dtype. Each rule is a combination of the family, so every order of
derivative is available.

|x| <= 20: the power series  I_n(x) = (x/2)^n sum_k (x^2/4)^k / (k! (k + n)!)  (positive terms,
           no cancellation; 44 terms reach 1e-17 of the sum at x = 20);
|x| > 20:  the asymptotic series  I_n(x) ~ e^x / sqrt(2 pi x) sum_k c_k(n) / x^k  with
           c_k = c_{k-1} * -(4 n^2 - (2k - 1)^2) / (8 k), cut at 26 terms (its error there is
           below e^(-2x) ~ 4e-18).
"""

import math

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.elementwise import floating, sign, where
from nabla.ops.reduce import _quiet
from nabla.tensor import Tensor

__all__ = ["i0"]  # torch's top-level name; i0e, i1 and i1e are torch.special's (nabla.special)

_SWITCH = 20.0
_SERIES_TERMS = 44
_ASYMPTOTIC_TERMS = 26


def _series(x, order: int):
    """exp(-|x|) I_order(x) by the power series (|x| <= 20)."""
    xp = array_module(x)
    quarter = 0.25 * x * x
    term = xp.ones_like(x)
    total = xp.ones_like(x)
    for k in range(1, _SERIES_TERMS + 1):
        term *= quarter / (k * (k + order))
        total += term
    if order == 1:
        total *= 0.5 * x
    return total * xp.exp(-xp.abs(x))


def _asymptotic(x, order: int):
    """exp(-|x|) I_order(x) by the asymptotic series (|x| > 20); I_1 is odd."""
    xp = array_module(x)
    a = xp.abs(x)
    mu = 4.0 * order * order
    term = xp.ones_like(a)
    total = xp.ones_like(a)
    for k in range(1, _ASYMPTOTIC_TERMS + 1):
        term *= (2 * k - 1) ** 2 - mu
        term /= 8.0 * k * a
        total += term
    total /= xp.sqrt(2.0 * math.pi * a)
    return total if order == 0 else xp.sign(x) * total


def _scaled(x, order: int):
    """exp(-|x|) I_order(x) elementwise, in float64."""
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    out = xp.empty_like(x)
    with _quiet(xp, all="ignore"):
        small = xp.abs(x) <= _SWITCH
        out[small] = _series(x[small], order)
        big = ~small  # NaN goes here and stays NaN
        out[big] = _asymptotic(x[big], order)
    return out


def _unscaled(x, order: int):
    """I_order(x) = e^|x| * exp(-|x|) I_order(x), with e^|x| applied in two halves so that the
    product overflows only where I_order itself does (inf * 0 at x = inf gives NaN, as torch)."""
    xp = array_module(x)
    with _quiet(xp, all="ignore"):
        half = xp.exp(0.5 * xp.abs(xp.asarray(x, dtype=xp.float64)))
        return _scaled(x, order) * half * half


class I0(Op):
    """y = I0(x);  dy/dx = grad * I1(x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return _unscaled(x, 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * I1.apply(x)


class I1(Op):
    """y = I1(x);  dy/dx = grad * (I0(x) - I1(x) / x), which is grad / 2 at x = 0."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return _unscaled(x, 1).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        zero = x == 0
        safe = where(zero, 1.0, x)  # no 0/0 in the rule (nor in its own gradient)
        return grad * where(zero, 0.5, I0.apply(x) - I1.apply(safe) / safe)


class I0e(Op):
    """y = exp(-|x|) I0(x);  dy/dx = grad * (i1e(x) - sign(x) i0e(x))."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return _scaled(x, 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (I1e.apply(x) - sign(x) * I0e.apply(x))


class I1e(Op):
    """y = exp(-|x|) I1(x);  dy/dx = grad * (i0e(x) - i1e(x) (sign(x) + 1/x)), grad / 2 at 0."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return _scaled(x, 1).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        zero = x == 0
        safe = where(zero, 1.0, x)
        rule = I0e.apply(x) - I1e.apply(safe) * (sign(safe) + 1.0 / safe)
        return grad * where(zero, 0.5, rule)


def i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 0, elementwise:
    I0(x) = sum_k (x^2/4)^k / (k!)^2. Integer inputs give the default float dtype.

    Args:
        input: tensor of any shape.
    Returns:
        Tensor of input's shape.
    """
    return I0.apply(input)


def i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 1, elementwise:
    I1(x) = (x/2) sum_k (x^2/4)^k / (k! (k+1)!) (``torch.special.i1``)."""
    return I1.apply(input)


def i0e(input: Tensor) -> Tensor:
    """exp(-|x|) I0(x), elementwise, finite for every finite x (``torch.special.i0e``)."""
    return I0e.apply(input)


def i1e(input: Tensor) -> Tensor:
    """exp(-|x|) I1(x), elementwise, finite for every finite x (``torch.special.i1e``)."""
    return I1e.apply(input)

