"""float64 forms of the functions whose ONNX op onnxruntime runs in float32 only (Tan, Sinh,
Cosh, Asin, Acos, Atan, Asinh, Acosh, Atanh, Erf): compositions of the ops it runs in double
(Exp, Log, Sin, Cos, Sqrt, Div), accurate to a few units in the last place of float64.

- atan: Atan of the argument rounded to float32 (or of 1 / x where |x| > 1), then one Newton
  step in float64 on tan(y) = x (quadratic: 1e-7 becomes 1e-14); asin and acos from it.
- sinh: a Taylor polynomial below |x| = 0.1, where (e^x - e^-x) / 2 would cancel.
- asinh, acosh, atanh: log1p forms (Goldberg's exact log(w) u / (w - 1)), ln 2 + log|x| for
  |x| above 1e150 where x^2 would overflow.
- erf: the polynomial fits of nabla's own erf (``ops/_erf.py``), so float64 results agree
  with nabla's to rounding.
"""

import math

import numpy as np

from nabla.onnx.export import Graph
from nabla.ops._erf import _LARGE, _SMALL

_F64 = np.dtype(np.float64)


def _c(g: Graph, value) -> str:
    return g.const(np.asarray(value, _F64))


def tan(g: Graph, x: str) -> str:
    return g.node("Div", [g.node("Sin", [x]), g.node("Cos", [x])])


def cosh(g: Graph, x: str) -> str:
    return g.node("Mul", [g.node("Add", [g.node("Exp", [x]), g.node("Exp", [g.node("Neg", [x])])]),
                          _c(g, 0.5)])


def sinh(g: Graph, x: str) -> str:
    """(e^x - e^-x) / 2, or x + x^3/3! + ... + x^9/9! where |x| < 0.1 (error below 1e-17)."""
    wide = g.node("Mul", [g.node("Sub", [g.node("Exp", [x]), g.node("Exp", [g.node("Neg", [x])])]),
                          _c(g, 0.5)])
    square = g.node("Mul", [x, x])
    series = _c(g, 1 / math.factorial(9))
    for k in (7, 5, 3, 1):
        series = g.node("Add", [g.node("Mul", [series, square]), _c(g, 1 / math.factorial(k))])
    small = g.node("Less", [g.node("Abs", [x]), _c(g, 0.1)])
    return g.node("Where", [small, g.node("Mul", [series, x]), wide])


def atan(g: Graph, x: str) -> str:
    """atan(r) for r = x or 1 / x (|r| <= 1) by float32 Atan and a Newton step; pi/2 sign(x) -
    atan(1 / x) where |x| > 1."""
    outside = g.node("Greater", [g.node("Abs", [x]), _c(g, 1.0)])
    r = g.node("Where", [outside, g.node("Div", [_c(g, 1.0), x]), x])
    y = g.node("Cast", [g.node("Atan", [g.node("Cast", [r], to=g.onnx.TensorProto.FLOAT)])],
               to=g.onnx.TensorProto.DOUBLE)
    cos = g.node("Cos", [y])
    residual = g.node("Sub", [g.node("Sin", [y]), g.node("Mul", [r, cos])])
    y = g.node("Sub", [y, g.node("Mul", [residual, cos])])
    quarter = g.node("Mul", [g.node("Sign", [x]), _c(g, math.pi / 2)])
    return g.node("Where", [outside, g.node("Sub", [quarter, y]), y])


def asin(g: Graph, x: str) -> str:
    """atan(x / sqrt((1 - x)(1 + x))): +-pi/2 at +-1, NaN outside [-1, 1]."""
    root = g.node("Sqrt", [g.node("Mul", [g.node("Sub", [_c(g, 1.0), x]),
                                          g.node("Add", [_c(g, 1.0), x])])])
    return atan(g, g.node("Div", [x, root]))


def acos(g: Graph, x: str) -> str:
    """2 atan(sqrt((1 - x) / (1 + x))): pi at -1, NaN outside [-1, 1]."""
    ratio = g.node("Div", [g.node("Sub", [_c(g, 1.0), x]), g.node("Add", [_c(g, 1.0), x])])
    return g.node("Mul", [atan(g, g.node("Sqrt", [ratio])), _c(g, 2.0)])


def log1p(g: Graph, u: str) -> str:
    """log(1 + u), exact also for tiny u: u where 1 + u rounds to 1 (or u is inf), else
    log(w) u / (w - 1)."""
    w = g.node("Add", [_c(g, 1.0), u])
    ratio = g.node("Div", [g.node("Mul", [g.node("Log", [w]), u]), g.node("Sub", [w, _c(g, 1.0)])])
    keep = g.node("Or", [g.node("Equal", [w, _c(g, 1.0)]), g.node("IsInf", [u])])
    return g.node("Where", [keep, u, ratio])


def _huge(g: Graph, a: str, near: str) -> str:
    """``near`` where a <= 1e150, else log(a) + ln 2 (a^2 would overflow)."""
    far = g.node("Add", [g.node("Log", [a]), _c(g, math.log(2.0))])
    return g.node("Where", [g.node("Greater", [a, _c(g, 1e150)]), far, near])


def asinh(g: Graph, x: str) -> str:
    """sign(x) log1p(a + a^2 / (1 + sqrt(1 + a^2))) with a = |x|."""
    a = g.node("Abs", [x])
    square = g.node("Mul", [a, a])
    root = g.node("Sqrt", [g.node("Add", [_c(g, 1.0), square])])
    u = g.node("Add", [a, g.node("Div", [square, g.node("Add", [_c(g, 1.0), root])])])
    size = _huge(g, a, log1p(g, u))
    return g.node("Where", [g.node("Less", [x, _c(g, 0.0)]), g.node("Neg", [size]), size])


def acosh(g: Graph, x: str) -> str:
    """log1p(t + sqrt(t (t + 2))) with t = x - 1 (NaN below 1)."""
    t = g.node("Sub", [x, _c(g, 1.0)])
    u = g.node("Add", [t, g.node("Sqrt", [g.node("Mul", [t, g.node("Add", [t, _c(g, 2.0)])])])])
    return _huge(g, x, log1p(g, u))


def atanh(g: Graph, x: str) -> str:
    """sign(x) log1p(2a / (1 - a)) / 2 with a = |x|: +-inf at +-1, NaN beyond."""
    a = g.node("Abs", [x])
    u = g.node("Div", [g.node("Mul", [a, _c(g, 2.0)]), g.node("Sub", [_c(g, 1.0), a])])
    size = g.node("Mul", [log1p(g, u), _c(g, 0.5)])
    return g.node("Where", [g.node("Less", [x, _c(g, 0.0)]), g.node("Neg", [size]), size])


def _horner(g: Graph, u: str, coeffs) -> str:
    out = _c(g, coeffs[0])
    for c in coeffs[1:]:
        out = g.node("Add", [g.node("Mul", [out, u]), _c(g, c)])
    return out


def erf(g: Graph, x: str) -> str:
    """x P(x^2 / 2 - 1) for |x| < 2, sign(x) (1 - exp(-x^2) Q((|x| - 2) / 2 - 1)) up to 6 and
    +-1 beyond: nabla's fits."""
    return erf_parts(g, x)[0]


def erf_parts(g: Graph, x: str) -> tuple:
    """(erf(x), the tail exp(-a^2) Q(.) with a = min(|x|, 6), whether |x| >= 2): the tail is
    erfc(|x|) there, which erfinv reads."""
    a = g.node("Abs", [x])
    u = g.node("Min", [a, _c(g, 2.0)])
    u = g.node("Sub", [g.node("Mul", [g.node("Mul", [u, u]), _c(g, 0.5)]), _c(g, 1.0)])
    small = g.node("Mul", [_horner(g, u, _SMALL), x])
    b = g.node("Min", [g.node("Max", [a, _c(g, 2.0)]), _c(g, 6.0)])
    v = g.node("Sub", [g.node("Mul", [g.node("Sub", [b, _c(g, 2.0)]), _c(g, 0.5)]), _c(g, 1.0)])
    tail = g.node("Mul", [g.node("Exp", [g.node("Neg", [g.node("Mul", [b, b])])]),
                          _horner(g, v, _LARGE)])
    big = g.node("GreaterOrEqual", [a, _c(g, 2.0)])
    large = g.node("Mul", [g.node("Sign", [x]), g.node("Sub", [_c(g, 1.0), tail])])
    return g.node("Where", [big, large, small]), tail, big


FORMS = {"Tan": tan, "Sinh": sinh, "Cosh": cosh, "Asin": asin, "Acos": acos, "Atan": atan,
         "Asinh": asinh, "Acosh": acosh, "Atanh": atanh, "Erf": erf}
