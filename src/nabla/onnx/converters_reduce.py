"""ONNX conversions of the ops that pick or accumulate along a dim: argmax / argmin, max / min
with a dim (values and indices), argsort / sort / topk (their indices; the values are then
gathered at them), cumsum and cumprod.

argmax, argmin and argsort have no gradient: they are keyed by their NumPy function and get
the arguments ``plain.py`` reads from the step: (x, axis, keepdims) and (x, axis, descending,
k). ONNX breaks ties as nabla does: the first maximum, and equal values in their original order.
"""

import numpy as np

from nabla.onnx.converters import _out, _reduce, converts
from nabla.onnx.export import Graph, Value
from nabla.ops.cumulative import Cumprod
from nabla.ops.extrema import Max, Min
from nabla.ops.reduce import Cumsum


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
    n = g.node("Squeeze", [g.node("Shape", [x], start=int(dim), end=int(dim) + 1)])
    i = g.node("Range", [g.const(np.int64(0)), n, g.const(np.int64(1))])
    table = g.node("LessOrEqual", [g.node("Unsqueeze", [i, g.ints([0], "axes")]),
                                   g.node("Unsqueeze", [i, g.ints([1], "axes")])])  # (j, i)
    trailing = list(range(2, x.ndim - dim + 1))
    if trailing:
        table = g.node("Unsqueeze", [table, g.ints(trailing, "axes")])
    rows = g.node("Unsqueeze", [x, g.ints([dim], "axes")])  # (..., 1, n_i, ...)
    masked = g.node("Where", [table, rows, g.cast(1, out.dtype)])
    _reduce(g, "ReduceProd", masked, [dim + 1], 0, out.name)
