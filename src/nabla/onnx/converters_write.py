"""ONNX conversions of the index writes: index_copy, index_fill (ScatterElements of whole
slices), index_put and put (ScatterND at the broadcast index arrays, 'add' with accumulate),
masked_scatter (the k-th True element takes the k-th source element: a CumSum of the mask and
a Gather), scatter_reduce and index_reduce (ScatterElements with reduction 'add', 'mul', 'max'
or 'min'; mean as a sum divided by a count), select_scatter / slice_scatter / diagonal_scatter
(ScatterElements into the flattened input at the positions of the view's place).

As in nabla (and PyTorch), where an index repeats without accumulation one of the written values
stays, not necessarily the same one (ONNX leaves the order undefined). amax / amin reductions
need opset 18 (ScatterElements' 'max' and 'min'); NaN in them is not propagated as nabla does.
"""

import numpy as np

from nabla.onnx.converters import _out, converts, getitem
from nabla.onnx.converters_index import _index, _mask_rows
from nabla.onnx.converters_scatter import _updates
from nabla.onnx.export import ExportError, Graph, Value
from nabla.ops.scatter_more import IndexCopy, IndexFill, IndexPut, MaskedScatter
from nabla.ops.scatter_reduction import ScatterReduce
from nabla.ops.strided import DiagonalScatter, SliceScatter

_INT64 = np.dtype(np.int64)


def _laid(g: Graph, index: Value, dim: int, ndim: int, shape: str) -> str:
    """A 1-D index laid along ``dim`` of an ``ndim``-dim tensor, expanded to ``shape``."""
    along = [1] * ndim
    along[dim] = -1
    return g.node("Expand", [g.node("Reshape", [index, g.ints(along)]), shape])


def _shape_with(g: Graph, x: Value, dim: int, size: str) -> str:
    """x's shape with dim ``dim`` of size ``size`` (an int64 (1,) input)."""
    parts = [size]
    if dim:
        parts.insert(0, g.node("Shape", [x], end=dim))
    if dim < x.ndim - 1:
        parts.append(g.node("Shape", [x], start=dim + 1))
    return g.node("Concat", parts, axis=0) if len(parts) > 1 else size


# -- whole slices at a 1-D index -------------------------------------------------------------------
@converts(IndexCopy)
def index_copy(g: Graph, args, out: Value):
    """ScatterElements of src along ``dim`` at the index laid along it."""
    x, dim, index, src = args
    index = _index(g, index)
    spread = _laid(g, index, dim, x.ndim, g.node("Shape", [src]))
    g.node("ScatterElements", [x, spread, src], _out(out), axis=int(dim))


@converts(IndexFill)
def index_fill(g: Graph, args, out: Value):
    """ScatterElements of the value, expanded to the indexed slices' shape."""
    x, dim, index, value = args
    index = _index(g, index)
    shape = _shape_with(g, x, dim, g.node("Shape", [index]))
    spread = _laid(g, index, dim, x.ndim, shape)
    values = g.node("Expand", [g.cast(value, out.dtype), shape])
    g.node("ScatterElements", [x, spread, values], _out(out), axis=int(dim))


# -- positions given by index arrays, masks, flat positions ----------------------------------------
@converts(IndexPut)
def index_put(g: Graph, args, out: Value):
    """ScatterND: the index arrays (each mask its True elements' rows) made non-negative,
    broadcast together and stacked along a new last dim (k of them index x's first k dims);
    values expanded to the broadcast shape + x's other dims; 'add' with accumulate."""
    x, values, accumulate, *indices = args
    arrays = []
    for index in indices:
        index = _index(g, index)
        arrays += _mask_rows(g, index) if index.dtype == bool else [index.name]
    zero = None  # 0 in the broadcast shape of all the arrays
    for a in arrays:
        z = g.node("Mul", [a, g.const(np.int64(0))])
        zero = z if zero is None else g.node("Add", [zero, z])
    columns = []
    for d, a in enumerate(arrays):
        size = g.node("Shape", [x], start=d, end=d + 1)
        negative = g.node("Cast", [g.node("Less", [a, g.const(np.int64(0))])],
                          to=g.onnx.TensorProto.INT64)
        a = g.node("Add", [g.node("Add", [a, g.node("Mul", [negative, size])]), zero])
        columns.append(g.node("Unsqueeze", [a, g.ints([-1], "axes")]))
    stacked = g.node("Concat", columns, axis=-1)
    k = len(arrays)
    indexed = g.node("Shape", [stacked], end=-1)
    if k < x.ndim:
        indexed = g.node("Concat", [indexed, g.node("Shape", [x], start=k)], axis=0)
    updates = g.node("Reshape", [g.node("Expand", [values, indexed]), indexed])  # (as NumPy,
    # values may have more leading dims of size 1)
    g.node("ScatterND", [x, stacked, updates], _out(out),
           reduction="add" if accumulate else "none")


@converts(MaskedScatter)
def masked_scatter(g: Graph, args, out: Value):
    """Where the mask is True, the source element whose flat position is the number of True
    elements before it (a CumSum of the flattened mask), read by Gather; x elsewhere."""
    x, mask, src = args
    if 0 in src.shape:  # no source element: the mask selects none (nabla checked)
        g.node("Identity", [x], _out(out))
        return
    flat = g.node("Reshape", [g.cast(mask, np.dtype(bool)), g.ints([-1])])
    count = g.node("CumSum", [g.node("Cast", [flat], to=g.onnx.TensorProto.INT64),
                              g.const(np.int64(0), "axis")])
    rank = g.node("Max", [g.node("Sub", [count, g.const(np.int64(1))]), g.const(np.int64(0))])
    picked = g.node("Gather", [g.node("Reshape", [src, g.ints([-1])]), rank], axis=0)
    picked = g.node("Reshape", [picked, g.node("Shape", [x])])
    g.node("Where", [mask, picked, x], _out(out))


# -- reductions into positions ---------------------------------------------------------------------
_REDUCTIONS = {"sum": "add", "mean": "add", "prod": "mul", "amax": "max", "amin": "min"}


@converts(ScatterReduce)
def scatter_reduce(g: Graph, args, out: Value):
    """ScatterElements with the reduction along ``dim``; without include_self the written
    positions first take the reduction's identity. mean: the sum divided by the count of
    values each position reduces (at least 1), rounded down for integers."""
    x, dim, index, src, reduce, include_self = args
    if reduce in ("amax", "amin") and g.opset < 18:
        raise ExportError(f"onnx.export: scatter_reduce / index_reduce with reduce={reduce!r} "
                          f"has no ONNX conversion at opset {g.opset} (ScatterElements' max and "
                          "min are in opset 18); pass opset_version=18")
    index = _index(g, index)
    updates = _updates(g, src, index, out.dtype)
    start = x.name
    if not include_self:
        start = _written(g, x, dim, index, _identity(reduce, out.dtype))
    y = g.node("ScatterElements", [start, index, updates], axis=int(dim),
               reduction=_REDUCTIONS[reduce])
    if reduce != "mean":
        g.node("Identity", [y], _out(out))
        return
    ones = g.node("Expand", [g.const(np.ones((), out.dtype)), g.node("Shape", [index])])
    own = g.onnx.numpy_helper.from_array(np.asarray([int(include_self)], out.dtype))
    base = g.node("ConstantOfShape", [g.node("Shape", [x])], value=own)  # x's own value: 1 or 0
    count = g.node("ScatterElements", [base, index, ones], axis=int(dim), reduction="add")
    count = g.node("Max", [count, g.const(np.ones((), out.dtype))])
    if out.dtype.kind == "f":
        g.node("Div", [y, count], _out(out))
    else:  # floor division: y - y mod count (a positive count) is a multiple of it
        whole = g.node("Sub", [y, g.node("Mod", [y, count], fmod=0)])
        g.node("Div", [whole, count], _out(out))


def _identity(reduce: str, dtype) -> np.ndarray:
    """The value a written position starts from when its own value is left out."""
    if reduce in ("sum", "mean"):
        return np.zeros((), dtype)
    if reduce == "prod":
        return np.ones((), dtype)
    if dtype.kind == "f":
        return np.asarray(-np.inf if reduce == "amax" else np.inf, dtype)
    info = np.iinfo(dtype)
    return np.asarray(info.min if reduce == "amax" else info.max, dtype)


def _written(g: Graph, x: Value, dim: int, index: Value, value: np.ndarray) -> str:
    """x with ``value`` at every position the index writes to."""
    fill = g.node("Expand", [g.const(value, "identity"), g.node("Shape", [index])])
    return g.node("ScatterElements", [x, index, fill], axis=int(dim))


# -- a tensor written into the place of a view -----------------------------------------------------
def _positions(g: Graph, x: Value) -> Value:
    """The flat positions 0 .. numel - 1 in x's shape (int64)."""
    count = g.node("Size", [x])
    flat = g.node("Range", [g.const(np.int64(0)), count, g.const(np.int64(1))])
    return Value(g.node("Reshape", [flat, g.node("Shape", [x])]), x.shape, _INT64)


def _write_at(g: Graph, x: Value, places: str, src, out: Value) -> None:
    """x with src (expanded to the shape of ``places``) written at the flat positions
    ``places``: ScatterElements into x flattened, reshaped back."""
    values = g.node("Expand", [g.cast(src, out.dtype), g.node("Shape", [places])])
    flat = g.node("ScatterElements", [g.node("Reshape", [x, g.ints([-1])]),
                                      g.node("Reshape", [places, g.ints([-1])]),
                                      g.node("Reshape", [values, g.ints([-1])])], axis=0)
    g.node("Reshape", [flat, g.node("Shape", [x])], _out(out))


@converts(SliceScatter)
def slice_scatter(g: Graph, args, out: Value):
    """The positions read by the basic key (as the getitem conversion reads x), written."""
    x, src, key = args
    positions = _positions(g, x)
    shape = np.empty(x.shape, bool)[key].shape
    places = Value(g.fresh("places"), shape, _INT64)
    getitem(g, [positions, key], places)
    _write_at(g, x, places.name, src, out)


@converts(DiagonalScatter)
def diagonal_scatter(g: Graph, args, out: Value):
    """The positions on the diagonal: dims (dim1, dim2) moved last and flattened into one of
    R * C, read at the constant flat indices (r + i) C + (c + i)."""
    x, src, offset, dim1, dim2 = args
    positions = _positions(g, x)
    perm = [d for d in range(x.ndim) if d not in (dim1, dim2)] + [dim1, dim2]
    moved = g.node("Transpose", [positions], perm=perm)
    rows, cols = x.shape[dim1], x.shape[dim2]
    lead = g.node("Shape", [moved], end=-2)
    matrices = g.node("Reshape", [moved, g.node("Concat", [lead, g.ints([rows * cols])], axis=0)])
    r, c = max(-offset, 0), max(offset, 0)
    steps = np.arange(max(min(rows - r, cols - c), 0))
    on = g.const((steps + r) * cols + steps + c, "diagonal")
    places = g.node("Gather", [matrices, on], axis=-1)
    _write_at(g, x, places, src, out)

