"""householder_product: the first n columns of Q = H_1 ... H_k, H_i = I - tau_i v_i v_i^T,
from Householder vectors stored below the diagonal (LAPACK's orgqr, as after geqrf). Applied
from the right, one rank-1 update per reflector, with differentiable ops (no rule needed)."""

from nabla.backend import array_module
from nabla.linalg._common import check_matrix
from nabla.ops.elementwise import where
from nabla.ops.shape import unsqueeze
from nabla.tensor import Tensor

__all__ = ["householder_product"]


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
