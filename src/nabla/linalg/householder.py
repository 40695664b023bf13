"""Householder reflectors: geqrf (A = QR with Q kept as reflectors, LAPACK's own form), and
householder_product (torch.orgqr): the first n columns of Q = H_1 ... H_k,
H_i = I - tau_i v_i v_i^T, from vectors stored below the diagonal; ormqr multiplies by that Q.
householder_product applies one rank-1 update per reflector with differentiable ops (no rule
needed); geqrf has no derivative, as in PyTorch.
"""

from collections import namedtuple

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.linalg._common import check_float, check_matrix, mT
from nabla.ops.elementwise import where
from nabla.ops.join import pad
from nabla.ops.shape import unsqueeze
from nabla.tensor import Tensor

__all__ = ["geqrf", "householder_product", "ormqr"]

# as torch.return_types.geqrf
geqrf_result = namedtuple("geqrf", ["a", "tau"])


class Geqrf(Op):
    """(a, tau): R on and above the diagonal of a, the reflectors' vectors below it (LAPACK's
    geqrf); no derivative, as in PyTorch."""

    @staticmethod
    def forward(ctx, a):
        h, tau = array_module(a).linalg.qr(a, mode="raw")
        return array_module(a).swapaxes(h, -1, -2).copy(), tau

    @staticmethod
    def backward(ctx, grad_a, grad_tau):
        raise RuntimeError("geqrf: the derivative is not implemented (as in PyTorch); use "
                           "linalg.qr, which is differentiable")


def geqrf(input: Tensor):
    """The QR decomposition in LAPACK's compact form (torch.geqrf).

    Args:
        input: (*, m, n), float32 or float64.

    Returns:
        A namedtuple (a (*, m, n): R on and above the diagonal, the Householder vectors below
        it; tau (*, min(m, n))), for householder_product / ormqr. Not differentiable.
    """
    check_matrix("geqrf", input)
    return geqrf_result(*Geqrf.apply(input))


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The product of Householder reflectors (torch.linalg.householder_product).

    Args:
        A: (*, m, n), m >= n: column i below the diagonal holds v_i's entries after its leading
            1 (the entries on and above the diagonal are not read).
        tau: (*, k), k <= n, A's dtype: the reflectors' scale factors.

    Returns:
        (*, m, n): the first n columns of H_1 H_2 ... H_k. Differentiable in A and tau.
    """
    op = "linalg.householder_product"
    check_matrix(op, A)
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{op}: A must have at least as many rows as columns, got shape "
                           f"{tuple(A.shape)}")
    if tau.dtype != A.dtype or tau.ndim != A.ndim - 1 or tau.shape[-1] > n or \
            tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{op}: tau must be (*, k) with k <= n = {n}, A's batch dims "
                           f"{tuple(A.shape[:-2])} and dtype {A.dtype}; got {tau.dtype} "
                           f"{tuple(tau.shape)}")
    xp = array_module(A._data)
    rows = xp.arange(m)
    eye = Tensor._make(xp.eye(m, n, dtype=A.dtype))
    Q = where(Tensor._make(xp.ones(A.shape, bool)), eye, A)  # I, as a function of A (k = 0)
    for i in range(tau.shape[-1] - 1, -1, -1):
        below = Tensor._make((rows > i).astype(A.dtype))
        one = Tensor._make((rows == i).astype(A.dtype))
        v = A[..., :, i] * below + one  # (*, m)
        w = unsqueeze(v, -2) @ Q  # v^T Q: (*, 1, n)
        Q = Q - unsqueeze(tau[..., i], -1)[..., None] * (unsqueeze(v, -1) @ w)
    return Q


def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True,
          transpose: bool = False) -> Tensor:
    """The product of ``other`` with Q = H_1 ... H_k from geqrf (torch.ormqr).

    Args:
        input: (*, q, k'), the reflectors below the diagonal, q the size of Q.
        tau: (*, k), k <= k'.
        other: (*, q, p) (left) or (*, p, q) (right), input's dtype.
        left: Q @ other (True) or other @ Q.
        transpose: use Q^T instead of Q.

    Returns:
        other's shape; differentiable in all three.
    """
    check_float("ormqr", other)
    q = input.shape[-2]
    if other.ndim < 2 or other.shape[-2 if left else -1] != q:
        raise RuntimeError(f"ormqr: other of shape {tuple(other.shape)} must have {q} "
                           f"{'rows' if left else 'columns'} (input's rows) for "
                           f"{'Q @ other' if left else 'other @ Q'}")
    k = tau.shape[-1]
    reflectors = input[..., :, :k]
    Q = householder_product(pad(reflectors, (0, q - k)) if k < q else reflectors, tau)
    Q = mT(Q) if transpose else Q
    return Q @ other if left else other @ Q
