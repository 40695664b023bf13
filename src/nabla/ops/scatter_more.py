"""Index writes as ops: index_copy, index_fill, index_put, masked_scatter, put (values written
at an index or a mask). The reductions into positions (scatter_reduce, index_reduce) are in
scatter_reduction.py; the writes into a view's place (select/slice/diagonal_scatter) beside the
views, in strided.py.

Each write is out of place; its rule sends ``grad`` to the input where nothing was written (all
of it when values are added) and reads ``grad`` at the written places for the values. Index
tensors and masks are arguments of the op, so that nabla.jit.trace reads them at each replay.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.casts import to_dtype
from nabla.ops.index import (
    AdvancedGetitem,
    GetitemBackward,
    _array,
    _check_index_range,
    _check_range,
    _zeros,
)
from nabla.ops.scatter import _index_arg
from nabla.ops.selection import IndexSelect, _check_index_1d
from nabla.ops.shape import broadcast_to
from nabla.tensor import Tensor

__all__ = ["index_copy", "index_fill", "index_put", "masked_scatter", "put"]


# -- whole slices at a 1-D index -----------------------------------------------------------------
class IndexCopy(Op):
    """y = x with y[index[i]] = src[i] along dim;  dx = grad, zero at index,
    dsrc = index_select(grad, dim, index)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, index, src):
        _check_index_range("index_copy", index, dim, x.shape[dim])  # as IndexSelect
        ctx.dim = dim
        ctx.save_for_backward(index)
        xp = array_module(x)
        y = x.copy()
        xp.moveaxis(y, dim, 0)[index] = xp.moveaxis(src, dim, 0)
        return y

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        need_x, _, _, need_src = ctx.needs_input_grad
        grad_x = grad * _kept(grad, ctx.dim, index) if need_x else None
        return grad_x, None, None, IndexSelect.apply(grad, ctx.dim, index) if need_src else None


class IndexFill(Op):
    """y = x with the slices at index along dim set to value;  dx = grad, zero there,
    dvalue = the sum of grad over those slices (each slice once)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, index, value):
        ctx.dim = dim
        ctx.save_for_backward(index)
        y = x.copy()
        array_module(x).moveaxis(y, dim, 0)[index] = value
        return y

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        need_x, _, _, need_value = ctx.needs_input_grad
        kept = _kept(grad, ctx.dim, index)
        grad_x = grad * kept if need_x else None
        return grad_x, None, None, (grad * (1 - kept)).sum() if need_value else None


def _kept(grad, dim: int, index):
    """1 along dim where no slice was written, 0 where one was (shape 1 elsewhere), grad's dtype."""
    data = grad._data if isinstance(grad, Tensor) else grad
    index = index._data if isinstance(index, Tensor) else index
    along = [1] * data.ndim
    along[dim] = data.shape[dim]
    kept = array_module(data).ones(data.shape[dim], data.dtype)
    kept[index] = 0
    return kept.reshape(along)


def _check_slices(op: str, input: Tensor, dim: int, index, source: Tensor):
    """dim normalised, the index checked and flattened; source must fill the indexed slices."""
    dim, flat = _check_index_1d(op, input, dim, _array(index))
    want = list(input.shape)
    if input.ndim:
        want[dim] = flat.shape[0]
    if tuple(source.shape) != tuple(want) and not (input.ndim == 0 and source.numel() == 1):
        raise RuntimeError(f"{op}: source of shape {tuple(source.shape)} does not match input "
                           f"{tuple(input.shape)} with an index of {flat.shape[0]} entries; it "
                           f"must have shape {tuple(want)}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"{op}: input and source must have the same dtype, got {input.dtype} "
                           f"and {source.dtype}; convert one with .to(dtype)")
    # a Tensor index stays one, so that nabla.jit.trace reads it anew at every replay
    return dim, index.reshape(-1) if isinstance(index, Tensor) else flat


def index_copy(input: Tensor, dim: int, index, source: Tensor) -> Tensor:
    """``input`` with its slices at ``index`` along ``dim`` replaced by those of ``source``:
    ``out[index[i]] = source[i]`` for dim 0 (with a repeated index, one of the slices stays).

    Args:
        input: tensor of shape (..., n, ...).
        dim: the dimension to index.
        index: 1-D integer tensor of length k with values in [0, n).
        source: tensor of shape (..., k, ...) and input's dtype.
    Returns:
        Tensor of input's shape.
    """
    dim, index = _check_slices("index_copy", input, dim, index, source)
    if input.ndim == 0:  # one element, as in PyTorch
        return IndexCopy.apply(input.reshape(1), 0, index, source.reshape(1)).reshape(())
    return IndexCopy.apply(input, dim, index, source)


def index_fill(input: Tensor, dim: int, index, value) -> Tensor:
    """``input`` with its slices at ``index`` along ``dim`` filled with ``value``.

    Args:
        input: tensor of shape (..., n, ...).
        dim: the dimension to index.
        index: 1-D integer tensor with values in [-n, n).
        value: a number, or a 0-d tensor (which then gets a gradient: the sum of the filled
            places' gradients).
    Returns:
        Tensor of input's shape.
    """
    dim, flat = _check_index_1d("index_fill", input, dim, _array(index))
    _check_index_range("index_fill", flat, dim, input.shape[dim] if input.ndim else 1, True)
    index = index.reshape(-1) if isinstance(index, Tensor) else flat  # traced: see index_copy
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill: value must be a number or a 0-d tensor, got a "
                               f"tensor of shape {tuple(value.shape)}")
        if value.dtype != input.dtype:
            value = to_dtype(value, input.dtype) if input.dtype.kind in "fc" else value.detach()
    if input.ndim == 0:
        return IndexFill.apply(input.reshape(1), 0, index, value).reshape(())
    return IndexFill.apply(input, dim, index, value)


# -- positions given by index tensors, masks, flat positions -------------------------------------
class IndexPut(Op):
    """y = x with y[indices] = values (or += with accumulate: repeated positions add up);
    dx = grad (zero at the indices unless accumulate), dvalues = grad[indices]."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, values, accumulate, *indices):
        xp = array_module(x)
        key = []
        for i in indices:  # a mask becomes its positions: add.at and the rule take integers
            key.extend(xp.nonzero(i) if i.dtype == bool else (i,))
        ctx.key, ctx.accumulate, ctx.n_indices = tuple(key), accumulate, len(indices)
        y = x.copy()
        try:
            if accumulate:
                xp.add.at(y, ctx.key, values)
            else:
                y[ctx.key] = values
        except ValueError:
            raise RuntimeError(f"index_put: values of shape {tuple(values.shape)} do not "
                               "broadcast to the indexed shape "
                               f"{tuple(x[ctx.key].shape)} of input {tuple(x.shape)}") from None
        return y

    @staticmethod
    def backward(ctx, grad):
        need_x, need_values = ctx.needs_input_grad[:2]
        grad_x = None
        if need_x:
            grad_x = grad if ctx.accumulate else \
                IndexPut.apply(grad, _zeros(grad, ()), False, *ctx.key)
        grad_values = AdvancedGetitem.apply(grad, ctx.key) if need_values else None
        return (grad_x, grad_values, None) + (None,) * ctx.n_indices


def _check_indices(op: str, shape: tuple, indices) -> None:
    """Each index integer or boolean, a mask of the shape of the dims it covers, integers in
    range, no more dims indexed than there are."""
    d = 0
    for i in indices:
        a = _array(i)
        if a.dtype.kind not in "iub":
            raise IndexError(f"{op}: tensors used as indices must be integer or boolean, got "
                             f"{a.dtype}")
        used = a.ndim if a.dtype == bool else 1
        if d + used > len(shape):
            raise IndexError(f"{op}: too many indices for a tensor of shape {tuple(shape)}")
        if a.dtype == bool and a.shape != tuple(shape[d:d + used]):
            raise IndexError(f"{op}: the mask of shape {a.shape} does not match the shape "
                             f"{tuple(shape[d:d + used])} of the dims it indexes (from dim {d} "
                             f"of input {tuple(shape)})")
        if a.dtype != bool and a.size:
            _check_range(op, int(a.min()), int(a.max()), d, shape[d])
        d += used


def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with ``values`` written at ``input[indices]`` (added there with accumulate).

    Args:
        input: tensor of any shape.
        indices: a tuple of integer or boolean tensors, one for each leading dim they index
            (as ``input[i0, i1, ...]``); integer ones broadcast together.
        values: tensor of input's dtype, broadcastable to the indexed shape.
        accumulate: add instead of write; repeated positions then add up (without it, one of
            the values written to a repeated position stays).
    Returns:
        Tensor of input's shape.
    """
    if isinstance(indices, Tensor) or not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put: indices must be a tuple of tensors, got "
                        f"{type(indices).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put: values must be a Tensor, got {type(values).__name__}")
    if values.dtype != input.dtype:
        raise RuntimeError(f"index_put: input and values must have the same dtype, got "
                           f"{input.dtype} and {values.dtype}; convert one with .to(dtype)")
    _check_indices("index_put", input.shape, indices)
    return IndexPut.apply(input, values, bool(accumulate), *(_index_arg(i) for i in indices))


def put(input: Tensor, index, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` with ``source`` written at the flat (row-major) positions ``index``.

    Args:
        input: tensor of any shape, with N elements.
        index: integer tensor with values in [-N, N).
        source: tensor of input's dtype with as many elements as index.
        accumulate: add instead of write; repeated positions then add up.
    Returns:
        Tensor of input's shape.
    """
    a = _array(index)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"put: index must be an integer tensor, got {a.dtype}")
    if a.size != source.numel():
        raise RuntimeError(f"put: source and index must have the same number of elements, got "
                           f"source {tuple(source.shape)} and index {tuple(a.shape)}")
    if a.size:
        _check_range("put", int(a.min()), int(a.max()), 0, input.numel())
    index = _index_arg(index).reshape(-1)
    return index_put(input.reshape(-1), (index,), source.reshape(-1),
                     accumulate).reshape(tuple(input.shape))


class MaskedScatter(Op):
    """y = x with the elements where mask is True replaced, in row-major order, by the first
    elements of src;  dx = grad where mask is False, dsrc = grad[mask] (zero after them)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, mask, src):
        k = int(mask.sum())
        if k > src.size:
            raise RuntimeError(f"masked_scatter: the mask selects {k} elements but source of "
                               f"shape {tuple(src.shape)} has only {src.size}")
        ctx.src_shape, ctx.k = src.shape, k
        ctx.save_for_backward(mask)
        y = x.copy()
        y[mask] = src.reshape(-1)[:k]
        return y

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        need_x, _, need_src = ctx.needs_input_grad
        raw = mask._data if isinstance(mask, Tensor) else mask
        grad_x = grad * ~raw if need_x else None
        grad_src = None
        if need_src:
            picked = AdvancedGetitem.apply(grad, (raw,))
            size = 1
            for n in ctx.src_shape:
                size *= n
            grad_src = GetitemBackward.apply(picked, (size,), (slice(0, ctx.k),))
            grad_src = grad_src.reshape(ctx.src_shape)
        return grad_x, None, grad_src


def masked_scatter(input: Tensor, mask, source: Tensor) -> Tensor:
    """``input`` with the elements where ``mask`` is True taken, in order, from ``source``.

    Args:
        input: tensor, broadcast with mask.
        mask: boolean tensor, broadcast with input.
        source: tensor of input's dtype with at least as many elements as mask has True.
    Returns:
        Tensor of the broadcast shape of input and mask.
    """
    m = _array(mask)
    if m.dtype != bool:
        raise RuntimeError(f"masked_scatter: mask must be a boolean tensor, got {m.dtype}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"masked_scatter: input and source must have the same dtype, got "
                           f"{input.dtype} and {source.dtype}; convert one with .to(dtype)")
    try:
        shape = array_module(m).broadcast_shapes(tuple(input.shape), m.shape)
    except ValueError:
        raise RuntimeError(f"masked_scatter: mask of shape {m.shape} and input of shape "
                           f"{tuple(input.shape)} do not broadcast together") from None
    if tuple(input.shape) != shape:
        input = input.broadcast_to(shape)
    # a mask Tensor stays one (broadcast by an op), so that jit.trace reads it at each replay
    mask = broadcast_to(mask, shape) if isinstance(mask, Tensor) else \
        array_module(m).broadcast_to(m, shape)
    return MaskedScatter.apply(input, mask, source)
