"""Norms: vector_norm, matrix_norm and norm (which picks one of them, as torch.linalg.norm).

All derived: vector norms from nabla.ops.norm (and sum/pow for negative orders), the entrywise
matrix norms from abs/sum/amax, the spectral ones from svdvals. Their gradients are those of
the parts.
"""

import math
import numbers

from nabla import dtype as _dt
from nabla.linalg.spectral import svdvals
from nabla.ops.casts import to_dtype
from nabla.ops.elementwise import abs
from nabla.ops.extrema import amax, amin
from nabla.ops.linalg import norm as _vector_p_norm
from nabla.ops.reduce import _dims, sum
from nabla.ops.shape import movedim, reshape
from nabla.tensor import Tensor

__all__ = ["vector_norm", "matrix_norm", "norm"]


def _cast(op: str, x: Tensor, dtype) -> Tensor:
    dtype = _dt.to_dtype(dtype)
    if dtype is not None:
        if dtype.kind != "f":
            raise RuntimeError(f"{op}: dtype must be a floating dtype, got {dtype}")
        return to_dtype(x, dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, got {x.dtype}; convert it "
                           "(x.float()) or pass dtype=")
    return x


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector norm (sum |x|^ord)^(1/ord) over ``dim`` (all elements if None).

    Args:
        x: floating tensor of any shape.
        ord: a number: inf (max |x|), -inf (min |x|), 0 (count of nonzeros, no gradient), or
            any other (negative ones too).
        dim: int, tuple of ints, or None (all dimensions, as if x were flattened).
        keepdim: keep the reduced dimensions with size 1.
        dtype: cast x to this dtype first.

    Returns:
        x's shape without the reduced dimensions (size 1 there if keepdim).
    """
    if isinstance(ord, str) or not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg.vector_norm: ord must be a number, got {ord!r}; use "
                        "linalg.matrix_norm for 'fro' and 'nuc'")
    x = _cast("linalg.vector_norm", x, dtype)
    dims = _dims(dim, x.ndim, "linalg.vector_norm")
    if ord in (math.inf, -math.inf) and x.numel() == 0:
        raise RuntimeError(f"linalg.vector_norm: cannot compute the {ord} norm of an empty tensor "
                           f"(shape {tuple(x.shape)}): the operation has no identity")
    if ord < 0 and ord != -math.inf:  # nabla.ops.norm takes p >= 0 only
        return sum(abs(x) ** ord, dims, keepdim) ** (1.0 / ord)
    return _vector_p_norm(x, ord, dims, keepdim)


def _matrix_dims(op: str, A: Tensor, dim) -> tuple:
    if A.ndim < 2:
        raise RuntimeError(f"{op}: expected a batch of matrices with at least 2 dimensions, got "
                           f"shape {tuple(A.shape)}; use linalg.vector_norm for vectors")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple of dimensions, got {dim!r}")
    d0, d1 = (_dims(d, A.ndim, op)[0] for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{op}: the two dims must be different, got {tuple(dim)}")
    return d0, d1


def _spectral(A: Tensor, d0: int, d1: int, reduce, keepdim: bool) -> Tensor:
    """reduce(singular values) of the matrices in dims (d0, d1)."""
    s = svdvals(movedim(A, (d0, d1), (-2, -1)))
    out = reduce(s)
    if keepdim:
        shape = list(out.shape)
        for d in sorted((d0, d1)):
            shape.insert(d, 1)
        out = reshape(out, tuple(shape))
    return out


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """A matrix norm of the matrices in dimensions ``dim``.

    Args:
        A: (*, m, n) floating.
        ord: 'fro' (Frobenius), 'nuc' (sum of singular values), 2 / -2 (largest / smallest
            singular value), 1 / -1 (max / min column sum of |A|), inf / -inf (max / min row
            sum of |A|).
        dim: the two dimensions holding the matrices.
        keepdim: keep them with size 1.
        dtype: cast A to this dtype first.

    Returns:
        A's shape without (or with size 1 at, if keepdim) the two dimensions.
    """
    op = "linalg.matrix_norm"
    d0, d1 = _matrix_dims(op, A, dim)
    A = _cast(op, A, dtype)
    if ord == "fro":
        return _vector_p_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc":
        return _spectral(A, d0, d1, lambda s: sum(s, -1), keepdim)
    if ord in (2, -2):
        if A.shape[d0] == 0 or A.shape[d1] == 0:
            raise RuntimeError(f"{op}: the {ord} norm of an empty matrix (shape "
                               f"{tuple(A.shape)}) is not defined")
        pick = amax if ord == 2 else amin
        return _spectral(A, d0, d1, lambda s: pick(s, -1), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, reduced = (d0, d1) if ord in (1, -1) else (d1, d0)
        pick = amax if ord > 0 else amin
        out = pick(sum(abs(A), summed, True), reduced, True)
        if not keepdim:
            out = reshape(out, tuple(s for i, s in enumerate(A.shape) if i not in (d0, d1)))
        return out
    raise RuntimeError(f"{op}: order {ord!r} is not supported; use 'fro', 'nuc', 2, -2, 1, -1, "
                       "inf or -inf")


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector or matrix norm, chosen as torch.linalg.norm does.

    Args:
        A: floating tensor.
        ord: the order (see vector_norm and matrix_norm); None: 2 for vectors, 'fro' for
            matrices.
        dim: an int or 1-tuple (vector norm), a 2-tuple (matrix norm), or None: with ord None
            the 2-norm of all elements; otherwise A must be 1-D (vector) or 2-D (matrix).
        keepdim, dtype: as in vector_norm and matrix_norm.

    Returns:
        A's shape without (or with size 1 at, if keepdim) the reduced dimensions.
    """
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: dim must be an int or a tuple of 1 or 2 ints, got "
                           f"{dim!r}; use linalg.vector_norm for more dimensions")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: with ord={ord!r} and no dim, the input must be 1-D or 2-D, "
                       f"got shape {tuple(A.shape)}; pass dim (an int for vector norms, a "
                       "2-tuple for matrix norms)")
