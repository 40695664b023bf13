"""ONNX conversions of the searches, counts and order statistics without gradient: searchsorted
(bucketize), isin, count_nonzero, histc, and the index steps of mode, nanmedian and nanquantile
(whose values are then read there by ops that have conversions), unique_consecutive.

They are keyed by the public function (``plain.py`` finds it in the step) and get the step's
arguments followed by the settings of its ``functools.partial``.

- searchsorted unrolls nabla's binary search (the same comparisons in the same order, so NaN in
  the sequence gives the same answer): ceil(log2(N + 1)) rounds of a few nodes each.
- isin compares every element with every test element: memory of size(elements) *
  size(test_elements).
- histc puts each value in its bin as NumPy's histogram does (an estimate, then one step down or
  up against the bin edges, computed as ``np.linspace`` computes them), so that values on an
  edge fall in the same bin.
- mode and nanmedian sort along the dim stably with NaN last (as nabla's sort).
"""

import numpy as np

from nabla.onnx.converters import _END, _axes, _out, _reduce, converts
from nabla.onnx.converters_count import _run_starts
from nabla.onnx.export import Graph, Value
from nabla.ops import order_stats
from nabla.ops.bucketize import isin, searchsorted
from nabla.ops.compare import count_nonzero
from nabla.ops.statistics import histc

_INT64 = np.dtype(np.int64)
_BOOL = np.dtype(bool)


def _value(g: Graph, v, dtype) -> Value:
    """``v`` (a Value or a number) as a Value of ``dtype``."""
    if isinstance(v, Value):
        return Value(g.cast(v, dtype), v.shape, dtype)
    return Value(g.const(np.asarray(v, dtype)), (), dtype)


def _int64(g: Graph, v) -> str:
    return g.node("Cast", [v], to=g.onnx.TensorProto.INT64)


# -- searchsorted, isin, count_nonzero -------------------------------------------------------------
@converts(searchsorted)
def search_sorted(g: Graph, args, out: Value):
    """Insertion points: each row of values searched in its row of the sequence (one row for
    a 1-D sequence) by the rounds of nabla's binary search, on int64 (start, end) bounds."""
    seq, values, sorter, dtype, right, out_dtype = args
    n = seq.shape[-1]
    rows = g.node("Reshape", [g.cast(seq, dtype), g.ints([-1, n])])
    values = _value(g, values, dtype)
    if seq.ndim == 1:
        flat = g.node("Reshape", [values, g.ints([1, -1])])
    else:
        last = g.node("Shape", [values], start=-1)
        flat = g.node("Reshape", [values, g.node("Concat", [g.ints([-1]), last], axis=0)])
    if sorter is not None:
        sorter = g.node("Reshape", [g.cast(sorter, _INT64), g.ints([-1, n])])
    shape = g.node("Shape", [flat])
    start = g.node("ConstantOfShape", [shape], value=_scalar(g, 0))
    end = g.node("ConstantOfShape", [shape], value=_scalar(g, n))
    one = g.const(np.int64(1))
    for _ in range(n.bit_length()):  # as nabla: a search over n positions takes this many
        active = g.node("Less", [start, end])
        mid = g.node("Add", [start, g.node("Div", [g.node("Sub", [end, start]),
                                                   g.const(np.int64(2))])])
        pos = g.node("Min", [mid, g.const(np.int64(n - 1))])
        if sorter is not None:
            pos = g.node("GatherElements", [sorter, pos], axis=1)
        at = g.node("GatherElements", [rows, pos], axis=1)
        above = g.node("Greater" if right else "GreaterOrEqual", [at, flat])
        start = g.node("Where", [g.node("And", [active, g.node("Not", [above])]),
                                 g.node("Add", [mid, one]), start])
        end = g.node("Where", [g.node("And", [active, above]), mid, end])
    found = g.node("Reshape", [start, g.node("Shape", [values])])
    g.node("Cast", [found], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out_dtype))


def _scalar(g: Graph, n: int):
    """A one-element int64 tensor, the value of ConstantOfShape."""
    return g.onnx.numpy_helper.from_array(np.asarray([n], np.int64))


@converts(isin)
def is_in(g: Graph, args, out: Value):
    """Whether each element equals one of the test elements: Equal against all of them (as a
    new last dim), any over it (a sum, so that no test elements give False), Not to invert."""
    elements, tests, dtype, invert = args
    a, b = _value(g, elements, dtype), _value(g, tests, dtype)
    flat = g.node("Reshape", [b, g.ints([-1])])
    same = g.node("Equal", [g.node("Unsqueeze", [a, g.ints([-1], "axes")]), flat])
    hits = _reduce(g, "ReduceSum", g.node("Cast", [same], to=g.onnx.TensorProto.INT32), [a.ndim],
                   0)
    found = g.node("Greater", [hits, g.const(np.int32(0))])
    g.node("Not" if invert else "Identity", [found], _out(out))


@converts(count_nonzero)
def count_nonzero_(g: Graph, args, out: Value):
    """The sum over the dims (all when None) of x != 0 as int64."""
    x, axis = args
    nonzero = x.name if x.dtype == _BOOL else \
        g.node("Not", [g.node("Equal", [x, g.cast(0, x.dtype)])])
    axes = _axes(axis, x.ndim)
    if axes == []:  # a 0-d input
        g.node("Cast", [nonzero], _out(out), to=g.onnx.TensorProto.INT64)
        return
    _reduce(g, "ReduceSum", _int64(g, nonzero), axes, 0, out.name)


# -- histc -----------------------------------------------------------------------------------------
@converts(histc)
def histc_(g: Graph, args, out: Value):
    """Counts in ``bins`` equal bins over [lo, hi] (the data's min and max when lo == hi, each
    widened by 1 if equal). NaN and values outside fall in no bin (an extra one, dropped)."""
    x, bins, lo, hi = args
    flat = g.node("Reshape", [x, g.ints([-1])])
    if lo == hi:
        edges = _data_edges(g, flat, bins, x.dtype)
    else:  # the edges np.histogram makes for this range and dtype
        edges = g.const(np.histogram_bin_edges(np.zeros(0, x.dtype), bins, (lo, hi)), "edges")
    index = _bin_index(g, flat, edges, bins)
    first = g.node("Slice", [edges, g.ints([0]), g.ints([1])])
    last = g.node("Slice", [edges, g.ints([-1]), g.ints([_END])])
    inside = g.node("And", [g.node("GreaterOrEqual", [flat, first]),
                            g.node("LessOrEqual", [flat, last])])  # False for NaN
    index = g.node("Where", [inside, index, g.const(np.int64(bins))])
    zeros = g.const(np.zeros(bins + 1, np.int64), "zeros")
    ones = g.node("Expand", [g.const(np.int64(1)), g.node("Shape", [flat])])
    counts = g.node("ScatterElements", [zeros, index, ones], axis=0, reduction="add")
    counts = g.node("Slice", [counts, g.ints([0]), g.ints([bins])])
    g.node("Cast", [counts], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))


def _data_edges(g: Graph, flat: str, bins: int, dtype) -> str:
    """The bins + 1 edges from the data's min to max (+-1 if equal), in float64 as
    ``np.linspace`` computes them (start + i * step, the last one the max), then ``dtype``."""
    f64 = g.onnx.TensorProto.DOUBLE
    lo = g.node("Cast", [g.node("ReduceMin", [flat], keepdims=1)], to=f64)
    hi = g.node("Cast", [g.node("ReduceMax", [flat], keepdims=1)], to=f64)
    same = g.node("Equal", [lo, hi])
    lo = g.node("Where", [same, g.node("Sub", [lo, g.const(np.float64(1))]), lo])
    hi = g.node("Where", [same, g.node("Add", [hi, g.const(np.float64(1))]), hi])
    step = g.node("Div", [g.node("Sub", [hi, lo]), g.const(np.float64(bins))])
    steps = g.const(np.arange(bins, dtype=np.float64), "steps")
    edges = g.node("Concat", [g.node("Add", [g.node("Mul", [steps, step]), lo]), hi], axis=0)
    return g.node("Cast", [edges], to=g.onnx.helper.np_dtype_to_tensor_dtype(dtype))


def _bin_index(g: Graph, flat: str, edges: str, bins: int) -> str:
    """The bin of each value as NumPy finds it: floor((x - lo) / (hi - lo) * bins) clamped to
    [0, bins - 1], one less where x is below its bin's left edge, one more where it reaches the
    next edge (except in the last bin, which holds its right edge)."""
    f64 = g.onnx.TensorProto.DOUBLE
    wide = g.node("Cast", [edges], to=f64)
    lo = g.node("Slice", [wide, g.ints([0]), g.ints([1])])
    hi = g.node("Slice", [wide, g.ints([-1]), g.ints([_END])])
    x = g.node("Cast", [flat], to=f64)
    scaled = g.node("Mul", [g.node("Div", [g.node("Sub", [x, lo]), g.node("Sub", [hi, lo])]),
                            g.const(np.float64(bins))])
    finite = g.node("Where", [g.node("IsNaN", [scaled]), g.const(np.float64(0)), scaled])
    clipped = g.node("Clip", [finite, g.const(np.float64(0)), g.const(np.float64(bins - 1))])
    index = _int64(g, g.node("Floor", [clipped]))
    below = g.node("Less", [flat, g.node("Gather", [edges, index], axis=0)])
    index = g.node("Sub", [index, _int64(g, below)])
    right = g.node("Gather", [edges, g.node("Add", [index, g.const(np.int64(1))])], axis=0)
    up = g.node("And", [g.node("GreaterOrEqual", [flat, right]),
                        g.node("Less", [index, g.const(np.int64(bins - 1))])])
    return g.node("Add", [index, _int64(g, up)])


# -- mode, nanmedian, nanquantile: positions along a dim -------------------------------------------
def _stable_order(g: Graph, x: Value, dim: int) -> str:
    """The indices that sort x ascending along ``dim``, equal values in their order, NaN last:
    TopK of the values with NaN as +inf, then of the NaN flags in that order."""
    n = g.node("Shape", [x], start=dim, end=dim + 1)
    if x.dtype.kind != "f":
        key = x.name if x.dtype.kind == "i" else _int64(g, x)  # TopK orders numbers
        return _topk(g, key, n, dim)
    nan = g.node("IsNaN", [x])
    key = g.node("Where", [nan, g.const(np.asarray(np.inf, x.dtype)), x])
    order = _topk(g, key, n, dim)
    flags = g.node("GatherElements", [g.node("Cast", [nan], to=g.onnx.TensorProto.INT32), order],
                   axis=dim)
    return g.node("GatherElements", [order, _topk(g, flags, n, dim)], axis=dim)


def _topk(g: Graph, key: str, n: str, dim: int) -> str:
    indices = g.fresh("order")
    g.node("TopK", [key, n], [g.fresh("sorted"), indices], axis=dim, largest=0, sorted=1)
    return indices


def _along(g: Graph, x: str, start: int, end: int, dim: int) -> str:
    return g.node("Slice", [x, g.ints([start]), g.ints([end]), g.ints([dim], "axes")])


@converts(order_stats.mode)
def mode_index(g: Graph, args, out: Value):
    """The last occurrence of the smallest most frequent value along ``dim`` (kept): in the
    stable sort, each element's run length (run ids by CumSum of the run starts, their sizes
    by ScatterElements), the first longest run, its last element's original index."""
    x, dim = args
    order = _stable_order(g, x, dim)
    s = g.node("GatherElements", [x, order], axis=dim)
    cur, prev = _along(g, s, 1, _END, dim), _along(g, s, 0, -1, dim)
    same = g.node("Equal", [cur, prev])
    if x.dtype.kind == "f":  # NaNs count as one value
        both_nan = g.node("And", [g.node("IsNaN", [cur]), g.node("IsNaN", [prev])])
        same = g.node("Or", [same, both_nan])
    first = g.node("Expand", [g.const(np.bool_(True)), g.node("Shape", [_along(g, s, 0, 1, dim)])])
    starts = g.node("Concat", [first, g.node("Not", [same])], axis=dim)
    run = g.node("Sub", [g.node("CumSum", [_int64(g, starts), g.const(np.int64(dim), "axis")]),
                         g.const(np.int64(1))])
    ones = g.node("Expand", [g.const(np.int64(1)), g.node("Shape", [run])])
    zeros = g.node("Mul", [run, g.const(np.int64(0))])
    sizes = g.node("ScatterElements", [zeros, run, ones], axis=dim, reduction="add")
    length = g.node("GatherElements", [sizes, run], axis=dim)
    longest = g.node("ArgMax", [length], axis=dim, keepdims=1)
    last = g.node("Sub", [g.node("Add", [longest, g.node("GatherElements", [length, longest],
                                                          axis=dim)]), g.const(np.int64(1))])
    g.node("GatherElements", [order, last], _out(out), axis=dim)


def _valid(g: Graph, x: Value, dim: int) -> str:
    """How many values along ``dim`` are not NaN (int64, kept dim)."""
    kept = g.node("Not", [g.node("IsNaN", [x])]) if x.dtype.kind == "f" else \
        g.node("Equal", [x, x])
    return _reduce(g, "ReduceSum", _int64(g, kept), [dim], 1)


@converts(order_stats.nanmedian)
def nanmedian_index(g: Graph, args, out: Value):
    """The lower median of the non-NaN values along ``dim`` (kept): in the stable sort with NaN
    last, position max(valid - 1, 0) // 2; the first NaN where all are NaN."""
    x, dim = args
    middle = g.node("Div", [g.node("Max", [g.node("Sub", [_valid(g, x, dim),
                                                         g.const(np.int64(1))]),
                                          g.const(np.int64(0))]), g.const(np.int64(2))])
    g.node("GatherElements", [_stable_order(g, x, dim), middle], _out(out), axis=dim)


@converts(order_stats.nanquantile)
def nanquantile_positions(g: Graph, args, outs: list):
    """(below, above, frac): the q-quantiles' places among the sorted non-NaN values along
    ``dim`` (one per q along it): pos = max(q (valid - 1), 0), below = floor, above = ceil
    ('nearest': both rounded half to even), frac = pos - below."""
    x, qs, dim, interpolation = args
    below, above, frac = outs
    along = [1] * x.ndim
    along[dim] = -1
    valid = g.cast(Value(_valid(g, x, dim), (), _INT64), x.dtype)
    levels = g.node("Reshape", [g.cast(qs, x.dtype) if isinstance(qs, Value) else
                                g.const(np.asarray(qs, x.dtype), "q"), g.ints(along)])
    pos = g.node("Mul", [levels, g.node("Sub", [valid, g.cast(1, x.dtype)])])
    pos = g.node("Max", [pos, g.cast(0, x.dtype)])
    if interpolation == "nearest":
        low = high = g.node("Round", [pos])
    else:
        low, high = g.node("Floor", [pos]), g.node("Ceil", [pos])
    g.node("Cast", [low], [below.name], to=g.onnx.TensorProto.INT64)
    g.node("Cast", [high], [above.name], to=g.onnx.TensorProto.INT64)
    g.node("Sub", [pos, low], [frac.name])


# -- unique_consecutive ----------------------------------------------------------------------------
@converts(order_stats.unique_consecutive)
def unique_consecutive(g: Graph, args, outs):
    """The first element (or slice along ``dim``) of each run of equal consecutive ones
    (Compress at the run starts), then the inverse (which run each belongs to: CumSum of the
    starts - 1) and the run lengths if asked for. The runs' count depends on the data."""
    x, return_inverse, return_counts, dim = args
    outs = list(outs) if isinstance(outs, list) else [outs]
    if dim is None or x.ndim == 0:
        flat = g.node("Reshape", [x, g.ints([-1])])
        n = g.node("Shape", [flat])
        starts = _run_starts(g, flat, n)
        g.node("Compress", [flat, starts], [outs[0].name], axis=0)
        outs[0].free = frozenset([0])
    else:
        n = g.node("Shape", [x], start=dim, end=dim + 1)
        starts = _slice_starts(g, x, dim, n)
        g.node("Compress", [x, starts], [outs[0].name], axis=dim)
        outs[0].free = frozenset([dim])
    if return_inverse:
        runs = g.node("CumSum", [_int64(g, starts), g.const(np.int64(0), "axis")])
        inverse = g.node("Sub", [runs, g.const(np.int64(1))])
        shape = g.node("Shape", [x]) if dim is None else n
        g.node("Reshape", [inverse, shape], [outs[1].name])
    if return_counts:
        at = g.node("Squeeze", [g.node("NonZero", [starts]), g.ints([0], "axes")])
        ends = g.node("Concat", [g.node("Slice", [at, g.ints([1]), g.ints([_END])]), n], axis=0)
        g.node("Sub", [ends, at], [outs[-1].name])
        outs[-1].free = frozenset([0])


def _slice_starts(g: Graph, x: Value, dim: int, n: str) -> str:
    """True where a slice along ``dim`` differs anywhere from the one before (and at the
    first): a count of the differing elements (0 for empty slices), compared with 0."""
    differ = g.node("Not", [g.node("Equal", [_along(g, x, 1, _END, dim),
                                            _along(g, x, 0, -1, dim)])])
    others = [d for d in range(x.ndim) if d != dim]
    count = g.node("Cast", [differ], to=g.onnx.TensorProto.INT32)
    if others:
        count = _reduce(g, "ReduceSum", count, others, 0)
    changed = g.node("Greater", [count, g.const(np.int32(0))])
    padded = g.node("Concat", [g.const(np.ones(1, bool), "first"), changed], axis=0)
    return g.node("Slice", [padded, g.ints([0]), n])  # no start for an empty dim
