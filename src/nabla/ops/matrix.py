"""Matrix helpers: t, diagonal, diag, trace, tensordot, kron; meshgrid and diff.

All derived from other ops (pad, where, expand, einsum, narrow, and the strided view
``Diagonal`` of strided.py), so they have no gradient rule of their own: the gradient of a
diagonal goes back to the entries it was read from.
"""

from nabla.backend import array_module
from nabla.ops.elementwise import where
from nabla.ops.join import narrow, pad
from nabla.ops.linalg import einsum
from nabla.ops.shape import _dim, expand, reshape, transpose
from nabla.ops.strided import Diagonal, diagonal_dims
from nabla.tensor import Tensor

__all__ = ["t", "diagonal", "diag", "trace", "tensordot", "kron", "meshgrid", "diff"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix; 0-D and 1-D tensors are returned as they are."""
    if input.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got {input.ndim} (shape "
                           f"{tuple(input.shape)}); use transpose(dim0, dim1) or mT")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The entries (i, i + offset) of the matrices in dims (dim1, dim2), as a last dimension: a
    view, as in PyTorch, so ``x.diagonal().fill_(0)`` writes into x.

    Returns:
        Input's shape without dim1 and dim2, plus the diagonal's length.
    """
    d1, d2 = diagonal_dims("diagonal", input, dim1, dim2)
    return Diagonal.apply(input, int(offset), d1, d2)


_diagonal = diagonal  # diag's argument is named diagonal, as in PyTorch


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input placed on a diagonal of a square matrix, or a 2-D input's diagonal.

    Args:
        input: (n,) or (n, m).
        diagonal: which diagonal: 0 the main one, > 0 above it, < 0 below it.

    Returns:
        (n + |diagonal|, n + |diagonal|) for 1-D input; the diagonal's entries for 2-D.
    """
    if input.ndim == 2:  # a new tensor, not a view (as in PyTorch)
        return _diagonal(input, diagonal).clone()
    if input.ndim != 1:
        raise RuntimeError(f"diag: expects a 1-D or 2-D tensor, got shape {tuple(input.shape)}")
    k = diagonal
    size = input.shape[0] + abs(k)
    column = reshape(pad(input, (max(-k, 0), max(k, 0))), (size, 1))  # row i holds its value
    on = array_module(input._data).eye(size, k=k, dtype=bool)
    return where(Tensor._make(on), column, False)  # False: keeps the input's dtype


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
    sizes = [v.shape[0] if v.ndim else 1 for v in tensors]
    shape = tuple(sizes[i] for i in order)
    grids = []
    for k, v in enumerate(tensors):
        view = [1] * len(tensors)
        view[order.index(k)] = sizes[k]
        grids.append(expand(reshape(v, tuple(view)), shape))
    return tuple(grids)


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum of products over pairs of dimensions: the last ``dims`` of ``a`` with the first
    ``dims`` of ``b``, or the lists ``dims = (dims_a, dims_b)``. An einsum.

    Returns:
        a's free dims followed by b's free dims.
    """
    if isinstance(dims, int):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims {dims} out of range for shapes "
                               f"{tuple(a.shape)} and {tuple(b.shape)}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    dims_a = [_dim("tensordot", d, a.ndim) for d in dims_a]
    dims_b = [_dim("tensordot", d, b.ndim) for d in dims_b]
    if len(dims_a) != len(dims_b) or any(a.shape[i] != b.shape[j] for i, j in zip(dims_a, dims_b)):
        raise RuntimeError(f"tensordot: cannot contract dims {dims_a} of shape {tuple(a.shape)} "
                           f"with dims {dims_b} of shape {tuple(b.shape)}")
    letters = iter(_LETTERS)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(dims_a, dims_b):
        sub_b[j] = sub_a[i]
    out = [c for i, c in enumerate(sub_a) if i not in dims_a] + \
        [c for j, c in enumerate(sub_b) if j not in dims_b]
    return einsum(f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out)}", a, b)


def kron(a: Tensor, b: Tensor) -> Tensor:
    """Kronecker product: block (i, j) of the result is a[i, j] * b (any number of dims).

    Returns:
        Shape a.shape * b.shape elementwise (the shorter shape padded with leading ones).
    """
    n = max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (n - a.ndim) + tuple(a.shape))
    b = reshape(b, (1,) * (n - b.ndim) + tuple(b.shape))
    interleaved = reshape(a, tuple(x for s in a.shape for x in (s, 1))) * \
        reshape(b, tuple(x for s in b.shape for x in (1, s)))
    return reshape(interleaved, tuple(p * q for p, q in zip(a.shape, b.shape)))


def diff(input: Tensor, n: int = 1, dim: int = -1) -> Tensor:
    """The n-th forward difference along ``dim``: out[i] = x[i + 1] - x[i], n times."""
    d = _dim("diff", dim, input.ndim)
    for _ in range(n):
        length = input.shape[d] - 1
        if length <= 0:
            return narrow(input, d, 0, 0)
        input = narrow(input, d, 1, length) - narrow(input, d, 0, length)
    return input
