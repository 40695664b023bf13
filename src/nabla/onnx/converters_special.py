"""ONNX conversions of the special functions, computed as nabla computes them: erf and erfc
(ONNX's Erf; in float64 nabla's polynomial fits), erfinv (Winitzki's estimate and
two Halley steps in float64), the Bessel functions i0, i1, i0e, i1e (nabla's power and
asymptotic series in float64), frexp, ldexp, nextafter (exponents found from a float64 log2
and corrected by one step, scalings by powers of two split so that none overflows), gcd and
lcm (Euclid's algorithm unrolled for the longest run its integer type allows).

Every float32 computation here runs in float64 and is rounded once, so frexp, ldexp and
nextafter are exact; in float64, ldexp may round twice where its result is subnormal.
"""

import math

import numpy as np

from nabla.onnx import converters_double as double
from nabla.onnx.converters import _out, converts
from nabla.onnx.export import Graph, Value
from nabla.ops import bessel
from nabla.ops.erf import Erf, Erfc
from nabla.ops.erfinv import Erfinv
from nabla.ops.numeric import Frexp, Ldexp, Nextafter

_F64 = np.dtype(np.float64)


def _c(g: Graph, value, dtype=_F64) -> str:
    return g.const(np.asarray(value, dtype))


def _cast(g: Graph, x: str, dtype) -> str:
    return g.node("Cast", [x], to=g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


# -- erf, erfc, normal CDF, erfinv -----------------------------------------------------------------
def _erf(g: Graph, x: str, dtype) -> str:
    """ONNX's Erf, or nabla's fits in float64 (onnxruntime's Erf is float32 only)."""
    return double.erf(g, x) if dtype == _F64 else g.node("Erf", [x])


@converts(Erf, Erfc)
def erf(g: Graph, args, out: Value):
    """erf(x); erfc(x) = 1 - erf(x), as nabla computes it."""
    x = g.cast(args[0], out.dtype)
    y = _erf(g, x, out.dtype)
    if g.current is Erfc:
        y = g.node("Sub", [_c(g, 1.0, out.dtype), y])
    g.node("Identity", [y], _out(out))


@converts(Erfinv)
def erfinv(g: Graph, args, out: Value):
    """y solving erf(y) = |x| from Winitzki's closed form, two Halley steps on erf(y) - |x|
    (c - erfc(y) with c = 1 - |x| from |x| = 1/2 on), +-inf at +-1, NaN outside; x's sign."""
    x = g.cast(args[0], _F64)
    a = g.node("Abs", [x])
    c = g.node("Sub", [_c(g, 1.0), a])
    log = g.node("Log", [g.node("Mul", [c, g.node("Add", [_c(g, 1.0), a])])])
    t = g.node("Add", [_c(g, 2.0 / (math.pi * 0.147)), g.node("Mul", [log, _c(g, 0.5)])])
    inner = g.node("Sub", [g.node("Mul", [t, t]), g.node("Div", [log, _c(g, 0.147)])])
    y = g.node("Sqrt", [g.node("Sub", [g.node("Sqrt", [inner]), t])])
    inside = g.node("Less", [a, _c(g, 1.0)])
    y = g.node("Where", [inside, y, _c(g, 0.0)])
    near = g.node("Less", [a, _c(g, 0.5)])
    for _ in range(2):
        erf_y, tail, big = double.erf_parts(g, y)
        erfc_y = g.node("Where", [big, tail, g.node("Sub", [_c(g, 1.0), erf_y])])
        f = g.node("Where", [near, g.node("Sub", [erf_y, a]), g.node("Sub", [c, erfc_y])])
        slope = g.node("Mul", [g.node("Exp", [g.node("Neg", [g.node("Mul", [y, y])])]),
                               _c(g, 2.0 / math.sqrt(math.pi))])
        y = g.node("Sub", [y, g.node("Div", [f, g.node("Add", [slope, g.node("Mul", [y, f])])])])
    ends = g.node("Where", [g.node("Equal", [a, _c(g, 1.0)]), _c(g, np.inf), _c(g, np.nan)])
    y = g.node("Where", [inside, y, ends])
    signed = g.node("Where", [_signbit(g, x), g.node("Neg", [y]), y])
    g.node("Cast", [signed], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))


def _signbit(g: Graph, x: str) -> str:
    """x < 0 or x is -0.0 (float64 x)."""
    negative_zero = g.node("And", [g.node("Equal", [x, _c(g, 0.0)]),
                                   g.node("Less", [g.node("Div", [_c(g, 1.0), x]), _c(g, 0.0)])])
    return g.node("Or", [g.node("Less", [x, _c(g, 0.0)]), negative_zero])


# -- Bessel functions ------------------------------------------------------------------------------
_BESSEL = {bessel.I0: (0, False), bessel.I1: (1, False), bessel.I0e: (0, True),
           bessel.I1e: (1, True)}


@converts(*_BESSEL)
def bessel_i(g: Graph, args, out: Value):
    """exp(-|x|) I_n(x) by the power series where |x| <= 20, else the asymptotic series; times
    e^|x| (in two halves) for i0 and i1."""
    order, scaled = _BESSEL[g.current]
    x = g.cast(args[0], _F64)
    a = g.node("Abs", [x])
    y = g.node("Where", [g.node("LessOrEqual", [a, _c(g, 20.0)]), _series(g, x, a, order),
                         _asymptotic(g, x, a, order)])
    if not scaled:
        half = g.node("Exp", [g.node("Mul", [a, _c(g, 0.5)])])
        y = g.node("Mul", [g.node("Mul", [y, half]), half])
    g.node("Cast", [y], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))


def _series(g: Graph, x: str, a: str, order: int) -> str:
    quarter = g.node("Mul", [g.node("Mul", [x, x]), _c(g, 0.25)])
    term = total = _c(g, 1.0)
    for k in range(1, bessel._SERIES_TERMS + 1):
        term = g.node("Mul", [term, g.node("Div", [quarter, _c(g, k * (k + order))])])
        total = g.node("Add", [total, term])
    if order == 1:
        total = g.node("Mul", [total, g.node("Mul", [x, _c(g, 0.5)])])
    return g.node("Mul", [total, g.node("Exp", [g.node("Neg", [a])])])


def _asymptotic(g: Graph, x: str, a: str, order: int) -> str:
    mu = 4.0 * order * order
    term = total = _c(g, 1.0)
    for k in range(1, bessel._ASYMPTOTIC_TERMS + 1):
        term = g.node("Mul", [term, _c(g, (2 * k - 1) ** 2 - mu)])
        term = g.node("Div", [term, g.node("Mul", [a, _c(g, 8.0 * k)])])
        total = g.node("Add", [total, term])
    total = g.node("Div", [total, g.node("Sqrt", [g.node("Mul", [a, _c(g, 2.0 * math.pi)])])])
    return total if order == 0 else g.node("Mul", [g.node("Sign", [x]), total])


# -- frexp, ldexp, nextafter -----------------------------------------------------------------------
def _split(g: Graph, e: str) -> tuple:
    """e (a float64 whole number) as t, t, t, e - 3t with t = trunc(e / 4): four powers of two
    of which none overflows for |e| <= 2200."""
    quarter = g.node("Div", [e, _c(g, 4.0)])
    t = g.node("Where", [g.node("Less", [quarter, _c(g, 0.0)]), g.node("Ceil", [quarter]),
                         g.node("Floor", [quarter])])
    return t, t, t, g.node("Sub", [e, g.node("Mul", [t, _c(g, 3.0)])])


def _scaled(g: Graph, x: str, e: str) -> str:
    """x 2^e in float64, one power-of-two factor at a time."""
    for part in _split(g, g.node("Clip", [e, _c(g, -2200.0), _c(g, 2200.0)])):
        x = g.node("Mul", [x, g.node("Pow", [_c(g, 2.0), part])])
    return x


def _frexp64(g: Graph, x: str) -> tuple:
    """(m, e) with x = m 2^e, 0.5 <= |m| < 1, for finite nonzero float64 x (garbage elsewhere):
    e from floor(log2 |x|) + 1, then one step down or up where rounding put m outside."""
    a = g.node("Abs", [x])
    e = g.node("Add", [g.node("Floor", [g.node("Div", [g.node("Log", [a]),
                                                       _c(g, math.log(2.0))])]), _c(g, 1.0)])
    m = _scaled(g, x, g.node("Neg", [e]))
    for limit, fix, shift in ((1.0, 0.5, 1.0), (0.5, 2.0, -1.0)):
        size = g.node("Abs", [m])
        off = g.node("GreaterOrEqual", [size, _c(g, limit)]) if fix < 1 else \
            g.node("Less", [size, _c(g, limit)])
        m = g.node("Where", [off, g.node("Mul", [m, _c(g, fix)]), m])
        e = g.node("Where", [off, g.node("Add", [e, _c(g, shift)]), e])
    return m, e


def _ordinary(g: Graph, x: str) -> str:
    """Finite and nonzero."""
    bad = g.node("Or", [g.node("Or", [g.node("IsNaN", [x]), g.node("IsInf", [x])]),
                        g.node("Equal", [x, _c(g, 0.0)])])
    return g.node("Not", [bad])


@converts(Frexp)
def frexp(g: Graph, args, outs: list):
    """(m, e) with x = m 2^e, 0.5 <= |m| < 1; m = x and e = 0 for 0, inf and NaN."""
    mantissa, exponent = outs
    x = g.cast(args[0], _F64)
    m, e = _frexp64(g, x)
    ordinary = _ordinary(g, x)
    g.node("Cast", [g.node("Where", [ordinary, m, x])], [mantissa.name],
           to=g.onnx.helper.np_dtype_to_tensor_dtype(mantissa.dtype))
    g.node("Cast", [g.node("Where", [ordinary, e, _c(g, 0.0)])], [exponent.name],
           to=g.onnx.TensorProto.INT32)


@converts(Ldexp)
def ldexp(g: Graph, args, out: Value):
    """x 2^e: for an integer e exactly (in float64, then rounded once to the dtype); for a
    floating e, x * 2^e in the dtype."""
    x, e, dtype = args
    if isinstance(e, np.ndarray):
        e = Value(g.const(e, "exponent"), e.shape, e.dtype)
    elif not isinstance(e, Value):
        e = Value(_c(g, e, np.asarray(e).dtype), (), np.asarray(e).dtype)
    if e.dtype.kind == "f":
        y = g.node("Mul", [g.cast(x, out.dtype), g.node("Pow", [_c(g, 2.0, out.dtype),
                                                                 g.cast(e, out.dtype)])])
        g.node("Identity", [y], _out(out))
        return
    y = _scaled(g, g.cast(x, _F64), g.cast(e, _F64))
    g.node("Cast", [y], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))


@converts(Nextafter)
def nextafter(g: Graph, args, out: Value):
    """x plus or minus one unit in the last place of the dtype toward other: 2^(e - p) with
    x = m 2^e (p the dtype's significand bits), half that toward zero from a power of two, at
    least the smallest subnormal; other where x == other, NaN where either is, the largest
    finite value from an infinity, the smallest subnormal from 0."""
    info = np.finfo(out.dtype)
    p, tiny = info.nmant + 1, float(info.smallest_subnormal)
    x, other = (g.cast(v, out.dtype) for v in args[:2])
    x64, y64 = _cast(g, x, _F64), _cast(g, other, _F64)
    m, e = _frexp64(g, x64)
    lowest = math.log2(tiny)
    spacing = g.node("Max", [g.node("Sub", [e, _c(g, float(p))]), _c(g, lowest)])
    power_of_two = g.node("Equal", [g.node("Abs", [m]), _c(g, 0.5)])
    up = g.node("Greater", [y64, x64])
    away = g.node("Equal", [up, g.node("Greater", [x64, _c(g, 0.0)])])  # |x| grows
    smaller = g.node("And", [g.node("Not", [away]), power_of_two])
    spacing = g.node("Where", [smaller, g.node("Max", [g.node("Sub", [spacing, _c(g, 1.0)]),
                                                       _c(g, lowest)]), spacing])
    step = g.node("Pow", [_c(g, 2.0), spacing])
    z = g.node("Add", [x64, g.node("Where", [up, step, g.node("Neg", [step])])])
    sign = g.node("Where", [up, _c(g, 1.0), _c(g, -1.0)])
    z = g.node("Where", [g.node("Equal", [x64, _c(g, 0.0)]), g.node("Mul", [sign, _c(g, tiny)]),
                         z])
    largest = g.node("Mul", [g.node("Sign", [x64]), _c(g, float(info.max))])
    z = g.node("Where", [g.node("IsInf", [x64]), largest, z])
    z = g.node("Where", [g.node("Equal", [x64, y64]), y64, z])
    nan = g.node("Or", [g.node("IsNaN", [x64]), g.node("IsNaN", [y64])])
    z = g.node("Where", [nan, _c(g, np.nan), z])
    g.node("Cast", [z], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))


# -- gcd, lcm --------------------------------------------------------------------------------------
@converts(np.gcd, np.lcm)
def gcd(g: Graph, args, out: Value):
    """Euclid's algorithm on |a|, |b|: (a, b) <- (b, a mod b) while b != 0, unrolled for the
    most steps a pair of the dtype can take (consecutive Fibonacci numbers); lcm is
    |a| / gcd * |b| (0 where both are 0; wrapping around where it overflows, as nabla)."""
    a_in, b_in, dtype = args
    a = a_size = g.node("Abs", [g.cast(a_in, dtype)])
    b = b_size = g.node("Abs", [g.cast(b_in, dtype)])
    zero, one = _c(g, 0, dtype), _c(g, 1, dtype)
    for _ in range(_euclid_steps(np.iinfo(dtype).max)):
        going = g.node("Not", [g.node("Equal", [b, zero])])
        rest = g.node("Mod", [a, g.node("Where", [going, b, one])], fmod=0)
        a, b = g.node("Where", [going, b, a]), g.node("Where", [going, rest, zero])
    if g.current is np.gcd:
        g.node("Identity", [a], _out(out))
        return
    safe = g.node("Where", [g.node("Equal", [a, zero]), one, a])
    g.node("Mul", [g.node("Div", [a_size, safe]), b_size], _out(out))


def _euclid_steps(largest: int) -> int:
    """The most steps Euclid's algorithm takes on numbers up to ``largest``: for consecutive
    Fibonacci numbers, one per number below them."""
    steps, small, big = 1, 1, 2
    while big <= largest:
        small, big = big, small + big
        steps += 1
    return steps
