"""ONNX conversions of the rounding divisions: floor_divide (keyed by ``np.floor_divide``: it
has no gradient), remainder (the sign of the divisor, as Python's %) and fmod (the sign of the
dividend, as C's), for integers and floats; and unravel_index's coordinates, made of them.

ONNX's Div truncates integers and its Mod with fmod=0 takes integers only, so each op is built
from Mod: for floats as NumPy and PyTorch compute them (``npy_divmod``), which is not always
floor(x / y): 1.0 // 0.1 is 9.0, since 0.1 is slightly more than a tenth.
"""

import numpy as np

from nabla.onnx.converters import _out, converts
from nabla.onnx.export import Graph, Value
from nabla.ops.compare import Fmod, Remainder
from nabla.ops.grids import unravel_index

_INT64 = np.dtype(np.int64)


def _operands(g: Graph, args, out: Value) -> tuple:
    """Both operands (Values or Python numbers) in the output's dtype."""
    x, y = args
    return g.cast(x, out.dtype), g.cast(y, out.dtype)


def _wrong_sign(g: Graph, r: str, y: str, zero: str) -> str:
    """Where the truncated remainder r is nonzero and its sign differs from y's."""
    signs_differ = g.node("Xor", [g.node("Less", [r, zero]), g.node("Less", [y, zero])])
    return g.node("And", [g.node("Not", [g.node("Equal", [r, zero])]), signs_differ])


@converts(np.floor_divide)
def floor_divide(g: Graph, args, out: Value):
    """Integers: (x - x mod y) / y, exact. Floats: d = (x - fmod(x, y)) / y (a whole number
    up to rounding), one less where fmod's sign differs from y's, then rounded to the nearest
    whole number; x / y where y = 0 (inf or nan), and a zero takes the sign of x / y."""
    x, y = _operands(g, args, out)
    if out.dtype.kind != "f":
        g.node("Div", [g.node("Sub", [x, g.node("Mod", [x, y], fmod=0)]), y], _out(out))
        return
    c = lambda v: g.cast(v, out.dtype)  # noqa: E731 (a constant in the output's dtype)
    r = g.node("Mod", [x, y], fmod=1)
    d = g.node("Div", [g.node("Sub", [x, r]), y])
    d = g.node("Where", [_wrong_sign(g, r, y, c(0)), g.node("Sub", [d, c(1)]), d])
    down = g.node("Floor", [d])
    up = g.node("Greater", [g.node("Sub", [d, down]), c(0.5)])
    q = g.node("Where", [up, g.node("Add", [down, c(1)]), down])
    quotient = g.node("Div", [x, y])
    signed_zero = g.node("Mul", [quotient, c(0)])
    q = g.node("Where", [g.node("Equal", [d, c(0)]), signed_zero, q])
    g.node("Where", [g.node("Equal", [y, c(0)]), quotient, q], _out(out))


@converts(Remainder)
def remainder(g: Graph, args, out: Value):
    """Integers: Mod. Floats: fmod(x, y), plus y where its sign differs from y's."""
    x, y = _operands(g, args, out)
    if out.dtype.kind != "f":
        g.node("Mod", [x, y], _out(out), fmod=0)
        return
    r = g.node("Mod", [x, y], fmod=1)
    fix = _wrong_sign(g, r, y, g.cast(0, out.dtype))
    g.node("Where", [fix, g.node("Add", [r, y]), r], _out(out))


@converts(Fmod)
def fmod(g: Graph, args, out: Value):
    x, y = _operands(g, args, out)
    g.node("Mod", [x, y], _out(out), fmod=1)


@converts(unravel_index)
def coordinate(g: Graph, args, out: Value):
    """One coordinate of flat indices, floor(i / stride) mod size on int64, both with Mod
    (fmod=0: the divisor's sign, as floor division): (i - i mod stride) / stride is exact."""
    x, stride, size = args
    i = g.cast(x, _INT64)
    if stride != 1:
        s = g.const(np.int64(stride), "stride")
        i = g.node("Div", [g.node("Sub", [i, g.node("Mod", [i, s], fmod=0)]), s])
    g.node("Mod", [i, g.const(np.int64(size), "size")], _out(out), fmod=0)
