"""ONNX conversions of the ops that find and count values: nonzero (argwhere, where with the
condition alone), unique, bincount, one_hot and the index of repeat_interleave with counts in a
tensor. None has a gradient: they are keyed by the function ``plain.py`` finds in the step.

The sizes of nonzero's, unique's, bincount's and repeat_interleave's results depend on the data:
the nodes compute them (NonZero, a run count, the largest value, the sum of the counts), and the
file names those dims as symbolic (``Value.free``), so the results are right for any input.

unique is built from a stable sort rather than ONNX's Unique: onnxruntime's Unique returns a
single NaN for a float input holding one, where nabla (as NumPy) keeps every other value and
gathers the NaNs into one group at the end.
"""

import numpy as np

from nabla.nn.functional import embedding_lookup
from nabla.onnx.converters import _END, _out, converts
from nabla.onnx.export import ExportError, Graph, Value
from nabla.ops import sorting
from nabla.ops.arrangement import repeat_interleave

_INT64 = np.dtype(np.int64)
_BOOL = np.dtype(bool)


def _int64(g: Graph, x: Value) -> str:
    return g.cast(x, _INT64)


@converts(np.argwhere)
def nonzero(g: Graph, args, out: Value):
    """The (count, ndim) coordinates of the nonzero elements: NonZero gives them as
    (ndim, count), transposed. A 0-d input is seen as (1,); its (count, 0) result is a Slice
    of no column."""
    x = args[0]
    truth = x.name if x.dtype == _BOOL else g.node("Cast", [x], to=g.onnx.TensorProto.BOOL)
    if x.ndim == 0:
        found = g.node("NonZero", [g.node("Reshape", [truth, g.ints([1])])])
        rows = g.node("Transpose", [found], perm=[1, 0])
        g.node("Slice", [rows, g.ints([0]), g.ints([0]), g.ints([1], "axes")], _out(out))
    else:
        g.node("Transpose", [g.node("NonZero", [truth])], _out(out), perm=[1, 0])
    out.free = frozenset([0])


@converts(sorting.unique)
def unique(g: Graph, args, outs):
    """The distinct values in ascending order (each NaN its own value, last), then the inverse
    (the input's shape) and the counts if asked for: the flattened input sorted stably, each
    run of equal values kept once (Compress at the run starts); an element's group is the
    number of run starts up to it, the counts the distances between run starts."""
    x, return_inverse, return_counts = args
    outs = list(outs) if isinstance(outs, list) else [outs]
    flat = g.node("Reshape", [x, g.ints([-1])])
    n = g.node("Shape", [flat])
    order = _ascending(g, x, flat, n)
    ordered = g.node("Gather", [flat, order], axis=0)
    starts = _run_starts(g, ordered, n)
    g.node("Compress", [ordered, starts], [outs[0].name], axis=0)
    outs[0].free = frozenset([0])
    if return_inverse:
        runs = g.node("CumSum", [g.node("Cast", [starts], to=g.onnx.TensorProto.INT64),
                                 g.const(np.int64(0), "axis")])
        group = g.node("Sub", [runs, g.const(np.int64(1))])
        inverse = g.node("ScatterElements", [group, order, group], axis=0)  # by position
        g.node("Reshape", [inverse, g.node("Shape", [x])], [outs[1].name])
    if return_counts:
        at = g.node("Squeeze", [g.node("NonZero", [starts]), g.ints([0], "axes")])
        ends = g.node("Concat", [g.node("Slice", [at, g.ints([1]), g.ints([_END])]), n], axis=0)
        g.node("Sub", [ends, at], [outs[-1].name])
        outs[-1].free = frozenset([0])


def _ascending(g: Graph, x: Value, flat: str, n: str) -> str:
    """The order that sorts ``flat`` ascending, stably, NaNs last: TopK (smallest first,
    equal values by position) of the values with NaN as +inf, then of the NaN flags in that
    order, so that +inf and NaN do not interleave."""
    kind = x.dtype.kind
    if kind == "u" and x.dtype.itemsize == 8:
        raise ExportError("onnx.export: unique of uint64 has no ONNX conversion (ONNX sorts "
                          "it as int64); convert the tensor to int64 first")
    key = flat
    if kind == "b" or (kind == "u" and x.dtype.itemsize > 1):
        key = g.node("Cast", [flat], to=g.onnx.TensorProto.INT64)
    if kind != "f":
        return _topk_order(g, key, n)
    nan = g.node("IsNaN", [flat])
    key = g.node("Where", [nan, g.const(np.asarray(np.inf, x.dtype)), flat])
    order = _topk_order(g, key, n)
    nan_last = _topk_order(g, g.node("Gather", [g.node("Cast", [nan], to=g.onnx.TensorProto.INT32),
                                                order], axis=0), n)
    return g.node("Gather", [order, nan_last], axis=0)


def _topk_order(g: Graph, key: str, n: str) -> str:
    indices = g.fresh("order")
    g.node("TopK", [key, n], [g.fresh("sorted"), indices], axis=0, largest=0, sorted=1)
    return indices


def _run_starts(g: Graph, ordered: str, n: str) -> str:
    """True where a sorted element differs from the one before it (always at the first; each
    NaN differs from every value, as Equal has it)."""
    cur = g.node("Slice", [ordered, g.ints([1]), g.ints([_END])])
    prev = g.node("Slice", [ordered, g.ints([0]), g.ints([-1])])
    same = g.node("Equal", [cur, prev])
    padded = g.node("Concat", [g.const(np.ones(1, bool), "first"), g.node("Not", [same])],
                    axis=0)
    return g.node("Slice", [padded, g.ints([0]), n])  # no start for an empty input


@converts(sorting.bincount)
def bincount(g: Graph, args, out: Value):
    """ScatterElements adding 1 (or the weight, in float64 as NumPy sums them) at each value
    into zeros of size max(largest value + 1, minlength)."""
    x, weights, minlength = args
    index = _int64(g, x)
    largest = g.node("ReduceMax", [g.node("Concat", [index, g.ints([-1])], axis=0)],
                     keepdims=1)  # -1 for an empty input
    size = g.node("Max", [g.node("Add", [largest, g.ints([1])]), g.ints([minlength])])
    if weights is None:
        sums = np.dtype(np.int64)
        updates = g.node("Expand", [g.const(np.int64(1)), g.node("Shape", [index])])
    else:
        sums = np.dtype(np.float64)
        updates = g.cast(weights, sums)
    zeros = g.node("ConstantOfShape", [size],
                   value=g.onnx.numpy_helper.from_array(np.zeros(1, sums)))
    total = g.node("ScatterElements", [zeros, index, updates], axis=0, reduction="add")
    g.node("Cast", [total], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))
    out.free = frozenset([0])


@converts(embedding_lookup.one_hot)
def one_hot(g: Graph, args, out: Value):
    """OneHot along a new last dim of ``num_classes`` (-1: the input's largest class + 1,
    computed by the file), values 0 and 1 as int64."""
    x, num_classes = args
    index = _int64(g, x)
    if num_classes == -1:
        flat = g.node("Reshape", [index, g.ints([-1])])
        largest = g.node("ReduceMax", [g.node("Concat", [flat, g.ints([-1])], axis=0)],
                         keepdims=0)  # -1 for an empty input
        depth = g.node("Add", [largest, g.const(np.int64(1))])
        out.free = frozenset([len(out.shape) - 1])
    else:
        depth = g.const(np.int64(num_classes), "depth")
    g.node("OneHot", [index, depth, g.const(np.array([0, 1], np.int64), "values")], _out(out),
           axis=-1)


@converts(repeat_interleave)
def repeat_index(g: Graph, args, out: Value):
    """Each position i of the 1-D counts repeated counts[i] times: a 1 added at each running
    total into zeros of the total's length + 1 (ScatterElements); the running sum of that at
    j is the number of totals <= j, the position whose copies j is among. (The file does not
    check that the counts are non-negative, as nabla does.)"""
    counts, _ = args
    c = _int64(g, counts)
    axis = g.const(np.int64(0), "axis")
    ends = g.node("CumSum", [c, axis])
    total = g.node("ReduceSum", [c], keepdims=1)  # (1,): 0 for no counts
    zeros = g.node("ConstantOfShape", [g.node("Add", [total, g.ints([1])])],
                   value=g.onnx.numpy_helper.from_array(np.zeros(1, np.int64)))
    ones = g.node("Expand", [g.const(np.int64(1)), g.node("Shape", [c])])
    marks = g.node("ScatterElements", [zeros, ends, ones], axis=0, reduction="add")
    index = g.node("CumSum", [g.node("Slice", [marks, g.ints([0]), total]), axis])
    g.node("Cast", [index], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))
    out.free = frozenset([0])
