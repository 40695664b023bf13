"""Tensor forms of the matrix functions: tensorinv and tensorsolve (inv and solve on the
matrices a reshape makes of a tensor) and vecdot (the dot product along a dimension); and
torch.linalg's names of batched ops nabla has elsewhere: matmul, diagonal (its defaults are the
last two dims) and vander (increasing powers, batched). All compositions of differentiable ops,
so their gradients come from those rules."""

import math

from nabla.linalg._common import check_float
from nabla.linalg.inverse import inv, solve
from nabla.ops.linalg import matmul
from nabla.ops.matrix import diagonal as _diagonal
from nabla.ops.numeric import vander as _vander
from nabla.ops.reduce import sum
from nabla.ops.shape import movedim, reshape
from nabla.tensor import Tensor

__all__ = ["vecdot", "tensorinv", "tensorsolve", "matmul", "diagonal", "vander"]


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along ``dim``: sum(x * y, dim).

    Args:
        x, y: floating tensors of one dtype whose shapes broadcast; the size at ``dim`` must
            match after broadcasting.

    Returns:
        The broadcast shape without ``dim``.
    """
    for t in (x, y):
        check_float("linalg.vecdot", t)
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.vecdot: x and y must have the same dtype, got {x.dtype} and "
                           f"{y.dtype}; convert one of them")
    return sum(x * y, dim)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of A as a tensor: tensordot(tensorinv(A, ind), A, ind) is the identity.

    Args:
        A: float32 or float64, with prod(A.shape[:ind]) == prod(A.shape[ind:]).
        ind: how many leading dimensions index the rows.

    Returns:
        Shape A.shape[ind:] + A.shape[:ind].
    """
    if ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: ind must be a positive integer, got {ind}")
    rows, cols = A.shape[:ind], A.shape[ind:]
    if math.prod(rows) != math.prod(cols):
        raise RuntimeError(f"linalg.tensorinv: A of shape {tuple(A.shape)} must satisfy "
                           f"prod(A.shape[:ind]) == prod(A.shape[ind:]) for ind={ind}, got "
                           f"{math.prod(rows)} != {math.prod(cols)}")
    square = reshape(A, (math.prod(rows), math.prod(cols)))
    return reshape(inv(square), tuple(cols) + tuple(rows))


def tensorsolve(A: Tensor, B: Tensor, dims=None) -> Tensor:
    """The tensor X with tensordot(A, X, X.ndim) == B.

    Args:
        A: float32 or float64 of shape B.shape + X.shape (after ``dims`` moved to the end),
            with prod(B.shape) == prod(X.shape).
        B: A's dtype.
        dims: dimensions of A moved to the end first (None: none).

    Returns:
        X of shape A.shape[B.ndim:] (after the move).
    """
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        A = movedim(A, dims, tuple(range(A.ndim - len(dims), A.ndim)))
    rows, cols = A.shape[:B.ndim], A.shape[B.ndim:]
    if tuple(rows) != tuple(B.shape) or math.prod(rows) != math.prod(cols):
        raise RuntimeError(f"linalg.tensorsolve: A of shape {tuple(A.shape)} must start with "
                           f"B's shape {tuple(B.shape)}, and the product of its other dims "
                           f"({math.prod(cols)}) must equal that of B's ({math.prod(B.shape)})")
    n = math.prod(rows)
    x = solve(reshape(A, (n, n)), reshape(B, (n,)))
    return reshape(x, tuple(cols))


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """torch.linalg.diagonal: the diagonals of the matrices in (dim1, dim2), a view
    (torch.diagonal with the last two dims as the default)."""
    return _diagonal(A, offset, dim1, dim2)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrices of a batch of vectors: x^0, x^1, ..., x^(N-1) along a new last
    dim (increasing, unlike torch.vander).

    Args:
        x: (*, n); bool and integer inputs give int64.
        N: the number of powers, at least 2 (default n).

    Returns:
        (*, n, N).
    """
    if x.ndim < 1:
        raise RuntimeError(f"linalg.vander: x must have at least one dimension, got shape "
                           f"{tuple(x.shape)}")
    N = x.shape[-1] if N is None else N
    if N <= 1:
        raise RuntimeError(f"linalg.vander: N must be greater than 1, got {N}")
    flat = _vander(reshape(x, (-1,)), N, increasing=True)
    return reshape(flat, tuple(x.shape) + (N,))

