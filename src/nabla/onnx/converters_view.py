"""ONNX conversions of the ops that rearrange elements: Tensor.unfold (sliding windows along a
dim), as_strided (reads of the row-major storage at constant positions), roll, repeat (Tile),
tril / triu (Trilu), nn.functional.unfold (im2col: one strided Slice of the padded image per
kernel offset) and nn.functional.fold (ONNX's Col2Im, from opset 18).

Where a size along a dim is read by the file (unfold's window count, roll's period), it is the
input's: a dynamic dim stays dynamic.
"""

import numpy as np

from nabla.nn.functional import folding
from nabla.onnx.converters import _out, converts
from nabla.onnx.export import ExportError, Graph, Value
from nabla.ops.flip import Roll, Tril, Triu
from nabla.ops.shape import Repeat
from nabla.ops.strided import AsStrided, Unfold


def _size(g: Graph, x, dim: int) -> str:
    """The size of ``dim`` of x as an int64 scalar."""
    return g.node("Squeeze", [g.node("Shape", [x], start=dim, end=dim + 1)])


def _scalar(g: Graph, n: int) -> str:
    return g.const(np.int64(n))


@converts(Unfold)
def unfold(g: Graph, args, out: Value):
    """Gather along ``dim`` at the (windows, size) table start_w + k, start_w = 0, step, ...,
    n - size; then the window's dim moves last."""
    x, dim, size, step = args
    last = g.node("Add", [g.node("Sub", [_size(g, x, dim), _scalar(g, size)]), _scalar(g, 1)])
    starts = g.node("Range", [_scalar(g, 0), last, _scalar(g, step)])
    table = g.node("Add", [g.node("Unsqueeze", [starts, g.ints([1], "axes")]),
                           g.const(np.arange(size, dtype=np.int64)[None, :], "offsets")])
    windows = g.node("Gather", [x, table], axis=int(dim))  # (..., windows, size, ...)
    perm = [d for d in range(x.ndim + 1) if d != dim + 1] + [dim + 1]
    if perm == list(range(x.ndim + 1)):
        g.node("Identity", [windows], _out(out))
    else:
        g.node("Transpose", [windows], _out(out), perm=perm)


@converts(AsStrided)
def as_strided(g: Graph, args, out: Value):
    """Gather from x flattened (row-major, as nabla reads it) at offset + sum_j i_j stride_j."""
    x, size, stride, offset = args
    positions = np.full(size, offset, np.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        along = [1] * len(size)
        along[d] = n
        positions = positions + (np.arange(n, dtype=np.int64) * s).reshape(along)
    flat = g.node("Reshape", [x, g.ints([-1])])
    g.node("Gather", [flat, g.const(positions, "positions")], _out(out), axis=0)


@converts(Roll)
def roll(g: Graph, args, out: Value):
    """Along each dim, Gather at (i - shift) mod n, n read from x's shape (shifts and dims
    broadcast together, as NumPy's roll; a dim listed twice rolls twice)."""
    x, shifts, dims = args
    shifts, dims = np.broadcast_arrays(np.asarray(shifts), np.asarray(dims))
    y = x.name
    for shift, dim in zip(shifts.reshape(-1), dims.reshape(-1)):
        n = _size(g, x, int(dim))
        i = g.node("Range", [_scalar(g, 0), n, _scalar(g, 1)])
        source = g.node("Mod", [g.node("Sub", [i, _scalar(g, int(shift))]), n], fmod=0)
        y = g.node("Gather", [y, source], axis=int(dim) % x.ndim)
    g.node("Identity", [y], _out(out))


@converts(Repeat)
def repeat(g: Graph, args, out: Value):
    """Tile, x first given leading dims of size 1 up to the repeats' count."""
    x, sizes = args
    extra = len(sizes) - x.ndim
    data = x.name
    if extra:
        data = g.node("Unsqueeze", [x, g.ints(range(extra), "axes")])
    g.node("Tile", [data, g.ints(sizes, "repeats")], _out(out))


@converts(Tril, Triu)
def trilu(g: Graph, args, out: Value):
    x, diagonal = args
    g.node("Trilu", [x, g.const(np.int64(diagonal), "k")], _out(out),
           upper=int(g.current is Triu))


@converts(folding.Unfold)
def im2col(g: Graph, args, out: Value):
    """cols[n, (c, i, j), (p, q)] = x_pad[n, c, p s + i d, q s + j d]: for each kernel offset
    (i, j) a strided Slice of the zero-padded image (N, C, out_h, out_w); stacked after C, then
    reshaped to (N, C kh kw, out_h out_w)."""
    x, geom = args
    top, bottom, left, right = geom.pad
    padded = x.name
    if any(geom.pad):
        padded = g.node("Pad", [x, g.ints([0, 0, top, left, 0, 0, bottom, right], "pads"),
                                g.cast(0, x.dtype)], mode="constant")
    (kh, kw), (sh, sw), (dh, dw) = geom.kernel, geom.stride, geom.dilation
    oh, ow = geom.out_hw
    pieces = []
    for i in range(kh):
        for j in range(kw):
            starts = [i * dh, j * dw]
            ends = [i * dh + sh * (oh - 1) + 1, j * dw + sw * (ow - 1) + 1]
            piece = g.node("Slice", [padded, g.ints(starts), g.ints(ends), g.ints([2, 3], "axes"),
                                     g.ints([sh, sw], "steps")])
            pieces.append(g.node("Unsqueeze", [piece, g.ints([2], "axes")]))
    stacked = g.node("Concat", pieces, axis=2)  # (N, C, kh kw, out_h, out_w)
    g.node("Reshape", [stacked, g.ints([0, -1, oh * ow])], _out(out))


@converts(folding.Fold)
def col2im(g: Graph, args, out: Value):
    """Col2Im: the columns' windows summed into the image, the padding cropped."""
    cols, geom, _ = args
    if g.opset < 18:
        raise ExportError(f"onnx.export: fold has no ONNX conversion at opset {g.opset} (Col2Im "
                          "is in opset 18); pass opset_version=18")
    top, bottom, left, right = geom.pad
    g.node("Col2Im", [cols, g.ints(geom.in_hw, "image_shape"), g.ints(geom.kernel, "block")],
           _out(out), dilations=list(geom.dilation), pads=[top, left, bottom, right],
           strides=list(geom.stride))
