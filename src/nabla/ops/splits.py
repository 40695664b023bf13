"""Cutting a tensor into pieces along one dimension: tensor_split (into nearly equal sections,
or at indices, as NumPy's array_split) and hsplit, vsplit, dsplit (along dims 1, 0, 2, into equal
sections or at indices). (split, chunk, unbind and narrow are in join.py.)

All are derived from split and narrow, so they return views and have no gradient rule of their
own: each piece's gradient goes back to the elements it covers.
"""

import operator

from nabla.ops.arrangement import _int_array
from nabla.ops.join import narrow, split
from nabla.ops.shape import _dim
from nabla.tensor import Tensor

__all__ = ["tensor_split", "hsplit", "vsplit", "dsplit"]


def _sections_or_indices(spec):
    """An int number of sections, or a list of int indices (from ints, sequences, tensors)."""
    if isinstance(spec, Tensor):
        data = _int_array("tensor_split", "indices_or_sections", spec)
        if data.ndim > 1:
            raise RuntimeError(f"tensor_split: a tensor indices_or_sections must be 0-d or 1-d, "
                               f"got shape {tuple(data.shape)}")
        return int(data) if data.ndim == 0 else [int(i) for i in data.tolist()]
    if isinstance(spec, (list, tuple)):
        return [operator.index(i) for i in spec]
    if isinstance(spec, bool) or not hasattr(spec, "__index__"):
        raise TypeError(f"tensor_split: indices_or_sections must be an int, a sequence of ints "
                        f"or an integer tensor, got {type(spec).__name__}")
    return operator.index(spec)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Cut ``input`` along ``dim`` into ``sections`` nearly equal pieces (the first n % sections
    pieces one longer), or at the given ``indices`` (Python slice rules: pieces
    ``[:i0], [i0:i1], ..., [ik:]``; negative indices count from the end, large ones clamp).

    Args:
        input: tensor of shape (..., n, ...), at least 1-D.
        indices_or_sections: an int, a sequence of ints, or a 0-d / 1-d integer tensor.
        dim: the dimension to cut.
    Returns:
        Tuple of views of shape (..., size_i, ...).
    """
    if input.ndim == 0:
        raise RuntimeError("tensor_split: expected at least a 1-dimensional tensor, got a 0-d "
                           "tensor; reshape it to (1,) first")
    d = _dim("tensor_split", dim, input.ndim)
    n = input.shape[d]
    spec = _sections_or_indices(indices_or_sections)
    if isinstance(spec, int):
        if spec <= 0:
            raise RuntimeError(f"tensor_split: the number of sections must be positive, got "
                               f"{spec}")
        q, r = divmod(n, spec)
        return split(input, [q + 1] * r + [q] * (spec - r), d)
    pieces = []
    for start, stop in zip([0] + spec, spec + [n], strict=True):
        a, b, _ = slice(start, stop).indices(n)
        pieces.append((a, max(b - a, 0)))
    end = 0  # do the pieces tile the dim, one after the other? then one Split node cuts it
    for a, size in pieces:
        end = end + size if a == end else -1
    if end == n:
        return split(input, [size for _, size in pieces], d)
    return tuple(narrow(input, d, a, size) for a, size in pieces)


def _split_dim(op: str, input: Tensor, spec, dim: int, min_ndim: int) -> tuple:
    if input.ndim < min_ndim:
        raise RuntimeError(f"{op}: requires a tensor with at least {min_ndim} dimension(s), got "
                           f"shape {tuple(input.shape)}")
    if not isinstance(spec, (list, tuple, Tensor)):
        n = input.shape[dim]
        if spec == 0 or n % spec:
            raise RuntimeError(f"{op}: cannot split dimension {dim} of size {n} (shape "
                               f"{tuple(input.shape)}) into {spec} equal sections; pass a "
                               f"divisor of {n}, or a list of indices")
    return tensor_split(input, spec, dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 1 (dim 0 for a 1-D tensor), into equal sections or at indices.
    Returns a tuple of views."""
    return _split_dim("hsplit", input, indices_or_sections, 1 if input.ndim > 1 else 0, 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 0 of a tensor of at least 2 dimensions, into equal sections or
    at indices. Returns a tuple of views."""
    return _split_dim("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 2 of a tensor of at least 3 dimensions, into equal sections or
    at indices. Returns a tuple of views."""
    return _split_dim("dsplit", input, indices_or_sections, 2, 3)
