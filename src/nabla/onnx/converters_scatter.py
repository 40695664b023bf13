"""ONNX conversions of the ops that write at indices: scatter (a tensor or a scalar value),
scatter_add and index_add, all as ScatterElements along their dim (reduction 'none' for
scatter, 'add' for the others, which accumulates repeated indices as nabla does).

scatter with repeated indices keeps one of the written values in nabla and in ONNX, not
necessarily the same one (ONNX leaves the order undefined), as PyTorch's scatter does.
"""

import numpy as np

from nabla.onnx.converters import _out, converts
from nabla.onnx.converters_index import _index
from nabla.onnx.export import Graph, Value
from nabla.ops.scatter import Scatter, ScatterAdd
from nabla.ops.selection import IndexAdd


def _updates(g: Graph, src: Value, index: Value, dtype) -> str:
    """The values written at ``index``: a scalar ``src`` expanded to index's shape, else the
    part of ``src`` the index covers (src may be larger than index in any dim)."""
    src_name = g.cast(src, dtype)
    if src.ndim == 0:
        return g.node("Expand", [src_name, g.node("Shape", [index])])
    short = [d for d in range(src.ndim) if index.shape[d] < src.shape[d]]
    if not short:
        return src_name
    return g.node("Slice", [src_name, g.ints([0] * len(short)),
                            g.ints([index.shape[d] for d in short]), g.ints(short)])


@converts(Scatter, ScatterAdd)
def scatter(g: Graph, args, out: Value):
    """ScatterElements(x, index, src) along ``dim``: 'none' writes, 'add' accumulates."""
    x, dim, index, src = args
    index = _index(g, index)
    reduction = "none" if g.current is Scatter else "add"
    g.node("ScatterElements", [g.cast(x, out.dtype), index, _updates(g, src, index, out.dtype)],
           _out(out), axis=int(dim), reduction=reduction)


@converts(IndexAdd)
def index_add(g: Graph, args, out: Value):
    """y[.., index[i], ..] += alpha src[.., i, ..] along ``dim``: the 1-D index is laid along
    ``dim`` and expanded to src's shape, then ScatterElements adds src there."""
    x, dim, index, src, alpha = args
    index = _index(g, index)
    along = [1] * src.ndim
    along[dim] = -1
    laid = g.node("Reshape", [index, g.ints(along)])
    spread = g.node("Expand", [laid, g.node("Shape", [src])])
    updates = g.cast(src, out.dtype)
    if alpha != 1:
        updates = g.node("Mul", [updates, g.const(np.asarray(alpha, out.dtype), "alpha")])
    g.node("ScatterElements", [g.cast(x, out.dtype), spread, updates], _out(out),
           axis=int(dim), reduction="add")
