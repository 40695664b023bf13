"""Matrix helpers: t, diagonal, diag, trace; and meshgrid.

All derived from other ops (indexing, pad, where, expand), so they have no gradient rule of
their own: the gradient of a diagonal goes back to the entries it was read from.
"""

from nabla.backend import array_module
from nabla.ops.elementwise import where
from nabla.ops.join import pad
from nabla.ops.shape import _dim, expand, movedim, reshape, transpose
from nabla.tensor import Tensor

__all__ = ["t", "diagonal", "diag", "trace", "meshgrid"]


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix; 0-D and 1-D tensors are returned as they are."""
    if input.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got {input.ndim} (shape "
                           f"{tuple(input.shape)}); use transpose(dim0, dim1) or mT")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The entries (i, i + offset) of the matrices in dims (dim1, dim2), as a last dimension.

    Returns:
        Input's shape without dim1 and dim2, plus the diagonal's length.
    """
    if input.ndim < 2:
        raise RuntimeError(f"diagonal: expects a tensor with >= 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    d1, d2 = _dim("diagonal", dim1, input.ndim), _dim("diagonal", dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dimension ({d1})")
    x = movedim(input, (d1, d2), (-2, -1))
    n1, n2 = x.shape[-2:]
    r0, c0 = max(-offset, 0), max(offset, 0)
    xp = array_module(input._data)
    steps = xp.arange(max(min(n1 - r0, n2 - c0), 0))
    return x[..., steps + r0, steps + c0]


_diagonal = diagonal  # diag's argument is named diagonal, as in PyTorch


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input placed on a diagonal of a square matrix, or a 2-D input's diagonal.

    Args:
        input: (n,) or (n, m).
        diagonal: which diagonal: 0 the main one, > 0 above it, < 0 below it.

    Returns:
        (n + |diagonal|, n + |diagonal|) for 1-D input; the diagonal's entries for 2-D.
    """
    if input.ndim == 2:
        return _diagonal(input, diagonal)
    if input.ndim != 1:
        raise RuntimeError(f"diag: expects a 1-D or 2-D tensor, got shape {tuple(input.shape)}")
    k = diagonal
    size = input.shape[0] + abs(k)
    column = reshape(pad(input, (max(-k, 0), max(k, 0))), (size, 1))  # row i holds its value
    on = array_module(input._data).eye(size, k=k, dtype=bool)
    return where(Tensor._make(on), column, 0.0)


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expects a matrix (2-D), got shape {tuple(input.shape)}")
    return diagonal(input).sum()


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D tensors: output k varies along dimension k ('ij', matrix
    indexing) or, for the first two, along the other one ('xy', Cartesian indexing).

    Returns:
        A tuple of tensors, each of shape (len(t0), len(t1), ...) ('xy': the first two swapped).
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for v in tensors:
        if v.ndim > 1:
            raise RuntimeError(f"meshgrid: expects 0-D or 1-D tensors, got shape "
                               f"{tuple(v.shape)}")
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        order[0], order[1] = 1, 0
    sizes = [max(v.numel(), 1) if v.ndim else 1 for v in tensors]
    shape = tuple(sizes[i] for i in order)
    grids = []
    for k, v in enumerate(tensors):
        view = [1] * len(tensors)
        view[order.index(k)] = sizes[k]
        grids.append(expand(reshape(v, tuple(view)), shape))
    return tuple(grids)
