"""Triangular systems: solve_triangular, and what is built on it: cholesky_solve and
cholesky_inverse (two triangular solves with a Cholesky factor), torch's older triangular_solve.

One op, SolveTriangular (X = A^{-1} B, A triangular, only its triangle read); everything else is
a composition, so its gradient comes from that rule. The rule is written with the same op, so
second derivatives come for free.
"""

from collections import namedtuple

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.linalg._common import check_float, check_square, eye_like, mT
from nabla.ops import clone
from nabla.ops.flip import tril, triu
from nabla.tensor import Tensor

__all__ = ["solve_triangular", "cholesky_solve", "cholesky_inverse", "triangular_solve"]

# as torch.return_types.triangular_solve
triangular_solve_result = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


def _substitute(t, b):
    """X with t X = b for an upper triangular t (..., n, n), by back substitution: the path for
    a zero on the diagonal, where it gives inf / nan as LAPACK's trsm does instead of failing."""
    xp = array_module(t)
    n = t.shape[-1]
    batch = xp.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    x = xp.zeros(batch + b.shape[-2:], xp.result_type(t, b))
    with xp.errstate(all="ignore"):
        for i in range(n - 1, -1, -1):
            rest = t[..., i:i + 1, i + 1:] @ x[..., i + 1:, :]
            x[..., i:i + 1, :] = (b[..., i:i + 1, :] - rest) / t[..., i:i + 1, i:i + 1]
    return x


def triangular_kernel(a, b, upper: bool, unit: bool):
    """X = T^{-1} b, T the upper (lower) triangle of ``a`` (with a unit diagonal if ``unit``).
    A lower system is turned into an upper one by reversing rows and columns, so LAPACK's LU
    finds nothing to pivot and the solve is plain back substitution."""
    xp = array_module(a)
    t = xp.triu(a) if upper else xp.tril(a)
    if unit:
        t = xp.where(xp.eye(a.shape[-1], dtype=bool), xp.ones((), a.dtype), t)
    if not upper:
        t, b = t[..., ::-1, ::-1], b[..., ::-1, :]
    try:
        x = xp.linalg.solve(t, b)
    except xp.linalg.LinAlgError:  # a zero on the diagonal: inf / nan, as PyTorch
        x = _substitute(t, b)
    return x if upper else x[..., ::-1, :]


class SolveTriangular(Op):
    """X = A^{-1} B for A (..., n, n) triangular (only that triangle read), B (..., n, k);
    dX/dB = A^{-T} grad, dX/dA = the triangle of -(A^{-T} grad) X^T (strict if unitriangular)."""

    @staticmethod
    def forward(ctx, a, b, upper, unit):
        ctx.upper, ctx.unit = upper, unit
        x = triangular_kernel(a, b, upper, unit)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        grad_b = SolveTriangular.apply(mT(a), grad, not ctx.upper, ctx.unit)
        grad_a = None
        if need_a:
            full = -(grad_b @ mT(x))
            offset = int(ctx.unit)
            grad_a = triu(full, offset) if ctx.upper else tril(full, -offset)
        return grad_a, (grad_b if need_b else None), None, None


def check_system(op: str, A: Tensor, B: Tensor, left: bool) -> None:
    """A square, B (*, n, k) (or (*, k, n) if not left) of A's dtype, batch dims broadcastable."""
    check_square(op, A, "the coefficient matrix of a triangular system must be square")
    check_float(op, B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"{op}: A and B must have the same dtype, got {A.dtype} and "
                           f"{B.dtype}; convert one of them")
    n = A.shape[-1]
    if B.ndim < 2 or B.shape[-2 if left else -1] != n:
        want = f"(*, {n}, k)" if left else f"(*, k, {n})"
        raise RuntimeError(f"{op}: incompatible shapes of A {tuple(A.shape)} and B "
                           f"{tuple(B.shape)}: B must be {want} for "
                           f"{'A X' if left else 'X A'} = B (a vector: "
                           f"B.unsqueeze({-1 if left else -2}))")
    for x, y in zip(reversed(A.shape[:-2]), reversed(B.shape[:-2])):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"{op}: the batch dimensions of A {tuple(A.shape)} and B "
                               f"{tuple(B.shape)} are not broadcastable ({x} vs {y})")


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """The solution X of A X = B (left=True) or X A = B for a triangular A.

    Args:
        A: (*, n, n), float32 or float64; only its upper (upper=True) or lower triangle is read.
        B: (*, n, k) (left) or (*, k, n) (right); batch dims broadcast with A's.
        upper: whether A is upper or lower triangular (keyword, required as in PyTorch).
        left: solve A X = B (True) or X A = B.
        unitriangular: take A's diagonal as ones (it is not read).

    Returns:
        X of the broadcast shape. A zero on the diagonal gives inf / nan, as in PyTorch. The
        gradient of A lies in its triangle (strictly inside it if unitriangular).
    """
    check_system("linalg.solve_triangular", A, B, left)
    if left:
        return SolveTriangular.apply(A, B, bool(upper), bool(unitriangular))
    return mT(SolveTriangular.apply(mT(A), mT(B), not upper, bool(unitriangular)))


def _cholesky_factor(op: str, L: Tensor) -> None:
    check_square(op, L, "pass the Cholesky factor L (*, n, n) of A = L L^T")


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """The solution X of A X = B given the Cholesky factor of A (torch.cholesky_solve).

    Args:
        B: (*, n, k), float32 or float64.
        L: (*, n, n), lower triangular with A = L L^T (upper=False), or upper triangular with
            A = U^T U (upper=True); only that triangle is read. Batch dims broadcast with B's.

    Returns:
        X = A^{-1} B of the broadcast shape; differentiable in B and in L's triangle (the
        gradient of L is zero outside the triangle read; PyTorch's has values there, which
        a Cholesky factor's own rule ignores).
    """
    _cholesky_factor("cholesky_solve", L)
    check_system("cholesky_solve", L, B, True)
    if upper:  # A = U^T U: U^T Y = B, then U X = Y
        return SolveTriangular.apply(L, SolveTriangular.apply(mT(L), B, False, False), True,
                                     False)
    return SolveTriangular.apply(mT(L), SolveTriangular.apply(L, B, False, False), True, False)


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """A^{-1} from the Cholesky factor of A (torch.cholesky_inverse).

    Args:
        L: (*, n, n), lower (A = L L^T) or, with upper=True, upper triangular (A = U^T U).

    Returns:
        (*, n, n), the symmetric A^{-1}.
    """
    _cholesky_factor("cholesky_inverse", L)
    eye = eye_like(L.shape[-1], L)
    return cholesky_solve(eye, L, upper)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """torch.triangular_solve (the older API): the solution of A X = b (A^T X = b if
    transpose) and a copy of A.

    Args:
        b: (*, n, k); A: (*, n, n) triangular, upper unless upper=False.

    Returns:
        A namedtuple (solution (*, n, k), cloned_coefficient: a copy of A, broadcast to the
        batch shape of the solution as in PyTorch).
    """
    check_system("triangular_solve", A, b, True)
    coefficient = mT(A) if transpose else A
    solution = SolveTriangular.apply(coefficient, b, upper != transpose, bool(unitriangular))
    batch = solution.shape[:-2]
    cloned = clone(A) if A.shape[:-2] == batch else clone(A.expand(*batch, *A.shape[-2:]))
    return triangular_solve_result(solution, cloned)
