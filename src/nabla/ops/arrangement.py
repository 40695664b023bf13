"""Rearranging tensors: repeat_interleave, rot90, fliplr/flipud, atleast_1d/2d/3d,
broadcast_tensors/broadcast_shapes, column_stack/row_stack, diag_embed/diagflat, block_diag.
(tensor_split and hsplit/vsplit/dsplit are in splits.py, index sets and grids in grids.py,
aminmax/cov/corrcoef in statistics.py.)

All are derived from other ops (index_select, expand, split, flip, movedim, pad, cat, indexing),
so they have no gradient rule of their own: each element's gradient goes back to the element it
was copied from, summed where one element was copied several times.
"""

import operator
from functools import partial

from nabla import dtype as _dt
from nabla.autograd.grad_mode import _trace
from nabla.backend import array_module
from nabla.ops.casts import clone
from nabla.ops.flip import flip
from nabla.ops.index import AdvancedGetitemBackward
from nabla.ops.join import cat, hstack, pad, vstack
from nabla.ops.reduce import _plain
from nabla.ops.selection import index_select
from nabla.ops.shape import _dim, broadcast_to, expand, movedim, reshape, transpose
from nabla.tensor import Tensor

__all__ = ["repeat_interleave", "rot90", "fliplr", "flipud", "atleast_1d", "atleast_2d",
           "atleast_3d", "broadcast_tensors", "broadcast_shapes", "column_stack", "row_stack",
           "diag_embed", "diagflat", "block_diag"]


def _int_array(op: str, what: str, value: Tensor):
    """The array of an integer tensor argument (indices, counts); bools and floats rejected."""
    if value.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: {what} must be an integer tensor, got dtype {value.dtype}")
    return value._data


# -- repeat_interleave ---------------------------------------------------------------------------
def _counts(repeats, n: int):
    """``repeats`` as an int (the same count for every slice) or a 1-D array of n counts."""
    if isinstance(repeats, Tensor):
        counts = _int_array("repeat_interleave", "repeats", repeats)
        if counts.ndim > 1:
            raise RuntimeError(f"repeat_interleave: repeats must be a 0-d or 1-d tensor, got "
                               f"shape {tuple(counts.shape)}")
        if counts.size and counts.min() < 0:
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        if counts.size == 1:
            return int(counts.reshape(()))
        if counts.shape[0] != n:
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                               f"along dim, but got {counts.shape[0]} repeats for {n} slices; "
                               "pass one count per slice, or a single count")
        return counts
    if isinstance(repeats, bool) or not hasattr(repeats, "__index__"):
        raise TypeError(f"repeat_interleave: repeats must be an int or an integer tensor, got "
                        f"{type(repeats).__name__}")
    repeats = operator.index(repeats)
    if repeats < 0:
        raise RuntimeError(f"repeat_interleave: repeats must be non-negative, got {repeats}")
    return repeats


def _check_output_size(output_size, total: int) -> None:
    if output_size is not None and output_size != total:
        raise RuntimeError(f"repeat_interleave: invalid output_size, expected {total} (the sum "
                           f"of the repeats) but got {output_size}")


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each slice of ``input`` along ``dim`` ``repeats`` times, keeping the copies next to
    each other (``[a, b]`` twice is ``[a, a, b, b]``, where ``repeat`` gives ``[a, b, a, b]``).

    ``repeat_interleave(repeats)`` alone gives ``i`` repeated ``repeats[i]`` times.

    Args:
        input: tensor of shape (..., n, ...) (flattened first when ``dim`` is None).
        repeats: an int, or an integer tensor of one count or of n counts.
        dim: the dimension to repeat along; None: the flattened input.
        output_size: the total number of slices, checked when given.
    Returns:
        Tensor of shape (..., sum(repeats), ...), 1-D when ``dim`` is None.
    """
    if repeats is None:
        counts = _int_array("repeat_interleave", "repeats", input)
        if counts.ndim != 1:
            raise RuntimeError(f"repeat_interleave: repeat_interleave(repeats) expects a 1-D "
                               f"tensor of counts, got shape {tuple(counts.shape)}")
        if counts.size and counts.min() < 0:
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        _check_output_size(output_size, int(counts.sum()))
        return _plain(partial(_repeat_index, dtype=counts.dtype), input)
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    elif input.ndim == 0:
        raise IndexError(f"repeat_interleave: a 0-d tensor has no dimension {dim}; pass "
                         "dim=None to repeat its single element")
    else:
        d = _dim("repeat_interleave", dim, input.ndim)
    shape = input.shape
    counts = _counts(repeats, shape[d])
    if isinstance(counts, int) and isinstance(repeats, Tensor) and _trace.tracer is not None:
        # a one-element tensor under jit.trace: one count per slice, read at each replay
        _check_output_size(output_size, counts * shape[d])
        repeats, counts = expand(reshape(repeats, (1,)), (shape[d],)), None
    elif isinstance(counts, int):  # the same count everywhere: a broadcast, summed back
        _check_output_size(output_size, counts * shape[d])
        x = expand(reshape(input, shape[:d + 1] + (1,) + shape[d + 1:]),
                   shape[:d + 1] + (counts,) + shape[d + 1:])
        return reshape(x, shape[:d] + (counts * shape[d],) + shape[d + 1:])
    if counts is not None:
        _check_output_size(output_size, int(counts.sum()))
    # a Tensor index made by _plain: nabla.jit.trace recomputes it from repeats at each replay
    index = _plain(partial(_repeat_index, dtype="int64"), repeats)
    return index_select(input, d, index)


def _repeat_index(counts, dtype):
    """Each position i of the 1-D ``counts`` repeated counts[i] times, as ``dtype`` (a partial
    of it shows onnx.export the dtype)."""
    xp = array_module(counts)
    return xp.repeat(xp.arange(counts.size, dtype=dtype), counts)


# -- rotations and flips -------------------------------------------------------------------------
def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim towards the
    second (k < 0 turns the other way).

    Args:
        input: tensor of at least 2 dimensions.
        k: the number of quarter turns.
        dims: the two dimensions of the plane.
    Returns:
        Tensor with the sizes of the two dims swapped when k is odd.
    """
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected 2 rotation dims, got dims={dims}")
    if input.ndim < 2:
        raise RuntimeError(f"rot90: expected a tensor of at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    d0, d1 = _dim("rot90", dims[0], input.ndim), _dim("rot90", dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"rot90: expected rotation dims to be different, got dims={dims}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, (d0,)), d0, d1)
    return clone(input)


def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dim 1) of a tensor of at least 2 dimensions; same shape."""
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: input must be at least 2-D, got shape {tuple(input.shape)}")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dim 0) of a tensor of at least 1 dimension; same shape."""
    if input.ndim < 1:
        raise RuntimeError("flipud: input must be at least 1-D, got a 0-d tensor")
    return flip(input, (0,))


# -- at least n dimensions, broadcasting ---------------------------------------------------------
def _each(fn, tensors):
    """``fn`` of one tensor, or a tuple of ``fn`` of each (several tensors, or one sequence)."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fn(tensors[0])
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return tuple(fn(t) for t in tensors)


def atleast_1d(*tensors):
    """Tensors with at least 1 dimension: a 0-d tensor becomes shape (1,), others are returned
    as they are. One tensor in, one out; several (or a sequence) in, a tuple out."""
    return _each(lambda t: reshape(t, t.shape or (1,)), tensors)


def atleast_2d(*tensors):
    """Tensors with at least 2 dimensions: () becomes (1, 1), (n,) becomes (1, n). One tensor
    in, one out; several (or a sequence) in, a tuple out."""
    return _each(lambda t: reshape(t, (1,) * max(2 - t.ndim, 0) + t.shape), tensors)


def _3d(t: Tensor) -> Tensor:
    # a reshape even where the shape stays: a new tensor, so nothing is recorded under no_grad
    shape = {0: (1, 1, 1), 1: (1,) + t.shape + (1,), 2: t.shape + (1,)}.get(t.ndim, t.shape)
    return reshape(t, shape)


def atleast_3d(*tensors):
    """Tensors with at least 3 dimensions: () becomes (1, 1, 1), (n,) becomes (1, n, 1),
    (m, n) becomes (m, n, 1). One tensor in, one out; several (or a sequence) in, a tuple out."""
    return _each(_3d, tensors)


def _broadcast(op: str, shapes) -> tuple:
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for i, shape in enumerate(shapes):
        for k, n in enumerate(shape, ndim - len(shape)):
            if n == 1 or n == out[k]:
                continue
            if out[k] != 1:
                raise RuntimeError(
                    f"{op}: shape {tuple(shape)} (argument {i}) does not broadcast with the "
                    f"shapes before it: size {n} against {out[k]} at dim {k - ndim}; sizes "
                    f"must be equal or 1")
            out[k] = n
    return tuple(out)


def broadcast_shapes(*shapes) -> tuple:
    """The shape that tensors of ``shapes`` broadcast to, without making tensors.

    Args:
        shapes: shapes (sequences of ints); an int n stands for the shape (n,).
    Returns:
        The broadcast shape, a tuple.
    """
    norm = []
    for s in shapes:
        try:
            if isinstance(s, (Tensor, str)):
                raise TypeError
            s = tuple(operator.index(n) for n in ((s,) if hasattr(s, "__index__") else s))
        except TypeError:
            raise TypeError(f"broadcast_shapes: shapes must be ints or sequences of ints, got "
                            f"{s!r}") from None
        if any(n < 0 for n in s):
            raise ValueError(f"broadcast_shapes: shape {s} has a negative size")
        norm.append(s)
    return _broadcast("broadcast_shapes", norm)


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common broadcast shape (views; the gradient of each is
    summed back over the dims it was expanded along). Returns a tuple of tensors."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = _broadcast("broadcast_tensors", [t.shape for t in tensors])
    return tuple(broadcast_to(t, shape) for t in tensors)


# -- stacks --------------------------------------------------------------------------------------
def column_stack(tensors) -> Tensor:
    """Join tensors as columns: 0-d and 1-d tensors become columns (n, 1), then all are joined
    along dim 1 (as hstack).

    Args:
        tensors: sequence of tensors with the same number of rows.
    Returns:
        Tensor of shape (rows, total columns, ...).
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("column_stack: expected a non-empty sequence of tensors")
    try:  # cat promotes mixed dtypes as PyTorch does
        return hstack([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors])
    except RuntimeError as err:  # cat's message, with the op the user called
        raise RuntimeError(f"column_stack: {err}") from err


row_stack = vstack  # PyTorch's alias of vstack


# -- diagonal matrices ---------------------------------------------------------------------------
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose ``offset`` diagonal holds the last dimension of ``input`` (zeros
    elsewhere): the inverse of ``diagonal(out, offset, dim1, dim2)``.

    Args:
        input: tensor of shape (*, n).
        offset: which diagonal: 0 the main one, > 0 above it, < 0 below it.
        dim1, dim2: where the two matrix dims go in the output (of input.ndim + 1 dims).
    Returns:
        Tensor of shape (*) with two dims of size n + |offset| inserted at dim1 and dim2.
    """
    if input.ndim == 0:
        raise RuntimeError("diag_embed: expects a tensor of at least 1 dimension (its last "
                           "dimension holds the diagonals), got a 0-d tensor; use diagflat")
    nd = input.ndim + 1
    d1, d2 = _dim("diag_embed", dim1, nd), _dim("diag_embed", dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical (dim1={dim1}, "
                           f"dim2={dim2} for an output of {nd} dimensions)")
    n = input.shape[-1]
    size = n + abs(offset)
    steps = array_module(input._data).arange(n)
    # zeros with x written at (row i + r0, column i + c0); its gradient reads those entries back
    key = (Ellipsis, steps + max(-offset, 0), steps + max(offset, 0))
    out = AdvancedGetitemBackward.apply(input, input.shape[:-1] + (size, size), key)
    return movedim(out, (nd - 2, nd - 1), (d1, d2))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the flattened ``input`` on its ``offset`` diagonal.
    Returns shape (numel + |offset|, numel + |offset|)."""
    return diag_embed(reshape(input, (-1,)), offset)


def block_diag(*tensors) -> Tensor:
    """Tensors placed as blocks along the diagonal of one matrix, zeros elsewhere.

    Args:
        tensors: 0-d (a 1x1 block), 1-d (n,) (a 1 x n block) or 2-d (m, n) tensors; their dtypes
            are promoted to a common one.
    Returns:
        Tensor of shape (sum of the blocks' rows, sum of the blocks' columns).
    """
    if not tensors:
        return Tensor._make(array_module(None).zeros((1, 0), _dt.get_default_dtype()))
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"block_diag: input tensors must have 2 or fewer dimensions, but "
                               f"input {i} has shape {tuple(t.shape)}")
    blocks = [reshape(t, (1,) * (2 - t.ndim) + t.shape) for t in tensors]
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        rows.append(pad(b, (left, width - left - b.shape[1])))
        left += b.shape[1]
    return cat(rows, 0)
