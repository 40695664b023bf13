"""torch's top-level matrix functions from before torch.linalg, as old scripts call them:
torch.svd (V, not Vh, and ``some``), torch.qr (``some``), torch.cholesky, torch.lu (packed, with
``get_infos``), torch.lu_solve (b first), torch.matrix_rank (``tol``, ``symmetric``),
chain_matmul, frobenius_norm, nuclear_norm; and the removed ones (torch.solve, lstsq, eig,
symeig), which raise the error that names their replacement, as in PyTorch. Each forwards to
nabla.linalg, so its gradient is that function's.
"""

from collections import namedtuple

from nabla.backend import array_module
from nabla.linalg.decompositions import cholesky as _cholesky
from nabla.linalg.decompositions import qr as _qr
from nabla.linalg.lu_factorization import lu_factor_ex
from nabla.linalg.lu_factorization import lu_solve as _lu_solve
from nabla.linalg.norms import matrix_norm, vector_norm
from nabla.linalg.products import multi_dot
from nabla.linalg.pseudoinverse import matrix_rank as _matrix_rank
from nabla.linalg.spectral import svd as _svd
from nabla.linalg.spectral import svdvals
from nabla.ops.shape import transpose
from nabla.tensor import Tensor

__all__ = ["svd", "qr", "cholesky", "lu", "lu_solve", "matrix_rank", "chain_matmul",
           "frobenius_norm", "nuclear_norm", "solve", "lstsq", "eig", "symeig"]

# as torch.return_types.svd / qr
svd_result = namedtuple("svd", ["U", "S", "V"])
qr_result = namedtuple("qr", ["Q", "R"])


def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """torch.svd: input = U diag(S) V^T, with V itself (linalg.svd returns Vh = V^T).

    Args:
        input: (*, m, n), float32 or float64.
        some: the reduced U (*, m, k) and V (*, n, k), k = min(m, n); else U (*, m, m) and
            V (*, n, n).
        compute_uv: if False, U and V are zero matrices (*, m, m) and (*, n, n), as in PyTorch.

    Returns:
        A namedtuple (U, S (*, k) descending, V).
    """
    if not compute_uv:
        xp = array_module(input._data)
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return svd_result(Tensor._make(xp.zeros(batch + (m, m), input.dtype)), svdvals(input),
                          Tensor._make(xp.zeros(batch + (n, n), input.dtype)))
    U, S, Vh = _svd(input, full_matrices=not some)
    return svd_result(U, S, transpose(Vh, -1, -2))


def qr(input: Tensor, some: bool = True):
    """torch.qr: linalg.qr with mode 'reduced' (some=True) or 'complete' (some=False)."""
    return qr_result(*_qr(input, "reduced" if some else "complete"))


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky (deprecated there for linalg.cholesky): the lower factor L, A = L L^T,
    or U = L^T with upper=True."""
    return _cholesky(input, upper=upper)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """torch.lu (Tensor.lu): linalg.lu_factor's (LU, pivots), plus info if get_infos; without
    get_infos a singular matrix raises, as in PyTorch."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot, check_errors=not get_infos)
    return (LU, pivots, info) if get_infos else (LU, pivots)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """torch.lu_solve: linalg.lu_solve(LU_data, LU_pivots, b) (b first)."""
    return _lu_solve(LU_data, LU_pivots, b)


def matrix_rank(input: Tensor, tol: float | None = None, symmetric: bool = False) -> Tensor:
    """torch.matrix_rank (removed from PyTorch 2, kept here for old scripts): the number of
    singular values above ``tol`` (default: eps * max(m, n) * the largest), int64 (*)."""
    if tol is None:
        return _matrix_rank(input, hermitian=symmetric)
    return _matrix_rank(input, atol=tol, rtol=0.0, hermitian=symmetric)


def chain_matmul(*matrices) -> Tensor:
    """torch.chain_matmul: the product of 2-D matrices in the cheapest order (linalg.multi_dot);
    a single matrix is returned as it is."""
    if len(matrices) == 1:
        return matrices[0]
    return multi_dot(matrices)


def frobenius_norm(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """torch.frobenius_norm: sqrt(sum x^2) over ``dim`` (one or two dims)."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"frobenius_norm: expected at most 2 dimensions, got {len(dims)} "
                           f"({dims}); use linalg.vector_norm for more")
    return vector_norm(input, 2, dims, keepdim)


def nuclear_norm(input: Tensor, dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """torch.nuclear_norm: the sum of the singular values of the matrices in ``dim``."""
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim) positionally, as torch allows
        dim, keepdim = (-2, -1), dim
    return matrix_norm(input, "nuc", tuple(dim), keepdim)


def _removed(name: str, hint: str):
    raise RuntimeError(f"{name}: this function was deprecated in PyTorch 1.9 and is removed "
                       f"(as in PyTorch 2); {hint}")


def solve(input, A=None):
    """torch.solve was removed: use linalg.solve(A, B) (arguments reversed)."""
    _removed("solve", "use nabla.linalg.solve(A, B), which has its arguments reversed, and "
             "nabla.linalg.lu_factor for the factorisation")


def lstsq(input, A=None):
    """torch.lstsq was removed: use linalg.lstsq(A, B) (arguments reversed)."""
    _removed("lstsq", "use nabla.linalg.lstsq(A, B).solution, which has its arguments reversed")


def eig(input, eigenvectors: bool = False):
    """torch.eig was removed (linalg.eig returns complex tensors, which nabla lacks)."""
    _removed("eig", "for symmetric matrices use nabla.linalg.eigh(A); nabla has no complex "
             "tensors for linalg.eig")


def symeig(input, eigenvectors: bool = False, upper: bool = True):
    """torch.symeig was removed: use linalg.eigh / eigvalsh (note UPLO='U' for upper)."""
    _removed("symeig", "use nabla.linalg.eigh(A, UPLO='U' if upper else 'L') or "
             "nabla.linalg.eigvalsh")

