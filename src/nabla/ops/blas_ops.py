"""Products in BLAS's shapes: addmm, addbmm, baddbmm, addmv, addr (beta * input + alpha * a
product: gemm, gemv, ger), and mv, inner, vdot, dist.

Every one is derived from matmul, outer, sum and norm, so none has a gradient rule of its own:
the rules of those ops (and the engine, which sums a broadcast ``input``'s gradient back to its
shape) give first and second derivatives.
"""

import math

from nabla.ops.elementwise import abs, masked_fill
from nabla.ops.linalg import matmul, norm, outer
from nabla.ops.reduce import sum
from nabla.ops.shape import permute, reshape, transpose
from nabla.tensor import Tensor

__all__ = ["addmm", "addbmm", "baddbmm", "addmv", "addr", "mv", "inner", "vdot", "dist"]


# -- shape checks (each error names the op, the shapes and the fix) -----------------------------
def _shape(t) -> tuple:
    return tuple(t.shape) if isinstance(t, Tensor) else ()


def _check_ndim(name: str, arg: str, t, ndim: int) -> None:
    if not isinstance(t, Tensor) or t.ndim != ndim:
        raise ValueError(
            f"{name}: expected {arg} to be a {ndim}-D tensor, got shape {_shape(t)}; reshape it "
            f"(use matmul for other numbers of dimensions)"
        )


def _check_inner(name: str, a: str, sa: tuple, b: str, sb: tuple, k_a: int, k_b: int) -> None:
    if k_a != k_b:
        raise ValueError(
            f"{name}: {a} and {b} shapes cannot be multiplied ({sa} and {sb}): {k_a} != {k_b}; "
            f"the last dim of {a} must equal the {'first' if len(sb) == 1 else 'second-to-last'} "
            f"dim of {b}. Transpose or reshape one of them."
        )


def _check_batch(name: str, a, b) -> None:
    _check_ndim(name, "batch1", a, 3)
    _check_ndim(name, "batch2", b, 3)
    sa, sb = _shape(a), _shape(b)
    if sa[0] != sb[0]:
        raise ValueError(
            f"{name}: batch1 and batch2 must hold the same number of matrices, got shapes {sa} "
            f"and {sb} ({sa[0]} != {sb[0]}); there is no broadcasting of the batch dim here"
        )
    _check_inner(name, "batch1", sa, "batch2", sb, sa[2], sb[1])


def _check_input(name: str, input, out_shape: tuple) -> None:
    """``input`` must broadcast to the product's shape (not the other way round)."""
    s = _shape(input)
    if len(s) > len(out_shape) or any(a not in (1, b) for a, b in
                                      zip(reversed(s), reversed(out_shape))):
        raise ValueError(
            f"{name}: input of shape {s} cannot be broadcast to the product's shape {out_shape}: "
            "each of its trailing dims must equal the product's or be 1. Reshape input."
        )


def _add_scaled(input, product: Tensor, beta, alpha) -> Tensor:
    """beta * input + alpha * product. With beta = 0 the input is not read, so NaN and inf in
    it do not propagate (as PyTorch documents), yet it still gets a zero gradient."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        if isinstance(input, Tensor) and input.requires_grad:
            return masked_fill(input, True, 0.0) + product
        return product
    return (input if beta == 1 else input * beta) + product


# -- beta * input + alpha * product ---------------------------------------------------------------
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) (BLAS gemm).

    Args:
        input: broadcastable to (n, p); not read when beta = 0.
        mat1: (n, m).
        mat2: (m, p).
        beta: scale of input.
        alpha: scale of the product.

    Returns:
        (n, p).
    """
    _check_ndim("addmm", "mat1", mat1, 2)
    _check_ndim("addmm", "mat2", mat2, 2)
    sa, sb = _shape(mat1), _shape(mat2)
    _check_inner("addmm", "mat1", sa, "mat2", sb, sa[1], sb[0])
    _check_input("addmm", input, (sa[0], sb[1]))
    return _add_scaled(input, matmul(mat1, mat2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]: a sum of matrix products.

    Args:
        input: broadcastable to (n, p); not read when beta = 0.
        batch1: (b, n, m).
        batch2: (b, m, p).
        beta: scale of input.
        alpha: scale of the summed products.

    Returns:
        (n, p).
    """
    _check_batch("addbmm", batch1, batch2)
    b, n, m = _shape(batch1)
    p = _shape(batch2)[2]
    _check_input("addbmm", input, (n, p))
    # the sum over b is one GEMM: (n, b*m) @ (b*m, p), no (b, n, p) intermediate
    rows = reshape(permute(batch1, (1, 0, 2)), (n, b * m))
    return _add_scaled(input, matmul(rows, reshape(batch2, (b * m, p))), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), one product per batch element.

    Args:
        input: broadcastable to (b, n, p); not read when beta = 0.
        batch1: (b, n, m).
        batch2: (b, m, p).
        beta: scale of input.
        alpha: scale of the products.

    Returns:
        (b, n, p).
    """
    _check_batch("baddbmm", batch1, batch2)
    b, n, _ = _shape(batch1)
    _check_input("baddbmm", input, (b, n, _shape(batch2)[2]))
    return _add_scaled(input, matmul(batch1, batch2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat @ vec) (BLAS gemv).

    Args:
        input: broadcastable to (n,); not read when beta = 0.
        mat: (n, m).
        vec: (m,).
        beta: scale of input.
        alpha: scale of the product.

    Returns:
        (n,).
    """
    _check_mv("addmv", mat, vec)
    _check_input("addmv", input, _shape(mat)[:1])
    return _add_scaled(input, matmul(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2) (BLAS ger).

    Args:
        input: broadcastable to (n, m); not read when beta = 0.
        vec1: (n,).
        vec2: (m,).
        beta: scale of input.
        alpha: scale of the outer product.

    Returns:
        (n, m).
    """
    _check_ndim("addr", "vec1", vec1, 1)
    _check_ndim("addr", "vec2", vec2, 1)
    _check_input("addr", input, _shape(vec1) + _shape(vec2))
    return _add_scaled(input, outer(vec1, vec2), beta, alpha)


# -- plain products -------------------------------------------------------------------------------
def _check_mv(name: str, mat, vec) -> None:
    _check_ndim(name, "mat", mat, 2)
    _check_ndim(name, "vec", vec, 1)
    sa, sb = _shape(mat), _shape(vec)
    _check_inner(name, "mat", sa, "vec", sb, sa[1], sb[0])


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product (n, m) @ (m,) -> (n,); use matmul for batches."""
    _check_mv("mv", input, vec)
    return matmul(input, vec)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims: out[i.., j..] = sum_k input[i.., k] other[j.., k].

    Args:
        input: (*a, k), or 0-d (then the result is input * other).
        other: (*b, k), or 0-d.

    Returns:
        (*a, *b).
    """
    sa, sb = _shape(input), _shape(other)
    if not sa or not sb:
        return input * other
    if sa[-1] != sb[-1]:
        raise ValueError(
            f"inner: the last dims of input {sa} and other {sb} must match ({sa[-1]} != "
            f"{sb[-1]}); transpose or reshape one of them"
        )
    if len(sb) == 1:  # (*a, k) @ (k,): matmul already gives (*a,)
        return matmul(input, other)
    k = sa[-1]
    rows = reshape(input, (math.prod(sa[:-1]), k))
    cols = reshape(other, (math.prod(sb[:-1]), k))
    return reshape(matmul(rows, transpose(cols, 0, 1)), sa[:-1] + sb[:-1])


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """sum_i conj(input_i) other_i for 1-D tensors of equal length (real tensors: dot); 0-d."""
    sa, sb = _shape(input), _shape(other)
    if len(sa) != 1 or len(sb) != 1 or sa != sb:
        raise ValueError(
            f"vdot: expected two 1-D tensors of the same size, got shapes {sa} and {sb}; "
            "flatten them (x.flatten()) or use inner/tensordot for other shapes"
        )
    return matmul(input, other)


def dist(input: Tensor, other: Tensor, p=2) -> Tensor:
    """The p-norm of input - other over all elements: (sum |input - other|^p)^(1/p).

    Args:
        input: floating tensor.
        other: floating tensor broadcastable with input.
        p: a number (0 counts the nonzero differences, inf and -inf take the largest and
            smallest |difference|; negative p gives (sum |d|^p)^(1/p)).

    Returns:
        A 0-d tensor.
    """
    for t in (input, other):
        if isinstance(t, Tensor) and t.dtype.kind not in "fc":
            raise RuntimeError(
                f"dist: expected floating point tensors, got {t.dtype}; convert it (x.float())"
            )
    sa, sb = _shape(input), _shape(other)
    n = max(len(sa), len(sb))
    for a, b in zip((1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb, strict=True):
        if a != b and 1 not in (a, b):
            raise ValueError(
                f"dist: shapes {sa} and {sb} are not broadcastable: trailing dims must be equal "
                "or 1. Reshape or unsqueeze one of them."
            )
    diff = input - other
    if p < 0 and p != -math.inf:  # norm takes no negative p; PyTorch's dist does
        return sum(abs(diff) ** p) ** (1.0 / p)
    return norm(diff, p)
