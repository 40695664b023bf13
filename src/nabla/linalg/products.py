"""Products: matrix_power and multi_dot (derived from matmul and inv, so their gradients come
from those rules), and the cross product of 3-vectors (a rule of its own: a x b is linear in
each, so dc/da = b x grad and dc/db = grad x a)."""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.linalg._common import check_float
from nabla.linalg.inverse import inv
from nabla.ops.casts import clone
from nabla.ops.elementwise import where
from nabla.ops.linalg import matmul
from nabla.ops.shape import reshape
from nabla.tensor import Tensor

__all__ = ["matrix_power", "multi_dot", "cross"]


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A^n for an integer n by repeated squaring; A^0 is the identity, A^{-k} = (A^{-1})^k.

    Args:
        A: (*, m, m); floating (and invertible) if n < 0.
        n: the exponent.

    Returns:
        (*, m, m).
    """
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: expected a batch of square matrices (..., m, "
                           f"m), got shape {tuple(A.shape)}; powers exist for square matrices "
                           "only")
    n = int(n)
    if n == 0:  # the identity, still a function of A (with zero gradient) as in PyTorch
        xp = array_module(A._data)
        eye = xp.eye(A.shape[-1], dtype=A.dtype)
        return where(Tensor._make(xp.ones(A.shape, dtype=bool)), Tensor._make(eye), A)
    if n < 0:
        check_float("linalg.matrix_power", A)
        A, n = inv(A), -n
    elif n == 1:
        return clone(A)
    result = None
    while n:
        if n & 1:
            result = A if result is None else matmul(result, A)
        n >>= 1
        if n:
            A = matmul(A, A)
    return result


def _chain_order(dims: list) -> list:
    """split[i][j]: where the optimal product of matrices i..j splits (the classic dynamic
    program over dims p_0 ... p_N; matrix i is p_i x p_{i+1})."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def multi_dot(tensors) -> Tensor:
    """The product of two or more matrices, in the order with the fewest multiplications.

    Args:
        tensors: a sequence of tensors: the first may be 1-D (a row vector), the last 1-D (a
            column vector), all others 2-D, with chaining shapes and one dtype.

    Returns:
        The product, with the dimensions of 1-D ends dropped (0-d if both ends are 1-D).
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}; "
                           "use matmul or the tensor itself")
    mats = []
    for i, t in enumerate(tensors):
        end = i in (0, len(tensors) - 1)
        if t.ndim != 2 and not (end and t.ndim == 1):
            rule = "the first and last tensors must be 1-D or 2-D" if end else \
                "the tensors between the first and the last must be 2-D"
            raise RuntimeError(f"linalg.multi_dot: tensor {i} has shape {tuple(t.shape)}; "
                               f"{rule}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"linalg.multi_dot: all tensors must have the same dtype, got "
                               f"{tensors[0].dtype} (tensor 0) and {t.dtype} (tensor {i})")
        if t.ndim == 1:
            t = reshape(t, (1, -1) if i == 0 else (-1, 1))
        mats.append(t)
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"linalg.multi_dot: tensors {i} and {i + 1} of shapes "
                               f"{tuple(tensors[i].shape)} and {tuple(tensors[i + 1].shape)} "
                               "cannot be multiplied")
    split = _chain_order([m.shape[0] for m in mats] + [mats[-1].shape[1]])

    def product(i: int, j: int) -> Tensor:
        if i == j:
            return mats[i]
        k = split[i][j]
        return matmul(product(i, k), product(k + 1, j))

    out = product(0, len(mats) - 1)
    shape = out.shape[int(tensors[0].ndim == 1):]
    if tensors[-1].ndim == 1:
        shape = shape[:-1]
    return reshape(out, shape)


class Cross(Op):
    """c = a x b along ``dim`` (broadcast);  dc/da = b x grad, dc/db = grad x a."""

    @staticmethod
    def forward(ctx, a, b, dim):
        ctx.dim = dim
        ctx.save_for_backward(a, b)
        return array_module(a).cross(a, b, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        return (Cross.apply(b, grad, ctx.dim) if need_a else None,
                Cross.apply(grad, a, ctx.dim) if need_b else None, None)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim``.

    Args:
        input: (*, 3, *) with size 3 at ``dim``.
        other: the same number of dimensions; the others broadcast with input's.

    Returns:
        The broadcast shape.
    """
    sa, sb = tuple(input.shape), tuple(other.shape)
    if len(sa) != len(sb):
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got "
                           f"shapes {sa} and {sb}; unsqueeze the smaller one")
    nd = len(sa)
    if not -nd <= dim < max(nd, 1) or nd == 0:
        raise IndexError(f"linalg.cross: dim {dim} is out of range for shapes {sa} and {sb}")
    if sa[dim] != 3 or sb[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3, got shapes "
                           f"{sa} and {sb}")
    for x, y in zip(sa, sb):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"linalg.cross: shapes {sa} and {sb} are not broadcastable ({x} "
                               f"vs {y}); other dims must be equal or 1")
    return Cross.apply(input, other, dim % nd - nd)
