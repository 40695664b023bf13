"""Spectral decompositions: eigh / eigvalsh (symmetric eigenproblem) and svd / svdvals.

Their gradients for the vectors divide by differences of eigenvalues (squared singular values),
so they exist only where those are distinct; the values' gradients need no such condition and
are used alone when the vectors get no gradient (eigvalsh, svdvals, any loss of the values only).
Eigen- and singular vectors are defined up to sign: only losses that do not depend on the sign
(U S V^T, |U|, V diag(f(L)) V^T) have a gradient.
"""

from collections import namedtuple

from nabla.autograd.function import Op
from nabla.autograd.grad_mode import is_grad_enabled
from nabla.backend import array_module
from nabla.linalg._common import (
    LinAlgError,
    all_zero,
    check_matrix,
    check_square,
    diag_embed,
    failing_element,
    mT,
    off_diagonal_ones,
    where_batch,
)
from nabla.ops.shape import unsqueeze
from nabla.tensor import Tensor

__all__ = ["eigh", "eigvalsh", "svd", "svdvals"]

# as torch.return_types.linalg_eigh / linalg_svd
eigh_result = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
svd_result = namedtuple("linalg_svd", ["U", "S", "Vh"])


def _lapack(op: str, fn, a, *args, **kwargs):
    xp = array_module(a)
    try:
        return fn(a, *args, **kwargs)
    except xp.linalg.LinAlgError:
        idx = failing_element(lambda m: fn(m, *args, **kwargs), a)
        raise LinAlgError(f"{op}: the algorithm did not converge{where_batch(idx)}; the input "
                          "may contain inf or nan, or be badly scaled") from None


def _needs_grad(A: Tensor) -> bool:
    return A.requires_grad and is_grad_enabled()


# -- eigh ----------------------------------------------------------------------------------------
class Eigh(Op):
    """(L, V) with A = V diag(L) V^T, L ascending;
    dA = V (diag(gL) + sym(V^T gV) / E) V^T, E_ij = L_j - L_i (the symmetric gradient)."""

    @staticmethod
    def forward(ctx, a, uplo):
        xp = array_module(a)
        values, vectors = _lapack("linalg.eigh", xp.linalg.eigh, a, UPLO=uplo)
        ctx.save_for_backward(values, vectors)
        return values, vectors

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        L, V = ctx.saved_tensors
        if all_zero(grad_vectors):
            return (V * unsqueeze(grad_values, -2)) @ mT(V), None
        VtgV = mT(V) @ grad_vectors
        E = off_diagonal_ones(unsqueeze(L, -2) - unsqueeze(L, -1))
        inner = 0.5 * (VtgV - mT(VtgV)) / E + diag_embed(grad_values)
        return V @ inner @ mT(V), None


def _check_uplo(op: str, UPLO: str) -> None:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{op}: UPLO must be 'L' (read the lower triangle) or 'U' (the upper "
                           f"one), got {UPLO!r}")


def eigh(A: Tensor, UPLO: str = "L"):
    """Eigenvalues and eigenvectors of symmetric matrices (only one triangle of A is read).

    Args:
        A: (*, n, n), float32 or float64, symmetric.
        UPLO: 'L' reads the lower triangle, 'U' the upper one.

    Returns:
        A namedtuple (eigenvalues (*, n) ascending, eigenvectors (*, n, n) as columns), with
        A = V diag(L) V^T. The gradient is the symmetric one (as PyTorch's); that of the
        eigenvectors needs distinct eigenvalues and a loss independent of their signs.
    """
    check_square("linalg.eigh", A, "eigh needs symmetric (so square) matrices; use linalg.svd "
                 "for a rectangular one")
    _check_uplo("linalg.eigh", UPLO)
    return eigh_result(*Eigh.apply(A, UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """Eigenvalues of symmetric matrices, ascending: (*, n, n) -> (*, n) (see eigh)."""
    check_square("linalg.eigvalsh", A, "eigvalsh needs symmetric (so square) matrices; use "
                 "linalg.svdvals for a rectangular one")
    _check_uplo("linalg.eigvalsh", UPLO)
    if _needs_grad(A):
        return Eigh.apply(A, UPLO)[0]
    xp = array_module(A._data)
    return Tensor._make(_lapack("linalg.eigvalsh", xp.linalg.eigvalsh, A._data, UPLO=UPLO))


# -- svd -----------------------------------------------------------------------------------------
class Svd(Op):
    """(U, S, Vh) with A = U diag(S) Vh, S descending. With k = min(m, n), E_ij = s_j^2 - s_i^2:
    dA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] Vh
         + (I - U U^T) gU S^{-1} Vh + U S^{-1} gVh (I - V V^T),   skew(X) = X - X^T."""

    @staticmethod
    def forward(ctx, a, full_matrices):
        xp = array_module(a)
        U, S, Vh = _lapack("linalg.svd", xp.linalg.svd, a, full_matrices=full_matrices)
        ctx.full_matrices = full_matrices
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        m, n = U.shape[-2], Vh.shape[-1]
        k = min(m, n)
        if ctx.full_matrices and m != n:
            # the extra columns of U (rows of Vh) are any basis of a complement: no derivative
            if gU._data[..., k:].any() or gVh._data[..., k:, :].any():
                raise RuntimeError(
                    f"linalg.svd: the gradient with respect to U or Vh is not defined with "
                    f"full_matrices=True for a non-square matrix ({m} x {n}): their last "
                    f"{max(m, n) - k} singular vectors are not unique. Use "
                    "linalg.svd(A, full_matrices=False)")
            U, gU, Vh, gVh = U[..., :k], gU[..., :k], Vh[..., :k, :], gVh[..., :k, :]
        return _svd_grad(U, S, Vh, gU, gS, gVh), None


def _svd_grad(U, S, Vh, gU, gS, gVh):
    """The gradient of the reduced SVD (U (*, m, k), S (*, k), Vh (*, k, n))."""
    m, n = U.shape[-2], Vh.shape[-1]
    if all_zero(gU) and all_zero(gVh):
        return (U * unsqueeze(gS, -2)) @ Vh
    S_row, S_col = unsqueeze(S, -2), unsqueeze(S, -1)
    S2 = S * S
    E = off_diagonal_ones(unsqueeze(S2, -2) - unsqueeze(S2, -1))
    UtgU = mT(U) @ gU
    VtgV = Vh @ mT(gVh)
    inner = ((UtgU - mT(UtgU)) * S_row + S_col * (VtgV - mT(VtgV))) / E + diag_embed(gS)
    if m > n:  # V square: only U's complement contributes
        gU_Sinv = gU / S_row
        return (U @ inner + gU_Sinv - U @ (mT(U) @ gU_Sinv)) @ Vh
    if m < n:
        Sinv_gVh = gVh / S_col
        return U @ (inner @ Vh + Sinv_gVh - (Sinv_gVh @ mT(Vh)) @ Vh)
    return U @ inner @ Vh


def svd(A: Tensor, full_matrices: bool = True, *, driver=None):
    """The singular value decomposition A = U diag(S) Vh.

    Args:
        A: (*, m, n), float32 or float64.
        full_matrices: U (*, m, m) and Vh (*, n, n) if True, else the reduced (*, m, k) and
            (*, k, n), k = min(m, n).
        driver: accepted for PyTorch compatibility (it picks a CUDA algorithm); ignored.

    Returns:
        A namedtuple (U, S (*, k) descending, Vh). Gradients through U or Vh need distinct
        nonzero singular values, a sign-independent loss and, for m != n, full_matrices=False.
    """
    check_matrix("linalg.svd", A)
    return svd_result(*Svd.apply(A, full_matrices))


def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """The singular values of matrices, descending: (*, m, n) -> (*, min(m, n))."""
    check_matrix("linalg.svdvals", A)
    if _needs_grad(A):
        return Svd.apply(A, False)[1]
    xp = array_module(A._data)
    return Tensor._make(_lapack("linalg.svdvals", xp.linalg.svd, A._data, compute_uv=False))
