"""Reductions into positions along a dim: scatter_reduce (``src`` at an index of its rank) and
index_reduce (whole slices at a 1-D index: scatter_reduce with the index spread over each slice).

Each output position reduces what is written to it, together with its own value unless
``include_self=False``, by 'sum', 'prod', 'mean', 'amax' or 'amin'; a position nothing is
written to keeps the input's value. One node, ScatterReduce, serves both; its rule is written in
nabla ops: sum passes ``grad`` on (gathered at the index for src), mean divides it by the count,
prod multiplies it by the product of the other factors (exact with zeros: it counts them per
position), amax/amin split it evenly among the elements equal to the result.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.elementwise import where
from nabla.ops.index import GetitemBackward, _array, _check_index_range
from nabla.ops.scatter import Gather, _check_gather, _flat_index, _index_arg, _one_d, _region
from nabla.ops.selection import _check_index_1d
from nabla.ops.shape import broadcast_to, reshape
from nabla.tensor import Tensor

__all__ = ["scatter_reduce", "index_reduce"]

_SCATTER_REDUCES = ("sum", "prod", "mean", "amax", "amin")
_INDEX_REDUCES = ("prod", "mean", "amax", "amin")
_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum",
           "amin": "minimum"}


class ScatterReduce(Op):
    """y[p] = reduce(x[p] (with include_self), src[i] for every i whose index points at p), along
    dim;  dx, dsrc: grad (sum), grad / count (mean), grad * the other factors (prod), grad split
    among the elements equal to y[p] (amax, amin)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        ctx.dim, ctx.reduce, ctx.include_self, ctx.src_shape = dim, reduce, include_self, src.shape
        ctx.in_shape, ctx.in_dtype = x.shape, x.dtype
        xp = array_module(x)
        flat = _flat_index(xp, x.shape, dim, index, "scatter_reduce")
        y = x.copy()  # C order, so its flat reshape below is a view that writes y
        out = y.reshape(-1)
        if not include_self:
            out[flat] = _identity(xp, reduce, x.dtype)
        getattr(xp, _UFUNCS[reduce]).at(out, flat, src[_region(index.shape)].reshape(-1))
        if reduce == "mean":
            count = _count(xp, flat, x.size, include_self)
            if x.dtype.kind in "iu":  # integer means round down, as PyTorch's
                xp.floor_divide(out, count, out=out, casting="unsafe")
            else:
                xp.divide(out, count.astype(x.dtype), out=out)
        values = reduce in ("prod", "amax", "amin")  # sum and mean need the index only
        ctx.save_for_backward(x if values else None, index, src if values else None,
                              y if reduce in ("amax", "amin") else None)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, index, src, y = ctx.saved_tensors
        need_x, _, _, need_src, _, _ = ctx.needs_input_grad
        parts = _Parts(ctx, x, index, src, y)
        grad_x, grad_src = _RULES[ctx.reduce](parts, grad)
        return (grad_x if need_x else None), None, None, \
            (parts.to_src(grad_src) if need_src else None), None, None


class _Parts:
    """What every rule needs: the saved tensors and their raw arrays (None where the reduction
    did not save them), the flat positions, the input's shape and dtype."""

    def __init__(self, ctx, x, index, src, y):
        self.ctx, self.x, self.index, self.src, self.y = ctx, x, index, src, y
        self.xa, self.ia, self.sa, self.ya = (_raw(v) for v in (x, index, src, y))
        self.shape, self.dtype = ctx.in_shape, ctx.in_dtype
        self.size = 1
        for n in self.shape:
            self.size *= n
        self.xp = array_module(self.ia)
        self.flat = _flat_index(self.xp, self.shape, ctx.dim, self.ia)
        self.region = _region(self.ia.shape)

    def at_x(self, per_src):
        """How many (or what total of) ``per_src`` (index's shape) land on each position."""
        weights = per_src.reshape(-1).astype(self.dtype)
        counts = self.xp.bincount(self.flat, weights, minlength=self.size)
        return counts.reshape(self.shape).astype(self.dtype)

    def untouched(self):
        """1 where nothing is written, 0 where something is (the input's dtype)."""
        keep = self.xp.ones(self.size, self.dtype)
        keep[self.flat] = 0
        return keep.reshape(self.shape)

    def gather(self, t):
        """``t`` (x's shape) read at every src element's position (index's shape)."""
        return Gather.apply(t, self.ctx.dim, self.index)

    def to_src(self, g):
        """A gradient of index's shape placed in zeros of src's shape (src may be larger)."""
        shape = self.ctx.src_shape
        if tuple(g.shape) == tuple(shape):
            return g
        return GetitemBackward.apply(g, shape, _region(g.shape))

    def grad_x_outside(self, grad):
        """dx without include_self: grad where nothing was written, 0 where something was."""
        return grad * self.untouched()


def _sum_rule(p: _Parts, grad):
    grad_x = grad if p.ctx.include_self else p.grad_x_outside(grad)
    return grad_x, p.gather(grad)


def _mean_rule(p: _Parts, grad):
    count = p.at_x(p.xp.ones(p.ia.shape)) + (1 if p.ctx.include_self else 0)
    scaled = grad / p.xp.maximum(count, 1)
    grad_x = scaled if p.ctx.include_self else p.grad_x_outside(grad)
    return grad_x, p.gather(scaled)


def _prod_rule(p: _Parts, grad):
    """d y[p] / d f = the product of the other factors of y[p]: Q / f with Q the product of the
    nonzero factors when none is zero, Q for the only zero factor, 0 when two are zero."""
    include_self = p.ctx.include_self
    x_zero, s_zero = p.xa == 0, p.sa == 0
    zeros = p.at_x(s_zero[p.region]) + (x_zero if include_self else 0)
    x_safe, s_safe = where(x_zero, 1, p.x), where(s_zero, 1, p.src)
    nonzero = ScatterReduce.apply(x_safe, p.ctx.dim, p.index, s_safe, "prod", include_self)

    def others(z, f_zero, f_safe, q):  # the product of the other factors, per factor
        return where(z == 0, q / f_safe, where(f_zero & (z == 1), q, 0))

    grad_x = grad * others(zeros, x_zero, x_safe, nonzero) if include_self else \
        p.grad_x_outside(grad)
    grad_src = p.gather(grad) * others(Gather.apply(zeros, p.ctx.dim, p.ia), s_zero[p.region],
                                       s_safe[p.region], p.gather(nonzero))
    return grad_x, grad_src


def _extreme_rule(p: _Parts, grad):
    """Ties share: each element equal to y[p] gets grad[p] / (how many are). Unlike PyTorch, with
    include_self=False an input element equal to y[p] is not counted (it took no part)."""
    on_x = p.xa == p.ya if p.ctx.include_self else p.xp.zeros(p.shape, bool)
    on_src = p.sa[p.region] == Gather.apply(p.ya, p.ctx.dim, p.ia)
    ties = p.xp.maximum(p.at_x(on_src) + on_x, 1).astype(p.dtype)
    shared = grad / ties
    grad_x = shared * on_x if p.ctx.include_self else p.grad_x_outside(grad)
    return grad_x, p.gather(shared) * on_src


_RULES = {"sum": _sum_rule, "mean": _mean_rule, "prod": _prod_rule, "amax": _extreme_rule,
          "amin": _extreme_rule}


def _raw(v):
    return v._data if isinstance(v, Tensor) else v


def _identity(xp, reduce: str, dtype):
    """The value a written position starts from when the input's own value is left out."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = xp.inf if dtype.kind == "f" else (True if dtype.kind == "b" else None)
    if big is None:
        info = xp.iinfo(dtype)
        return info.min if reduce == "amax" else info.max
    return -big if reduce == "amax" else big


def _count(xp, flat, size: int, include_self: bool):
    """How many values each position reduces (at least 1, so that a division is safe)."""
    count = xp.bincount(flat, minlength=size) + (1 if include_self else 0)
    return xp.maximum(count, 1)


def _check_reduce(op: str, reduce: str, allowed: tuple) -> None:
    if reduce not in allowed:
        raise RuntimeError(f"{op}: reduce must be one of {', '.join(allowed)}, got {reduce!r}")


def _check_dtypes(op: str, input: Tensor, src: Tensor) -> None:
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}: the source must be a Tensor, got {type(src).__name__}")
    if src.dtype != input.dtype:
        raise RuntimeError(f"{op}: input and source must have the same dtype, got {input.dtype} "
                           f"and {src.dtype}; convert one with .to(dtype)")


def scatter_reduce(input: Tensor, dim: int, index, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``input`` with the values of ``src`` reduced into the positions ``index`` points at along
    ``dim``: ``out[index[i][j]][j] = reduce(out[...], src[i][j])`` for dim 0.

    Args:
        input: tensor of shape (..., n, ...).
        dim: the dimension to index.
        index: integer tensor of input's rank, no larger than src (nor input outside dim).
        src: tensor of input's dtype, at least as large as index.
        reduce: 'sum', 'prod', 'mean' (integers round down), 'amax' or 'amin'.
        include_self: whether a position's own value takes part in its reduction (without it,
            the amax/amin gradient is shared among the tied src elements only; PyTorch also
            counts an input element equal to the result, and gives src less).
    Returns:
        Tensor of input's shape.
    """
    _check_reduce("scatter_reduce", reduce, _SCATTER_REDUCES)
    _check_dtypes("scatter_reduce", input, src)
    index = _index_arg(index)
    if input.ndim == 0 or index.ndim == 0 or src.ndim == 0:  # a 0-d tensor counts as 1-D
        out = scatter_reduce(_one_d(input), dim, _one_d(index), _one_d(src), reduce,
                             include_self=include_self)
        return out.reshape(tuple(input.shape))
    dim = _check_gather("scatter_reduce", input, dim, _array(index), src.shape)
    return ScatterReduce.apply(input, dim, index, src, reduce, include_self)


def index_reduce(input: Tensor, dim: int, index, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """``input`` with the slices of ``source`` reduced into the slices ``index`` names along
    ``dim``: ``out[index[i]] = reduce(out[index[i]], source[i])`` for dim 0, elementwise.

    Args:
        input: tensor of shape (..., n, ...).
        dim: the dimension to index.
        index: 1-D integer tensor of length k; repeated positions reduce together.
        source: tensor of shape (..., k, ...), input's shape elsewhere, and input's dtype.
        reduce: 'prod', 'mean' (integers round down), 'amax' or 'amin'.
        include_self: whether a slice's own values take part in its reduction.
    Returns:
        Tensor of input's shape.
    """
    _check_reduce("index_reduce", reduce, _INDEX_REDUCES)
    _check_dtypes("index_reduce", input, source)
    dim, flat = _check_index_1d("index_reduce", input, dim, _array(index))
    # here, to name index_reduce (ScatterReduce checks the spread index again, for replays)
    _check_index_range("index_reduce", flat, dim, input.shape[dim] if input.ndim else 1)
    want = list(input.shape) if input.ndim else [1]
    want[dim] = flat.shape[0]
    if tuple(source.shape) != tuple(want) and not (input.ndim == 0 and source.ndim == 0):
        raise RuntimeError(f"index_reduce: source of shape {tuple(source.shape)} does not match "
                           f"input {tuple(input.shape)} with an index of {flat.shape[0]} "
                           f"entries; it must have shape {tuple(want)}")
    zero_d = input.ndim == 0
    if zero_d:
        input, source = input.reshape(1), source.reshape(1)
    along = [1] * len(want)
    along[dim] = flat.shape[0]
    # a Tensor index stays one (reshaped and expanded by ops), so that jit.trace reads it
    spread = broadcast_to(reshape(index, tuple(along)), tuple(want)) if \
        isinstance(index, Tensor) else array_module(flat).broadcast_to(flat.reshape(along), want)
    out = ScatterReduce.apply(input, dim, spread, source, reduce, include_self)
    return out.reshape(()) if zero_d else out
