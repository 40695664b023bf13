"""Shape ops: they move or repeat elements without changing values, so each gradient rule is the
inverse move (reshape back, transpose back, sum over what was broadcast)."""

from nabla.autograd.function import Op
from nabla.tensor import Tensor

__all__ = ["reshape", "broadcast_to", "sum_to_size"]


class Reshape(Op):
    """y = x viewed with a new shape;  dy/dx = grad reshaped back."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.in_shape), None


class BroadcastTo(Op):
    """y = x repeated along broadcast dimensions;  dy/dx = grad summed over them."""

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

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
        )
        y = x.sum(axis=axes, keepdims=True) if axes else x
        if lead:
            y = y.reshape(shape)
        if y.shape != tuple(shape):
            raise ValueError(f"shape {x.shape} cannot be summed to {tuple(shape)}")
        return y

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(grad, ctx.in_shape), None


def _xp(x):
    from nabla.backend import array_module

    return array_module(x)


def reshape(input: Tensor, shape) -> Tensor:
    """A tensor with the same elements in ``shape`` (one dimension may be -1)."""
    shape = tuple(shape)
    if shape == input.shape:
        return input
    return Reshape.apply(input, shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    """Repeat ``input`` along size-1 (or missing leading) dimensions to ``shape``; no copy."""
    shape = tuple(shape)
    if shape == input.shape:
        return input
    return BroadcastTo.apply(input, shape)


def sum_to_size(input: Tensor, shape) -> Tensor:
    """Sum ``input`` down to ``shape``, the inverse of broadcasting (used by the engine)."""
    shape = tuple(shape)
    if shape == input.shape:
        return input
    return SumToSize.apply(input, shape)
