"""The Airy function Ai(x) (``torch.special.airy_ai``), the solution of y'' = x y that decays
as x -> inf, in float64 rounded to the input's dtype, without gradient as PyTorch's:

x > 1:        Ai(x) = sqrt(x/3) / pi K_1/3(z), z = 2/3 x^(3/2), with e^z K_1/3(z) by
              modified_bessel.py's trapezoid integral (positive terms: relative accuracy);
-10 <= x <= 1: Taylor series of y'' = x y about the nearest of the anchors -10, -9.5, ..., 1
              ((n+2)(n+1) c_(n+2) = a c_n + c_(n-1), 30 terms for |x - a| <= 1/4); the anchors'
              Ai and Ai' come from Ai(0) and Ai'(0) by the same series in steps of 1/2, computed
              once on first use (on the negative side both solutions oscillate, so the steps
              do not amplify rounding);
x < -10:      the asymptotic expansion (DLMF 9.7.9) Ai(-y) = (cos(z - pi/4) P - ... ) /
              (sqrt(pi) y^(1/4)) with u_k = u_(k-1) (6k-5)(6k-3)(6k-1) / ((2k-1) 216 k), cut at
              20 terms (z >= 21: error below 1e-17).
nan at +-inf (as PyTorch) and for nan.
"""

import functools
import math

from nabla.backend import array_module
from nabla.dtype import get_default_dtype
from nabla.ops.modified_bessel import scaled_k_integral
from nabla.ops.reduce import _plain, _quiet
from nabla.tensor import Tensor

__all__ = ["airy_ai"]

_AI0 = 0.355028053887817239260  # Ai(0) = 1 / (3^(2/3) Gamma(2/3))
_AIP0 = -0.258819403792806798405  # Ai'(0) = -1 / (3^(1/3) Gamma(1/3))
_LOW, _HIGH, _SPACING = -10.0, 1.0, 0.5
_TAYLOR_TERMS = 30
_ASYMPTOTIC_TERMS = 20


def _taylor_coefficients(a, y, dy, count: int):
    """c_0..c_(count-1) of y about a, for y'' = x y (scalars or arrays alike)."""
    c = [y, dy, 0.5 * a * y]
    for n in range(1, count - 2):
        c.append((a * c[n] + c[n - 1]) / ((n + 2) * (n + 1)))
    return c


@functools.lru_cache(maxsize=1)
def _anchors():
    """(Ai, Ai') at -10, -9.5, ..., 1, stepping out from 0 (Python floats)."""
    count = 45  # steps of 1/2 need more terms than the final quarter
    values = {0: (_AI0, _AIP0)}
    for direction in (-1, 1):
        j, (y, dy) = 0, values[0]
        while _LOW <= (j + direction) * _SPACING <= _HIGH:
            c = _taylor_coefficients(j * _SPACING, y, dy, count)
            h = direction * _SPACING
            y = sum(cn * h ** n for n, cn in enumerate(c))
            dy = sum(n * cn * h ** (n - 1) for n, cn in enumerate(c) if n)
            j += direction
            values[j] = (y, dy)
    first = int(_LOW / _SPACING)
    return tuple(values[j] for j in range(first, int(_HIGH / _SPACING) + 1))


def _middle(x):
    """Ai for -10 <= x <= 1 by the Taylor series about the nearest anchor."""
    xp = array_module(x)
    table = _anchors()
    index = xp.rint((x - _LOW) / _SPACING).astype(int)
    a = _LOW + _SPACING * index
    y = xp.asarray([v[0] for v in table])[index]
    dy = xp.asarray([v[1] for v in table])[index]
    u = x - a
    c = _taylor_coefficients(a, y, dy, _TAYLOR_TERMS)
    out = c[-1]
    for cn in reversed(c[:-1]):
        out = out * u + cn
    return out


def _positive(x):
    """Ai for x > 1: sqrt(x/3)/pi K_1/3(z), z = 2/3 x^1.5; e^-z underflows to 0 past x ~ 105."""
    xp = array_module(x)
    z = (2.0 / 3.0) * x * xp.sqrt(x)
    return xp.sqrt(x / 3.0) / math.pi * scaled_k_integral(z, 1.0 / 3.0) * xp.exp(-z)


def _negative(x):
    """Ai for x < -10 by the asymptotic expansion in z = 2/3 |x|^1.5."""
    xp = array_module(x)
    y = -x
    z = (2.0 / 3.0) * y * xp.sqrt(y)
    even, odd = xp.ones_like(z), xp.zeros_like(z)
    u = 1.0
    power = xp.ones_like(z)
    for k in range(1, 2 * _ASYMPTOTIC_TERMS):
        u *= (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216.0 * k)
        power = power / z
        if k % 2:
            odd += (-1) ** (k // 2) * u * power
        else:
            even += (-1) ** (k // 2) * u * power
    cos, sin = xp.cos(z), xp.sin(z)
    cos_c, sin_c = (cos + sin) * math.sqrt(0.5), (sin - cos) * math.sqrt(0.5)  # of z - pi/4
    return (cos_c * even + sin_c * odd) / (math.sqrt(math.pi) * xp.sqrt(xp.sqrt(y)))


def _airy_array(x):
    xp = array_module(x)
    x = xp.asarray(x, dtype=xp.float64)
    out = xp.full(x.shape, xp.nan)  # nan, +-inf
    with _quiet(xp, all="ignore"):
        for pick, method in (((x > _HIGH) & (x < xp.inf), _positive),
                             ((x >= _LOW) & (x <= _HIGH), _middle),
                             ((x < _LOW) & (x > -xp.inf), _negative)):
            if pick.any():
                out[pick] = method(x[pick])
    return out


def airy_ai(input: Tensor) -> Tensor:
    """The Airy function Ai(x), the solution of y'' = x y decaying as x -> inf, elementwise
    (no gradient, as PyTorch).

    Args:
        input: tensor of any shape.
    Returns:
        Tensor of input's shape (integers give the default float dtype).
    """
    def compute(x):
        dtype = x.dtype if x.dtype.kind == "f" else get_default_dtype()
        return _airy_array(x).astype(dtype, copy=False)

    return _plain(compute, input)
