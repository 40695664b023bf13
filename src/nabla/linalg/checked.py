"""The ``_ex`` variants of torch.linalg: cholesky_ex, inv_ex and solve_ex return an int32 ``info``
tensor beside the result instead of raising on a bad matrix (unless check_errors=True).

info follows LAPACK: 0 where the factorisation succeeded; for cholesky, the order of the first
leading minor that is not positive-definite; for inv and solve, the 1-based index of the first
zero pivot of the LU factorisation (the matrix is singular).

Compositions of the checked ops (Cholesky, Inv, Solve): the matrices that fail are replaced by
the identity before the op runs, so the others keep their values and gradients. Under jit.trace
which matrices failed is frozen (with a TracerWarning); a replay on a new failure raises.
"""

import math
from collections import namedtuple

from nabla.autograd.grad_mode import _trace
from nabla.backend import array_module
from nabla.linalg._common import LinAlgError, batch_index, check_square, eye_like
from nabla.linalg.decompositions import Cholesky
from nabla.linalg.inverse import Inv, solve
from nabla.linalg.lu_factorization import lu_kernel
from nabla.ops.elementwise import where
from nabla.tensor import Tensor

__all__ = ["cholesky_ex", "inv_ex", "solve_ex"]

# as torch.return_types.linalg_cholesky_ex / linalg_inv_ex / linalg_solve_ex
cholesky_ex_result = namedtuple("linalg_cholesky_ex", ["L", "info"])
inv_ex_result = namedtuple("linalg_inv_ex", ["inverse", "info"])
solve_ex_result = namedtuple("linalg_solve_ex", ["result", "info"])


def cholesky_kernel(a):
    """(L, info) by the unblocked algorithm (LAPACK's potf2) over the batch: where a matrix is
    not positive-definite, its columns before the failing one are L's, the failing diagonal
    entry holds the non-positive value found there, and the rest is a's lower triangle."""
    xp = array_module(a)
    n = a.shape[-1]
    count = math.prod(a.shape[:-2])
    L = xp.tril(a).reshape(count, n, n).copy()
    info = xp.zeros(count, xp.int32)
    with xp.errstate(all="ignore"):
        for j in range(n):
            running = info == 0
            d = L[:, j, j] - (L[:, j, :j] ** 2).sum(axis=-1)
            failed = running & ~(d > 0)
            info[failed] = j + 1
            go = running & ~failed
            root = xp.sqrt(xp.where(go, d, 1))
            L[:, j, j] = xp.where(go, root, xp.where(failed, d, L[:, j, j]))
            below = (L[:, j + 1:, j] - (L[:, j + 1:, :j] @ L[:, j, :j, None])[..., 0]) / \
                root[:, None]
            L[:, j + 1:, j] = xp.where(go[:, None], below, L[:, j + 1:, j])
    return L.reshape(a.shape), info.reshape(a.shape[:-2])


def _frozen(op: str) -> None:
    """Under jit.trace, warn: which matrices failed becomes a constant of the trace."""
    if _trace.tracer is not None:
        _trace.tracer.leak(f"{op} on a batch with failing matrices")


def _identity_where(bad, A: Tensor) -> Tensor:
    """A with the matrices flagged in ``bad`` (a batch-shaped bool array) replaced by I."""
    mask = Tensor._make(bad[..., None, None])
    return where(mask, eye_like(A.shape[-1], A), A)


def _report(op: str, info, what: str) -> None:
    idx = batch_index(info != 0)
    where_ = f" (batch element {idx})" if idx else ""
    raise LinAlgError(f"{op}{where_}: {what.format(int(info[idx]))}")


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):
    """The Cholesky factor with a status instead of an error (torch.linalg.cholesky_ex).

    Args:
        A: (*, n, n), float32 or float64, symmetric; only the lower triangle is read.
        upper: return U = L^T instead of L.
        check_errors: raise LinAlgError if a matrix is not positive-definite.

    Returns:
        A namedtuple (L (*, n, n), info (*) int32: 0, or the order of the first leading minor
        that is not positive-definite). Where info > 0, L holds the partial factor
        (unspecified values, as in PyTorch) and no gradient.
    """
    op = "linalg.cholesky_ex"
    check_square(op, A, "the Cholesky factorisation needs symmetric positive-definite (so "
                 "square) matrices")
    xp = array_module(A._data)
    try:
        return cholesky_ex_result(Cholesky.apply(A, upper),
                                  Tensor._make(xp.zeros(A.shape[:-2], xp.int32)))
    except LinAlgError:
        _frozen(op)
        partial, info = cholesky_kernel(A._data)
    if check_errors:
        _report(op, info, "the factorization could not be completed because the input is not "
                "positive-definite (the leading minor of order {} is not positive-definite)")
    bad = info > 0
    L = Cholesky.apply(_identity_where(bad, A), upper)
    partial = xp.swapaxes(partial, -1, -2) if upper else partial
    return cholesky_ex_result(where(Tensor._make(bad[..., None, None]), Tensor._make(partial), L),
                              Tensor._make(info))


def _singular_info(a, bad):
    """info of the singular matrices flagged in ``bad``: the first zero pivot (1-based) of the
    LU factorisation (at least 1 where rounding differs from LAPACK's blocked one)."""
    xp = array_module(a)
    info = lu_kernel(a)[2]
    return xp.where(bad, xp.maximum(info, 1), 0).astype(xp.int32)


def _singular_mask(fn, a):
    """Which matrices of the batch ``fn`` (a LAPACK call) fails on."""
    xp = array_module(a)
    flat = a.reshape((-1,) + a.shape[-2:])
    bad = xp.zeros(flat.shape[0], bool)
    for i in range(flat.shape[0]):
        try:
            fn(flat[i])
        except xp.linalg.LinAlgError:
            bad[i] = True
    return bad.reshape(a.shape[:-2])


_SINGULAR = "the diagonal element {} is zero, the inversion could not be completed because " \
    "the input matrix is singular"


def inv_ex(A: Tensor, *, check_errors: bool = False):
    """The inverse with a status instead of an error (torch.linalg.inv_ex).

    Args:
        A: (*, n, n), float32 or float64.
        check_errors: raise LinAlgError if a matrix is singular.

    Returns:
        A namedtuple (inverse (*, n, n): NaN for singular matrices (PyTorch leaves
        unspecified values there), info (*) int32: 0, or the first zero pivot, 1-based).
    """
    op = "linalg.inv_ex"
    check_square(op, A, "use linalg.pinv for the pseudo-inverse of a non-square matrix")
    xp = array_module(A._data)
    try:
        return inv_ex_result(Inv.apply(A), Tensor._make(xp.zeros(A.shape[:-2], xp.int32)))
    except LinAlgError:
        _frozen(op)
        bad = _singular_mask(xp.linalg.inv, A._data)
    info = _singular_info(A._data, bad)
    if check_errors:
        _report(op, info, _SINGULAR)
    inverse = Inv.apply(_identity_where(bad, A))
    nan = Tensor._make(xp.full((), xp.nan, A.dtype))
    return inv_ex_result(where(Tensor._make(bad[..., None, None]), nan, inverse),
                         Tensor._make(info))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):
    """linalg.solve with a status instead of an error (torch.linalg.solve_ex).

    Args:
        A: (*, n, n); B: (*, n, k) or a vector (*, n), as in linalg.solve.
        left: solve A X = B (True) or X A = B.
        check_errors: raise LinAlgError if a matrix is singular.

    Returns:
        A namedtuple (result: X, NaN where A is singular; info (*) int32: A's first zero
        pivot, 1-based, or 0).
    """
    op = "linalg.solve_ex"
    xp = array_module(A._data)
    try:
        X = solve(A, B, left=left)
        return solve_ex_result(X, Tensor._make(xp.zeros(A.shape[:-2], xp.int32)))
    except LinAlgError:
        _frozen(op)
        bad = _singular_mask(xp.linalg.inv, A._data)
    info = _singular_info(A._data, bad)
    if check_errors:
        _report(op, info, _SINGULAR.replace("inversion", "solve"))
    X = solve(_identity_where(bad, A), B, left=left)
    vector = X.ndim == A.ndim - 1
    mask = bad[..., None] if vector else bad[..., None, None]
    nan = Tensor._make(xp.full((), xp.nan, A.dtype))
    return solve_ex_result(where(Tensor._make(mask), nan, X), Tensor._make(info))
