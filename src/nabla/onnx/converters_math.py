"""ONNX conversions of the elementwise functions that ONNX has or that compose from its ops:
rounding (floor, ceil, trunc, round with decimals, frac, div with a rounding mode), the other
trigonometric and hyperbolic functions, atan2, hypot, log2 / log10 / exp2, logaddexp, logit,
xlogy, copysign, fmax / fmin, sinc, nan_to_num, and the tests signbit, isposinf, isneginf.

Each computes in the output's dtype, except where a composition would round differently from
NumPy's one function: log2 and log10 of float32 (or float16) are computed in float64 and rounded
once, so that log2(8) is exactly 3 as in nabla; logaddexp uses log1p in float64 for float32 and
Goldberg's exact log1p form (log(w) u / (w - 1), w = 1 + u) in float64.

The sign bit of a zero is read as the sign of 1 / x (-0.0 gives -inf); that of a NaN cannot be
read by ONNX's ops: copysign(x, -nan) and signbit(-nan) take NaN as positive.
"""

import math

import numpy as np

from nabla.onnx import converters_double as double
from nabla.onnx.converters import _out, converts
from nabla.onnx.converters_arith import floor_divide
from nabla.onnx.export import ExportError, Graph, Value
from nabla.ops import logexp, rounding, trigonometry
from nabla.ops.aliases import Copysign, Fmax, Fmin, Sinc
from nabla.ops.arithmetic import DivideRounded, Hypot
from nabla.ops.nan_ops import NanToNum

_F64 = np.dtype(np.float64)
_UNARY = {trigonometry.Tan: "Tan", trigonometry.Sinh: "Sinh", trigonometry.Cosh: "Cosh",
          trigonometry.Asin: "Asin", trigonometry.Acos: "Acos", trigonometry.Atan: "Atan",
          trigonometry.Asinh: "Asinh", trigonometry.Acosh: "Acosh",
          trigonometry.Atanh: "Atanh", rounding.Floor: "Floor", rounding.Ceil: "Ceil"}


def _c(g: Graph, value, dtype) -> str:
    return g.const(np.asarray(value, dtype))


# -- rounding, trigonometric and hyperbolic functions ----------------------------------------------
@converts(*_UNARY)
def unary(g: Graph, args, out: Value):
    """The ONNX op of the same name, on x in the output's dtype (floor and ceil of integers
    are the integers themselves)."""
    x = args[0]
    if out.dtype.kind != "f":
        g.node("Identity", [x], _out(out))
        return
    y = _op(g, _UNARY[g.current], g.cast(x, out.dtype), out.dtype)
    g.node("Identity", [y], _out(out))


def _op(g: Graph, op_type: str, x: str, dtype) -> str:
    """The ONNX op on x, or its composition where onnxruntime has no float64 kernel for it."""
    if dtype == _F64 and op_type in double.FORMS:
        return double.FORMS[op_type](g, x)
    return g.node(op_type, [x])


def _trunc(g: Graph, x: str, dtype) -> str:
    """Toward zero: Ceil below 0, Floor elsewhere (-0.5 gives -0.0, as NumPy)."""
    return g.node("Where", [g.node("Less", [x, _c(g, 0, dtype)]), g.node("Ceil", [x]),
                            g.node("Floor", [x])])


@converts(rounding.Trunc)
def trunc(g: Graph, args, out: Value):
    if out.dtype.kind != "f":
        g.node("Identity", [args[0]], _out(out))
        return
    g.node("Identity", [_trunc(g, args[0].name, out.dtype)], _out(out))


@converts(rounding.Frac)
def frac(g: Graph, args, out: Value):
    """x - trunc(x)."""
    x = args[0].name
    g.node("Sub", [x, _trunc(g, x, out.dtype)], _out(out))


@converts(rounding.Round)
def round_(g: Graph, args, out: Value):
    """Half to even (ONNX's Round, as NumPy's); with decimals d, as NumPy: round(x * 10^d) /
    10^d, or for d < 0 round(x / 10^-d) * 10^-d, the power in x's dtype."""
    x, decimals = args
    if out.dtype.kind != "f":
        if decimals < 0:
            raise ExportError("onnx.export: round of integers with negative decimals has no "
                              "ONNX conversion yet; convert the tensor to float first")
        g.node("Identity", [x], _out(out))
        return
    if decimals == 0:
        g.node("Round", [x], _out(out))
        return
    scale = _c(g, 10.0 ** abs(decimals), out.dtype)
    there, back = ("Mul", "Div") if decimals > 0 else ("Div", "Mul")
    g.node(back, [g.node("Round", [g.node(there, [x, scale])]), scale], _out(out))


@converts(DivideRounded)
def divide_rounded(g: Graph, args, out: Value):
    """'floor' as floor_divide; 'trunc': ONNX's Div of integers (toward zero), or the
    truncated quotient of floats."""
    x, y, mode = args
    if mode == "floor":
        floor_divide(g, [x, y], out)
        return
    q = g.node("Div", [g.cast(x, out.dtype), g.cast(y, out.dtype)])
    g.node("Identity", [q if out.dtype.kind != "f" else _trunc(g, q, out.dtype)], _out(out))


@converts(trigonometry.Atan2)
def atan2(g: Graph, args, out: Value):
    """atan(y / x), plus pi (minus pi where y's sign bit is set) where x's sign bit is set;
    NumPy's values where y / x is 0 / 0 (both zero: 0 or pi with y's sign) or inf / inf
    (both infinite: +-pi/4 or +-3pi/4)."""
    dtype = out.dtype if out.dtype.kind == "f" else _F64  # (nabla keeps an integer type)
    y, x = (g.cast(v, dtype) for v in args)
    y_neg, x_neg = _signbit(g, y, dtype), _signbit(g, x, dtype)
    half_turn = g.node("Where", [y_neg, _c(g, -math.pi, dtype), _c(g, math.pi, dtype)])
    base = _op(g, "Atan", g.node("Div", [y, x]), dtype)
    turned = g.node("Where", [x_neg, g.node("Add", [base, half_turn]), base])
    zeros = g.node("And", [_equal(g, y, 0, dtype), _equal(g, x, 0, dtype)])
    at_zero = g.node("Where", [x_neg, half_turn, y])
    eighth = g.node("Where", [x_neg, _c(g, 3 * math.pi / 4, dtype), _c(g, math.pi / 4, dtype)])
    eighth = g.node("Where", [y_neg, g.node("Neg", [eighth]), eighth])
    infs = g.node("And", [g.node("IsInf", [y]), g.node("IsInf", [x])])
    z = g.node("Where", [infs, eighth, g.node("Where", [zeros, at_zero, turned])])
    g.node("Cast", [z], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))


def _equal(g: Graph, x: str, value, dtype) -> str:
    return g.node("Equal", [x, _c(g, value, dtype)])


def _signbit(g: Graph, x: str, dtype) -> str:
    """x < 0, or x is -0.0 (1 / x is -inf)."""
    below = g.node("Less", [x, _c(g, 0, dtype)])
    if np.dtype(dtype).kind != "f":
        return below
    negative_zero = g.node("And", [_equal(g, x, 0, dtype), g.node(
        "Less", [g.node("Div", [_c(g, 1, dtype), x]), _c(g, 0, dtype)])])
    return g.node("Or", [below, negative_zero])


# -- logarithms and exponentials -------------------------------------------------------------------
@converts(logexp.Log2, logexp.Log10)
def log_base(g: Graph, args, out: Value):
    """ln(x) / ln(base), in float64 for narrower floats (one rounding, as NumPy's log2)."""
    wide = _F64 if out.dtype.itemsize < 8 else out.dtype
    base = 2.0 if g.current is logexp.Log2 else 10.0
    y = g.node("Div", [g.node("Log", [g.cast(args[0], wide)]), _c(g, math.log(base), wide)])
    g.node("Cast", [y], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))


@converts(logexp.Exp2)
def exp2(g: Graph, args, out: Value):
    g.node("Pow", [_c(g, 2, out.dtype), g.cast(args[0], out.dtype)], _out(out))


@converts(logexp.LogAddExp)
def logaddexp(g: Graph, args, out: Value):
    """max(x, y) + log1p(exp(-|x - y|)), in float64 (x + log 2 where x == y, which keeps
    equal infinities), then the output's dtype."""
    x, y = (g.cast(v, _F64) for v in args)
    gap = g.node("Neg", [g.node("Abs", [g.node("Sub", [x, y])])])
    total = g.node("Add", [g.node("Max", [x, y]), _log1p(g, g.node("Exp", [gap]))])
    same = g.node("Add", [x, _c(g, math.log(2.0), _F64)])
    z = g.node("Where", [g.node("Equal", [x, y]), same, total])
    g.node("Cast", [z], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))


def _log1p(g: Graph, u: str) -> str:
    """log(1 + u) for float64 u >= 0, exact also for tiny u: u where 1 + u rounds to 1, else
    log(w) u / (w - 1) with w = 1 + u (Goldberg)."""
    one = _c(g, 1.0, _F64)
    w = g.node("Add", [one, u])
    ratio = g.node("Div", [g.node("Mul", [g.node("Log", [w]), u]), g.node("Sub", [w, one])])
    return g.node("Where", [g.node("Equal", [w, one]), u, ratio])


@converts(logexp.Logit)
def logit(g: Graph, args, out: Value):
    """log(q / (1 - q)), q = p clamped to [eps, 1 - eps] when eps is given."""
    p, eps = args
    q = g.cast(p, out.dtype)
    if eps is not None:
        q = g.node("Clip", [q, _c(g, eps, out.dtype), _c(g, 1 - eps, out.dtype)])
    g.node("Log", [g.node("Div", [q, g.node("Sub", [_c(g, 1, out.dtype), q])])], _out(out))


@converts(logexp.XLogY)
def xlogy(g: Graph, args, out: Value):
    """x log(y), and 0 where x == 0."""
    x, y = (g.cast(v, out.dtype) for v in args)
    product = g.node("Mul", [x, g.node("Log", [y])])
    g.node("Where", [_equal(g, x, 0, out.dtype), _c(g, 0, out.dtype), product], _out(out))


@converts(Hypot)
def hypot(g: Graph, args, out: Value):
    """m sqrt(1 + (n / m)^2) with m = max(|x|, |y|), n = min(|x|, |y|): the squares neither
    overflow nor underflow; 0 where m is 0 and inf where m is inf."""
    dtype = out.dtype
    a, b = (g.node("Abs", [g.cast(v, dtype)]) for v in args)
    m, n = g.node("Max", [a, b]), g.node("Min", [a, b])
    r = g.node("Div", [n, m])
    root = g.node("Sqrt", [g.node("Add", [_c(g, 1, dtype), g.node("Mul", [r, r])])])
    z = g.node("Mul", [m, root])
    z = g.node("Where", [_equal(g, m, 0, dtype), _c(g, 0, dtype), z])
    g.node("Where", [g.node("IsInf", [m]), m, z], _out(out))


# -- signs, NaN-aware extremes, sinc, nan_to_num ---------------------------------------------------
@converts(Copysign)
def copysign(g: Graph, args, out: Value):
    """|x|, negated where y's sign bit is set."""
    x, y = args
    size = g.node("Abs", [g.cast(x, out.dtype)])
    y_dtype = y.dtype if isinstance(y, Value) else out.dtype
    negative = _signbit(g, g.cast(y, y_dtype), y_dtype)
    g.node("Where", [negative, g.node("Neg", [size]), size], _out(out))


@converts(Fmax, Fmin)
def fmax(g: Graph, args, out: Value):
    """Max (Min), or the other operand where one is NaN."""
    x, y = (g.cast(v, out.dtype) for v in args)
    op_type = "Max" if g.current is Fmax else "Min"
    if out.dtype.kind != "f":
        g.node(op_type, [x, y], _out(out))
        return
    both = g.node(op_type, [x, y])
    g.node("Where", [g.node("IsNaN", [x]), y, g.node("Where", [g.node("IsNaN", [y]), x, both])],
           _out(out))


@converts(Sinc)
def sinc(g: Graph, args, out: Value):
    """As NumPy: y = pi (x, or 1e-20 where x == 0), sin(y) / y."""
    x = g.cast(args[0], out.dtype)
    safe = g.node("Where", [_equal(g, x, 0, out.dtype), _c(g, 1e-20, out.dtype), x])
    y = g.node("Mul", [safe, _c(g, math.pi, out.dtype)])
    g.node("Div", [g.node("Sin", [y]), y], _out(out))


@converts(NanToNum)
def nan_to_num(g: Graph, args, out: Value):
    """NaN, +inf and -inf replaced by constants of x's dtype (the dtype's extremes for None; a
    value beyond the dtype's range is inf, as in nabla)."""
    x, nan, posinf, neginf = args
    info = np.finfo(out.dtype)
    with np.errstate(over="ignore"):
        nan, posinf, neginf = (np.asarray(v, out.dtype) for v in (
            nan, info.max if posinf is None else posinf, info.min if neginf is None else neginf))
    y = g.node("Where", [g.node("IsInf", [x], detect_negative=0), g.const(posinf, "posinf"), x])
    y = g.node("Where", [g.node("IsInf", [x], detect_positive=0), g.const(neginf, "neginf"), y])
    g.node("Where", [g.node("IsNaN", [x]), g.const(nan, "nan"), y], _out(out))


@converts(np.signbit)
def signbit(g: Graph, args, out: Value):
    x = args[0]
    g.node("Identity", [_signbit(g, x.name, x.dtype)], _out(out))


@converts(np.isposinf, np.isneginf)
def isposinf(g: Graph, args, out: Value):
    """IsInf of one sign; integers are never infinite."""
    x = args[0]
    if x.dtype.kind != "f":
        g.node("Not", [g.node("Equal", [x, x])], _out(out))
        return
    positive = int(g.current is np.isposinf)
    g.node("IsInf", [x], _out(out), detect_positive=positive, detect_negative=1 - positive)
