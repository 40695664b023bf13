"""Triangular factorisations: cholesky (A = L L^T) and qr (A = Q R).

Both gradient rules end in a triangular solve, done here with linalg's Solve op (general, but
differentiable), so the rules have second derivatives too.
"""

from collections import namedtuple

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.linalg._common import (
    LinAlgError,
    check_matrix,
    check_square,
    failing_element,
    mT,
    where_batch,
)
from nabla.linalg.inverse import Solve
from nabla.ops.flip import tril
from nabla.ops.join import cat
from nabla.tensor import Tensor

__all__ = ["cholesky", "qr"]

# as torch.return_types.linalg_qr
qr_result = namedtuple("linalg_qr", ["Q", "R"])


# -- cholesky ------------------------------------------------------------------------------------
class Cholesky(Op):
    """L lower triangular with A = L L^T (U = L^T if upper); with Phi(M) the symmetric matrix
    of tril(M) with halved diagonal:  dA = L^{-T} Phi(L^T gL) L^{-1}."""

    @staticmethod
    def forward(ctx, a, upper):
        xp = array_module(a)
        try:
            L = xp.linalg.cholesky(a)
        except xp.linalg.LinAlgError:
            idx = failing_element(xp.linalg.cholesky, a)
            raise LinAlgError(
                f"linalg.cholesky: the input is not positive-definite{where_batch(idx)}; it "
                "must be symmetric with positive eigenvalues (only its lower triangle is "
                "read). Add a multiple of the identity (A + eps * I) or use linalg.eigh"
            ) from None
        out = xp.swapaxes(L, -1, -2) if upper else L
        ctx.upper = upper
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        L, gL = (mT(out), mT(grad)) if ctx.upper else (out, grad)
        M = mT(L) @ gL
        phi = 0.5 * (tril(M) + mT(tril(M, -1)))
        Lt = mT(L)
        left = Solve.apply(Lt, phi)  # L^{-T} Phi
        return mT(Solve.apply(Lt, mT(left))), None  # (L^{-T} Phi) L^{-1}


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of symmetric positive-definite matrices.

    Args:
        A: (*, n, n), float32 or float64; only the lower triangle is read.
        upper: return U = L^T (A = U^T U) instead of L (A = L L^T).

    Returns:
        (*, n, n), triangular with a positive diagonal. Raises LinAlgError (a RuntimeError)
        naming a matrix that is not positive-definite. The gradient is symmetric.
    """
    check_square("linalg.cholesky", A, "the Cholesky factorisation needs symmetric "
                 "positive-definite (so square) matrices")
    return Cholesky.apply(A, upper)


# -- qr ------------------------------------------------------------------------------------------
class Qr(Op):
    """(Q, R), A = Q R. For m >= n, with copyltu(M) = tril(M) + tril(M, -1)^T:
    dA = (gQ + Q copyltu(R gR^T - gQ^T Q)) R^{-T}. For m < n, A = [X | Y], R = [U | V]:
    X's rule with gQ + Y gV^T, and dY = Q gV."""

    @staticmethod
    def forward(ctx, a, mode):
        xp = array_module(a)
        ctx.mode = mode
        if mode == "r":
            R = xp.linalg.qr(a, mode="r")
            return xp.zeros((0,), a.dtype), R
        Q, R = xp.linalg.qr(a, mode=mode)
        ctx.save_for_backward(a, Q, R)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        if ctx.mode == "r":
            raise RuntimeError(
                "linalg.qr: the gradient depends on Q, which is not computed when mode='r'; "
                "use linalg.qr(A, mode='reduced') to differentiate through linalg.qr")
        a, Q, R = ctx.saved_tensors
        m, n = a.shape[-2:]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError(
                f"linalg.qr: the QR decomposition is not differentiable when mode='complete' "
                f"and m > n (got {m} x {n}): the last {m - n} columns of Q are not unique. "
                "Use mode='reduced'")
        if m >= n:
            return _qr_grad_tall(Q, R, gQ, gR), None
        Y, U = a[..., m:], R[..., :m]
        gU, gV = gR[..., :m], gR[..., m:]
        grad_x = _qr_grad_tall(Q, U, gQ + Y @ mT(gV), gU)
        return cat([grad_x, Q @ gV], -1), None


def _qr_grad_tall(Q: Tensor, R: Tensor, gQ: Tensor, gR: Tensor) -> Tensor:
    """The gradient of A = Q R for m >= n (R square, invertible)."""
    M = R @ mT(gR) - mT(gQ) @ Q
    sym = tril(M) + mT(tril(M, -1))
    return mT(Solve.apply(R, mT(gQ + Q @ sym)))  # (gQ + Q sym) R^{-T}


def qr(A: Tensor, mode: str = "reduced"):
    """The QR decomposition A = Q R, Q with orthonormal columns, R upper triangular.

    Args:
        A: (*, m, n), float32 or float64.
        mode: 'reduced' (Q (*, m, k), R (*, k, n), k = min(m, n)), 'complete' (Q (*, m, m),
            R (*, m, n)) or 'r' (R only; Q is an empty tensor).

    Returns:
        A namedtuple (Q, R). Differentiable for full-rank A, except for mode='r' and for
        mode='complete' with m > n.
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"linalg.qr: mode must be 'reduced' (default), 'complete' or 'r', "
                           f"got {mode!r}")
    check_matrix("linalg.qr", A)
    return qr_result(*Qr.apply(A, mode))
