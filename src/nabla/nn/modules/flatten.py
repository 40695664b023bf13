"""Flatten and Unflatten: reshape a range of dims into one, or one dim into several."""

from nabla.nn.modules.module import Module
from nabla.ops.shape import reshape
from nabla.tensor import Tensor


def flatten_shape(shape: tuple, start_dim: int, end_dim: int) -> tuple:
    """``shape`` with dims start_dim..end_dim (inclusive, negatives allowed) multiplied into one."""
    n = len(shape)
    if n == 0:
        return (1,)
    start, end = start_dim % n, end_dim % n
    if start > end:
        raise ValueError("flatten() has invalid args: start_dim cannot come after end_dim")
    size = 1
    for s in shape[start:end + 1]:
        size *= s
    return tuple(shape[:start]) + (size,) + tuple(shape[end + 1:])


class Flatten(Module):
    """Flatten dims ``start_dim``..``end_dim``: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return reshape(input, flatten_shape(input.shape, self.start_dim, self.end_dim))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dim ``dim`` into ``unflattened_size``: (N, 12) -> (N, 3, 4) for (1, (3, 4))."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim % input.ndim
        shape = tuple(input.shape[:dim]) + self.unflattened_size + tuple(input.shape[dim + 1:])
        return reshape(input, shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
