"""Bucketing and membership: searchsorted, bucketize, isin. Their results are integer or bool
tensors without gradient, so they are plain functions on the arrays (and tell ``nabla.jit.trace``,
when it records, which function made the result, so a replay recomputes it).

searchsorted runs PyTorch's binary search itself, vectorized over all values at once: the same
comparisons in the same order, so it gives PyTorch's answer also where the sequence holds NaN
(NumPy's searchsorted orders NaN last and would differ there).
"""

import math
import numbers
from functools import partial

from nabla import dtype as _dt
from nabla.backend import array_module
from nabla.ops.reduce import _plain
from nabla.tensor import Tensor

__all__ = ["searchsorted", "bucketize", "isin"]


def _shape(value) -> tuple:
    return tuple(value.shape) if isinstance(value, Tensor) else ()


def _binary_search(seq, values, right: bool, sorter):
    """For each row r of ``values`` (R, M), the insertion points into row r of ``seq`` (R, N):
    PyTorch's lower bound (first i with not seq[i] < v) or, if ``right``, upper bound (first i
    with not seq[i] <= v), both written as ``not (seq[mid] >= v)`` / ``not (seq[mid] > v)``
    as PyTorch does. With ``sorter``, seq[i] is read as seq[sorter[i]]."""
    xp = array_module(seq)
    n = seq.shape[-1]
    start = xp.zeros(values.shape, _dt.int64)
    end = xp.full(values.shape, n, _dt.int64)
    for _ in range(n.bit_length()):  # a search over n positions takes at most this many steps
        active = start < end
        mid = start + ((end - start) >> 1)
        pos = xp.minimum(mid, n - 1)  # finished searches may point past the end: unused
        if sorter is not None:
            pos = xp.take_along_axis(sorter, pos, axis=-1)
        at = xp.take_along_axis(seq, pos, axis=-1)
        go_up = ~(at > values) if right else ~(at >= values)
        start = xp.where(active & go_up, mid + 1, start)
        end = xp.where(active & ~go_up, mid, end)
    return start


def _check_sorter(sorter, seq: Tensor) -> None:
    if not isinstance(sorter, Tensor):
        raise TypeError(f"searchsorted: sorter must be a tensor of int64 indices, got "
                        f"{type(sorter).__name__}")
    if tuple(sorter.shape) != tuple(seq.shape):
        raise RuntimeError(f"searchsorted: sorter of shape {tuple(sorter.shape)} must have the "
                           f"shape of sorted_sequence, {tuple(seq.shape)}; pass the indices "
                           "that sort it along its last dimension (argsort(dim=-1))")
    if sorter.dtype != _dt.int64:
        raise RuntimeError(f"searchsorted: sorter must be a tensor of int64 indices, got "
                           f"{sorter.dtype}; convert it with .long()")
    a = sorter._data
    if a.size and (int(a.min()) < 0 or int(a.max()) >= a.shape[-1]):
        raise RuntimeError(f"searchsorted: sorter index out of range: its values must lie in "
                           f"[0, {a.shape[-1] - 1}] (the size of the last dimension)")


def _check_search(seq, input, side, right: bool) -> bool:
    """Check the arguments as PyTorch does; returns ``right`` resolved with ``side``."""
    if not isinstance(seq, Tensor):
        raise TypeError(f"searchsorted: sorted_sequence must be a tensor, got "
                        f"{type(seq).__name__}")
    if not isinstance(input, (Tensor, numbers.Number)):
        raise TypeError(f"searchsorted: input must be a tensor or a number, got "
                        f"{type(input).__name__}")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted: side can only be 'left' or 'right', got {side!r}")
        if side == "left" and right:
            raise RuntimeError("searchsorted: side='left' and right=True contradict each other; "
                               "pass only one of them")
        right = side == "right"
    if seq.ndim == 0:
        raise RuntimeError("searchsorted: sorted_sequence must have at least 1 dimension, got a "
                           "0-d tensor; reshape it to (1,)")
    vshape = _shape(input)
    if not vshape and seq.ndim != 1:
        raise RuntimeError(f"searchsorted: a scalar input needs a 1-D sorted_sequence, got "
                           f"shape {tuple(seq.shape)}; give the input the shape "
                           f"{tuple(seq.shape[:-1]) + (1,)} instead")
    if seq.ndim > 1 and vshape[:-1] != tuple(seq.shape[:-1]):
        raise RuntimeError(
            f"searchsorted: sorted_sequence of shape {tuple(seq.shape)} and input of shape "
            f"{vshape}: the sequence must be 1-D or its leading dimensions must match the "
            f"input's; give the input the shape {tuple(seq.shape[:-1])} + (M,)")
    return right


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter=None) -> Tensor:
    """Where each value of ``input`` would be inserted into ``sorted_sequence`` to keep it sorted.

    left (default): the first i with v <= seq[i]; right (``right=True`` or ``side='right'``):
    the first i with v < seq[i]; len(seq) if there is none. No gradient.

    Args:
        sorted_sequence: (N,), or (*B, N) sorted along its last dimension.
        input: a tensor (any shape for a 1-D sequence, (*B, M) for an N-D one) or a number.
        out_int32: return int32 instead of int64.
        right: take the right insertion point on ties.
        side: 'left' or 'right', the same as ``right`` (they may not contradict).
        sorter: int64 indices of sorted_sequence's shape that sort it along its last dimension,
            for an unsorted sequence.

    Returns:
        Indices in [0, N] of the input's shape (0-d for a number).
    """
    right = _check_search(sorted_sequence, input, side, right)
    if sorter is not None:
        _check_sorter(sorter, sorted_sequence)
    common = _dt.result_type(sorted_sequence, input)
    if common == _dt.bool:
        raise RuntimeError("searchsorted: bool tensors are not supported; convert them with "
                           ".long() or .float()")
    out_dtype = _dt.int32 if out_int32 else _dt.int64
    return _plain(partial(_search, dtype=common, right=right, out_dtype=out_dtype),
                  sorted_sequence, input, sorter)


def _search(seq, values, order, dtype, right: bool, out_dtype):
    """searchsorted on the arrays: ``values`` (an array or a number) and ``seq`` in ``dtype``,
    each row of a batched ``seq`` searched for its row of values; ``order`` the sorter or None.
    A module-level function (not a closure) so that onnx.export can read its settings."""
    xp = array_module(seq)
    values = xp.asarray(values, dtype=dtype)
    batch = math.prod(seq.shape[:-1])  # rows: 1 for a 1-D sequence
    flat = values.reshape((1, values.size) if seq.ndim == 1 else (batch, values.shape[-1]))
    seq = seq.astype(dtype, copy=False).reshape(batch, seq.shape[-1])
    if order is not None:
        order = order.reshape(seq.shape)
    return _binary_search(seq, flat, right, order).astype(out_dtype).reshape(values.shape)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each value of ``input`` among sorted ``boundaries``.

    Bucket i holds boundaries[i-1] < v <= boundaries[i] (with ``right``: boundaries[i-1] <= v <
    boundaries[i]), so this is ``searchsorted(boundaries, input)``. No gradient.

    Args:
        input: a tensor of any shape, or a number.
        boundaries: (N,) ascending.
        out_int32: return int32 instead of int64.
        right: which side a value equal to a boundary falls on (see above).

    Returns:
        Indices in [0, N] of the input's shape (0-d for a number).
    """
    if not isinstance(boundaries, Tensor) or boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries must be a 1-D tensor, got shape "
                           f"{_shape(boundaries)}; flatten it, or use searchsorted for "
                           "row-wise boundaries")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Whether each of ``elements`` equals one of ``test_elements`` (compared in their promoted
    dtype; NaN equals nothing). No gradient.

    Args:
        elements: a tensor of any shape, or a number.
        test_elements: a tensor of any shape, or a number.
        assume_unique: a speed hint in PyTorch; the result is the same either way.
        invert: return the opposite (not in ``test_elements``).

    Returns:
        A bool tensor of the shape of ``elements`` (0-d for a number).
    """
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin: elements or test_elements must be a tensor, got "
                        f"{type(elements).__name__} and {type(test_elements).__name__}")
    for name, v in (("elements", elements), ("test_elements", test_elements)):
        if not isinstance(v, (Tensor, numbers.Number)):
            raise TypeError(f"isin: {name} must be a tensor or a number, got {type(v).__name__}")
        if (v.dtype == _dt.bool) if isinstance(v, Tensor) else isinstance(v, bool):
            raise RuntimeError(f"isin: bool {name} are not supported; convert with .long()")
    common = _dt.result_type(elements, test_elements)
    return _plain(partial(_member, dtype=common, invert=invert), elements, test_elements)


def _member(a, b, dtype, invert: bool):
    """isin on the arrays (either may be a number), compared in ``dtype``."""
    xp = array_module(b if isinstance(a, numbers.Number) else a)
    a, b = xp.asarray(a, dtype=dtype), xp.asarray(b, dtype=dtype)
    return xp.asarray(xp.isin(a, b.reshape(-1), invert=invert))
