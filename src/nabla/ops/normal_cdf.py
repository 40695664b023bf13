"""The standard normal distribution's functions and their helpers (``torch.special``): ndtr,
log_ndtr, ndtri, erfcx and xlog1py, each with PyTorch's gradient.

Everything rests on erfcx(x) = exp(x^2) erfc(x), computed in float64 for x >= 0 by
|x| < 1:   its power series  sum_n (-x)^n / Gamma(n/2 + 1)  (40 terms; the terms stay below
           e = 2.7 times the sum, so at most a few ulps are lost);
|x| >= 1:  the continued fraction  1/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
           evaluated backwards from 200 levels below 2 and 50 above (both exact to 1e-16);
and by erfcx(x) = 2 exp(x^2) - erfcx(-x) for x < 0. The tails then keep their relative
accuracy: erfc(z) = exp(-z^2) erfcx(z) with z^2 split exactly (Dekker), so ndtr(-37) is right
to ~1e-15 where 1 - erf would give 0, and log_ndtr(x) = log(erfcx(-x/sqrt 2) / 2) - x^2/2 stays
finite wherever the true value is. ndtri refines Acklam's rational guess (relative error 1e-9)
by Newton steps on log ndtr(x) = log p, which are well conditioned in both tails.
"""

import math

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.dtype import get_default_dtype, result_type
from nabla.ops._erf import _horner
from nabla.ops.elementwise import exp, floating, where
from nabla.ops.reduce import _quiet
from nabla.tensor import Tensor

__all__ = ["ndtr", "log_ndtr", "ndtri", "erfcx", "xlog1py"]

_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SPLIT = 134217729.0  # 2^27 + 1: Dekker's splitting constant for float64


def _erfcx_nonnegative(a):
    """erfcx(a) for a >= 0 (float64; inf gives 0, nan stays nan)."""
    xp = array_module(a)
    out = xp.empty_like(a)
    small = a < 1.0
    if small.any():
        s = a[small]
        s2 = s * s
        even, odd = xp.ones_like(s), -2.0 * _INV_SQRT_PI * s  # the n = 0 and n = 1 terms
        total = even + odd
        for k in range(1, 20):
            even = even * s2 / k
            odd = odd * s2 / (k + 0.5)
            total += even + odd
        out[small] = total
    big = ~small  # nan comes here and stays nan
    if big.any():
        b = a[big]
        levels = 200 if (b < 2.0).any() else 50
        f = b.copy()
        for k in range(levels, 0, -1):
            f = b + (0.5 * k) / f
        out[big] = _INV_SQRT_PI / f
    return out


def _exp_neg_square(x, scale=1.0):
    """exp(-scale x^2) (scale a power of 2) with x^2 split exactly into hi + lo (Dekker), so
    that the rounding of x^2 does not cost x^2 * 1e-16 of relative accuracy in the tails."""
    xp = array_module(x)
    with _quiet(xp, all="ignore"):
        c = _SPLIT * x
        hi_x = c - (c - x)
        lo_x = x - hi_x
        hi = x * x
        lo = ((hi_x * hi_x - hi) + 2.0 * hi_x * lo_x) + lo_x * lo_x
        lo = xp.where(xp.isfinite(lo), lo, 0.0)
        return xp.exp(-scale * hi) * (1.0 - scale * lo)


def _erfcx_array(x):
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    with _quiet(xp, all="ignore"):
        pos = _erfcx_nonnegative(xp.abs(x))
        return xp.where(x < 0, 2.0 * xp.exp(x * x) - pos, pos)


def _ndtr_array(x):
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    with _quiet(xp, all="ignore"):
        a = xp.abs(x)
        # the lower tail: 0.5 erfc(|x|/sqrt 2), with exp(-x^2/2) formed from x itself
        tail = 0.5 * _exp_neg_square(a, 0.5) * _erfcx_nonnegative(a * _SQRT1_2)
        return xp.where(x < 0, tail, 1.0 - tail)


def _log_ndtr_array(x):
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    with _quiet(xp, all="ignore"):
        low = x < -1.0
        t = xp.where(low, -x, 1.0) * _SQRT1_2
        far = xp.log(0.5 * _erfcx_nonnegative(t)) - 0.5 * x * x  # x < -1
        near = xp.log1p(-_ndtr_array(-x))  # ndtr(-x) = 1 - ndtr(x), accurate where it is small
        return xp.where(low, far, near)


# Acklam's rational approximation of ndtri (relative error below 1.2e-9), highest power last
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01, 1.0)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00,
      1.0)


def _erf_series(t, xp):
    """erf(t) for |t| <= 1 by its Taylor series, relatively accurate near 0 (18 terms); _erf's
    fit (1e-14) would leave ndtri 10x further from PyTorch's near p = 1/2."""
    t2 = t * t
    term = 2.0 * _INV_SQRT_PI * t
    total = term.copy()
    for n in range(1, 18):
        term = -term * t2 / n
        total += term / (2 * n + 1)
    return total


def _ndtri_lower(p, xp):
    """ndtri(p) for 0 < p <= 1/2: Acklam's guess, then three Newton steps; below p = 0.1 on
    g(x) = log_ndtr(x) - log p, g'(x) = exp(-x^2/2 - log_ndtr(x)) / sqrt(2 pi) (well
    conditioned far out), above on erf(x / sqrt 2) / 2 - (p - 1/2) (p - 1/2 is exact there, and
    the series keeps the residual's relative accuracy as x approaches 0)."""
    q = p - 0.5
    r = q * q
    central = q * _horner(r, _A) / _horner(r, _B)
    s = xp.sqrt(-2.0 * xp.log(p))
    x = xp.where(p < 0.02425, _horner(s, _C) / _horner(s, _D), central)
    log_p = xp.log(p)
    tail = p < 0.1
    for _ in range(3):
        log_cdf = _log_ndtr_array(x)
        phi = xp.exp(-0.5 * x * x) * _INV_SQRT_2PI
        slope = xp.exp(-0.5 * x * x - log_cdf) * _INV_SQRT_2PI  # phi / Phi: no subnormal phi
        step_tail = (log_cdf - log_p) / slope
        t = xp.clip(x * _SQRT1_2, -1.0, 1.0)
        step_center = (0.5 * _erf_series(t, xp) - q) / phi
        x = x - xp.where(tail, step_tail, step_center)
    return x


def _ndtri_array(p):
    xp = array_module(p)
    p = xp.asarray(p, dtype=xp.float64)
    with _quiet(xp, all="ignore"):
        upper = p > 0.5
        lower_p = xp.where(upper, 1.0 - p, p)  # exact for p > 1/2 (Sterbenz)
        inside = (lower_p > 0.0) & (lower_p <= 0.5)
        x = _ndtri_lower(xp.where(inside, lower_p, 0.25), xp)
        x = xp.where(p == 0.5, 0.0, xp.where(upper, -x, x))
        x = xp.where(p == 0, -xp.inf, xp.where(p == 1, xp.inf, x))
        return xp.where((p >= 0) & (p <= 1), x, xp.nan)  # nan for nan, too


class Ndtr(Op):
    """y = Phi(x), the standard normal CDF;  dy/dx = grad exp(-x^2/2) / sqrt(2 pi)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return _ndtr_array(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _INV_SQRT_2PI * exp(-0.5 * x * x)


class LogNdtr(Op):
    """y = log Phi(x);  dy/dx = grad phi(x) / Phi(x), formed as grad sqrt(2/pi) / erfcx(-x/sqrt 2)
    below x = -1 (PyTorch's exp(-(y + x^2/2)) / sqrt(2 pi) cancels there: inf at x = -1e10)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return _log_ndtr_array(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        low = x < -1.0
        far = _SQRT_2_OVER_PI / Erfcx.apply(where(low, x, -2.0) * -_SQRT1_2)
        near = _INV_SQRT_2PI * exp(-0.5 * x * x) / Ndtr.apply(where(low, 0.0, x))
        return grad * where(low, far, near)


class Ndtri(Op):
    """x = Phi^-1(p);  dx/dp = grad sqrt(2 pi) exp(x^2 / 2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, p):
        p = floating(p)
        x = _ndtri_array(p).astype(p.dtype, copy=False)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with _quiet(array_module(grad), over="ignore"):  # inf at p = 0 and 1, as PyTorch
            return grad * _SQRT_2PI * exp(0.5 * x * x)


class Erfcx(Op):
    """y = exp(x^2) erfc(x);  dy/dx = grad (2 x y - 2/sqrt(pi))."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        with _quiet(array_module(x), over="ignore"):  # float32 overflows to inf below -9.4
            y = _erfcx_array(x).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        with _quiet(array_module(grad), over="ignore", invalid="ignore"):  # inf at x = -inf
            return grad * (2.0 * x * y - 2.0 * _INV_SQRT_PI)


class XLog1Py(Op):
    """z = x log1p(y), 0 where x = 0 unless y is nan;  dz/dx = grad log1p(y) (0 where x = 0 and
    y <= -1), dz/dy = grad x / (1 + y) (as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        xp = array_module(x if hasattr(x, "dtype") else y)
        ctx.save_for_backward(x, y)
        with _quiet(xp, divide="ignore", invalid="ignore"):
            z = xp.where((x == 0) & ~xp.isnan(y), 0, x * xp.log1p(y))
        dtype = result_type(x, y)  # PyTorch's promotion; integers give the default float
        return xp.asarray(z).astype(dtype if dtype.kind in "fc" else get_default_dtype(),
                                    copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        cut = (x == 0) & (y <= -1)  # log1p(y) is -inf or nan there: PyTorch's gradient is 0
        with _quiet(array_module(grad), divide="ignore", invalid="ignore"):  # x / 0 at y = -1
            grad_x = where(cut, 0.0, XLog1Py.apply(grad, where(cut, 0.0, y)))
            return grad_x, grad * x / (y + 1)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF elementwise: Phi(x) = (1 + erf(x / sqrt 2)) / 2, accurate in
    both tails. Integer inputs give the default float dtype.

    Args:
        input: tensor of any shape.
    Returns:
        Tensor of input's shape.
    """
    return Ndtr.apply(input)


def log_ndtr(input: Tensor) -> Tensor:
    """log Phi(x) elementwise, finite for every finite x (about -x^2/2 far below 0).

    Args:
        input: tensor of any shape.
    Returns:
        Tensor of input's shape.
    """
    return LogNdtr.apply(input)


def ndtri(input: Tensor) -> Tensor:
    """The standard normal quantile Phi^-1(p) elementwise: -inf at 0, inf at 1, nan outside
    [0, 1].

    Args:
        input: tensor of probabilities, any shape.
    Returns:
        Tensor of input's shape.
    """
    return Ndtri.apply(input)


def erfcx(input: Tensor) -> Tensor:
    """The scaled complementary error function exp(x^2) erfc(x) elementwise, finite and about
    1 / (x sqrt(pi)) for large x; inf below about -26.6.

    Args:
        input: tensor of any shape.
    Returns:
        Tensor of input's shape.
    """
    return Erfcx.apply(input)


def xlog1py(input, other) -> Tensor:
    """input * log1p(other) elementwise with broadcasting; 0 where input is 0 (unless other is
    nan), as PyTorch's xlogy convention.

    Args:
        input: tensor or number.
        other: tensor or number, broadcastable with input.
    Returns:
        Tensor of the broadcast shape.
    """
    return XLog1Py.apply(input, other)
