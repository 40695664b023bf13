"""ONNX conversions of the ops that read at indices: gather, index_select, and ``x[key]`` with
integer arrays or boolean masks, mixed with slices and None (advanced indexing, masked_select).

An index is a Value when it is a traced tensor (``x[idx]``, ``x[x > 0]``: export passes the
arrays of traced tensors in an index key as their Values), else a constant of the trace.
"""

import numpy as np

from nabla.onnx.converters import _out, converts, getitem
from nabla.onnx.export import ExportError, Graph, Value
from nabla.ops.index import AdvancedGetitem
from nabla.ops.scatter import Gather
from nabla.ops.selection import IndexSelect
from nabla.ops.strided import Diagonal

_INT64 = np.dtype(np.int64)
_BOOL = np.dtype(bool)


def _index(g: Graph, index) -> Value:
    """An index (a Value or a constant array) as an int64 Value (a bool mask stays bool)."""
    if not isinstance(index, Value):
        index = np.asarray(index)
        if index.dtype != bool:
            index = index.astype(np.int64)
        return Value(g.const(index, "index"), index.shape, index.dtype)
    if index.dtype in (_INT64, np.dtype(bool)):
        return index
    return Value(g.cast(index, _INT64), index.shape, _INT64)


@converts(Gather)
def gather(g: Graph, args, out: Value):
    """GatherElements along ``dim``, on the part of x the index covers (nabla's gather, as
    PyTorch's, lets the index be smaller than x in the other dims). take's negative positions
    are read as GatherElements reads them, from the end (take_along_dim's beyond [-n, n), which
    nabla wraps modulo n, are not)."""
    x, dim, index = args[:3]
    index = _index(g, index)
    short = [d for d in range(x.ndim) if d != dim and index.shape[d] < x.shape[d]]
    data = x.name
    if short:
        data = g.node("Slice", [x, g.ints([0] * len(short)),
                                g.ints([index.shape[d] for d in short]), g.ints(short)])
    g.node("GatherElements", [data, index], _out(out), axis=int(dim))


@converts(IndexSelect)
def index_select(g: Graph, args, out: Value):
    x, dim, index = args
    g.node("Gather", [x, _index(g, index)], _out(out), axis=int(dim))


@converts(AdvancedGetitem)
def advanced_getitem(g: Graph, args, out: Value):
    """``x[key]`` with integer arrays or boolean masks (and slices, None). Each None is first a
    new dim of x (Unsqueeze) indexed by ':', as NumPy places it; the slices are applied next; a
    mask of k dims is the k index arrays of its True elements (NonZero). One index array is a
    Gather; several are broadcast together, stacked, and read by GatherND from x with their dims
    moved to the front; then, as NumPy, the result's indexed dims move back to where the index
    arrays stood if they were adjacent in the key."""
    x, key, *rest = args
    key = list(key) if isinstance(key, tuple) else [key]
    if rest:  # the index tensors, passed apart: rest = (where, *their Values)
        for i, index in zip(rest[0], rest[1:]):
            key[i] = index
    if any(k is Ellipsis or isinstance(k, (bool, int)) for k in key):
        raise ExportError("onnx.export: an index mixing arrays with a Python bool has no ONNX "
                          "conversion yet; index with a boolean tensor instead")
    if any(k is None for k in key):
        x, key = _new_dims(g, x, key)
    slices = tuple(k if isinstance(k, slice) else slice(None) for k in key)
    if any(s != slice(None) for s in slices):
        sliced = Value(g.fresh("sliced"), np.empty(x.shape, bool)[slices].shape, x.dtype)
        getitem(g, [x, slices], sliced)
        x = sliced
    arrays = {}  # dim of x -> int64 index Value
    d = 0
    for k in key:
        if isinstance(k, slice):
            d += 1
            continue
        k = _index(g, k)
        for row in _mask_rows(g, k) if k.dtype == bool else [k.name]:
            arrays[d] = row
            d += 1
    dims = sorted(arrays)
    if any(isinstance(k, Value) and k.dtype == _BOOL for k in key):  # a traced mask's count
        # of True elements is a size that depends on the data
        first = dims[0] if dims == list(range(dims[0], dims[0] + len(dims))) else 0
        out.free = frozenset(range(first, first + out.ndim - (x.ndim - len(dims))))
    if len(dims) == 1:
        g.node("Gather", [x, arrays[dims[0]]], _out(out), axis=dims[0])
        return
    _gather_nd(g, x, dims, [arrays[d] for d in dims], out)


@converts(Diagonal)
def diagonal(g: Graph, args, out: Value):
    """``x.diagonal(offset, dim1, dim2)``: dims (dim1, dim2) moved last, then read at the
    constant indices (r + i, c + i), as ``moved[..., r + i, c + i]``."""
    x, offset, dim1, dim2 = args
    perm = [d for d in range(x.ndim) if d not in (dim1, dim2)] + [dim1, dim2]
    moved = Value(g.node("Transpose", [x], perm=perm), [x.shape[d] for d in perm], x.dtype)
    steps = np.arange(out.shape[-1])
    key = (slice(None),) * (x.ndim - 2) + (steps + max(-offset, 0), steps + max(offset, 0))
    advanced_getitem(g, [moved, key], out)


def _new_dims(g: Graph, x: Value, key: list) -> tuple:
    """``(x with a new dim of size 1 for each None of key, key with ':' for each None)``: the
    same selection, as NumPy places a None's dim (adjacency of the index arrays included)."""
    axes, d = [], 0  # d: the dim of the unsqueezed x that the next part of key indexes
    for k in key:
        if k is None:
            axes.append(d)
        d += k.ndim if getattr(k, "dtype", None) == _BOOL else 1
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    name = g.node("Unsqueeze", [x, g.ints(axes, "axes")])
    return Value(name, shape, x.dtype), [slice(None) if k is None else k for k in key]


def _mask_rows(g: Graph, mask: Value) -> list:
    """The k int64 index arrays (count,) of the True elements of a k-dim mask."""
    if mask.ndim == 0:
        raise ExportError("onnx.export: indexing with a 0-d boolean mask has no ONNX "
                          "conversion yet")
    found = g.node("NonZero", [mask])  # (k, count)
    if mask.ndim == 1:
        return [g.node("Squeeze", [found, g.ints([0], "axes")])]
    rows = [g.fresh("row") for _ in range(mask.ndim)]
    g.node("Split", [found, g.ints([1] * mask.ndim, "sizes")], rows, axis=0)
    return [g.node("Squeeze", [r, g.ints([0], "axes")]) for r in rows]


def _gather_nd(g: Graph, x: Value, dims: list, indices: list, out: Value):
    """x read at several broadcast index arrays (one per dim in ``dims``)."""
    zero = None  # 0 in the broadcast shape of all the indices
    for idx in indices:
        z = g.node("Mul", [idx, g.const(np.int64(0))])
        zero = z if zero is None else g.node("Add", [zero, z])
    stacked = g.node("Concat", [g.node("Unsqueeze", [g.node("Add", [idx, zero]),
                                                     g.ints([-1], "axes")]) for idx in indices],
                     axis=-1)
    rest = [d for d in range(x.ndim) if d not in dims]
    moved = g.node("Transpose", [x], perm=dims + rest) if dims != list(range(len(dims))) \
        else x.name
    y = g.node("GatherND", [moved, stacked])
    b = out.ndim - len(rest)  # the dims of the broadcast index
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    if not adjacent or dims[0] == 0:
        g.node("Identity", [y], _out(out))
        return
    first = dims[0]  # the index dims go back where the arrays stood
    perm = [b + i for i in range(first)] + list(range(b)) + \
        [b + i for i in range(first, len(rest))]
    g.node("Transpose", [y], _out(out), perm=perm)
