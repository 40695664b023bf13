"""Randomised low-rank SVD and PCA (torch.svd_lowrank, torch.pca_lowrank), after Halko,
Martinsson and Tropp (2009, algorithms 4.4 and 5.1): an orthonormal basis Q of the range of
A G (G Gaussian, n x q), refined by ``niter`` power iterations, then the SVD of the small
Q^T A. Exact (up to the signs of the singular vectors) whenever rank(A) <= q; an approximation
otherwise. The draws come from nabla's generator, so they differ from PyTorch's.

A composition of qr, svd and matmul, so it is differentiable through their rules.
"""

from nabla.backend import array_module
from nabla.linalg._common import check_matrix, mT
from nabla.linalg.decompositions import qr
from nabla.linalg.spectral import svd
from nabla.ops.reduce import mean
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["svd_lowrank", "pca_lowrank"]


def _range_basis(A: Tensor, q: int, niter: int) -> Tensor:
    """Q (*, m, q) with orthonormal columns spanning (nearly) the range of A."""
    xp = array_module(A._data)
    G = numpy_generator().standard_normal(A.shape[:-2] + (A.shape[-1], q))
    Q = qr(A @ Tensor._make(xp.asarray(G, A.dtype))).Q
    for _ in range(niter):  # power iterations sharpen the basis where singular values decay
        Q = qr(mT(A) @ Q).Q
        Q = qr(A @ Q).Q
    return Q


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2, M: Tensor | None = None):
    """An approximate rank-q SVD, A - M ~ U diag(S) V^T (torch.svd_lowrank).

    Args:
        A: (*, m, n), float32 or float64.
        q: the rank, at most min(m, n) (default 6, or min(m, n) if smaller).
        niter: power iterations (more: better where singular values decay slowly).
        M: subtracted from A first (broadcast), e.g. column means.

    Returns:
        (U (*, m, q), S (*, q) descending, V (*, n, q)); exact when rank(A - M) <= q.
    """
    check_matrix("svd_lowrank", A)
    if M is not None:
        A = A - M
    m, n = A.shape[-2:]
    q = min(6, m, n) if q is None else q
    if not 0 <= q <= min(m, n):
        raise RuntimeError(f"svd_lowrank: q must be in [0, min(m, n)] = [0, {min(m, n)}] for A of "
                           f"shape {tuple(A.shape)}, got {q}")
    niter = 2 if niter is None else niter
    if m < n:  # work on the taller side, as the algorithm assumes
        V, S, U = svd_lowrank(mT(A), q, niter)
        return U, S, V
    Q = _range_basis(A, q, niter)
    U_small, S, Vh = svd(mT(Q) @ A, full_matrices=False)
    return Q @ U_small, S, mT(Vh)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2):
    """Principal components of the rows of A (torch.pca_lowrank): svd_lowrank of A with its
    column means subtracted (center=True).

    Args:
        A: (*, m, n): m samples of n features.
        q: components (default min(6, m, n)).
        center: subtract the column means first.
        niter: power iterations.

    Returns:
        (U (*, m, q), S (*, q), V (*, n, q)): V's columns are the principal directions,
        S^2 / (m - 1) the explained variances.
    """
    check_matrix("pca_lowrank", A)
    m, n = A.shape[-2:]
    q = min(6, m, n) if q is None else q
    M = mean(A, -2, keepdim=True) if center else None
    return svd_lowrank(A, q, niter, M)
