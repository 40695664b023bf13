"""Inverses and determinants: inv, det, slogdet, solve.

Each rule is written with these same ops (Inv, Solve), so second derivatives come for free:
d(A^{-1}) = -A^{-1} dA A^{-1}, and d det(A) = det(A) tr(A^{-1} dA) (the cofactor matrix).
"""

from collections import namedtuple

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.linalg._common import (
    LinAlgError,
    check_float,
    check_square,
    failing_element,
    mT,
    where_batch,
)
from nabla.linalg.spectral import svd
from nabla.ops.elementwise import where
from nabla.ops.reduce import prod
from nabla.ops.shape import reshape, unsqueeze
from nabla.tensor import Tensor

__all__ = ["inv", "det", "slogdet", "solve"]

# as torch.return_types.linalg_slogdet
slogdet_result = namedtuple("linalg_slogdet", ["sign", "logabsdet"])

_SINGULAR = ("the matrix is singular (not invertible){}; use linalg.pinv for a pseudo-inverse, "
             "or regularise it (A + eps * I)")


def _inverse(op: str, a):
    """A^{-1} of a batch, with an error naming the op and the singular matrix."""
    xp = array_module(a)
    try:
        return xp.linalg.inv(a)
    except xp.linalg.LinAlgError:
        idx = failing_element(xp.linalg.inv, a)
        raise LinAlgError(f"{op}: " + _SINGULAR.format(where_batch(idx))) from None


# -- inv -----------------------------------------------------------------------------------------
class Inv(Op):
    """Y = A^{-1};  dY/dA = -Y^T grad Y^T."""

    @staticmethod
    def forward(ctx, a):
        y = _inverse("linalg.inv", a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        yT = mT(y)
        return -(yT @ grad @ yT)


def inv(A: Tensor) -> Tensor:
    """The inverse A^{-1} of square matrices.

    Args:
        A: (*, n, n), float32 or float64, invertible.

    Returns:
        (*, n, n). Raises LinAlgError (a RuntimeError) naming a singular matrix.
    """
    check_square("linalg.inv", A, "use linalg.pinv for the pseudo-inverse of a non-square matrix")
    return Inv.apply(A)


# -- det, slogdet --------------------------------------------------------------------------------
def _unsqueeze2(x: Tensor) -> Tensor:
    return unsqueeze(unsqueeze(x, -1), -1)


class Det(Op):
    """d = det(A);  dd/dA = grad * cofactor(A) = grad * det(A) A^{-T} (from the SVD where A is
    singular or nearly so: there A^{-1} does not exist or is inaccurate)."""

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        d = xp.asarray(xp.linalg.det(a))
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, grad):
        a, d = ctx.saved_tensors
        return _unsqueeze2(grad) * _cofactor(a, d)


def _nearly_singular(a, d):
    """|det A| small against Hadamard's bound prod_j ||a_j|| (>= |det A|): det(A) A^{-T} then
    loses more than half the digits, and the SVD gives the cofactors instead."""
    xp = array_module(a)
    bound = xp.prod(xp.sqrt(xp.sum(a * a, axis=-2)), axis=-1)
    return xp.abs(d) <= xp.sqrt(xp.finfo(a.dtype).eps) * bound


def _cofactor(A: Tensor, d: Tensor) -> Tensor:
    """The cofactor matrix det(A) A^{-T}, differentiable, also for singular A."""
    n = A.shape[-1]
    xp = array_module(A._data)
    singular = _nearly_singular(A._data, d._data)
    if n == 0 or not singular.any():
        return _unsqueeze2(d) * mT(Inv.apply(A))
    by_svd = _cofactor_svd(A)
    if singular.all():
        return by_svd
    mask = Tensor._make(singular[..., None, None])
    safe = where(mask, Tensor._make(xp.eye(n, dtype=A.dtype)), A)  # the singular ones: unused
    return where(mask, by_svd, _unsqueeze2(d) * mT(Inv.apply(safe)))


def _cofactor_svd(A: Tensor) -> Tensor:
    """For A = U S V^T: cofactor(A) = det(U) det(V) U diag(prod_{j != i} s_j) V^T."""
    U, S, Vh = svd(A, full_matrices=False)
    xp = array_module(A._data)
    alpha = xp.linalg.det(U._data) * xp.linalg.det(Vh._data)  # +-1: a constant
    n = S.shape[-1]
    others = where(Tensor._make(xp.eye(n, dtype=bool)), 1.0, unsqueeze(S, -2))  # row i: s_j, 1
    adjugate_s = prod(others, dim=-1)
    return Tensor._make(xp.asarray(alpha)[..., None, None]) * ((U * unsqueeze(adjugate_s, -2))
                                                               @ Vh)


def det(A: Tensor) -> Tensor:
    """The determinant of square matrices.

    Args:
        A: (*, n, n), float32 or float64.

    Returns:
        (*). Differentiable everywhere (for singular A the gradient is the cofactor matrix).
    """
    check_square("linalg.det", A, "the determinant is defined for square matrices only")
    return Det.apply(A)


class Slogdet(Op):
    """(sign, log|det A|);  dlog|det A|/dA = grad * A^{-T} (sign: no gradient)."""

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        sign, logabsdet = xp.linalg.slogdet(a)
        sign, logabsdet = xp.asarray(sign), xp.asarray(logabsdet)
        ctx.save_for_backward(a)
        ctx.mark_non_differentiable(sign)
        return sign, logabsdet

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        (a,) = ctx.saved_tensors
        return _unsqueeze2(grad_logabsdet) * mT(Inv.apply(a))


def slogdet(A: Tensor):
    """The sign and the log of the absolute value of the determinant (no overflow).

    Args:
        A: (*, n, n), float32 or float64.

    Returns:
        A namedtuple (sign, logabsdet), both (*); sign is -1, 0 or 1 and has no gradient;
        logabsdet is -inf for a singular matrix (whose gradient does not exist).
    """
    check_square("linalg.slogdet", A, "the determinant is defined for square matrices only")
    return slogdet_result(*Slogdet.apply(A))


def logdet(A: Tensor) -> Tensor:
    """torch.logdet: log det(A) for (*, n, n); NaN where det(A) < 0, -inf where it is 0
    (derived from slogdet)."""
    sign, logabsdet = slogdet(A)
    return where(sign < 0, float("nan"), logabsdet)


# -- solve ---------------------------------------------------------------------------------------
class Solve(Op):
    """X = A^{-1} B for A (..., n, n), B (..., n, k), batch dims broadcast;
    dX/dB = A^{-T} grad, dX/dA = -(A^{-T} grad) X^T."""

    @staticmethod
    def forward(ctx, a, b):
        xp = array_module(a)
        try:
            x = xp.linalg.solve(a, b)
        except xp.linalg.LinAlgError:
            idx = failing_element(xp.linalg.inv, a)
            raise LinAlgError(f"linalg.solve: A is singular{where_batch(idx)}, so A X = B has no "
                              "unique solution; use linalg.pinv(A) @ B for a least-squares "
                              "solution") from None
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_b = Solve.apply(mT(a), grad)
        grad_a = -(grad_b @ mT(x)) if need_a else None
        return grad_a, (grad_b if need_b else None)


def _broadcast_batch(op: str, sa: tuple, sb: tuple) -> None:
    ba, bb = sa[:-2], sb[:-2]
    for x, y in zip(reversed(ba), reversed(bb)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"{op}: the batch dimensions of A {sa} and B {sb} are not "
                               f"broadcastable ({x} vs {y}); they must be equal or 1")


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution X of A X = B (left=True) or X A = B (left=False), A square and invertible.

    Args:
        A: (*, n, n), float32 or float64.
        B: (*, n, k), or a batch of vectors (*, n) (when B is 1-D or has A's shape minus the
            last dimension); batch dims broadcast with A's.

    Returns:
        X of B's (broadcast) shape.
    """
    check_square("linalg.solve", A, "A X = B needs a square A; use linalg.pinv(A) @ B for a "
                 "least-squares solution")
    check_float("linalg.solve", B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: A and B must have the same dtype, got {A.dtype} and "
                           f"{B.dtype}; convert one of them")
    n = A.shape[-1]
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector:
        if not left:
            raise RuntimeError(f"linalg.solve: B of shape {tuple(B.shape)} is a vector (a column), "
                               "which X A = B (left=False) cannot take; pass it as a row matrix "
                               "(B.unsqueeze(-2))")
        if B.shape[-1] != n:
            raise RuntimeError(f"linalg.solve: incompatible shapes of A {tuple(A.shape)} and B "
                               f"{tuple(B.shape)}: B must have {n} entries in its last dimension")
        B = unsqueeze(B, -1)
    elif B.ndim < 2 or B.shape[-1 if not left else -2] != n:
        side = "(*, n, k) with n" if left else "(*, k, n) with n"
        raise RuntimeError(f"linalg.solve: incompatible shapes of A {tuple(A.shape)} and B "
                           f"{tuple(B.shape)} for {'A X' if left else 'X A'} = B: B must be "
                           f"{side} = {n}, or a vector (*, {n})")
    _broadcast_batch("linalg.solve", tuple(A.shape), tuple(B.shape))
    if vector:
        X = Solve.apply(A, B)
        return reshape(X, X.shape[:-1])
    if left:
        return Solve.apply(A, B)
    return mT(Solve.apply(mT(A), mT(B)))
