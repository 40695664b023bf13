"""Flips, rolls and triangles: ops that move elements within their dimensions (or zero some), so
each gradient rule is the same move undone (flip back, roll back) or the same mask (tril, triu)."""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.shape import _dim, _dims, reshape
from nabla.tensor import Tensor

__all__ = ["flip", "roll", "tril", "triu"]


class Flip(Op):
    """y = x reversed along ``dims`` (a copy, as in PyTorch);  dy/dx = grad flipped back."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return array_module(x).flip(x, dims).copy()  # NumPy's flip is a view

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims), None


class Roll(Op):
    """y = x shifted cyclically by ``shifts`` along ``dims``;  dy/dx = grad rolled back."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return array_module(x).roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return Roll.apply(grad, back, ctx.dims), None, None


class Tril(Op):
    """y = x with the elements above the ``diagonal``-th diagonal zeroed;  dy/dx = tril(grad)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return array_module(x).tril(x, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Tril.apply(grad, ctx.diagonal), None


class Triu(Op):
    """y = x with the elements below the ``diagonal``-th diagonal zeroed;  dy/dx = triu(grad)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return array_module(x).triu(x, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Triu.apply(grad, ctx.diagonal), None


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (int or tuple). Returns input's shape."""
    dims = _dims("flip", dims, input.ndim)
    return Flip.apply(input, () if input.ndim == 0 else dims)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically: by ``shifts`` along ``dims``, or over the flattened tensor
    when dims is None. Returns input's shape."""
    if dims is None:
        return reshape(Roll.apply(reshape(input, (-1,)), shifts, 0), input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    dims = tuple(_dim("roll", d, input.ndim) for d in dims)
    return Roll.apply(input, shifts, dims)


def _check_matrix(op: str, input: Tensor) -> None:
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (diagonal > 0 keeps more above the main one).

    Args:
        input: tensor of shape (*, m, n).
    Returns:
        Tensor of shape (*, m, n).
    """
    _check_matrix("tril", input)
    return Tril.apply(input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (diagonal > 0 drops more above the main one).

    Args:
        input: tensor of shape (*, m, n).
    Returns:
        Tensor of shape (*, m, n).
    """
    _check_matrix("triu", input)
    return Triu.apply(input, diagonal)
