"""The matrix exponential exp(A) = sum_k A^k / k!, batched over leading dimensions.

Forward: scaling and squaring. Each matrix is divided by 2^s so that its 1-norm is at most 1,
the Taylor polynomial of degree 18 is evaluated by Horner's rule (its truncation error is below
1/19! ~ 8e-18 there), and the result is squared s times: exp(A) = exp(A / 2^s)^(2^s).
Backward: for upstream gradient G, dL/dA is the upper-right block of
exp([[A^T, G], [0, A^T]]) (the adjoint of the Frechet derivative, Najfeld & Havel 1995), computed
with this op, so the rule is itself differentiable.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.index import _zeros
from nabla.ops.join import cat
from nabla.ops.reduce import _quiet
from nabla.ops.shape import transpose
from nabla.tensor import Tensor

__all__ = ["matrix_exp"]

_TAYLOR_DEGREE = 18


def _expm(a):
    """exp of each matrix of ``a`` (..., n, n), in a's dtype."""
    xp = array_module(a)
    n = a.shape[-1]
    norm = xp.abs(a).sum(axis=-2).max(axis=-1, initial=0.0)  # the 1-norm of each matrix
    with _quiet(xp, all="ignore"):
        s = xp.ceil(xp.log2(norm))
    s = xp.where(xp.isfinite(s) & (s > 0), s, 0).astype(int)  # inf or nan: no scaling
    scaled = a / xp.asarray(2.0 ** s, dtype=a.dtype)[..., None, None]
    eye = xp.eye(n, dtype=a.dtype)
    out = eye + scaled / _TAYLOR_DEGREE  # Horner: I + A/1 (I + A/2 (I + ... (I + A/18)))
    for k in range(_TAYLOR_DEGREE - 1, 0, -1):
        out = eye + (scaled @ out) / k
    for i in range(int(s.max(initial=0))):
        out = xp.where((s > i)[..., None, None], out @ out, out)  # square those scaled > i times
    return out


class MatrixExp(Op):
    """Y = exp(A);  dA = upper-right n x n block of exp([[A^T, grad], [0, A^T]])."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        at = transpose(a, -1, -2)
        top = cat([at, grad], dim=-1)
        bottom = cat([_zeros(grad, tuple(grad.shape)), at], dim=-1)
        block = MatrixExp.apply(cat([top, bottom], dim=-2))
        return block[..., :n, n:]


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential of each square matrix: exp(A) = sum_k A^k / k!.

    Args:
        A: tensor of shape (*, n, n), floating.
    Returns:
        Tensor of shape (*, n, n).
    """
    if A.ndim < 2:
        raise RuntimeError(f"matrix_exp: the input must have at least 2 dimensions (*, n, n), "
                           f"got shape {tuple(A.shape)}")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"matrix_exp: expected a batch of square matrices (*, n, n), got "
                           f"shape {tuple(A.shape)}")
    if A.dtype.kind != "f":
        raise RuntimeError(f"matrix_exp: expected a floating tensor, got {A.dtype}; convert it "
                           "first with .float() or .double()")
    return MatrixExp.apply(A)
