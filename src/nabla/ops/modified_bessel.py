"""Modified Bessel functions of ``torch.special`` without gradient (as PyTorch's):
modified_bessel_i0/i1 (the values of nabla.i0 / special.i1, from bessel.py's series),
modified_bessel_k0/k1 and their scaled forms e^x K(x), all in float64 rounded to the input's
dtype:

x <= 1:  the power series (A&S 9.6.13, 9.6.11), K0 = -(ln(x/2) + gamma) I0 + sum H_k (x^2/4)^k
         / k!^2 and K1 = 1/x + ln(x/2) I1 - (x/4) sum (psi(k+1) + psi(k+2)) (x^2/4)^k
         / (k! (k+1)!), whose terms are positive and small;
x > 1:   the integral e^x K_nu(x) = int_0^inf exp(-x (cosh t - 1)) cosh(nu t) dt, with
         u = sqrt(2x) sinh(t/2) turning it into int_0^inf e^(-u^2) cosh(nu t(u)) 2 du /
         sqrt(2x + u^2), an even analytic integrand in a strip of half-width sqrt(2x): the
         trapezoid rule with step 0.15 to u = 6.3 is exact to about 1e-17 (relative: the
         integrand is positive). airy.py uses it for K_1/3.
K is inf at 0 and nan for x < 0; at +inf K is 0 and I is nan, as PyTorch's.
"""

import math

from nabla.backend import array_module
from nabla.dtype import get_default_dtype
from nabla.ops.bessel import _unscaled
from nabla.ops.reduce import _plain, _quiet
from nabla.tensor import Tensor

__all__ = ["modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"]

_EULER = 0.57721566490153286061
_STEP = 0.15
_NODES = 43  # u = 0, 0.15, ..., 6.3: e^(-6.3^2) ~ 6e-18


def scaled_k_integral(x, nu: float):
    """e^x K_nu(x) for x >= 2/3 (arrays, float64), by the trapezoid rule described above."""
    xp = array_module(x)
    root = xp.sqrt(2.0 * x)
    total = xp.zeros_like(x)
    for j in range(_NODES):
        u = _STEP * j
        weight = 0.5 if j == 0 else 1.0
        term = math.exp(-u * u) * 2.0 / xp.sqrt(2.0 * x + u * u)
        if nu == 1.0:  # cosh t = 1 + 2 sinh^2(t/2) = 1 + u^2 / x
            term = term * (1.0 + u * u / x)
        elif nu != 0.0:
            term = term * xp.cosh(2.0 * nu * xp.arcsinh(u / root))
        total += weight * term
    return _STEP * total


def _k_series(x, order: int):
    """K_order(x) for 0 < x <= 1 by the power series (25 terms: (1/4)^25 / 25!^2 ~ 1e-65)."""
    xp = array_module(x)
    quarter = 0.25 * x * x
    log_half = xp.log(0.5 * x)
    term = xp.ones_like(x)
    harmonic = 0.0
    if order == 0:
        total = xp.zeros_like(x)
        for k in range(1, 26):
            term = term * quarter / (k * k)
            harmonic += 1.0 / k
            total += harmonic * term
        return total - (log_half + _EULER) * _unscaled(x, 0)
    total = (1.0 - 2.0 * _EULER) * term  # k = 0: psi(1) + psi(2)
    for k in range(1, 26):
        term = term * quarter / (k * (k + 1))
        harmonic += 1.0 / k
        total += (2.0 * (harmonic - _EULER) + 1.0 / (k + 1)) * term
    return 1.0 / x + log_half * _unscaled(x, 1) - 0.25 * x * total


def _k_array(x, order: int, scaled: bool):
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    out = xp.full(x.shape, xp.nan)  # nan for x < 0 and nan
    with _quiet(xp, all="ignore"):
        small = (x > 0) & (x <= 1.0)
        if small.any():
            s = x[small]
            out[small] = _k_series(s, order) * (xp.exp(s) if scaled else 1.0)
        big = (x > 1.0) & (x < xp.inf)
        if big.any():
            b = x[big]
            value = scaled_k_integral(b, float(order))
            out[big] = value if scaled else value * xp.exp(-b)
        out[x == 0] = xp.inf
        out[x == xp.inf] = 0.0
    return out


def _rounded(fn, x):
    dtype = x.dtype if x.dtype.kind == "f" else get_default_dtype()
    with _quiet(array_module(x), over="ignore"):
        return fn(x).astype(dtype, copy=False)


def _i_array(x, order: int):
    xp = array_module(x)
    out = _unscaled(xp.asarray(x, dtype=xp.float64), order)
    return out + 0.0  # I1(-0.0) is 0.0 in PyTorch


def modified_bessel_i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 0, I0(x) = sum_k (x^2/4)^k /
    k!^2, elementwise (the values of nabla.i0, without gradient as PyTorch's)."""
    return _plain(lambda x: _rounded(lambda a: _i_array(a, 0), x), input)


def modified_bessel_i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 1, I1(x) = (x/2) sum_k
    (x^2/4)^k / (k! (k+1)!), elementwise (without gradient, as PyTorch's)."""
    return _plain(lambda x: _rounded(lambda a: _i_array(a, 1), x), input)


def modified_bessel_k0(input: Tensor) -> Tensor:
    """The modified Bessel function of the second kind of order 0, K0(x) = int_0^inf
    exp(-x cosh t) dt, elementwise: inf at 0, nan for x < 0 (no gradient, as PyTorch)."""
    return _plain(lambda x: _rounded(lambda a: _k_array(a, 0, False), x), input)


def modified_bessel_k1(input: Tensor) -> Tensor:
    """The modified Bessel function of the second kind of order 1, K1(x) = int_0^inf
    exp(-x cosh t) cosh t dt, elementwise: inf at 0, nan for x < 0 (no gradient)."""
    return _plain(lambda x: _rounded(lambda a: _k_array(a, 1, False), x), input)


def scaled_modified_bessel_k0(input: Tensor) -> Tensor:
    """e^x K0(x) elementwise, finite for large x (no gradient, as PyTorch)."""
    return _plain(lambda x: _rounded(lambda a: _k_array(a, 0, True), x), input)


def scaled_modified_bessel_k1(input: Tensor) -> Tensor:
    """e^x K1(x) elementwise, finite for large x (no gradient, as PyTorch)."""
    return _plain(lambda x: _rounded(lambda a: _k_array(a, 1, True), x), input)
