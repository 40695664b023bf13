"""Shared pieces of nabla.linalg: the input checks (their errors name the op, the shape and the
fix), LinAlgError, and small differentiable matrix helpers used by the gradient rules."""

import itertools

from nabla.backend import array_module
from nabla.ops.elementwise import where
from nabla.ops.matrix import diagonal
from nabla.ops.shape import transpose, unsqueeze
from nabla.tensor import Tensor


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle (singular, not positive-definite), as
    ``torch.linalg.LinAlgError`` (also a RuntimeError)."""


def check_float(op: str, A: Tensor) -> None:
    """linalg works in float32 or float64, as PyTorch's CPU kernels."""
    if A.dtype.kind != "f" or A.dtype.itemsize < 4:
        raise RuntimeError(f"{op}: expected a float32 or float64 tensor, got {A.dtype} (shape "
                           f"{tuple(A.shape)}); convert it first, e.g. A.double()")


def check_matrix(op: str, A: Tensor, name: str = "A") -> None:
    """A float batch of matrices (..., m, n)."""
    check_float(op, A)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: expected {name} to be a batch of matrices (..., m, n) with at "
                           f"least 2 dimensions, got shape {tuple(A.shape)}; add a dimension "
                           f"({name}.unsqueeze(0)) or reshape it")


def check_square(op: str, A: Tensor, fix: str = "") -> None:
    """A float batch of square matrices (..., n, n)."""
    check_float(op, A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        hint = fix or "pass square matrices in the last two dimensions"
        raise RuntimeError(f"{op}: expected a batch of square matrices (..., n, n), got shape "
                           f"{tuple(A.shape)}; {hint}")


def batch_index(mask) -> tuple:
    """The batch index of the first True of ``mask`` (for error messages)."""
    flat = int(mask.reshape(-1).argmax())
    return tuple(int(i) for i in array_module(mask).unravel_index(flat, mask.shape))


def failing_element(fn, a):
    """The batch index of the first matrix of ``a`` on which ``fn`` raises (the error path of a
    batched LAPACK call, which does not say which matrix failed)."""
    xp = array_module(a)
    for idx in itertools.product(*map(range, a.shape[:-2])):
        try:
            fn(a[idx])
        except xp.linalg.LinAlgError:
            return idx
    return ()


def where_batch(idx: tuple) -> str:
    return f" (batch element {idx})" if idx else ""


# -- differentiable helpers (Tensors in, Tensors out) --------------------------------------------
def mT(x: Tensor) -> Tensor:
    """The transpose of the last two dimensions."""
    return transpose(x, -1, -2)


def eye_like(n: int, like: Tensor) -> Tensor:
    """The n x n identity in ``like``'s dtype and array module (a constant)."""
    return Tensor._make(array_module(like._data).eye(n, dtype=like.dtype))


def diag_embed(v: Tensor) -> Tensor:
    """(..., n) -> (..., n, n) with v on the diagonal."""
    return unsqueeze(v, -1) * eye_like(v.shape[-1], v)


def diag(M: Tensor) -> Tensor:
    """(..., n, n) -> (..., n): the main diagonal."""
    return diagonal(M, 0, -2, -1)


def off_diagonal_ones(E: Tensor) -> Tensor:
    """E with 1 on its diagonal (denominators of eigen/singular-vector rules, whose numerators
    vanish there)."""
    xp = array_module(E._data)
    return where(Tensor._make(xp.eye(E.shape[-1], dtype=bool)), 1.0, E)


def all_zero(g: Tensor) -> bool:
    """Whether an incoming gradient is zero everywhere (an output nobody used gets zeros)."""
    return not g._data.any()
