"""Strided views: ``Tensor.unfold`` (sliding windows along a dim), as_strided (any sizes and
strides over the input's row-major storage), the diagonal of a matrix (``diagonal`` in
matrix.py) and split_with_sizes; and their inverses, writes into a view's place: select_scatter,
slice_scatter, diagonal_scatter.

A window view may read one element several times (overlapping windows); its gradient then adds
up every read, so the rules write with ``+=`` slice by slice (unfold) or ``add.at`` (as_strided).
Views whose windows overlap are read-only, as writing through them is ambiguous (PyTorch refuses
such writes too).
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.casts import to_dtype
from nabla.ops.index import AdvancedGetitemBackward, Getitem, _check_range, _zeros
from nabla.ops.join import split
from nabla.ops.shape import _dim
from nabla.tensor import Tensor

# unfold is a Tensor method only, as in PyTorch
__all__ = ["as_strided", "split_with_sizes", "select_scatter", "slice_scatter", "diagonal_scatter"]


class Diagonal(Op):
    """y[..., i] = x[..., r + i, c + i] over dims (dim1, dim2), (r, c) = (max(-offset, 0),
    max(offset, 0)): a view;  dx = zeros with grad on that diagonal."""

    is_view = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.in_shape, ctx.args = x.shape, (offset, dim1, dim2)
        return _diagonal_view(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad):
        data = grad._data if isinstance(grad, Tensor) else grad
        zeros = array_module(data).zeros(ctx.in_shape, data.dtype)
        return DiagonalScatter.apply(zeros, grad, *ctx.args), None, None, None


def _diagonal_view(x, offset: int, dim1: int, dim2: int):
    """The ``offset`` diagonal of the matrices in dims (dim1, dim2) of the array ``x``, as the
    last dim of a strided view of x: a step along it is a step along both dims. Writable where x
    is (NumPy's own diagonal is read-only)."""
    moved = array_module(x).moveaxis(x, (dim1, dim2), (-2, -1))
    n1, n2 = moved.shape[-2:]
    rows, cols = max(-offset, 0), max(offset, 0)
    length = max(min(n1 - rows, n2 - cols), 0)
    start = moved[..., min(rows, n1):, min(cols, n2):]  # begins at the diagonal's first entry
    *lead, s1, s2 = moved.strides
    return array_module(x).lib.stride_tricks.as_strided(
        start, shape=moved.shape[:-2] + (length,), strides=(*lead, s1 + s2))


def diagonal_dims(op: str, input: Tensor, dim1: int, dim2: int) -> tuple:
    """(dim1, dim2) of ``input`` as non-negative dims, checked: two different dims of a tensor
    with at least 2 dims."""
    if input.ndim < 2:
        raise RuntimeError(f"{op}: expects a tensor with >= 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    d1, d2 = _dim(op, dim1, input.ndim), _dim(op, dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"{op}: dim1 and dim2 cannot be the same dimension ({d1})")
    return d1, d2


class Unfold(Op):
    """y[..., w, ..., k] = x[..., w * step + k, ...]: the windows of ``size`` along dim, every
    ``step``, as a new last dim (a view);  dx = the sum of grad over the windows holding x."""

    is_view = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, size, step):
        ctx.in_shape, ctx.dim, ctx.size, ctx.step = x.shape, dim, size, step
        xp = array_module(x)
        writeable = step >= size and x.flags.writeable  # overlapping windows: read-only
        windows = xp.lib.stride_tricks.sliding_window_view(x, size, axis=dim,
                                                           writeable=writeable)
        return windows[(slice(None),) * dim + (slice(None, None, step),)]

    @staticmethod
    def backward(ctx, grad):
        return UnfoldBackward.apply(grad, ctx.in_shape, ctx.dim, ctx.size, ctx.step), None, \
            None, None


class UnfoldBackward(Op):
    """y = zeros(shape) with y[w * step + k] += x[w, k] along dim (overlaps add up);
    dy/dx = unfold(grad)."""

    array_backward = True

    @staticmethod
    def forward(ctx, g, shape, dim, size, step):
        ctx.dim, ctx.size, ctx.step = dim, size, step
        xp = array_module(g)
        y = xp.zeros(shape, g.dtype)
        count = g.shape[dim]
        lead = (slice(None),) * dim
        if size <= count:  # one strided add per window offset k: no position twice in one add
            for k in range(size):
                y[lead + (slice(k, k + step * (count - 1) + 1, step),)] += g[..., k]
        else:  # fewer windows than offsets: one add per window
            for w in range(count):
                y[lead + (slice(w * step, w * step + size),)] += \
                    xp.moveaxis(g[lead + (w,)], -1, dim)
        return y

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, ctx.dim, ctx.size, ctx.step), None, None, None, None


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` consecutive elements along ``dimension``, ``step`` apart, as a
    view (``Tensor.unfold``; not ``nn.functional.unfold``).

    Args:
        input: tensor of shape (..., n, ...).
        dimension: the dimension to slide along.
        size: the window length (at most n); step: the distance between windows (positive).
    Returns:
        Tensor of shape (..., (n - size) // step + 1, ..., size): the window is the last dim.
    """
    d = _dim("unfold", dimension, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if step <= 0:
        raise RuntimeError(f"unfold: step must be positive, got {step}")
    if not 0 <= size <= n:
        raise RuntimeError(f"unfold: size {size} must be in [0, {n}], the size of dimension {d} "
                           f"of input {tuple(input.shape)}")
    if input.ndim == 0:  # PyTorch: one window of the one element
        return input.reshape(1)
    return Unfold.apply(input, d, size, step)


class AsStrided(Op):
    """y[i_0, ..., i_k] = s[offset + sum_j i_j stride_j] with s the row-major storage of x (a view
    when x is contiguous);  dx = grad added into every element a window reads."""

    is_view = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        ctx.in_shape, ctx.size, ctx.stride, ctx.offset = x.shape, size, stride, offset
        xp = array_module(x)
        if not x.flags.c_contiguous:
            ctx.is_view = False  # the storage is a row-major copy: not a view
        storage = x.reshape(-1)
        positions = _positions(xp, size, stride, offset)
        # a view that reads an element twice would write it twice: read-only then
        writeable = storage.flags.writeable and \
            len(xp.unique(positions)) == positions.size
        return xp.lib.stride_tricks.as_strided(
            storage[offset:], shape=size, strides=[s * x.itemsize for s in stride],
            writeable=writeable)

    @staticmethod
    def backward(ctx, grad):
        xp = array_module(grad._data if isinstance(grad, Tensor) else grad)
        positions = _positions(xp, ctx.size, ctx.stride, ctx.offset)
        total = 1
        for n in ctx.in_shape:
            total *= n
        flat = AdvancedGetitemBackward.apply(grad, (total,), (positions,))
        return flat.reshape(ctx.in_shape), None, None, None


def _positions(xp, size: tuple, stride: tuple, offset: int):
    """The storage position each element of an as_strided view reads (an int array of size)."""
    positions = xp.full(size, offset, dtype=xp.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        along = [1] * len(size)
        along[d] = n
        positions = positions + (xp.arange(n, dtype=xp.int64) * s).reshape(along)
    return positions


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view of ``size`` whose element i reads ``storage[offset + sum_j i_j * stride[j]]``,
    ``storage`` being input's elements in row-major order (PyTorch reads the actual storage of
    a non-contiguous tensor; nabla reads that order, the same for a contiguous one).

    Args:
        input: tensor of N elements.
        size: the output shape; stride: one non-negative step (in elements) per dim.
        storage_offset: where the view starts in the storage (None: 0, input's own start).
    Returns:
        Tensor of shape ``size``; its gradient adds up into every element read (overlapping
        windows add up).
    """
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError(f"as_strided: size {size} and stride {stride} must have the same "
                           "length")
    if any(n < 0 for n in size) or any(s < 0 for s in stride) or offset < 0:
        raise RuntimeError(f"as_strided: sizes, strides and storage_offset must be "
                           f"non-negative, got size {size}, stride {stride}, offset {offset}")
    numel = input.numel()
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if all(size) and last >= numel or offset > numel:
        raise RuntimeError(f"as_strided: size {size}, stride {stride} and storage_offset "
                           f"{offset} reach element {last} of input {tuple(input.shape)}, "
                           f"which has {numel} elements")
    return AsStrided.apply(input, size, stride, offset)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """``input`` cut along ``dim`` into pieces of the listed sizes, which must sum to its size.

    Args:
        input: tensor of shape (..., n, ...).
        split_sizes: non-negative ints summing to n.
    Returns:
        Tuple of views of shape (..., split_sizes[i], ...).
    """
    d = _dim("split_with_sizes", dim, input.ndim)
    if isinstance(split_sizes, int) or input.ndim == 0:
        raise RuntimeError(f"split_with_sizes: expects a list of sizes and a tensor with at "
                           f"least one dim, got {split_sizes!r} for shape {tuple(input.shape)}")
    sizes = [int(s) for s in split_sizes]
    if sum(sizes) != input.shape[d] or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes: split_sizes {sizes} must be non-negative and "
                           f"sum exactly to {input.shape[d]}, the size of dim {d} of input "
                           f"{tuple(input.shape)}")
    return split(input, sizes, d)


# -- a tensor written into the place of a view ---------------------------------------------------
class SliceScatter(Op):
    """y = x with y[key] = src, for a basic key (the place of a view: select, slice);
    dx = grad, zero at key, dsrc = grad[key]."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, src, key):
        ctx.key = key
        y = x.copy()
        y[key] = src
        return y

    @staticmethod
    def backward(ctx, grad):
        need_x, need_src = ctx.needs_input_grad[:2]
        grad_x = SliceScatter.apply(grad, _zeros(grad, ()), ctx.key) if need_x else None
        return grad_x, Getitem.apply(grad, ctx.key) if need_src else None, None


def _view_scatter(op: str, input: Tensor, src: Tensor, key: tuple) -> Tensor:
    place = input._data[key]
    if tuple(src.shape) != place.shape:
        raise RuntimeError(f"{op}: src of shape {tuple(src.shape)} must have the shape "
                           f"{place.shape} of the place it is written to in input "
                           f"{tuple(input.shape)}")
    if src.dtype != input.dtype:
        src = to_dtype(src, input.dtype)
    return SliceScatter.apply(input, src, key)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """``input`` with ``src`` written at ``input.select(dim, index)``.

    Args:
        input: tensor of shape (..., n, ...).
        src: tensor of input's shape without dim.
        dim: the dimension; index: the position along it, in [-n, n).
    Returns:
        Tensor of input's shape.
    """
    d = _dim("select_scatter", dim, input.ndim)
    if input.ndim == 0:
        raise IndexError("select_scatter: cannot select from a 0-d tensor")
    _check_range("select_scatter", index, index, d, input.shape[d])
    return _view_scatter("select_scatter", input, src, (slice(None),) * d + (index,))


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """``input`` with ``src`` written at ``input[start:end:step]`` along ``dim``.

    Args:
        input: tensor of shape (..., n, ...).
        src: tensor of the slice's shape.
        dim: the dimension; start, end, step: the slice (step positive).
    Returns:
        Tensor of input's shape.
    """
    d = _dim("slice_scatter", dim, input.ndim)
    if step <= 0:
        raise RuntimeError(f"slice_scatter: step must be positive, got {step}")
    if input.ndim == 0:
        raise IndexError("slice_scatter: cannot slice a 0-d tensor")
    return _view_scatter("slice_scatter", input, src,
                         (slice(None),) * d + (slice(start, end, step),))


class DiagonalScatter(Op):
    """y = x with src written on the diagonal (offset) of the matrices in dims (dim1, dim2);
    dx = grad, zero on it, dsrc = diagonal(grad)."""

    @staticmethod
    def forward(ctx, x, src, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        y = x.copy()
        _diagonal_view(y, offset, dim1, dim2)[...] = src
        return y

    @staticmethod
    def backward(ctx, grad):
        need_x, need_src = ctx.needs_input_grad[:2]
        grad_x = None
        if need_x:
            zero = Tensor._make(array_module(grad._data).zeros((), grad.dtype))
            grad_x = DiagonalScatter.apply(grad, zero, *ctx.args)
        # a copy: a strided view's base is NumPy's wrapper, not grad's memory, so the engine
        # could not tell that a .grad kept from it shares memory with another gradient
        grad_src = Diagonal.apply(grad, *ctx.args).clone() if need_src else None
        return grad_x, grad_src, None, None, None


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """``input`` with ``src`` written on ``input.diagonal(offset, dim1, dim2)``.

    Args:
        input: tensor with at least 2 dims.
        src: tensor of the diagonal's shape (input's shape without dim1, dim2, plus its length).
        offset: 0 the main diagonal, > 0 above it, < 0 below it.
    Returns:
        Tensor of input's shape.
    """
    d1, d2 = diagonal_dims("diagonal_scatter", input, dim1, dim2)
    place = _diagonal_view(input._data, offset, d1, d2).shape  # only read: input stays as it is
    if tuple(src.shape) != place:
        raise RuntimeError(f"diagonal_scatter: src of shape {tuple(src.shape)} must have the "
                           f"shape {place} of the diagonal (offset {offset}, dims "
                           f"{dim1}, {dim2}) of input {tuple(input.shape)}")
    if src.dtype != input.dtype:
        src = to_dtype(src, input.dtype)
    return DiagonalScatter.apply(input, src, offset, d1, d2)
