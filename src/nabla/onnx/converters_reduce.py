"""ONNX conversions of the ops that pick or accumulate along a dim: argmax / argmin, max / min
with a dim (values and indices), argsort / sort / topk, kthvalue / median, cummax / cummin
(their indices; the values are then gathered at them), cumsum, cumprod and logcumsumexp.

The index steps have no gradient: they are keyed by their NumPy function (or, for kthvalue,
median, cummax and cummin, by the public function) and get the arguments ``plain.py`` reads
from the step: (x, axis, keepdims), (x, axis, descending, k), (x, dim, k) or (x, dim). Ties
go as in nabla: ONNX takes the first maximum and keeps equal values in their original order
(so kthvalue and median pick, among equal values, the one nabla picks), and cummax's index is
built to be the latest of equal maxima.
"""

import numpy as np

from nabla.onnx.converters import _END, _out, _reduce, converts
from nabla.onnx.export import Graph, Value
from nabla.ops.cumulative import Cumprod, Logcumsumexp, cummax, cummin
from nabla.ops.extrema import Max, Min
from nabla.ops.reduce import Cumsum
from nabla.ops.sorting import kthvalue, median


@converts(np.argmax, np.argmin)
def argmax(g: Graph, args, out: Value):
    """ArgMax / ArgMin along ``axis``; along the flattened input when axis is None."""
    x, axis, keepdims = args
    op_type = "ArgMax" if g.current is np.argmax else "ArgMin"
    if axis is not None:
        g.node(op_type, [x], _out(out), axis=int(axis), keepdims=int(bool(keepdims)))
        return
    flat = g.node("Reshape", [x, g.ints([-1])])
    y = g.node(op_type, [flat], axis=0, keepdims=0)
    g.node("Reshape", [y, g.ints(out.shape)], _out(out))  # () or (1, ..., 1) with keepdims


@converts(Max, Min)
def max_dim(g: Graph, args, outs: list):
    """(values, indices) along ``dim``: the indices by ArgMax (ArgMin), the values gathered
    there, then ``dim`` squeezed unless ``keepdim``."""
    x, dim, keepdim = args
    values, indices = outs
    if x.ndim == 0:
        g.node("Identity", [x], [values.name])
        g.node("Identity", [g.const(np.zeros((), np.int64), "index")], [indices.name])
        return
    op_type = "ArgMax" if g.current is Max else "ArgMin"
    kept = g.node(op_type, [x], axis=int(dim), keepdims=1)
    picked = g.node("GatherElements", [x, kept], axis=int(dim))
    if keepdim:
        g.node("Identity", [picked], [values.name])
        g.node("Identity", [kept], [indices.name])
    else:
        g.node("Squeeze", [picked, g.ints([dim], "axes")], [values.name])
        g.node("Squeeze", [kept, g.ints([dim], "axes")], [indices.name])


@converts(np.argsort)
def argsort(g: Graph, args, out: Value):
    """The indices of TopK (largest first for descending) along ``axis``: all of them for
    argsort and sort, where k is read from the input's shape (so that it may be dynamic)."""
    x, axis, descending, k = args
    if k == x.shape[axis]:
        count = g.node("Shape", [x], start=int(axis), end=int(axis) + 1)
    else:
        count = g.ints([k], "k")
    g.node("TopK", [x, count], [g.fresh("topk_values"), out.name], axis=int(axis),
           largest=int(bool(descending)), sorted=1)


@converts(Cumsum)
def cumsum(g: Graph, args, out: Value):
    x, dim, _ = args
    g.node("CumSum", [g.cast(x, out.dtype), g.const(np.int64(dim), "axis")], _out(out))


@converts(Cumprod)
def cumprod(g: Graph, args, out: Value):
    """y_j = prod_i (x_i where i <= j, else 1): x is repeated along a new dim j next to ``dim``
    (i), masked by the (n, n) table i <= j, and multiplied over i. ONNX has no CumProd; this
    takes n^2 the memory of x along ``dim`` but keeps n dynamic."""
    x, dim = args
    _, table = _prefix_table(g, x, dim)
    rows = g.node("Unsqueeze", [x, g.ints([dim], "axes")])  # (..., 1, n_i, ...)
    masked = g.node("Where", [table, rows, g.cast(1, out.dtype)])
    _reduce(g, "ReduceProd", masked, [dim + 1], 0, out.name)


def _prefix_table(g: Graph, x: Value, dim: int) -> tuple:
    """The positions i along ``dim`` (int64, laid along a new dim after it) and the bool table
    i <= j, shaped (n_j, n_i, 1, ...) to broadcast against x unsqueezed at ``dim``."""
    n = g.node("Squeeze", [g.node("Shape", [x], start=int(dim), end=int(dim) + 1)])
    i = g.node("Range", [g.const(np.int64(0)), n, g.const(np.int64(1))])
    table = g.node("LessOrEqual", [g.node("Unsqueeze", [i, g.ints([0], "axes")]),
                                   g.node("Unsqueeze", [i, g.ints([1], "axes")])])  # (j, i)
    after = x.ndim - dim - 1  # the dims of x after ``dim``
    if after:
        table = g.node("Unsqueeze", [table, g.ints(range(2, 2 + after), "axes")])
        i = g.node("Unsqueeze", [i, g.ints(range(1, 1 + after), "axes")])
    return i, table


@converts(cummax, cummin)
def cum_extreme(g: Graph, args, out: Value):
    """The index of the running max (min) along ``dim``: idx_j = the latest i <= j where x_i
    equals max(x_0, ..., x_j); where x_0..x_j hold a NaN, the latest NaN (as nabla). Like
    cumprod, it works on the (n_j, n_i) table of i <= j along ``dim``."""
    x, dim = args
    dtype = np.dtype(np.int32) if x.dtype == np.dtype(bool) else x.dtype  # ONNX orders numbers
    positions, table = _prefix_table(g, x, dim)
    rows = g.node("Unsqueeze", [g.cast(x, dtype), g.ints([dim], "axes")])  # (..., 1, n_i, ...)
    is_max = g.current is cummax
    masked = g.node("Where", [table, rows, g.const(_beaten_by_all(dtype, is_max))])
    best = _reduce(g, "ReduceMax" if is_max else "ReduceMin", masked, [dim + 1], 1)
    hit = g.node("And", [table, g.node("Equal", [rows, best])])
    last = _latest(g, hit, positions, dim)
    if x.dtype.kind != "f":
        g.node("Identity", [last], _out(out))
        return
    last_nan = _latest(g, g.node("And", [table, g.node("IsNaN", [rows])]), positions, dim)
    seen_nan = g.node("GreaterOrEqual", [last_nan, g.const(np.int64(0))])
    g.node("Where", [seen_nan, last_nan, last], _out(out))


def _beaten_by_all(dtype: np.dtype, is_max: bool) -> np.ndarray:
    """The value that every element beats (for max: -inf, or the integer minimum)."""
    if dtype.kind == "f":
        return np.asarray(-np.inf if is_max else np.inf, dtype)
    info = np.iinfo(dtype)
    return np.asarray(info.min if is_max else info.max, dtype)


def _latest(g: Graph, hit: str, positions: str, dim: int) -> str:
    """The largest position i where ``hit`` (over the table's dim i), -1 where none."""
    picked = g.node("Where", [hit, positions, g.const(np.int64(-1))])
    return _reduce(g, "ReduceMax", picked, [dim + 1], 0)


@converts(Logcumsumexp)
def logcumsumexp(g: Graph, args, out: Value):
    """log(cumsum(exp(x - m))) + m with m the max along ``dim`` (0 where it is infinite, so
    that -inf and inf come out as nabla's), in float64 as nabla accumulates: exact unless a
    prefix lies wholly more than ~700 below the max (it underflows to -inf)."""
    x, dim = args
    wide = np.dtype(np.float64)
    x64 = g.cast(x, wide)
    m = _reduce(g, "ReduceMax", x64, [dim], 1)
    m = g.node("Where", [g.node("Or", [g.node("IsInf", [m]), g.node("IsNaN", [m])]),
                         g.const(np.float64(0)), m])
    total = g.node("CumSum", [g.node("Exp", [g.node("Sub", [x64, m])]),
                              g.const(np.int64(dim), "axis")])
    y = g.node("Add", [g.node("Log", [total]), m])
    g.node("Identity", [g.cast(Value(y, out.shape, wide), out.dtype)], _out(out))


# -- kthvalue, median: their index along dim (size 1, kept) --------------------------------------
@converts(kthvalue)
def kthvalue_index(g: Graph, args, out: Value):
    """The k-th of the k smallest along ``dim`` (TopK: ascending, equal values in order)."""
    x, dim, k = args
    _kth_smallest(g, x, dim, g.ints([k], "k"), out)


@converts(median)
def median_index(g: Graph, args, out: Value):
    """The lower median: the ((n + 1) // 2)-th smallest along ``dim``, n read from x's shape;
    for floats, the first NaN where the values hold one (nabla propagates NaN)."""
    x, dim = args
    n = g.node("Shape", [x], start=int(dim), end=int(dim) + 1)
    k = g.node("Div", [g.node("Add", [n, g.const(np.int64(1))]), g.const(np.int64(2))])
    if x.dtype.kind != "f":
        _kth_smallest(g, x, dim, k, out)
        return
    index = Value(g.fresh("median"), out.shape, out.dtype)
    _kth_smallest(g, x, dim, k, index)
    nan = g.node("IsNaN", [x])
    first_nan = g.node("ArgMax", [g.node("Cast", [nan], to=g.onnx.TensorProto.INT32)],
                       axis=int(dim), keepdims=1)
    has_nan = g.node("GatherElements", [nan, first_nan], axis=int(dim))
    g.node("Where", [has_nan, first_nan, index], _out(out))


def _kth_smallest(g: Graph, x: Value, dim: int, k: str, out: Value) -> None:
    """The index of the k-th smallest value along ``dim`` (``k`` an int64 (1,) input)."""
    topk = g.fresh("topk_indices")
    g.node("TopK", [x, k], [g.fresh("topk_values"), topk], axis=int(dim), largest=0, sorted=1)
    g.node("Slice", [topk, g.ints([-1]), g.ints([_END]), g.ints([dim], "axes")], _out(out))
