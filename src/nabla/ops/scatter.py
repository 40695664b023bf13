"""Gather and scatter along a dimension: ``gather``, ``scatter_add``, ``scatter``,
``take_along_dim``.

gather and scatter_add are each other's gradient: gather reads ``x`` at ``index`` along a dim,
and its rule adds ``grad`` back at ``index`` (repeated indices accumulate, with ``add.at`` on
flat positions, NumPy's fast path).
"""

from nabla.autograd.function import Op
from nabla.backend import array_module, as_array
from nabla.ops.index import GetitemBackward, _array, _check_index_range, _check_range, _zeros
from nabla.ops.shape import _dim
from nabla.tensor import Tensor

__all__ = ["gather", "scatter_add", "scatter", "take_along_dim", "take"]


class Gather(Op):
    """y[..i..] = x[..index[..i..]..] along dim;  dx = scatter_add(zeros, dim, index, grad).

    The index is checked here (so a jit.trace replay is checked too): in [0, n) as PyTorch's
    gather; ``wrap`` 'negative' also takes [-n, 0) (take), 'modulo' reads any index modulo n
    (take_along_dim along a dim, as PyTorch 2.13). ``op`` names the public function in errors.
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, index, op="gather", wrap=None):
        n = x.shape[dim]
        if index.size:  # one min and one max; the modulo only for an index that needs it
            lo, hi = int(index.min()), int(index.max())
            if wrap != "modulo" or not n:
                _check_range(op, lo, hi, dim, n, wrap == "negative")
            if lo < 0 or hi >= n:
                index = index % n  # positions in [0, n), as ScatterAdd (the rule) takes them
        ctx.in_shape, ctx.dim = x.shape, dim
        ctx.save_for_backward(index)
        xp = array_module(x)
        return xp.take_along_axis(x[_region(index.shape, dim)], index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        grad_x = ScatterAdd.apply(_zeros(grad, ctx.in_shape), ctx.dim, index, grad)
        return grad_x, None, None, None, None


class ScatterAdd(Op):
    """y = x; y[..index[..i..]..] += src[..i..] along dim;  dx = grad,
    dsrc = gather(grad, dim, index) (zero outside index's shape)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.src_shape = dim, src.shape
        ctx.save_for_backward(index)
        xp = array_module(x)
        y = x.copy()
        flat = _flat_index(xp, x.shape, dim, index, "scatter_add")
        # add.at on a 1-D target takes NumPy's fast path; it accumulates repeated indices
        xp.add.at(y.reshape(-1), flat, src[_region(index.shape)].reshape(-1))
        return y

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        need_x, _, _, need_src = ctx.needs_input_grad
        return (grad if need_x else None), None, None, (
            _gather_padded(grad, ctx.dim, index, ctx.src_shape) if need_src else None)


class Scatter(Op):
    """y = x; y[..index[..i..]..] = src[..i..] along dim;  dx = grad where nothing was written,
    dsrc = gather(grad, dim, index)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.src_shape = dim, getattr(src, "shape", ())
        xp = array_module(x)
        flat = _flat_index(xp, x.shape, dim, index, "scatter")
        kept = xp.ones(x.shape, x.dtype)
        kept.reshape(-1)[flat] = 0
        ctx.save_for_backward(index, kept)
        y = x.copy()
        if src.ndim:
            src = src[_region(index.shape)].reshape(-1)
        y.reshape(-1)[flat] = src
        return y

    @staticmethod
    def backward(ctx, grad):
        index, kept = ctx.saved_tensors
        need_x, _, _, need_src = ctx.needs_input_grad
        return (grad * kept if need_x else None), None, None, (
            _gather_padded(grad, ctx.dim, index, ctx.src_shape) if need_src else None)


def _region(shape: tuple, dim: int | None = None) -> tuple:
    """The slice of a tensor covered by an index of ``shape`` (all of ``dim``, if given)."""
    return tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(shape))


def _flat_index(xp, shape: tuple, dim: int, index, op: str | None = None):
    """Flat positions in a C-ordered array of ``shape`` that gather/scatter along dim touch.
    With ``op`` (a forward), checks the index is in [0, n), the one check the scatter ops make:
    a jit.trace replay reaches it without the public function, and a wrong index would land on
    another element silently. A backward passes no op: its index passed the forward's check."""
    if op is not None:
        _check_index_range(op, index, dim, shape[dim])
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    flat = index * strides[dim]
    for d, n in enumerate(index.shape):
        if d != dim:
            along = [1] * index.ndim
            along[d] = n
            flat = flat + xp.arange(n).reshape(along) * strides[d]
    return flat.reshape(-1)


def _gather_padded(grad: Tensor, dim: int, index: Tensor, shape: tuple) -> Tensor:
    """gather(grad, dim, index) placed in zeros of ``shape`` (src may be larger than index)."""
    g = Gather.apply(grad, dim, index)
    if g.shape == tuple(shape) or g.ndim != len(shape):
        return g
    return GetitemBackward.apply(g, shape, _region(g.shape))


def _one_d(t):
    """``t`` as 1-D if it is 0-d: gather and scatter count a 0-d tensor (input, index or src) as
    one dimension of size 1, as PyTorch does (``zeros(10).scatter_(0, tensor(y), value=1)``)."""
    return t.reshape(1) if t.ndim == 0 else t


def _index_arg(index):
    """The index as the op's argument: a Tensor stays one (so that nabla.jit.trace reads it
    anew at every replay instead of freezing its values), anything else becomes an array."""
    return index if isinstance(index, Tensor) else _array(index)


def _check_gather(op: str, input: Tensor, dim: int, index, other_shape=None) -> int:
    """Normalise dim; check index's dtype, rank and sizes as PyTorch does (its values are
    checked in the ops' forward: Gather's, and the scatter ops' through _flat_index)."""
    dim = _dim(op, dim, input.ndim)
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: index must be an integer tensor, got {index.dtype}")
    if index.ndim != input.ndim:
        raise RuntimeError(f"{op}: index has {index.ndim} dimensions but input has {input.ndim}; "
                           "they must have the same number (unsqueeze the index)")
    for d in range(input.ndim):
        big = index.shape[d] > input.shape[d] and d != dim
        if big or (other_shape is not None and index.shape[d] > other_shape[d]):
            raise RuntimeError(f"{op}: index of shape {tuple(index.shape)} is larger than "
                               f"input {tuple(input.shape)} (or src) at dim {d}")
    return dim


def gather(input: Tensor, dim: int, index) -> Tensor:
    """Values along ``dim`` at ``index``: ``out[i][j] = input[index[i][j]][j]`` for dim 0.

    Args:
        input: tensor of shape (..., n, ...).
        dim: the dimension to index.
        index: integer tensor of input's rank, no larger than input outside ``dim``.
    Returns:
        Tensor of index's shape.
    """
    return _gather(input, dim, _index_arg(index), "gather")


def _gather(input: Tensor, dim: int, index, op: str, wrap: str | None = None) -> Tensor:
    """gather for the public functions built on it (see Gather for ``op`` and ``wrap``)."""
    if input.ndim == 0 or index.ndim == 0:  # see _one_d; take_along_axis needs an axis too
        out = _gather(_one_d(input), dim, _one_d(index), op, wrap)
        return out.reshape(tuple(index.shape))
    dim = _check_gather(op, input, dim, _array(index))
    if op == "gather":  # the common call: no static arguments, the defaults cover it
        return Gather.apply(input, dim, index)
    return Gather.apply(input, dim, index, op, wrap)


def scatter_add(input: Tensor, dim: int, index, src: Tensor) -> Tensor:
    """``input`` with ``src`` added at ``index`` along ``dim``; repeated indices accumulate.

    Args:
        input: tensor of shape (..., n, ...).
        dim: the dimension to index.
        index: integer tensor of input's rank, no larger than input or src (outside dim).
        src: tensor at least as large as index.
    Returns:
        Tensor of input's shape.
    """
    index = _index_arg(index)
    if input.ndim == 0 or index.ndim == 0 or src.ndim == 0:  # see _one_d
        out = scatter_add(_one_d(input), dim, _one_d(index), _one_d(src))
        return out.reshape(tuple(input.shape))
    dim = _check_gather("scatter_add", input, dim, _array(index), src.shape)
    return ScatterAdd.apply(input, dim, index, src)


def scatter(input: Tensor, dim: int, index, src=None, *, value=None) -> Tensor:
    """``input`` with ``src`` (or a scalar ``value``) written at ``index`` along ``dim``.

    Args:
        input: tensor of shape (..., n, ...).
        dim: the dimension to index.
        index: integer tensor of input's rank; repeated indices keep one of the values.
        src: tensor at least as large as index, or a number.
    Returns:
        Tensor of input's shape.
    """
    src = value if src is None else src
    index = _index_arg(index)
    if input.ndim == 0 or index.ndim == 0 or getattr(src, "ndim", 1) == 0:  # see _one_d
        src = _one_d(src) if isinstance(src, Tensor) else src
        return scatter(_one_d(input), dim, _one_d(index), src).reshape(tuple(input.shape))
    other = src.shape if isinstance(src, Tensor) else None
    dim = _check_gather("scatter", input, dim, _array(index), other)
    if not isinstance(src, Tensor):  # a number: the op broadcasts its 0-d array
        src = Tensor._make(as_array(src, input.dtype))
    return Scatter.apply(input, dim, index, src)


def take_along_dim(input: Tensor, indices, dim: int | None = None) -> Tensor:
    """Values of ``input`` at ``indices`` along ``dim``, broadcasting the other dimensions.

    Args:
        input: tensor of shape (..., n, ...).
        indices: integer tensor of input's rank (broadcast with input outside dim).
        dim: the dimension; None takes from the flattened input.
    Returns:
        Tensor of the broadcast shape with ``indices``' size along dim.
    """
    indices = _index_arg(indices)  # a Tensor stays one (see _index_arg)
    if dim is None:  # the flat positions must be in [0, N), as PyTorch's
        return _gather(input.reshape(-1), 0, indices.reshape(-1), "take_along_dim")
    if input.ndim == 0:
        raise IndexError(f"take_along_dim: dim {dim} given, but the input is 0-d (it has no "
                         "dimensions); pass dim=None or reshape it")
    dim = _dim("take_along_dim", dim, input.ndim)
    xp = array_module(_array(indices))
    a, b = list(input.shape), list(indices.shape)
    if len(a) != len(b):
        raise RuntimeError(f"take_along_dim: input {tuple(a)} and indices {tuple(b)} must have "
                           "the same number of dimensions")
    a[dim] = b[dim] = 1
    common = xp.broadcast_shapes(tuple(a), tuple(b))
    in_shape = common[:dim] + (input.shape[dim],) + common[dim + 1:]
    idx_shape = common[:dim] + (indices.shape[dim],) + common[dim + 1:]
    if input.shape != in_shape:
        input = input.broadcast_to(in_shape)
    if tuple(indices.shape) != idx_shape:
        indices = indices.broadcast_to(idx_shape) if isinstance(indices, Tensor) else \
            xp.broadcast_to(indices, idx_shape)
    # PyTorch 2.13 reads an index along a dim modulo the size (any value, negative or not)
    return _gather(input, dim, indices, "take_along_dim", "modulo")


def take(input: Tensor, index) -> Tensor:
    """The elements of the flattened ``input`` (N of them) at ``index``, in [-N, N).
    Returns a tensor of index's shape."""
    index = _index_arg(index)  # a Tensor stays one (see _index_arg)
    flat = _gather(input.reshape(-1), 0, index.reshape(-1), "take", "negative")
    return flat.reshape(tuple(index.shape))
