"""Joining and cutting: cat, stack, split, chunk, unbind, narrow, pad.

Joins and cuts are each other's gradients: cat's rule slices ``grad`` into the inputs' pieces,
split's rule concatenates the pieces' gradients (stack and unbind likewise). Constant padding and
cropping are one op whose gradient is the opposite padding.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.dtype import result_type
from nabla.ops.casts import to_dtype
from nabla.ops.index import Getitem
from nabla.ops.selection import index_select
from nabla.ops.shape import _dim
from nabla.tensor import Tensor

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "split",
           "chunk", "unbind", "narrow", "select", "pad"]


def _along(dim: int, index) -> tuple:
    """The key that applies ``index`` (an int or slice) to ``dim`` and keeps the others."""
    return (slice(None),) * dim + (index, Ellipsis)


def _cut_dim(op: str, dim: int, input: Tensor) -> int:
    """The dimension to cut, in [0, ndim); a 0-d tensor has none."""
    if input.ndim == 0:
        raise IndexError(f"{op}: a 0-d tensor has no dimension {dim} to cut; reshape it first")
    return _dim(op, dim, input.ndim)


class Cat(Op):
    """y = the inputs joined along dim;  each input's gradient is its slice of grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return array_module(xs[0]).concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [None], 0
        for size, need in zip(ctx.sizes, ctx.needs_input_grad[1:], strict=True):
            grads.append(Getitem.apply(grad, _along(ctx.dim, slice(start, start + size)))
                         if need else None)
            start += size
        return tuple(grads)


class Stack(Op):
    """y = the inputs stacked along a new dim;  each input's gradient is grad selected at its
    position."""

    array_backward = True

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return array_module(xs[0]).stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(Getitem.apply(grad, _along(ctx.dim, i)) if need else None
                               for i, need in enumerate(ctx.needs_input_grad[1:]))


class Split(Op):
    """ys = x cut along dim into pieces of ``sizes`` (views);  dx = cat(grads) along dim.
    One node for all pieces: a node per piece would make each backward fill a zero tensor of x's
    size, quadratic in the number of pieces."""

    is_view = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        pieces, start = [], 0
        for size in sizes:
            pieces.append(x[_along(dim, slice(start, start + size))])
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return Cat.apply(ctx.dim, *grads), None, None


class Unbind(Op):
    """ys = the slices of x along dim (views);  dx = stack(grads) along dim."""

    is_view = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(x[_along(dim, i)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return Stack.apply(ctx.dim, *grads), None


def _share_version(input: Tensor, pieces: tuple) -> tuple:
    """Every piece is a view of ``input``: an in-place change of one must be seen as a change of
    input (apply links only the first output)."""
    for p in pieces:
        p._version = input._version
    return pieces


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension ``dim``.

    Args:
        tensors: sequence of tensors of equal shape except along ``dim`` (1-D empty tensors are
            skipped, as in PyTorch).
        dim: the dimension to join along.
    Returns:
        Tensor whose size along ``dim`` is the sum of the inputs' sizes.
    """
    tensors = list(tensors)
    if any(t.ndim != 1 for t in tensors):
        tensors = [t for t in tensors if t.shape != (0,)] or tensors
    if not tensors:
        raise RuntimeError("cat: expected a non-empty sequence of tensors")
    ref = tensors[0]
    if ref.ndim == 0:
        raise RuntimeError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = _dim("cat", dim, ref.ndim)
    rest = ref.shape[:d] + ref.shape[d + 1:]
    for i, t in enumerate(tensors):
        if t.shape[:d] + t.shape[d + 1:] == rest:
            continue  # the usual case, checked in one comparison
        if t.ndim != ref.ndim:
            raise RuntimeError(f"cat: tensors must have the same number of dimensions, got "
                               f"{tuple(ref.shape)} and {tuple(t.shape)} (tensor {i})")
        for k, (a, b) in enumerate(zip(ref.shape, t.shape, strict=True)):
            if k != d and a != b:
                raise RuntimeError(
                    f"cat: sizes must match except in dim {d}: expected size {a} but got size "
                    f"{b} in dim {k} for tensor {i} (shapes {tuple(ref.shape)} and "
                    f"{tuple(t.shape)}). Reshape or slice the tensors, or join along dim {k}.")
    return Cat.apply(d, *_promoted(tensors))


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension ``dim``.

    Args:
        tensors: sequence of k tensors of shape S.
        dim: position of the new dimension, in [-len(S)-1, len(S)].
    Returns:
        Tensor of shape S with k inserted at ``dim``.
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty sequence of tensors")
    ref = tensors[0]
    for i, t in enumerate(tensors):
        if t.shape != ref.shape:
            raise RuntimeError(f"stack: expects each tensor to be of equal shape, but got "
                               f"{tuple(ref.shape)} at entry 0 and {tuple(t.shape)} at entry {i}")
    return Stack.apply(_dim("stack", dim, ref.ndim + 1), *_promoted(tensors))


def _promoted(tensors: list) -> list:
    """The tensors cast to PyTorch's common dtype (float32 joined with int64 gives float32,
    not NumPy's float64); the cast is differentiable."""
    dtype = tensors[0].dtype
    if all(t.dtype == dtype for t in tensors):
        return tensors
    dtype = result_type(*tensors)
    return [t if t.dtype == dtype else to_dtype(t, dtype) for t in tensors]


def split(input: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Cut ``input`` along ``dim`` into pieces of a given size (the last may be smaller) or of
    the listed sizes.

    Args:
        input: tensor of shape (..., n, ...).
        split_size_or_sections: an int size, or a list of sizes summing to n.
        dim: the dimension to cut.
    Returns:
        Tuple of views of shape (..., size_i, ...).
    """
    d = _cut_dim("split", dim, input)
    n = input.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and n:
            raise RuntimeError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split: sections {sizes} must be non-negative and sum to the "
                               f"size {n} of dim {dim} (shape {tuple(input.shape)})")
    return _share_version(input, Split.apply(input, tuple(sizes), d))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Cut ``input`` along ``dim`` into ``chunks`` pieces of size ceil(n / chunks) (the last may
    be smaller, and there may be fewer pieces, as in PyTorch). Returns a tuple of views."""
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be positive, got {chunks}")
    n = input.shape[_cut_dim("chunk", dim, input)]
    if n == 0:  # PyTorch gives ``chunks`` empty pieces
        return split(input, [0] * chunks, dim)
    return split(input, -(-n // chunks), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices of ``input`` along ``dim``, each without that dimension (a tuple of views)."""
    d = _cut_dim("unbind", dim, input)
    if input.shape[d] == 0:
        return ()
    return _share_version(input, Unbind.apply(input, d))


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The view ``input[..., start:start + length, ...]`` along ``dim`` (start may be negative).
    """
    d = _cut_dim("narrow", dim, input)
    n = input.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dim {dim} with size {n}")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds the size {n} "
                           f"of dim {dim}")
    return Getitem.apply(input, _along(d, slice(start, start + length)))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view ``input[..., index, ...]`` at ``index`` of ``dim``, without that dimension."""
    d = _cut_dim("select", dim, input)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dim {dim} with size {n}")
    return Getitem.apply(input, _along(d, int(index)))


def hstack(tensors) -> Tensor:
    """cat along dim 1 (dim 0 for 1-D tensors), as torch.hstack."""
    tensors = [t.reshape(1) if t.ndim == 0 else t for t in tensors]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """cat along dim 0 of the tensors made at least 2-D ((n,) becomes (1, n))."""
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


def dstack(tensors) -> Tensor:
    """cat along dim 2 of the tensors made at least 3-D ((n,) -> (1, n, 1), (m, n) ->
    (m, n, 1))."""
    out = []
    for t in tensors:
        if t.ndim < 2:
            t = t.reshape(1, -1)
        out.append(t.reshape(*t.shape, 1) if t.ndim == 2 else t)
    return cat(out, 2)


# -- padding -------------------------------------------------------------------------------------
class Pad(Op):
    """y = x with widths[d] = (before, after) elements of ``value`` added around dim d (negative
    widths crop);  dy/dx = pad(grad, -widths): the border is dropped, the cropped part gets 0."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        pairs = list(zip(widths, x.shape, strict=True))
        x = x[tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in pairs)]
        pairs = list(zip(widths, x.shape, strict=True))
        shape = tuple(n + max(a, 0) + max(b, 0) for (a, b), n in pairs)
        # filling then assigning is several times faster than numpy.pad
        y = array_module(x).full(shape, value, x.dtype)
        y[tuple(slice(max(a, 0), max(a, 0) + n) for (a, _), n in pairs)] = x
        return y

    @staticmethod
    def backward(ctx, grad):
        return Pad.apply(grad, tuple((-a, -b) for a, b in ctx.widths), 0), None, None


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad (or, with negative amounts, crop) the last dimensions, as torch.nn.functional.pad.

    Args:
        input: tensor of shape (*, s_{n-1}).
        pad: (left_last, right_last, left_second_last, right_second_last, ...), even length.
        mode: 'constant', 'reflect', 'replicate' or 'circular'.
        value: the fill value for 'constant' (default 0).
    Returns:
        Tensor with each padded dim grown by its two pad amounts.
    """
    pad = tuple(int(p) for p in pad)
    nd = input.ndim
    if len(pad) % 2 or len(pad) // 2 > nd:
        raise RuntimeError(f"pad: the padding {pad} must have an even length of at most "
                           f"2 * ndim = {2 * nd} (input shape {tuple(input.shape)})")
    widths = [(0, 0)] * nd
    for i in range(len(pad) // 2):
        widths[nd - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    for d, ((a, b), n) in enumerate(zip(widths, input.shape, strict=True)):
        if n + a + b < 0 or -a > n or -b > n:
            raise RuntimeError(f"pad: padding {pad} crops dim {d} of size {n} to a negative "
                               "size; negative pads may remove at most the whole dim")
    if mode == "constant":
        return Pad.apply(input, tuple(widths), 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    out = input
    for d, (a, b) in enumerate(widths):
        if a or b:
            out = index_select(out, d, _pad_index(out, mode, a, b, d))
    return out


def _pad_index(input: Tensor, mode: str, a: int, b: int, d: int):
    """Positions of the input that fill a dim of size n padded by (a, b) in ``mode``."""
    n = input.shape[d]
    if (mode == "reflect" and max(a, b) >= n) or (mode == "circular" and max(a, b) > n) or \
            n == 0:
        raise RuntimeError(f"pad: {mode} padding ({a}, {b}) of dim {d} must be "
                           f"{'smaller than' if mode == 'reflect' else 'at most'} its size {n} "
                           f"(input shape {tuple(input.shape)})")
    xp = array_module(input._data)
    j = xp.arange(-a, n + b)
    if mode == "reflect":
        j = xp.abs(j)
        return xp.where(j >= n, 2 * (n - 1) - j, j)
    if mode == "replicate":
        return xp.clip(j, 0, n - 1)
    return j % n
