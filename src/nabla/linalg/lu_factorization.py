"""The LU factorisation with partial pivoting, A = P L U: lu_factor (LAPACK's packed form and
pivots), lu_factor_ex (with info), lu (P, L, U), lu_unpack and lu_solve.

NumPy has no LU, so the factorisation is the textbook right-looking one (LAPACK's getf2), run
over the whole batch at once, one column per step. One op, LuFactor, carries the gradient rule;
lu, lu_unpack and lu_solve are compositions (triangles of the packed factor, triangular solves).
"""

import math
from collections import namedtuple
from functools import partial

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.linalg._common import LinAlgError, batch_index, check_matrix, check_square, mT
from nabla.linalg.triangular import SolveTriangular, check_system
from nabla.ops.flip import tril, triu
from nabla.ops.join import cat
from nabla.ops.reduce import _plain
from nabla.tensor import Tensor

__all__ = ["lu_factor", "lu_factor_ex", "lu", "lu_unpack", "lu_solve"]

# as torch.return_types.linalg_lu_factor / linalg_lu_factor_ex / linalg_lu / lu_unpack
lu_factor_result = namedtuple("linalg_lu_factor", ["LU", "pivots"])
lu_factor_ex_result = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
lu_result = namedtuple("linalg_lu", ["P", "L", "U"])
lu_unpack_result = namedtuple("lu_unpack", ["P", "L", "U"])


def lu_kernel(a):
    """(LU, pivots, info) of a batch (*, m, n): L below the diagonal (its unit diagonal
    implied), U on and above it; pivots (*, k) int32, 1-based: row i was swapped with row
    pivots[i] - 1 at step i; info (*) int32: the 1-based index of the first zero pivot, or 0."""
    xp = array_module(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    count = math.prod(a.shape[:-2])
    work = xp.array(a.reshape((count, m, n)), copy=True)
    pivots = xp.zeros((count, k), xp.int32)
    info = xp.zeros(count, xp.int32)
    rows = xp.arange(count)
    with xp.errstate(all="ignore"):
        for j in range(k):
            p = j + xp.argmax(xp.abs(work[:, j:, j]), axis=1)
            pivots[:, j] = p + 1
            row_j = work[rows, j].copy()
            work[rows, j] = work[rows, p]
            work[rows, p] = row_j
            pivot = work[:, j, j]
            zero = pivot == 0  # the whole column below is 0 too: nothing to eliminate
            info = xp.where((info == 0) & zero, j + 1, info).astype(xp.int32)
            work[:, j + 1:, j] /= xp.where(zero, xp.ones((), a.dtype), pivot)[:, None]
            work[:, j + 1:, j + 1:] -= work[:, j + 1:, j:j + 1] * work[:, j:j + 1, j + 1:]
    batch = a.shape[:-2]
    return work.reshape(a.shape), pivots.reshape(batch + (k,)), info.reshape(batch)


def permutation(pivots, m: int, dtype):
    """P (*, m, m) with A = P L U, from LAPACK's pivots (*, k)."""
    xp = array_module(pivots)
    batch = pivots.shape[:-1]
    count = math.prod(batch)
    order = xp.broadcast_to(xp.arange(m), (count, m)).copy()
    swaps = pivots.reshape(count, pivots.shape[-1]) - 1
    rows = xp.arange(count)
    for i in range(swaps.shape[1]):
        p = swaps[:, i]
        at_i = order[:, i].copy()
        order[:, i] = order[rows, p]
        order[rows, p] = at_i
    # row i of P^T A is row order[i] of A: P^T = I[order], P = I[order]^T
    eye = xp.eye(m, dtype=dtype)
    return xp.swapaxes(eye[order], -1, -2).reshape(batch + (m, m))


def _permutation_of(pivots: Tensor, m: int, dtype) -> Tensor:
    """P as a tensor without gradient; under jit.trace a step recomputed from the pivots at
    every replay (not a constant of the trace)."""
    return _plain(partial(permutation, m=m, dtype=dtype), pivots)


def _factors(LU: Tensor):
    """L (*, m, k) unit lower and U (*, k, n) upper from the packed factor (differentiable)."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    xp = array_module(LU._data)
    eye = Tensor._make(xp.eye(m, k, dtype=LU.dtype))
    return tril(LU[..., :, :k], -1) + eye, triu(LU[..., :k, :])


class LuFactor(Op):
    """(LU, pivots, info) with A = P L U. With k = min(m, n), L = [L1; L2], U = [U1 U2] (L1, U1
    k x k) and inner = tril(L1^T gL1 - gU2 U2^T, -1) + triu(gU1 U1^T - L2^T gL2):
    dA = P [L1^{-T} inner U1^{-T} + (L1^{-T} gU2 beside it) (gL2 U1^{-T} below it)]."""

    @staticmethod
    def forward(ctx, a):
        lu, pivots, info = lu_kernel(a)
        ctx.mark_non_differentiable(pivots, info)
        ctx.save_for_backward(lu, pivots)
        return lu, pivots, info

    @staticmethod
    def backward(ctx, grad_lu, grad_pivots, grad_info):
        lu, pivots = ctx.saved_tensors
        m, n = lu.shape[-2:]
        k = min(m, n)
        L, U = _factors(lu)
        gL, gU = tril(grad_lu[..., :, :k], -1), triu(grad_lu[..., :k, :])
        L1, L2, gL1, gL2 = L[..., :k, :], L[..., k:, :], gL[..., :k, :], gL[..., k:, :]
        U1, U2, gU1, gU2 = U[..., :, :k], U[..., :, k:], gU[..., :, :k], gU[..., :, k:]
        inner = (tril(mT(L1) @ gL1 - gU2 @ mT(U2), -1) + triu(gU1 @ mT(U1) - mT(L2) @ gL2))
        left = SolveTriangular.apply(mT(L1), inner, True, True)  # L1^{-T} inner
        grad = mT(SolveTriangular.apply(U1, mT(left), True, False))  # ... U1^{-T}
        if n > m:
            grad = cat([grad, SolveTriangular.apply(mT(L1), gU2, True, True)], -1)
        elif m > n:
            grad = cat([grad, mT(SolveTriangular.apply(U1, mT(gL2), True, False))], -2)
        P = Tensor._make(permutation(pivots._data, m, lu.dtype))
        return P @ grad


def _check_pivot(op: str, pivot: bool) -> None:
    if not pivot:
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU (as in "
                           "PyTorch); use pivot=True")


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):
    """The packed LU factorisation with its status (torch.linalg.lu_factor_ex).

    Args:
        A: (*, m, n), float32 or float64.
        pivot: must be True (partial pivoting).
        check_errors: raise LinAlgError where info > 0 (a zero pivot: A is singular).

    Returns:
        A namedtuple (LU (*, m, n), pivots (*, k) int32, info (*) int32: 0, or the 1-based
        index of the first zero on U's diagonal). Differentiable in LU (for full-rank A).
    """
    check_matrix("linalg.lu_factor_ex", A)
    _check_pivot("linalg.lu_factor_ex", pivot)
    LU, pivots, info = LuFactor.apply(A)
    if check_errors and info._data.any():
        _raise_singular("linalg.lu_factor_ex", info._data)
    return lu_factor_ex_result(LU, pivots, info)


def _raise_singular(op: str, info) -> None:
    idx = batch_index(info != 0)
    where = f" (batch element {idx})" if idx else ""
    raise LinAlgError(f"{op}: U[{int(info[idx]) - 1},{int(info[idx]) - 1}] is zero{where}: the "
                      "matrix is singular and lu_solve would divide by zero. Use linalg.lu or "
                      "linalg.lu_factor_ex if that is expected")


def lu_factor(A: Tensor, *, pivot: bool = True):
    """The LU factorisation A = P L U in LAPACK's packed form (torch.linalg.lu_factor).

    Args:
        A: (*, m, n), float32 or float64.
        pivot: must be True (partial pivoting).

    Returns:
        A namedtuple (LU (*, m, n): L below the diagonal (unit diagonal implied), U on and above
        it; pivots (*, min(m, n)) int32, 1-based). Raises LinAlgError if a pivot is zero.
    """
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    if info._data.any():
        _raise_singular("linalg.lu_factor", info._data)
    return lu_factor_result(LU, pivots)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True):
    """P, L, U from the packed factorisation of lu_factor (torch.lu_unpack).

    Args:
        LU_data: (*, m, n); LU_pivots: (*, min(m, n)) integer, 1-based.
        unpack_data / unpack_pivots: compute L, U / P (else they are empty tensors).

    Returns:
        A namedtuple (P (*, m, m), L (*, m, k), U (*, k, n)); L and U differentiable.
    """
    check_matrix("lu_unpack", LU_data)
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    if LU_pivots.dtype.kind not in "iu" or tuple(LU_pivots.shape) != LU_data.shape[:-2] + (k,):
        raise RuntimeError(f"lu_unpack: LU_pivots must be an integer tensor of shape "
                           f"{LU_data.shape[:-2] + (k,)} for LU_data of shape "
                           f"{tuple(LU_data.shape)}, got {LU_pivots.dtype} "
                           f"{tuple(LU_pivots.shape)}")
    xp = array_module(LU_data._data)
    empty = Tensor._make(xp.zeros((0,), LU_data.dtype))
    L, U = _factors(LU_data) if unpack_data else (empty, empty)
    P = _permutation_of(LU_pivots, m, LU_data.dtype) if unpack_pivots else empty
    return lu_unpack_result(P, L, U)


def lu(A: Tensor, *, pivot: bool = True):
    """The LU factorisation with partial pivoting A = P L U (torch.linalg.lu).

    Args:
        A: (*, m, n), float32 or float64 (singular matrices too: U then has a zero pivot).
        pivot: must be True.

    Returns:
        A namedtuple (P (*, m, m) a permutation matrix, L (*, m, k) unit lower triangular,
        U (*, k, n) upper triangular), k = min(m, n). L and U are differentiable for full rank.
    """
    check_matrix("linalg.lu", A)
    _check_pivot("linalg.lu", pivot)
    return lu_result(*lu_unpack(*LuFactor.apply(A)[:2]))


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False) -> Tensor:
    """The solution X of A X = B from lu_factor's output (torch.linalg.lu_solve).

    Args:
        LU: (*, n, n) and pivots (*, n) from lu_factor(A).
        B: (*, n, k) (left) or (*, k, n) (right); batch dims broadcast.
        left: solve A X = B (True) or X A = B.
        adjoint: solve with A^T instead of A.

    Returns:
        X of the broadcast shape, differentiable in LU and B.
    """
    check_square("linalg.lu_solve", LU, "LU must be the factorisation of a square matrix")
    n = LU.shape[-1]
    if pivots.dtype.kind not in "iu" or pivots.shape[-1:] != (n,):
        raise RuntimeError(f"linalg.lu_solve: pivots must be the integer tensor (*, {n}) from "
                           f"lu_factor, got {pivots.dtype} {tuple(pivots.shape)}")
    check_system("linalg.lu_solve", LU, B, left)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return mT(lu_solve(LU, pivots, mT(B), left=True, adjoint=not adjoint))
    P = _permutation_of(pivots, n, LU.dtype)
    if adjoint:  # A^T = U^T L^T P^T: X = P L^{-T} U^{-T} B
        y = SolveTriangular.apply(mT(LU), B, False, False)
        return P @ SolveTriangular.apply(mT(LU), y, True, True)
    y = SolveTriangular.apply(LU, mT(P) @ B, False, True)
    return SolveTriangular.apply(LU, y, True, False)
