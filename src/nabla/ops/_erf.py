"""erf on arrays, without SciPy: polynomial fits accurate to about 1e-14 in float64.

|x| < 2:      erf(x) = x * P(u), u = x**2 / 2 - 1 in [-1, 1];
2 <= |x| < 6: erf(x) = 1 - exp(-x**2) * Q(u), u = (|x| - 2) / 2 - 1 in [-1, 1];
|x| >= 6:     erf(x) = +-1 (erfc(6) < 3e-17).
P and Q (degrees 16 and 22) are Chebyshev interpolants of ``math.erf`` / ``math.erfc`` converted
to powers of u; their coefficients stay below 1, so Horner's rule is stable. Horner runs in place
(two passes over the array per coefficient, no temporaries).
"""

from nabla.backend import array_module

_SMALL = (  # highest power first
    -5.2145887950752096e-11, -1.3381326864008539e-10, 1.3939023381999284e-09,
    -8.65463298682398e-09, 6.080166180317626e-08, -4.0445044182261014e-07,
    2.4761115044454653e-06, -1.3946318431735329e-05, 7.180087496532882e-05,
    -0.0003351435159404803, 0.0014050914546257357, -0.0052348758396498045,
    0.017128344568315773, -0.048662777448851696, 0.11947913861000208,
    -0.2611118609312532, 0.674933236039654,
)

_LARGE = (  # highest power first
    -6.421823459474937e-10, -6.801438639345376e-10, 5.654051758186977e-09,
    -3.1281872551240407e-09, -7.857243358361022e-11, -2.8997775465857385e-08,
    9.368577890279049e-08, -2.2235809761577518e-07, 5.948287628637878e-07,
    -1.6267547649036995e-06, 4.318704787178633e-06, -1.127110956095803e-05,
    2.901025053186178e-05, -7.352131092489122e-05, 0.0001833080275521952,
    -0.00044932694259062263, 0.0010819615137097952, -0.0025570841689110443,
    0.0059256395061868285, -0.013449456613982648, 0.029861732979851126,
    -0.06476701219004362, 0.13699945762506158,
)


def _horner(u, coeffs):
    """sum_k coeffs[k] * u**(n - k), evaluated in place in a new array."""
    out = u * coeffs[0]
    out += coeffs[1]
    for c in coeffs[2:]:
        out *= u
        out += c
    return out


def erf(x):
    """The error function, elementwise, in the dtype of ``x`` (floating)."""
    xp = array_module(x)
    a = xp.abs(x)
    u = xp.minimum(a, 2.0)
    u *= u
    u *= 0.5
    u -= 1.0
    out = _horner(u, _SMALL)
    out *= x
    big = a >= 2.0
    if big.any():
        ab = xp.minimum(a[big], 6.0)
        tail = 1.0 - xp.exp(-ab * ab) * _horner((ab - 2.0) * 0.5 - 1.0, _LARGE)
        out[big] = xp.sign(x[big]) * tail
    return out
