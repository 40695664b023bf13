"""Linear algebra: matmul (and mm, bmm, dot, outer), einsum, and the vector norm.

Matrix products' gradients are matrix products again (dA = grad @ B^T, dB = A^T @ grad), so
second derivatives come for free; batch dimensions that were broadcast are summed away by the
engine. einsum's gradient for one operand is another einsum of the gradient with the others.
"""

import math
import string
from functools import partial

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.arithmetic import mul
from nabla.ops.elementwise import abs, sign, where
from nabla.ops.extrema import amax, amin
from nabla.ops.out_arg import write_out
from nabla.ops.reduce import _dims, _plain, _safe_div, _unreduce
from nabla.ops.shape import broadcast_to, reshape, transpose
from nabla.ops.softmax_family import _float_input
from nabla.tensor import Tensor

__all__ = ["matmul", "mm", "bmm", "dot", "outer", "einsum", "norm"]


# -- matmul --------------------------------------------------------------------------------------
class Matmul(Op):
    """Z = A @ B for A (..., m, k), B (..., k, n), batch dims broadcast;
    dZ/dA = grad @ B^T, dZ/dB = A^T @ grad (summed over broadcast batch dims by the engine)."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if a.ndim > 2 and b.ndim == 2:
            # one large GEMM instead of one small GEMM per batch element
            out = array_module(a).matmul(a.reshape(rows(a)), b)
            return out.reshape(a.shape[:-1] + (b.shape[-1],))
        return array_module(a).matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = Matmul.apply(grad, _mT(b)) if need_a else None
        grad_b = None
        if need_b:
            if b.ndim == 2 and a.ndim > 2:  # fold the batch into the rows: one GEMM
                grad_b = Matmul.apply(_mT(reshape(a, rows(a))), reshape(grad, rows(grad)))
            else:
                grad_b = Matmul.apply(_mT(a), grad)
        return grad_a, grad_b


class Dot(Op):
    """z = sum_i a_i b_i for 1-D a, b;  dz/da = grad * b, dz/db = grad * a."""

    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).asarray(array_module(a).dot(a, b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


def rows(a) -> tuple:
    """(leading dims folded, last dim), for one GEMM over a batch; spelled out, as -1 is
    ambiguous for an empty array."""
    return (math.prod(a.shape[:-1]), a.shape[-1])


def _mT(x: Tensor) -> Tensor:
    return transpose(x, -1, -2)


def _mismatch(name: str, sa: tuple, sb: tuple, k_a: int, k_b: int) -> ValueError:
    return ValueError(
        f"{name}: shapes {sa} and {sb} cannot be multiplied: {k_a} != {k_b} (the last dim of "
        "the first must equal the second-to-last dim of the second, or its only dim if 1-D). "
        "Transpose or reshape an operand (e.g. b.mT)."
    )


def _batch_shape(name: str, sa: tuple, sb: tuple) -> tuple:
    """The broadcast of the batch dims of two matrices (all dims but the last two)."""
    ba, bb = sa[:-2], sb[:-2]
    n = max(len(ba), len(bb))
    ba, bb = (1,) * (n - len(ba)) + ba, (1,) * (n - len(bb)) + bb
    out = []
    for x, y in zip(ba, bb, strict=True):
        if x != y and x != 1 and y != 1:
            raise ValueError(
                f"{name}: batch dims of shapes {sa} and {sb} are not broadcastable ({x} vs {y}): "
                "they must be equal or 1"
            )
        out.append(y if x == 1 else x)
    return tuple(out)


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics (vectors, matrices, broadcast batches).

    Args:
        input: (k,), (m, k) or (*, m, k).
        other: (k,), (k, n) or (*, k, n); batch dims broadcast with input's.
        out: a tensor to write the result into (see ops/out_arg.py).

    Returns:
        1-D @ 1-D: 0-d; (k,) @ (*, k, n): (*, n); (*, m, k) @ (k,): (*, m);
        otherwise (broadcast *, m, n).
    """
    result = _matmul(input, other)
    return result if out is None else write_out("matmul", result, out)


def _matmul(input: Tensor, other: Tensor) -> Tensor:
    sa, sb = tuple(input.shape), tuple(other.shape)
    if not sa or not sb:
        raise ValueError(f"matmul: both arguments must be at least 1-D, got shapes {sa} and {sb}")
    k_a, k_b = sa[-1], sb[-2] if len(sb) > 1 else sb[0]
    if k_a != k_b:
        raise _mismatch("matmul", sa, sb, k_a, k_b)
    if len(sa) == 1 and len(sb) == 1:
        return Dot.apply(input, other)
    if len(sa) == 1:  # (k,) as a (1, k) matrix; the 1 is dropped again from the result
        out = Matmul.apply(reshape(input, (1, k_a)), other)
        return reshape(out, out.shape[:-2] + out.shape[-1:])
    if len(sb) == 1:
        out = Matmul.apply(input, reshape(other, (k_b, 1)))
        return reshape(out, out.shape[:-1])
    _batch_shape("matmul", sa, sb)
    return Matmul.apply(input, other)


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Product of matrices (n, m) @ (m, p) -> (n, p); use matmul for batches or vectors."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(
            f"mm: expected two 2-D tensors, got shapes {tuple(input.shape)} and "
            f"{tuple(mat2.shape)}; use matmul for vectors or batches"
        )
    return matmul(input, mat2, out=out)


def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Batched product (b, n, m) @ (b, m, p) -> (b, n, p), equal batch sizes (no broadcasting)."""
    sa, sb = tuple(input.shape), tuple(mat2.shape)
    if len(sa) != 3 or len(sb) != 3 or sa[0] != sb[0]:
        raise ValueError(
            f"bmm: expected 3-D tensors with the same batch size, got shapes {sa} and {sb}"
        )
    return matmul(input, mat2, out=out)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product sum_i a_i b_i of two 1-D tensors of equal length; returns a 0-d tensor."""
    sa, sb = tuple(input.shape), tuple(other.shape)
    if len(sa) != 1 or len(sb) != 1 or sa != sb:
        raise ValueError(f"dot: expected two 1-D tensors of equal size, got shapes {sa} and {sb}")
    return Dot.apply(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product a_i b_j of 1-D tensors (n,) and (m,) -> (n, m) (derived: a broadcast mul)."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(
            f"outer: expected 1-D tensors, got shapes {tuple(input.shape)} and "
            f"{tuple(vec2.shape)}"
        )
    return mul(reshape(input, (-1, 1)), reshape(vec2, (1, -1)))


# -- einsum --------------------------------------------------------------------------------------
class Einsum(Op):
    """Z = einsum(spec, *operands);  dZ/d(operand i) = einsum of grad with the other operands,
    producing operand i's subscripts (dims only operand i had are broadcast back)."""

    array_backward = True

    @staticmethod
    def forward(ctx, spec, *arrays):
        ctx.spec = spec
        ctx.save_for_backward(*arrays)
        xp = array_module(arrays[0])
        out = xp.einsum(spec, *arrays, optimize=len(arrays) > 1)
        if len(arrays) == 1 and xp.may_share_memory(out, arrays[0]):
            out = out.copy()  # 'ii->i', 'ij->ji' give views: a result must not alias its input
        return out

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        lhs, out = ctx.spec.split("->")
        terms = lhs.split(",")
        grads = [None]
        for i, need in enumerate(ctx.needs_input_grad[1:]):
            grads.append(_einsum_grad(grad, out, terms, operands, i, set(ctx.spec))
                         if need else None)
        return tuple(grads)


def _einsum_grad(grad, out: str, terms: list, operands: tuple, i: int, used: set):
    """The gradient of operand i: an einsum of grad with the other operands, then broadcast along
    dims only operand i had and placed on the diagonal of its repeated subscripts."""
    term = terms[i]
    unique = "".join(dict.fromkeys(term))  # 'iij' -> 'ij'
    others = [t for j, t in enumerate(terms) if j != i]
    available = set(out).union(*others)
    target = "".join(c for c in unique if c in available)
    g = Einsum.apply(",".join([out] + others) + "->" + target, grad,
                     *(o for j, o in enumerate(operands) if j != i))
    size = dict(zip(term, operands[i].shape, strict=True))
    if target != unique:  # dims summed within operand i alone: the gradient is constant along them
        sizes = dict(zip(target, g.shape, strict=True))
        g = reshape(g, tuple(sizes.get(c, 1) for c in unique))
        g = broadcast_to(g, tuple(sizes.get(c, size[c]) for c in unique))
    if unique != term:
        g = _onto_diagonal(g, unique, term, size, used)
    return g


def _onto_diagonal(g, unique: str, term: str, size: dict, used: set):
    """g (subscripts ``unique``) spread to ``term`` (with repeated letters), zero off the
    diagonal: each repeat of letter c becomes a fresh letter f tied to c by an identity matrix."""
    xp = array_module(g._data if isinstance(g, Tensor) else g)
    free = (c for c in string.ascii_letters if c not in used)
    renamed, eye_terms, eyes, seen = "", [], [], set()
    for c in term:
        if c in seen:
            f = next(free)
            renamed += f
            eye_terms.append(c + f)
            eyes.append(xp.eye(size[c], dtype=g.dtype))
        else:
            seen.add(c)
            renamed += c
    return Einsum.apply(",".join([unique] + eye_terms) + "->" + renamed, g, *eyes)


def _parse_einsum(equation: str, ndims: list) -> str:
    """The equation with '...' replaced by letters and an explicit output ('ij,jk->ik')."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(
            f"einsum: the equation '{equation}' names {len(terms)} operand(s) but "
            f"{len(ndims)} tensor(s) were given"
        )
    free = [c for c in string.ascii_letters if c not in eq]
    pairs = list(zip(terms, ndims, strict=True))
    n_ell = max((nd - len(t) + 3 for t, nd in pairs if "..." in t), default=0)
    pool = "".join(free[:n_ell])
    expanded = []
    for k, (t, nd) in enumerate(pairs):
        if "..." in t:
            n = nd - len(t) + 3
            t = t.replace("...", pool[n_ell - n:] if n > 0 else "")
        if len(t) != nd or not t.isalpha():
            raise ValueError(
                f"einsum: operand {k} has {nd} dim(s) but its subscripts '{terms[k]}' in "
                f"'{equation}' name {len(t)} (use letters a-z, A-Z and at most one '...')"
            )
        expanded.append(t)
    if arrow:
        out = rhs.replace("...", pool)
    else:  # implicit output: the broadcast dims, then the letters used once, alphabetically
        letters = "".join(expanded)
        out = pool + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                    and c not in pool))
    return ",".join(expanded) + "->" + out


def einsum(equation: str, *operands) -> Tensor:
    """Sum of products over the subscripts of ``equation`` (NumPy/PyTorch einsum notation).

    Args:
        equation: e.g. 'bhqd,bhkd->bhqk'; '...' stands for broadcast leading dims; without
            '->' the output takes the letters used once, in alphabetical order.
        *operands: one tensor per comma-separated term (a single list is also accepted).

    Returns:
        A tensor with one dim per output letter (a copy, never a view of an operand).
        Gradients flow to every operand, also through repeated letters (diagonals).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    spec = _parse_einsum(equation, [o.ndim for o in operands])
    return Einsum.apply(spec, *operands)


# -- norm ----------------------------------------------------------------------------------------
class Norm(Op):
    """y = (sum |x|^p)^(1/p) over dims;  dy/dx = grad * sign(x) |x|^(p-1) / y^(p-1), and 0
    where x = 0 (also for p < 1, where |x|^(p-1) is infinite there) or y = 0, as PyTorch."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        xp = array_module(x)
        ctx.in_shape, ctx.dims, ctx.keepdim, ctx.p = x.shape, dims, keepdim, p
        if p == 2:
            y = xp.sqrt(xp.sum(x * x, axis=dims, keepdims=keepdim))
        elif p == 1:
            y = xp.sum(xp.abs(x), axis=dims, keepdims=keepdim)
        else:
            y = xp.sum(xp.abs(x) ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
        y = xp.asarray(y)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        shape, dims, keepdim, p = ctx.in_shape, ctx.dims, ctx.keepdim, ctx.p
        if p == 1:
            return _unreduce(grad, shape, dims, keepdim) * sign(x), None, None, None
        if p == 2:
            scale = _safe_div(grad, y)
            return _unreduce(scale, shape, dims, keepdim) * x, None, None, None
        # zeros replaced by 1 before the power: sign(x) = 0 there makes the gradient 0, with no
        # inf * 0 (p < 1) on the way
        scale = _unreduce(grad / where(y == 0, 1.0, y) ** (p - 1), shape, dims, keepdim)
        return scale * sign(x) * where(x == 0, 1.0, abs(x)) ** (p - 1), None, None, None


def norm(input: Tensor, p=2, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The vector p-norm (sum |x|^p)^(1/p) over ``dim``.

    Args:
        input: floating tensor of any shape.
        p: a positive number, "fro" (= 2), inf (max |x|), -inf (min |x|) or 0 (count of
            nonzeros, no gradient).
        dim: int, tuple of ints or None (all elements, flattened).
        keepdim: keep the reduced dimensions with size 1.
        dtype: cast the input to this dtype first.

    Returns:
        The input's shape without (or with size 1 at, if keepdim) the reduced dimensions.
    """
    if input.dtype.kind not in "fc" and dtype is None:
        raise RuntimeError(
            f"norm: expected a floating point tensor, got {input.dtype}; convert it (x.float())"
        )
    input = _float_input("norm", input, dtype)
    dims = _dims(dim, input.ndim, "norm")
    if p == "fro":
        p = 2
    if isinstance(p, str):
        raise NotImplementedError(f"norm: p={p!r} (matrix norms) is not supported")
    if p == math.inf:
        return amax(abs(input), dims, keepdim)
    if p == -math.inf:
        return amin(abs(input), dims, keepdim)
    if p == 0:  # no gradient (it is zero almost everywhere)
        count = partial(_count_nonzero, axis=dims, keepdims=keepdim)
        return _plain(count, input) if isinstance(input, Tensor) else count(input)
    if p < 0:
        raise ValueError(f"norm: p must be positive, inf, -inf or 0, got {p}")
    return Norm.apply(input, p, dims, keepdim)


def _count_nonzero(x, axis, keepdims):
    """The number of nonzero elements of array ``x`` (norm with p=0), in x's dtype."""
    return array_module(x).asarray((x != 0).sum(axis=axis, keepdims=keepdims), dtype=x.dtype)
