"""Input shapes the convolution and pooling functions accept as PyTorch does: an unbatched
input is a batch of one, and a 1-D signal (N, C, L) is a 2-D image of height 1."""

from nabla.ops.shape import reshape
from nabla.tensor import Tensor


def batched(op: str, input: Tensor, ndim: int) -> tuple:
    """(input with a batch dim, whether one was added): unbatched input is accepted as in
    PyTorch."""
    if input.ndim == ndim:
        return input, False
    if input.ndim == ndim - 1:
        return reshape(input, (1,) + tuple(input.shape)), True
    raise RuntimeError(
        f"{op}: expected {ndim - 1}D (unbatched) or {ndim}D (batched) input, but got input of "
        f"size {tuple(input.shape)}"
    )


def unsqueeze_h(op: str, x: Tensor) -> Tensor:
    """(N, C, L) or (C, L) as an image of height 1: (N, C, 1, L) or (C, 1, L)."""
    if x.ndim not in (2, 3):
        raise RuntimeError(f"{op}: expected 2D (unbatched) or 3D (batched) input, but got input "
                           f"of size {tuple(x.shape)}")
    return reshape(x, tuple(x.shape[:-1]) + (1, x.shape[-1]))


def squeeze_h(y: Tensor) -> Tensor:
    """The height-1 image back as a signal: (..., 1, L) -> (..., L)."""
    return reshape(y, tuple(y.shape[:-2]) + (y.shape[-1],))
