"""Array kernels for the gamma family (NumPy has none): log|Gamma(x)| by Lanczos' approximation,
the digamma function psi(x) and the polygamma functions psi^(n)(x) by recurrence plus their
asymptotic series. Computed in float64 (about 1e-14 relative); gamma.py wraps them as ops."""

import math

from nabla.backend import array_module

# Lanczos' approximation, g = 7, n = 9: Gamma(z + 1) = sqrt(2 pi) t^(z + 1/2) e^-t A(z),
# t = z + g + 1/2, A(z) = c0 + sum_k c_k / (z + k)
_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7)
# Bernoulli numbers B_2, B_4, ..., B_20 for the asymptotic series
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798, -174611 / 330)
_SHIFT = 20.0  # recur up to x >= 20, where ten terms of the series are exact in float64


def lgamma(x):
    """log|Gamma(x)| elementwise (float64); +inf at 0, the negative integers and +-inf."""
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    with xp.errstate(all="ignore"):
        reflect = x < 0.5
        z = xp.where(reflect, 1.0 - x, x) - 1.0  # Lanczos on z + 1 >= 0.5
        series = xp.full_like(z, _LANCZOS[0])
        for k, c in enumerate(_LANCZOS[1:], start=1):
            series += c / (z + k)
        t = z + _LANCZOS_G + 0.5
        out = 0.5 * math.log(2 * math.pi) + (z + 0.5) * xp.log(t) - t + xp.log(series)
        # reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x)
        sin = xp.abs(xp.sin(math.pi * (x - xp.floor(x))))  # the argument reduced: exact zeros
        out = xp.where(reflect, math.log(math.pi) - xp.log(sin) - out, out)
        out = xp.where(xp.isinf(x), xp.inf, out)
        out = xp.where((x == 1) | (x == 2), 0.0, out)  # exactly, as PyTorch (Lanczos: 1e-16)
    return out


def digamma(x):
    """psi(x) = d/dx log Gamma(x) elementwise (float64); -inf at +0 and +inf at -0 (as PyTorch),
    NaN at the negative integers."""
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    with xp.errstate(all="ignore"):
        reflect = x < 0
        y = xp.where(reflect, 1.0 - x, x)  # psi(x) = psi(1 - x) - pi / tan(pi x)
        out = _digamma_positive(xp, y)
        frac = x - xp.floor(x)
        out = xp.where(reflect, out - math.pi / xp.tan(math.pi * frac), out)
        out = xp.where(reflect & (frac == 0), xp.nan, out)
        out = xp.where(x == 0, xp.copysign(xp.inf, -x), out)  # -inf at +0, +inf at -0
    return out


def _digamma_positive(xp, x):
    """psi for x > 0: psi(x) = psi(x + 1) - 1/x up to x >= 20, then
    psi(x) ~ log x - 1/(2x) - sum_k B_2k / (2k x^2k)."""
    acc = xp.zeros_like(x)
    x = x.copy()
    for _ in range(int(_SHIFT)):
        small = x < _SHIFT
        if not small.any():
            break
        acc -= xp.where(small, 1.0 / x, 0.0)
        x = xp.where(small, x + 1.0, x)
    inv2 = 1.0 / (x * x)
    series = xp.zeros_like(x)
    power = xp.ones_like(x)
    for k, b in enumerate(_BERNOULLI, start=1):
        power = power * inv2
        series += b / (2 * k) * power
    return acc + xp.log(x) - 0.5 / x - series


def polygamma(n: int, x):
    """psi^(n)(x), the n-th derivative of psi (n >= 1), elementwise (float64); +inf or NaN at
    0 and the negative integers. Negative x recur upward too (cost grows with |x|)."""
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    sign = 1.0 if n % 2 else -1.0  # (-1)^(n + 1)
    factorial = math.factorial(n)
    with xp.errstate(all="ignore"):
        pole = (x <= 0) & (x == xp.floor(x))
        acc = xp.zeros_like(x)
        y = xp.where(pole | ~xp.isfinite(x), _SHIFT, x)  # NaN and +-inf: set below
        lowest = float(y.min()) if y.size else _SHIFT
        for _ in range(max(0, math.ceil(_SHIFT - lowest))):
            small = y < _SHIFT
            acc += xp.where(small, sign * factorial / y ** (n + 1), 0.0)
            y = xp.where(small, y + 1.0, y)
        # psi^(n)(y) ~ (-1)^(n+1) [(n-1)!/y^n + n!/(2 y^(n+1))
        #                          + sum_k B_2k (2k+n-1)!/(2k)! / y^(2k+n)]
        series = math.factorial(n - 1) / y ** n + factorial / (2 * y ** (n + 1))
        for k, b in enumerate(_BERNOULLI, start=1):
            coef = b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
            series = series + coef / y ** (2 * k + n)
        out = acc + sign * series
        # at the poles: +inf where every term has the same sign (n odd), NaN otherwise
        out = xp.where(pole, xp.inf if n % 2 else xp.nan, out)
        out = xp.where(x == xp.inf, 0.0, xp.where(xp.isnan(x) | (x == -xp.inf), xp.nan, out))
    return out
