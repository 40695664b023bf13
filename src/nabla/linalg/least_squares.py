"""Least squares: lstsq, the minimum-norm solution of min ||A X - B||_F, with torch's result
tuple (solution, residuals, rank, singular_values).

A composition: the solution is pinv(A) B (the SVD, singular values below rcond times the
largest one dropped, as LAPACK's gelsd), so its gradient is that of pinv and matmul: exact
wherever the numerical rank does not change. The residuals are computed from it, so they are
differentiable too; rank and singular values carry no gradient, as in PyTorch.
"""

from collections import namedtuple

from nabla.backend import array_module
from nabla.dtype import int64
from nabla.linalg._common import check_float, check_matrix
from nabla.linalg.pseudoinverse import matrix_rank, pinv
from nabla.linalg.spectral import svdvals
from nabla.ops.reduce import sum
from nabla.ops.shape import reshape, unsqueeze
from nabla.tensor import Tensor

__all__ = ["lstsq"]

# as torch.return_types.linalg_lstsq
lstsq_result = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])

_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _check(A: Tensor, B: Tensor, driver) -> bool:
    """Validate the arguments; whether B is a (batch of) vector(s)."""
    op = "linalg.lstsq"
    check_matrix(op, A)
    check_float(op, B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"{op}: A and B must have the same dtype, got {A.dtype} and "
                           f"{B.dtype}; convert one of them")
    if driver is not None and driver not in _DRIVERS:
        raise RuntimeError(f"{op}: driver must be one of {', '.join(_DRIVERS)} (or None for "
                           f"gelsy), got {driver!r}")
    m = A.shape[-2]
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if (B.shape[-1] if vector else (B.shape[-2] if B.ndim >= 2 else -1)) != m:
        raise RuntimeError(f"{op}: incompatible shapes of A {tuple(A.shape)} and B "
                           f"{tuple(B.shape)}: B must be (*, {m}, k) or a vector (*, {m}), "
                           f"with as many rows as A")
    batch_b = B.shape[:-1] if vector else B.shape[:-2]
    for x, y in zip(reversed(A.shape[:-2]), reversed(batch_b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"{op}: the batch dimensions of A {tuple(A.shape)} and B "
                               f"{tuple(B.shape)} are not broadcastable ({x} vs {y})")
    return vector


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None):
    """The least-squares solution X of A X = B: the minimum-norm minimiser of ||A X - B||_F.

    Args:
        A: (*, m, n), float32 or float64.
        B: (*, m, k), or a vector (*, m); batch dims broadcast with A's.
        rcond: singular values below rcond * the largest one count as zero (default: the
            dtype's eps * max(m, n)); they decide the rank.
        driver: PyTorch's LAPACK driver name ('gelsy' by default, 'gels', 'gelsd', 'gelss').
            It only decides which fields are filled, as in PyTorch on the CPU; the solution is
            always the SVD-based one (gelsd's).

    Returns:
        A namedtuple: solution (*, n, k) (or (*, n)); residuals (*, k): the squared norms of
        the columns of A X - B when m > n, every A has full rank and the driver is not
        'gelsy', else an empty tensor; rank (*) int64 (empty for 'gels'); singular_values
        (*, min(m, n)) for 'gelsd' and 'gelss' (else empty). Differentiable in the solution
        and residuals where the rank is constant (full-rank systems in particular).
    """
    vector = _check(A, B, driver)
    driver = driver or "gelsy"
    m, n = A.shape[-2:]
    xp = array_module(A._data)
    if rcond is None:
        rcond = float(xp.finfo(A.dtype).eps) * max(m, n)
    rhs = unsqueeze(B, -1) if vector else B
    solution = pinv(A, rtol=rcond) @ rhs
    empty = Tensor._make(xp.zeros((0,), A.dtype))
    rank = matrix_rank(A, rtol=rcond) if driver != "gels" else Tensor._make(xp.zeros((0,), int64))
    full_rank = driver == "gels" or bool((rank._data == n).all())
    residuals = empty
    if m > n and driver != "gelsy" and full_rank:
        residuals = sum((A @ solution - rhs) ** 2, -2)
    singular_values = empty
    if driver in ("gelsd", "gelss"):
        singular_values = svdvals(A.detach())
    if vector:
        solution = reshape(solution, solution.shape[:-1])
    return lstsq_result(solution, residuals, rank, singular_values)
