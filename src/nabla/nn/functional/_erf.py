"""erf on arrays, without SciPy: Chebyshev expansions accurate to about 1e-14 in float64.

|x| < 2:   erf(x) = x * P(x**2), P a Chebyshev series in x**2 on [0, 4];
2 <= |x| < 6: erf(x) = 1 - exp(-x**2) * Q(x), Q a Chebyshev series on [2, 6];
|x| >= 6:  erf(x) = +-1 (erfc(6) < 3e-17).
The coefficients are Chebyshev interpolants of ``math.erf`` / ``math.erfc`` (degrees 16, 22).
"""

from nabla.backend import array_module

_SMALL = (
    0.7415552820424017, -0.30107107338659495, 0.06899483068983148,
    -0.013916271264722134, 0.0024207995224333097, -0.0003658639685846838,
    4.8620984431757214e-05, -5.749256557708436e-06, 6.113243568457574e-07,
    -5.899101488775396e-08, 5.20700787672644e-09, -4.2329702012230335e-10,
    3.1879504798459643e-11, -2.2354572129453833e-12, 1.4469223466759264e-13,
    -8.167313759770837e-15, -1.5913662094345733e-15,
)

_LARGE = (
    0.15454893254411417, -0.07674006034821489, 0.01849487416970194,
    -0.004337233595514153, 0.0009916839077237047, -0.00022144890703086075,
    4.836760032102442e-05, -1.0346098326565032e-05, 2.1698719429984132e-06,
    -4.4664937539399796e-07, 9.031674356222961e-08, -1.7955339359052386e-08,
    3.512079821410552e-09, -6.76353137747484e-10, 1.2831829439587648e-10,
    -2.3996910663281057e-11, 4.4257066308829645e-12, -8.054131033605556e-13,
    1.4434950819194278e-13, -2.555443779289382e-14, 4.047486983253017e-15,
    -6.486357344956757e-16, -3.06216404889819e-16,
)


def _clenshaw(u, coeffs):
    """Sum of coeffs[k] * T_k(u) for u in [-1, 1] (Clenshaw's recurrence)."""
    u2 = u + u
    b1 = u * 0
    b2 = b1
    for c in coeffs[:0:-1]:
        t = u2 * b1
        t -= b2
        t += c
        b1, b2 = t, b1
    return u * b1 - b2 + coeffs[0]


def erf(x):
    """The error function, elementwise, in the dtype of ``x`` (floating)."""
    xp = array_module(x)
    a = xp.abs(x)
    small = xp.minimum(a, 2.0)
    out = x * _clenshaw(small * small * 0.5 - 1.0, _SMALL)
    big = a >= 2.0
    if big.any():
        ab = xp.minimum(a[big], 6.0)
        tail = 1.0 - xp.exp(-ab * ab) * _clenshaw((ab - 2.0) * 0.5 - 1.0, _LARGE)
        out[big] = xp.sign(x[big]) * tail
    return out
