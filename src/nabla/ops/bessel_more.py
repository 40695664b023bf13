"""Bessel functions of the first and second kind, orders 0 and 1 (``torch.special.bessel_j0``,
``bessel_j1``, ``bessel_y0``, ``bessel_y1``) and the spherical j0, in float64 (rounded to the
input's dtype), without gradient as in PyTorch:

|x| < 2:       the power series (A&S 9.1.10, 9.1.11, 9.1.13), no cancellation to speak of;
2 <= |x| < 25: Miller's backward recurrence from order 80, J_{k-1} = (2k/x) J_k - J_{k+1},
               normalised by J_0 + 2 sum J_2k = 1; the Y's from the same J_k by Neumann's
               series (A&S 9.1.88, 9.1.89);
|x| >= 25:     Hankel's asymptotic expansion (A&S 9.2.5-9.2.10) cut at 20 terms (error below
               e^-50), with cos(x - pi/4) formed as (cos x + sin x) / sqrt 2 so that no rounding
               of x - pi/4 enters.
The results are accurate to about 1e-16 absolute (relative, away from the zeros), as Cephes's
(PyTorch's) are. J is even (J0) or odd (J1); Y is nan for x < 0 and -inf at 0; J and Y are nan
at +-inf, as PyTorch's.
"""

import math

from nabla.backend import array_module
from nabla.dtype import get_default_dtype
from nabla.ops.reduce import _plain, _quiet
from nabla.tensor import Tensor

__all__ = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "spherical_bessel_j0"]

_EULER = 0.57721566490153286061
_TWO_OVER_PI = 2.0 / math.pi
_SERIES_BELOW = 2.0
_HANKEL_FROM = 25.0
_MILLER_START = 80
_HANKEL_TERMS = 20


def _series(x):
    """J0, J1, Y0, Y1 for 0 < x < 2 by their power series (30 terms: (x/2)^60/30!^2 ~ 1e-65)."""
    xp = array_module(x)
    quarter = 0.25 * x * x
    log_term = xp.log(0.5 * x) + _EULER
    j0 = xp.ones_like(x)
    j1 = xp.ones_like(x)  # (x/2) times this
    y0_sum = xp.zeros_like(x)  # sum (-1)^(k+1) H_k (x^2/4)^k / k!^2
    y1_sum = xp.zeros_like(x)  # sum (-1)^k (psi(k+1) + psi(k+2)) (x^2/4)^k / (k! (k+1)!)
    term0 = xp.ones_like(x)
    term1 = xp.ones_like(x)
    harmonic = 0.0
    y1_sum += (2.0 * (-_EULER) + 1.0) * term1  # k = 0: psi(1) + psi(2) = 1 - 2 gamma
    for k in range(1, 31):
        term0 = -term0 * quarter / (k * k)
        term1 = -term1 * quarter / (k * (k + 1))
        harmonic += 1.0 / k
        j0 += term0
        j1 += term1
        y0_sum -= harmonic * term0
        y1_sum += (2.0 * (harmonic - _EULER) + 1.0 / (k + 1)) * term1
    j1 = 0.5 * x * j1
    y0 = _TWO_OVER_PI * (log_term * j0 + y0_sum)
    y1 = _TWO_OVER_PI * ((log_term - _EULER) * j1 - 1.0 / x) - (0.5 * x / math.pi) * y1_sum
    return j0, j1, y0, y1


def _miller(x):
    """J0, J1, Y0, Y1 for 2 <= x < 25 (see the module docstring)."""
    xp = array_module(x)
    tiny = 1e-30
    after, current = xp.zeros_like(x), xp.full_like(x, tiny)  # J_{N+1}, J_N (unnormalised)
    norm = xp.zeros_like(x)
    neumann0 = xp.zeros_like(x)  # sum_{k>=1} (-1)^k J_2k / k
    neumann1 = xp.zeros_like(x)  # sum_{k>=1} (-1)^k (2k+1) J_{2k+1} / (k (k+1))
    for order in range(_MILLER_START, 0, -1):  # current is J_order
        if order % 2 == 0:
            k = order // 2
            norm += 2.0 * current
            neumann0 += (-1) ** k * current / k
        elif order >= 3:
            k = (order - 1) // 2
            neumann1 += (-1) ** k * (2 * k + 1) * current / (k * (k + 1))
        after, current = current, (2.0 * order / x) * current - after
    j0, j1 = current, after  # J_0, J_1
    norm += j0
    j0, j1 = j0 / norm, j1 / norm
    neumann0, neumann1 = neumann0 / norm, neumann1 / norm
    log_term = xp.log(0.5 * x) + _EULER
    y0 = _TWO_OVER_PI * (log_term * j0 - 2.0 * neumann0)
    # A&S 9.1.89 with n = 1: psi(2) = 1 - gamma
    y1 = -_TWO_OVER_PI * j0 / x + _TWO_OVER_PI * (log_term - 1.0) * j1 - _TWO_OVER_PI * neumann1
    return j0, j1, y0, y1


def _hankel(x):
    """J0, J1, Y0, Y1 for x >= 25 by Hankel's expansion J = sqrt(2/(pi x)) (P cos c - Q sin c),
    Y = sqrt(2/(pi x)) (P sin c + Q cos c), c = x - (2n + 1) pi/4."""
    xp = array_module(x)
    out = []
    cos, sin = xp.cos(x), xp.sin(x)
    amplitude = xp.sqrt(_TWO_OVER_PI / x)
    for order in (0, 1):
        mu = 4.0 * order * order
        p, q = xp.ones_like(x), xp.zeros_like(x)
        term = xp.ones_like(x)
        for k in range(1, 2 * _HANKEL_TERMS):
            term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
            if k % 2:
                q += (-1) ** (k // 2) * term
            else:
                p += (-1) ** (k // 2) * term
        if order == 0:  # c = x - pi/4
            cos_c, sin_c = (cos + sin) * math.sqrt(0.5), (sin - cos) * math.sqrt(0.5)
        else:  # c = x - 3 pi/4
            cos_c, sin_c = (sin - cos) * math.sqrt(0.5), -(sin + cos) * math.sqrt(0.5)
        out.append(amplitude * (p * cos_c - q * sin_c))
        out.append(amplitude * (p * sin_c + q * cos_c))
    j0, y0, j1, y1 = out
    return j0, j1, y0, y1


def _bessel_array(x, which: int):
    """J0, J1, Y0 or Y1 (which = 0, 1, 2, 3) of an array, in float64."""
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    a = xp.abs(x)
    out = xp.full(x.shape, xp.nan)
    with _quiet(xp, all="ignore"):
        for pick, method in ((a < _SERIES_BELOW, _series),
                             ((a >= _SERIES_BELOW) & (a < _HANKEL_FROM), _miller),
                             ((a >= _HANKEL_FROM) & (a < xp.inf), _hankel)):
            if pick.any():
                out[pick] = method(xp.where(a[pick] == 0, 1.0, a[pick]))[which]
        if which == 0:
            out[a == 0] = 1.0
        elif which == 1:
            out = xp.where(a == 0, x, out)  # J1(-0.0) = -0.0
            out = xp.where(x < 0, -out, out)
        else:
            out[a == 0] = -xp.inf
            out[x < 0] = xp.nan
    return out


def _spherical_j0_array(x):
    """sin(x) / x, by its series below |x| = 0.5 (no 0/0 at x = 0); 0 at +-inf."""
    xp = array_module(x)
    x64 = xp.asarray(x, dtype=xp.float64)
    with _quiet(xp, all="ignore"):
        x2 = x64 * x64
        series = 1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (
            1.0 - x2 / 110.0 * (1.0 - x2 / 156.0)))))
        out = xp.where(xp.abs(x64) < 0.5, series, xp.sin(x64) / x64)
        return xp.where(xp.isinf(x64), 0.0, out)


def _rounded(fn, x):
    """fn of x's array in float64, rounded to x's floating dtype (integers: the default)."""
    dtype = x.dtype if x.dtype.kind == "f" else get_default_dtype()
    return fn(x).astype(dtype, copy=False)


def bessel_j0(input: Tensor) -> Tensor:
    """The Bessel function of the first kind of order 0, J0(x) = sum_k (-x^2/4)^k / k!^2,
    elementwise (no gradient, as PyTorch)."""
    return _plain(lambda x: _rounded(lambda a: _bessel_array(a, 0), x), input)


def bessel_j1(input: Tensor) -> Tensor:
    """The Bessel function of the first kind of order 1, J1(x) = (x/2) sum_k (-x^2/4)^k /
    (k! (k+1)!), elementwise (no gradient, as PyTorch)."""
    return _plain(lambda x: _rounded(lambda a: _bessel_array(a, 1), x), input)


def bessel_y0(input: Tensor) -> Tensor:
    """The Bessel function of the second kind of order 0, Y0(x) (Weber's), elementwise: -inf at
    0 and nan for x < 0 (no gradient, as PyTorch)."""
    return _plain(lambda x: _rounded(lambda a: _bessel_array(a, 2), x), input)


def bessel_y1(input: Tensor) -> Tensor:
    """The Bessel function of the second kind of order 1, Y1(x), elementwise: -inf at 0 and nan
    for x < 0 (no gradient, as PyTorch)."""
    return _plain(lambda x: _rounded(lambda a: _bessel_array(a, 3), x), input)


def spherical_bessel_j0(input: Tensor) -> Tensor:
    """The spherical Bessel function of the first kind of order 0, j0(x) = sin(x) / x, 1 at 0,
    elementwise (no gradient, as PyTorch)."""
    return _plain(lambda x: _rounded(_spherical_j0_array, x), input)
