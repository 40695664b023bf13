"""Shape ops: they move or repeat elements without changing values, so each gradient rule is the
inverse move (reshape back, transpose back, sum over what was broadcast, pad back what was cut).

Derived ops (flatten, unflatten, squeeze, unsqueeze, expand) have no rule of their own: they are
reshapes and broadcasts. Joining and cutting (cat, stack, split, pad) live in join.py; flips,
rolls and triangles in flip.py.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.tensor import Tensor

__all__ = ["reshape", "broadcast_to", "sum_to_size", "flatten", "unflatten", "permute",
           "transpose", "swapaxes", "swapdims", "movedim", "moveaxis", "squeeze", "unsqueeze",
           "expand", "repeat", "tile", "ravel"]


class Reshape(Op):
    """y = x viewed with a new shape;  dy/dx = grad reshaped back."""

    array_backward = True

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        y = x.reshape(shape)
        if y.size and not array_module(x).may_share_memory(x, y):
            ctx.is_view = False  # NumPy had to copy (a non-contiguous input): not a view
        return y

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.in_shape), None


class BroadcastTo(Op):
    """y = x repeated along broadcast dimensions;  dy/dx = grad summed over them."""

    array_backward = True

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        xp = _xp(x)
        return xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to_size(grad, ctx.in_shape), None


class SumToSize(Op):
    """y = x summed down to ``shape`` (the reverse of broadcasting);  dy/dx = grad broadcast."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        lead = x.ndim - len(shape)
        if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, x.shape[lead:])):
            raise RuntimeError(f"sum_to_size: size {tuple(shape)} is not expandable to the "
                               f"tensor's shape {tuple(x.shape)}; each of its dimensions must "
                               "equal the tensor's trailing one or be 1")
        axes = tuple(range(lead)) + tuple(
            i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
        )
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(shape) if lead else y

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(grad, ctx.in_shape), None


def _xp(x):
    return array_module(x)


def _requires_grad(input) -> bool:
    """Whether ``input`` is a Tensor that requires grad: an unchanged shape then still gives a
    new tensor, with a node (or, under no_grad, without requires_grad), as in PyTorch."""
    return isinstance(input, Tensor) and input._requires_grad


def reshape(input: Tensor, shape) -> Tensor:
    """A tensor with the same elements in ``shape`` (one dimension may be -1)."""
    shape = tuple(shape)
    if shape == input.shape and not _requires_grad(input):
        return input
    return Reshape.apply(input, shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    """Repeat ``input`` along size-1 (or missing leading) dimensions to ``shape``; no copy
    (-1 keeps a size, as in PyTorch)."""
    shape = tuple(shape)
    if -1 in shape:
        lead = len(shape) - input.ndim
        shape = tuple(input.shape[i - lead] if n == -1 and i >= lead else n
                      for i, n in enumerate(shape))
    if shape == input.shape and not _requires_grad(input):
        return input
    return BroadcastTo.apply(input, shape)


def sum_to_size(input: Tensor, shape) -> Tensor:
    """Sum ``input`` down to ``shape``, the inverse of broadcasting (used by the engine)."""
    shape = tuple(shape)
    if shape == input.shape:
        return input
    return SumToSize.apply(input, shape)


# -- dimensions ----------------------------------------------------------------------------------
def _dim(op: str, dim: int, ndim: int) -> int:
    """``dim`` in [0, ndim) from PyTorch's [-ndim, ndim); a 0-d tensor accepts 0 and -1."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of dimension {ndim} "
                         f"(valid: {-n} to {n - 1})")
    return dim % n


def _dims(op: str, dims, ndim: int) -> tuple:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = tuple(_dim(op, d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {dims} repeats a dimension")
    return out


# -- permutations (views) ------------------------------------------------------------------------
class Permute(Op):
    """y = x with its dimensions reordered (a view);  dy/dx = grad permuted back."""

    is_view = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return Permute.apply(grad, tuple(inverse)), None


def permute(input: Tensor, dims) -> Tensor:
    """Reorder the dimensions: output dim i is input dim ``dims[i]``; a view.

    Args:
        input: tensor of shape (s_0, ..., s_{n-1}).
        dims: a permutation of 0..n-1 (negative dims allowed).
    Returns:
        Tensor of shape (s_dims[0], ..., s_dims[n-1]).
    """
    dims = _dims("permute", dims, input.ndim)
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute: dims {dims} must list all {input.ndim} dimensions of a "
                           f"tensor of shape {tuple(input.shape)}")
    return Permute.apply(input, dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap dimensions ``dim0`` and ``dim1``; a view. Returns a tensor of the swapped shape."""
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return Permute.apply(input, tuple(range(input.ndim)))
    d0, d1 = _dim("transpose", dim0, input.ndim), _dim("transpose", dim1, input.ndim)
    dims = list(range(input.ndim))
    dims[d0], dims[d1] = d1, d0
    return Permute.apply(input, tuple(dims))


swapaxes = swapdims = transpose


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimension(s) ``source`` to position(s) ``destination``, keeping the others' order.

    Args:
        input: tensor of any shape.
        source: int or tuple of ints.
        destination: int or tuple of ints, as many as source.
    Returns:
        A view with the dimensions moved.
    """
    src, dst = _dims("movedim", source, input.ndim), _dims("movedim", destination, input.ndim)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must have "
                           "the same number of dimensions")
    rest = iter(d for d in range(input.ndim) if d not in src)
    placed = dict(zip(dst, src, strict=True))
    dims = tuple(placed[i] if i in placed else next(rest) for i in range(input.ndim))
    return Permute.apply(input, dims)


moveaxis = movedim


# -- reshapes (derived) --------------------------------------------------------------------------
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim``..``end_dim`` into one (a 0-d tensor becomes 1-d).

    Args:
        input: tensor of shape (..., s_start, ..., s_end, ...).
    Returns:
        Tensor of shape (..., s_start * ... * s_end, ...).
    """
    if input.ndim == 0:
        return reshape(input, (1,))
    s, e = _dim("flatten", start_dim, input.ndim), _dim("flatten", end_dim, input.ndim)
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    n = 1
    for size in input.shape[s:e + 1]:
        n *= size
    return reshape(input, input.shape[:s] + (n,) + input.shape[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one may be -1).

    Args:
        input: tensor of shape (..., s, ...).
        sizes: sizes whose product is s.
    Returns:
        Tensor of shape (..., *sizes, ...).
    """
    d = _dim("unflatten", dim, input.ndim)
    sizes = tuple(sizes)
    known = 1
    for n in sizes:
        known *= n if n != -1 else 1
    if sizes.count(-1) > 1 or (-1 not in sizes and known != input.shape[d]) or (
            -1 in sizes and (known == 0 or input.shape[d] % known)):
        raise RuntimeError(f"unflatten: sizes {sizes} do not multiply to the size "
                           f"{input.shape[d]} of dim {dim} (shape {tuple(input.shape)})")
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dimensions (all, or those in ``dim``; others are left alone, as PyTorch).

    Args:
        input: tensor of any shape.
        dim: None, an int or a tuple of ints.
    Returns:
        A view without the size-1 dimensions named.
    """
    if dim is None:
        drop = range(input.ndim)
    else:
        drop = _dims("squeeze", dim, input.ndim)
    shape = tuple(n for d, n in enumerate(input.shape) if not (d in drop and n == 1))
    return reshape(input, shape)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim`` (in [-ndim-1, ndim]); a view."""
    d = _dim("unsqueeze", dim, input.ndim + 1)
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


def expand(input: Tensor, sizes) -> Tensor:
    """Repeat size-1 dimensions (and add leading ones) without copying; -1 keeps a size.

    Args:
        input: tensor of shape (s_0, ..., s_{n-1}).
        sizes: target sizes, at least n of them.
    Returns:
        A broadcast view of shape ``sizes``.
    """
    sizes = tuple(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes {sizes} must be at least the number of "
                           f"dimensions of the tensor {tuple(input.shape)}")
    shape = []
    for i, n in enumerate(sizes):
        if i < lead:
            if n < 0:
                raise RuntimeError(f"expand: size {n} is not allowed in a new leading dim {i} "
                                   f"(sizes {sizes})")
            shape.append(n)
            continue
        old = input.shape[i - lead]
        if n == -1:
            n = old
        if old != n and old != 1:
            raise RuntimeError(f"expand: the expanded size {n} must match the existing size "
                               f"{old} at non-singleton dim {i}. Target sizes: {sizes}, tensor "
                               f"sizes: {tuple(input.shape)}")
        shape.append(n)
    return BroadcastTo.apply(input, tuple(shape))


class Repeat(Op):
    """y = x tiled ``sizes`` times along each dimension;  dy/dx = grad summed over the tiles."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, sizes):
        shape = (1,) * (len(sizes) - x.ndim) + x.shape
        ctx.in_shape, ctx.shape, ctx.sizes = x.shape, shape, sizes
        return array_module(x).tile(x.reshape(shape), sizes)

    @staticmethod
    def backward(ctx, grad):
        tiled = []  # (tile, size) pairs: the tiles become their own dims, summed away
        for r, n in zip(ctx.sizes, ctx.shape, strict=True):
            tiled += [r, n]
        ones = []
        for n in ctx.shape:
            ones += [1, n]
        g = sum_to_size(reshape(grad, tiled), ones)
        return reshape(g, ctx.in_shape), None


def repeat(input: Tensor, sizes) -> Tensor:
    """Tile ``input``: ``sizes[i]`` copies along dimension i (extra sizes add leading dims).

    Args:
        input: tensor of shape (s_0, ..., s_{n-1}).
        sizes: at least n repeat counts.
    Returns:
        Tensor of shape (..., sizes[-n] * s_0, ..., sizes[-1] * s_{n-1}).
    """
    sizes = tuple(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"repeat: the number of repeats {sizes} must be at least the number "
                           f"of dimensions of the tensor {tuple(input.shape)}")
    return Repeat.apply(input, sizes)


def tile(input: Tensor, dims) -> Tensor:
    """``repeat`` that also accepts fewer counts than dimensions (missing leading counts are 1).
    Returns a tensor of shape (..., dims[i] * s_i, ...)."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def ravel(input: Tensor) -> Tensor:
    """The elements as a contiguous 1-D tensor: a view of a contiguous input, else a copy (as
    PyTorch, even where reshape could view a strided input). Returns shape (numel,)."""
    return reshape(input.contiguous(), (-1,))
