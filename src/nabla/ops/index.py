"""Indexing ops: ``x[key]`` and masked_select (index_select / index_add are in selection.py,
gather and scatter in scatter.py).

Each reading op pairs with a writing op that is its gradient (and the reverse): indexing reads
``x[key]`` and its rule writes ``grad`` into zeros at ``key``; index_select pairs with
index_add, gather with scatter_add. Writes that may hit one element twice (integer-array indices)
accumulate with ``add.at``; plain slices and masks never repeat an element, so they use a plain
assignment, which is much faster.
"""

from nabla.autograd.function import Op, OpIndexError
from nabla.backend import array_module, as_array, ndarray
from nabla.ops.casts import to_dtype
from nabla.ops.elementwise import where
from nabla.ops.shape import broadcast_to, reshape
from nabla.tensor import Tensor

__all__ = ["getitem", "index_key", "masked_select"]


# -- x[key] --------------------------------------------------------------------------------------
class Getitem(Op):
    """y = x[key] for a basic key (ints, slices, None, ...): a view;  dy/dx = grad written into
    zeros at key."""

    is_view = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, key):
        ctx.in_shape, ctx.key = x.shape, key
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        return GetitemBackward.apply(grad, ctx.in_shape, ctx.key), None


class GetitemBackward(Op):
    """y = zeros(shape) with y[key] = x (basic key, no element written twice);  dy/dx = grad[key].
    """

    array_backward = True

    @staticmethod
    def forward(ctx, x, shape, key):
        ctx.key = key
        y = array_module(x).zeros(shape, x.dtype)
        y[key] = x
        return y

    @staticmethod
    def backward(ctx, grad):
        return Getitem.apply(grad, ctx.key), None, None


class AdvancedGetitem(Op):
    """y = x[key] for a key with integer arrays or boolean masks (a copy);  dy/dx = grad
    accumulated into zeros at key (repeated indices add up).

    Index tensors come as arguments of their own, put into ``key`` at the positions ``where``:
    a trace (jit.trace, onnx.export) then reads them as values of the program, not constants."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, key, where=(), *indices):
        if where:
            key = list(key)
            for i, index in zip(where, indices):
                key[i] = index
            key = tuple(key)
        ctx.in_shape = x.shape
        ctx.key = key
        ctx.n_indices = len(indices)
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        grad_input = AdvancedGetitemBackward.apply(grad, ctx.in_shape, ctx.key)
        return (grad_input, None, None) + (None,) * ctx.n_indices


class AdvancedGetitemBackward(Op):
    """y = zeros(shape) with y[key] += x, accumulating repeated indices;  dy/dx = grad[key]."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, shape, key):
        ctx.key = key
        xp = array_module(x)
        y = xp.zeros(shape, x.dtype)
        parts = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, ndarray) and k.dtype.kind in "iu" for k in parts):
            xp.add.at(y, key, x)
        else:  # boolean masks select each element at most once
            y[key] = x
        return y

    @staticmethod
    def backward(ctx, grad):
        return AdvancedGetitem.apply(grad, ctx.key), None, None


def index_key(key):
    """``key`` with Tensors and lists turned into arrays, as NumPy indexing expects."""
    if isinstance(key, tuple):
        return tuple(_key_part(k) for k in key)
    return _key_part(key)


def _key_part(k):
    if isinstance(k, Tensor):
        k = k._data
    elif isinstance(k, list):
        k = as_array([p._data if isinstance(p, Tensor) else p for p in k])
        if k.size == 0 and k.dtype.kind == "f":
            k = k.astype("int64")  # x[[]] selects nothing, as in PyTorch
    if getattr(k, "ndim", None) == 0 and k.dtype.kind in "iu":
        return int(k)  # a 0-d array or NumPy integer behaves as a plain int: a view results
    return k


def _is_basic(part) -> bool:
    return part is None or part is Ellipsis or isinstance(part, slice) or (
        isinstance(part, int) and not isinstance(part, bool))


def _check_key(shape: tuple, key: tuple) -> None:
    """Raise a clear IndexError for indices out of range, masks of the wrong shape, too many."""
    used = sum(_dims_used(k) for k in key if k is not Ellipsis)
    if used > len(shape):
        raise IndexError(f"getitem: too many indices ({used}) for a tensor of dimension "
                         f"{len(shape)} (shape {tuple(shape)})")
    d = 0
    for k in key:
        if k is Ellipsis:
            d += len(shape) - used
            continue
        if isinstance(k, ndarray) and k.dtype == bool:
            if k.shape != tuple(shape[d:d + k.ndim]):
                raise IndexError(
                    f"getitem: the boolean mask of shape {k.shape} does not match the indexed "
                    f"shape {tuple(shape[d:d + k.ndim])} at dim {d} of a tensor of shape "
                    f"{tuple(shape)}")
        elif isinstance(k, int) and not isinstance(k, bool):
            _check_range("getitem", k, k, d, shape[d])
        elif isinstance(k, ndarray) and k.dtype.kind in "iu" and k.size:
            _check_range("getitem", int(k.min()), int(k.max()), d, shape[d])
        d += _dims_used(k)


def _dims_used(k) -> int:
    if k is None or isinstance(k, bool):
        return 0
    if isinstance(k, ndarray) and k.dtype == bool:
        return k.ndim
    return 1


def _check_range(op: str, lo: int, hi: int, dim: int, size: int, negative: bool = True) -> None:
    """Refuse the smallest ``lo`` or largest ``hi`` index outside [-size, size), or [0, size)
    when ``negative`` is False (gather, scatter, index_select... as PyTorch)."""
    low = -size if negative else 0
    if hi >= size or lo < low:
        bad = hi if hi >= size else lo
        hint = "" if negative or bad >= 0 else f"; {op} takes no negative index: add the size"
        raise OpIndexError(f"{op}: index {bad} is out of range for dim {dim} with size {size} "
                           f"(valid: {low} to {size - 1}{hint})")


def _check_index_range(op: str, index, dim: int, size: int, negative: bool = False) -> None:
    """Every value of the integer array ``index`` in [0, size) (or [-size, size) when
    ``negative``), else an IndexError naming ``op``: one min and one max, no Python loop."""
    if index.size:
        _check_range(op, int(index.min()), int(index.max()), dim, size, negative)


def getitem(input: Tensor, key) -> Tensor:
    """``input[key]`` as NumPy and PyTorch index: ints, slices, None, Ellipsis, boolean masks,
    integer arrays, tensors or lists (advanced indexing, mixed with slices).

    Args:
        input: tensor of any shape.
        key: the index.
    Returns:
        A view for basic keys (ints, slices, None, Ellipsis), a copy otherwise.
    """
    fast = _basic_fast(input.shape, key)
    if fast is not None:
        return Getitem.apply(input, fast)
    input, parts, basic = _torch_placement(input, key)
    if basic:
        return Getitem.apply(input, parts)
    return AdvancedGetitem.apply(input, *_index_arguments(parts, key))


def _index_arguments(parts: tuple, key) -> tuple:
    """``(parts, where, *tensors)``: the index tensors of the user's ``key`` taken out of the
    placed key ``parts`` (which holds their arrays) to be AdvancedGetitem's arguments."""
    tensors = {id(k._data): k for k in (key if isinstance(key, tuple) else (key,))
               if isinstance(k, Tensor)}
    if not tensors:
        return (parts,)
    parts, where, indices = list(parts), [], []
    for i, k in enumerate(parts):
        if id(k) in tensors:
            where.append(i)
            indices.append(tensors[id(k)])
            parts[i] = None  # filled in by forward
    return (tuple(parts), tuple(where), *indices)


def setitem(array, key, value) -> None:
    """``array[key] = value`` in place, with the dimensions placed as ``getitem`` places them
    (PyTorch's rules, which differ from NumPy's for ints mixed with index arrays)."""
    target, parts, _ = _torch_placement(array, key)
    try:
        target[parts] = value
    except ValueError:
        shape = tuple(getattr(value, "shape", ()))
        raise ValueError(f"setitem: cannot write a value of shape {shape} into the selection of "
                         f"shape {tuple(target[parts].shape)} (key {key!r}); the value must "
                         "broadcast to the selection") from None


def assign(input: Tensor, key, value) -> Tensor:
    """``input`` with ``value`` written at ``key``: ``input[key] = value`` out of place, which is
    how the graph records an assignment (``Tensor.__setitem__`` in grad mode). Gradients: that of
    ``input`` is zero at ``key``, that of ``value`` is the gradient read at ``key`` (summed over
    broadcasting). A position written twice keeps the last value, as NumPy's assignment."""
    xp = array_module(input._data)
    target, parts, _ = _torch_placement(xp.arange(input._data.size).reshape(input.shape), key)
    selected = as_array(target[parts])  # the flat position of each selected element
    flat = selected.ravel()
    if not isinstance(value, Tensor):
        value = Tensor._make(as_array(value, input._data.dtype))
    picked = reshape(broadcast_to(to_dtype(value, input._data.dtype), selected.shape), (-1,))
    _, last = xp.unique(flat[::-1], return_index=True)
    if len(last) < len(flat):  # repeated positions: the last write wins
        keep = xp.sort(len(flat) - 1 - last)
        flat, picked = flat[keep], AdvancedGetitem.apply(picked, (keep,))
    written = xp.zeros(input._data.size, bool)
    written[flat] = True
    placed = AdvancedGetitemBackward.apply(picked, (input._data.size,), (flat,))
    return where(Tensor._make(written.reshape(input.shape)), reshape(placed, input.shape), input)


def _torch_placement(input, key) -> tuple:
    """``(input or a view of it, key, basic)`` such that NumPy indexing gives PyTorch's result."""
    key = index_key(key)
    parts = key if isinstance(key, tuple) else (key,)
    _check_key(input.shape, parts)
    if all(_is_basic(k) for k in parts):
        if Ellipsis not in parts:
            parts = parts + (Ellipsis,)  # x[0, 1] on a matrix gives a 0-d view, not a scalar
        return input, parts, True
    # Ellipsis spelled out as ':'s: when it stands for no dim, PyTorch counts the index arrays
    # around it as adjacent (their dims stay in place), NumPy does not (they move to the front)
    i = next((i for i, k in enumerate(parts) if k is Ellipsis), None)
    if i is not None:
        used = sum(_dims_used(k) for k in parts if k is not Ellipsis)
        parts = parts[:i] + (slice(None),) * (input.ndim - used) + parts[i + 1:]
    if any(type(k) is int for k in parts):
        input, parts = _ints_first(input, parts)
    return input, parts, False


def _basic_fast(shape: tuple, key):
    """The common keys (an int, a slice, a short tuple of them) checked cheaply, ready for
    Getitem; None for any other key (the general path handles it)."""
    parts = key if type(key) is tuple else (key,)
    if len(parts) > len(shape):
        return None
    for d, k in enumerate(parts):
        t = type(k)
        if t is int:
            if not -shape[d] <= k < shape[d]:
                return None  # out of range: the general path raises the error
        elif t is not slice:
            return None
    return parts + (Ellipsis,)


def _ints_first(input: Tensor, parts: tuple) -> tuple:
    """Apply a mixed key's ints (and slices, None) first, as a view, as PyTorch does; NumPy would
    count the ints as advanced indices and place the result's dims differently
    (``x[0, :, [1, 2]]``: PyTorch (4, 2, 2) for x of shape (3, 4, 5), NumPy (2, 4)).

    Returns:
        The view and the key left for it: the advanced indices, with ':' elsewhere.
    """
    first, rest = [], []
    for k in parts:
        if isinstance(k, bool) or (isinstance(k, ndarray) and k.dtype == bool):
            first += [slice(None)] * (0 if isinstance(k, bool) else k.ndim)  # dims it masks
            rest.append(k)
        elif isinstance(k, ndarray):
            first.append(slice(None))
            rest.append(k)
        elif type(k) is int:
            first.append(k)
        else:  # slice, None, Ellipsis: applied now; what they leave is kept whole next
            first.append(k)
            rest.append(Ellipsis if k is Ellipsis else slice(None))
    if not any(k is Ellipsis for k in first):
        first.append(Ellipsis)
    return Getitem.apply(input, tuple(first)), tuple(rest)


def _zeros(like, shape: tuple):
    """Zeros of ``shape`` and ``like``'s dtype, of the same kind: a Tensor, or a raw array (the
    engine's fast mode hands rules raw arrays)."""
    data = like._data if isinstance(like, Tensor) else like
    zeros = array_module(data).zeros(shape, data.dtype)
    return Tensor._make(zeros) if isinstance(like, Tensor) else zeros


def _array(index):
    return index._data if isinstance(index, Tensor) else as_array(index)


# -- masks ---------------------------------------------------------------------------------------
def masked_select(input: Tensor, mask) -> Tensor:
    """The elements of ``input`` where the boolean ``mask`` (broadcast with it) is True.

    Args:
        input: tensor of any shape.
        mask: boolean tensor broadcastable with input.
    Returns:
        1-D tensor of the selected elements, in row-major order.
    """
    given, mask = mask, _array(mask)
    if mask.dtype != bool:
        raise RuntimeError(f"masked_select: mask must be a boolean tensor, got {mask.dtype}")
    xp = array_module(mask)
    shape = xp.broadcast_shapes(input.shape, mask.shape)
    if input.shape != shape:
        input = input.broadcast_to(shape)
    if isinstance(given, Tensor):  # an argument of its own, so that a trace reads it
        return AdvancedGetitem.apply(input, (None,), (0,), broadcast_to(given, shape))
    return AdvancedGetitem.apply(input, xp.broadcast_to(mask, shape))
