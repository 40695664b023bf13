"""The pseudo-inverse and the numerical rank: both keep the singular values (the eigenvalues'
magnitudes, for hermitian=True) above max(atol, rtol * largest), as PyTorch does."""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.dtype import int64
from nabla.linalg._common import check_matrix, check_square, mT
from nabla.linalg.spectral import _lapack
from nabla.tensor import Tensor

__all__ = ["pinv", "matrix_rank"]


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _threshold(xp, largest, atol, rtol, m: int, n: int, dtype):
    """max(atol, rtol * largest); rtol defaults to eps * max(m, n), or to 0 where atol > 0."""
    atol, rtol = _raw(atol), _raw(rtol)
    if rtol is None:
        default = xp.finfo(dtype).eps * max(m, n)
        rtol = default if atol is None else xp.where(xp.asarray(atol) > 0, 0.0, default)
    atol = 0.0 if atol is None else atol
    return xp.maximum(xp.asarray(atol, dtype), xp.asarray(rtol, dtype) * largest)


def _spectrum(op: str, a, hermitian: bool):
    """(magnitudes, values, left, right) with A = left diag(values) right: the SVD, or for
    hermitian A its eigendecomposition (magnitudes |L|, right = V^T; the lower triangle)."""
    xp = array_module(a)
    if hermitian:
        L, V = _lapack(op, xp.linalg.eigh, a)
        return xp.abs(L), L, V, xp.swapaxes(V, -1, -2)
    U, S, Vh = _lapack(op, xp.linalg.svd, a, full_matrices=False)
    return S, S, U, Vh


def _largest(xp, magnitudes):
    if magnitudes.shape[-1] == 0:
        return xp.zeros(magnitudes.shape[:-1], magnitudes.dtype)
    return magnitudes.max(axis=-1)


class Pinv(Op):
    """P = A^+ (singular values below the threshold dropped). For constant rank:
    dA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)."""

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        xp = array_module(a)
        m, n = a.shape[-2:]
        if min(m, n) == 0:
            p = xp.zeros(a.shape[:-2] + (n, m), a.dtype)
        else:
            mags, values, left, right = _spectrum("linalg.pinv", a, hermitian)
            tol = _threshold(xp, _largest(xp, mags), atol, rtol, m, n, a.dtype)
            keep = mags > tol[..., None]
            inverse = xp.where(keep, 1 / xp.where(keep, values, 1), 0).astype(a.dtype)
            p = (xp.swapaxes(right, -1, -2) * inverse[..., None, :]) @ xp.swapaxes(left, -1, -2)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, grad):
        a, p = ctx.saved_tensors
        pT, gT = mT(p), mT(grad)
        left = gT @ p @ pT  # (m, n): g^T P P^T
        right = pT @ p @ gT  # (m, n): P^T P g^T
        return (-(pT @ grad @ pT) + left - a @ (p @ left) + right - (right @ p) @ a,
                None, None, None)


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse A^+.

    Args:
        A: (*, m, n), float32 or float64.
        atol: absolute threshold (float or a Tensor of the batch shape); default 0.
        rtol: relative threshold (times the largest singular value); default eps * max(m, n),
            or 0 when atol > 0 is given.
        hermitian: A is symmetric: use its eigendecomposition (only the lower triangle is read).

    Returns:
        (*, n, m). Its gradient exists where the numerical rank does not change.
    """
    if hermitian:
        check_square("linalg.pinv", A, "hermitian=True needs symmetric (so square) matrices")
    else:
        check_matrix("linalg.pinv", A)
    return Pinv.apply(A, atol, rtol, hermitian)


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The numerical rank: the number of singular values above max(atol, rtol * largest).

    Args:
        A: (*, m, n), float32 or float64.
        atol, rtol, hermitian: as in pinv.

    Returns:
        An int64 tensor of shape (*), no gradient.
    """
    if hermitian:
        check_square("linalg.matrix_rank", A, "hermitian=True needs symmetric (so square) "
                     "matrices")
    else:
        check_matrix("linalg.matrix_rank", A)
    a = A._data
    xp = array_module(a)
    m, n = a.shape[-2:]
    if min(m, n) == 0:
        return Tensor._make(xp.zeros(a.shape[:-2], int64))
    if hermitian:
        mags = xp.abs(_lapack("linalg.matrix_rank", xp.linalg.eigvalsh, a))
    else:
        mags = _lapack("linalg.matrix_rank", xp.linalg.svd, a, compute_uv=False)
    tol = _threshold(xp, _largest(xp, mags), atol, rtol, m, n, a.dtype)
    return Tensor._make(xp.asarray((mags > tol[..., None]).sum(axis=-1), dtype=int64))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: linalg.pinv with singular values below rcond * the largest one dropped."""
    return pinv(input, rtol=rcond)
