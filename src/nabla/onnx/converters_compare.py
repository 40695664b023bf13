"""ONNX conversions of comparisons, logical and bitwise ops, tests (isnan, isclose), heaviside
and ``where`` (``masked_fill``).

The ops without gradient are keyed by their NumPy ufunc (see ``plain.py``) and get the step's
arguments: Values for tensors, Python or NumPy constants for the rest. Their operands are cast
to the type NumPy compared them in (``np.result_type``: a Python scalar takes the tensor's type).
"""

import numpy as np

from nabla.onnx.converters import _axes, _out, _reduce, converts
from nabla.onnx.export import ExportError, Graph, Value
from nabla.ops.aliases import heaviside
from nabla.ops.elementwise import Where

_BOOL = np.dtype(bool)
_COMPARE = {np.equal: "Equal", np.less: "Less", np.less_equal: "LessOrEqual",
            np.greater: "Greater", np.greater_equal: "GreaterOrEqual"}
_LOGICAL = {np.logical_and: "And", np.logical_or: "Or", np.logical_xor: "Xor",
            np.bitwise_and: "And", np.bitwise_or: "Or", np.bitwise_xor: "Xor"}
_BITWISE = {np.bitwise_and: "BitwiseAnd", np.bitwise_or: "BitwiseOr",
            np.bitwise_xor: "BitwiseXor"}


def _common(*operands) -> np.dtype:
    """The dtype NumPy computes in for these operands (Values or constants)."""
    return np.result_type(*(v.dtype if isinstance(v, Value) else v for v in operands))


@converts(*_COMPARE, np.not_equal)
def compare(g: Graph, args, out: Value):
    """x op y (bool), both operands in their common type; x != y is Not(Equal)."""
    x, y = args
    dtype = _common(x, y)
    if dtype == _BOOL and g.current not in (np.equal, np.not_equal):
        dtype = np.dtype(np.int32)  # ONNX orders numbers only: False < True as 0 < 1
    pair = [g.cast(x, dtype), g.cast(y, dtype)]
    if g.current is np.not_equal:
        g.node("Not", [g.node("Equal", pair)], _out(out))
    else:
        g.node(_COMPARE[g.current], pair, _out(out))


@converts(*_LOGICAL)
def logical(g: Graph, args, out: Value):
    """And, Or, Xor of the truth values; the bitwise ops of integers are BitwiseAnd, ... on
    both operands in the output's type (opset 18 on)."""
    if out.dtype != _BOOL:
        _check_bitwise(g, g.current.__name__)
        x, y = (g.cast(v, out.dtype) for v in args)
        g.node(_BITWISE[g.current], [x, y], _out(out))
        return
    x, y = (g.cast(v, _BOOL) for v in args)
    g.node(_LOGICAL[g.current], [x, y], _out(out))


@converts(np.logical_not, np.invert)
def logical_not(g: Graph, args, out: Value):
    if out.dtype != _BOOL:
        _check_bitwise(g, "bitwise_not")
        g.node("BitwiseNot", [args[0]], _out(out))
        return
    g.node("Not", [g.cast(args[0], _BOOL)], _out(out))


def _check_bitwise(g: Graph, name: str) -> None:
    if g.opset < 18:
        raise ExportError(f"onnx.export: {name} of integers has no ONNX conversion at opset "
                          f"{g.opset} (BitwiseAnd and the others are in opset 18); pass "
                          "opset_version=18")


def _float(g: Graph, x: Value) -> str:
    """x as a float tensor (IsNaN and IsInf take floats; an integer is neither)."""
    return x.name if x.dtype.kind == "f" else g.cast(x, np.dtype(np.float32))


@converts(np.isnan)
def isnan(g: Graph, args, out: Value):
    g.node("IsNaN", [_float(g, args[0])], _out(out))


@converts(np.isinf)
def isinf(g: Graph, args, out: Value):
    g.node("IsInf", [_float(g, args[0])], _out(out))


@converts(np.isfinite)
def isfinite(g: Graph, args, out: Value):
    """Neither NaN nor infinite: Not(Or(IsNaN, IsInf))."""
    x = _float(g, args[0])
    g.node("Not", [g.node("Or", [g.node("IsNaN", [x]), g.node("IsInf", [x])])], _out(out))


@converts(np.isclose)
def isclose(g: Graph, args, out: Value):
    """|x - y| <= atol + rtol |y| where y is finite, or x == y (equal infinities), or both NaN
    with ``equal_nan``; in NumPy's types: y as a float (``result_type(y, 1.0)``), the rest in
    the common type of x and that, atol + rtol |y| in y's."""
    x, y, rtol, atol, equal_nan = args
    if not isinstance(y, (Value, int, float)):  # a NumPy scalar: NumPy takes it as an array
        y = Value(g.const(np.asarray(y), "other"), (), np.asarray(y).dtype)
    if isinstance(y, Value):
        y = Value(g.cast(y, np.result_type(y.dtype, 1.0)), y.shape, np.result_type(y.dtype, 1.0))
        tol = g.node("Add", [g.cast(atol, y.dtype),
                             g.node("Mul", [g.cast(rtol, y.dtype), g.node("Abs", [y])])])
        tol = Value(tol, y.shape, y.dtype)
        finite = g.node("Not", [g.node("Or", [g.node("IsNaN", [y]), g.node("IsInf", [y])])])
    else:  # a number: NumPy computes its tolerance in Python floats
        y = float(y)
        tol, finite = atol + rtol * abs(y), g.const(np.bool_(np.isfinite(y)), "finite")
    dtype = _common(x, y)
    xs, ys = g.cast(x, dtype), g.cast(y, dtype)
    near = g.node("LessOrEqual", [g.node("Abs", [g.node("Sub", [xs, ys])]), g.cast(tol, dtype)])
    close = g.node("Or", [g.node("And", [near, finite]), g.node("Equal", [xs, ys])])
    if equal_nan and _can_be_nan(x) and _can_be_nan(y):
        both = g.node("And", [_isnan(g, x), _isnan(g, y)])
        close = g.node("Or", [close, both])
    g.node("Identity", [close], _out(out))


def _can_be_nan(v) -> bool:
    return v.dtype.kind == "f" if isinstance(v, Value) else np.isnan(v)


def _isnan(g: Graph, v) -> str:
    return g.node("IsNaN", [v]) if isinstance(v, Value) else g.const(np.bool_(True), "nan")


@converts(np.all, np.any)
def all_any(g: Graph, args, out: Value):
    """all: ReduceMin of the truth values as 0 or 1 over the dims; any: ReduceMax."""
    x, axes, keepdim = args
    bools = g.node("Cast", [x], to=g.onnx.TensorProto.BOOL)
    y = g.node("Cast", [bools], to=g.onnx.TensorProto.INT32)
    if axes:  # () for a 0-d input: nothing to reduce
        op_type = "ReduceMin" if g.current is np.all else "ReduceMax"
        y = _reduce(g, op_type, y, _axes(axes, x.ndim), int(bool(keepdim)))
    g.node("Cast", [y], _out(out), to=g.onnx.TensorProto.BOOL)


@converts(heaviside)
def heaviside_(g: Graph, args, out: Value):
    """values where x == 0, else x > 0 (0 for NaN), in x's dtype, broadcasting; for bools
    x or values."""
    x, values = args
    if x.dtype == _BOOL:
        g.node("Or", [x, g.cast(values, _BOOL)], _out(out))
        return
    zero = g.cast(0, x.dtype)
    above = g.node("Cast", [g.node("Greater", [x, zero])],
                   to=g.onnx.helper.np_dtype_to_tensor_dtype(x.dtype))
    g.node("Where", [g.node("Equal", [x, zero]), g.cast(values, x.dtype), above], _out(out))


@converts(Where)
def where(g: Graph, args, out: Value):
    """cond ? x : y, with both branches in the output's dtype (``masked_fill`` is
    where(mask, value, x))."""
    cond, x, y = args
    g.node("Where", [g.cast(cond, _BOOL), g.cast(x, out.dtype), g.cast(y, out.dtype)],
           _out(out))
