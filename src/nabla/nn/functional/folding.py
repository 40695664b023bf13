"""unfold and fold: im2col and col2im as public functions (PyTorch's F.unfold / F.fold).

unfold copies every sliding window of a padded image into a column; fold sums columns back into
place, overlapping windows adding up. Each is the other's adjoint, so each one's gradient rule
is the other one.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.nn.functional._im2col import col2im_add, crop, padded_input, padded_zeros, windows
from nabla.nn.functional._shapes import batched
from nabla.nn.utils.conv_utils import Geom, make_geom, ntuple
from nabla.ops.shape import reshape
from nabla.tensor import Tensor

__all__ = ["unfold", "fold"]


class Unfold(Op):
    """cols[n, (c,i,j), l] = x_pad[n, c, p*s + i*d, q*s + j*d] with l = (p, q);
    dx = fold(grad) (col2im: the windows' gradients summed back into place)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, g: Geom):
        ctx.geom, ctx.shape = g, x.shape
        n, c = x.shape[:2]
        cols = array_module(x).ascontiguousarray(windows(padded_input(x, g), g))
        return cols.reshape(n, c * g.kernel[0] * g.kernel[1], -1)

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, ctx.geom, ctx.shape[1]), None


class Fold(Op):
    """x[n, c, h, w] = sum of the cols entries whose window covers (h, w) (col2im);
    dcols = unfold(grad)."""

    array_backward = True

    @staticmethod
    def forward(ctx, cols, g: Geom, c: int):
        ctx.geom = g
        n = cols.shape[0]
        out = padded_zeros(n, c, g, cols.dtype, array_module(cols))
        col2im_add(out, cols.reshape((n, c) + g.kernel + g.out_hw), g)
        return crop(out, g)

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, ctx.geom), None, None


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding local blocks (im2col).

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size, dilation, padding, stride: int or pair.

    Returns:
        (N, C * kH * kW, L), L = Ho * Wo blocks; column l holds block (l // Wo, l % Wo) with
        rows ordered (c, i, j).
    """
    x, unbatched = batched("unfold", input, 4)
    p = ntuple(padding, 2, "padding")
    g = make_geom("unfold", tuple(x.shape[2:]), ntuple(kernel_size, 2, "kernel_size"),
                  ntuple(stride, 2, "stride"), (p[0], p[0], p[1], p[1]),
                  ntuple(dilation, 2, "dilation"))
    y = Unfold.apply(x, g)
    return reshape(y, y.shape[1:]) if unbatched else y


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding local blocks back into an image (col2im; the adjoint of unfold).

    Args:
        input: (N, C * kH * kW, L) or (C * kH * kW, L).
        output_size: (H, W) of the image.
        kernel_size, dilation, padding, stride: int or pair, as given to unfold.

    Returns:
        (N, C, H, W); overlapping blocks add up.
    """
    x, unbatched = batched("fold", input, 3)
    kernel = ntuple(kernel_size, 2, "kernel_size")
    p = ntuple(padding, 2, "padding")
    g = make_geom("fold", ntuple(output_size, 2, "output_size"), kernel,
                  ntuple(stride, 2, "stride"), (p[0], p[0], p[1], p[1]),
                  ntuple(dilation, 2, "dilation"))
    kk, blocks = kernel[0] * kernel[1], g.out_hw[0] * g.out_hw[1]
    if x.shape[1] % kk or x.shape[2] != blocks:
        raise RuntimeError(
            f"fold: expected input of size (N, C * {kk}, {blocks}) for output_size "
            f"{tuple(g.in_hw)} and kernel {kernel}, but got {tuple(x.shape)}"
        )
    y = Fold.apply(x, g, x.shape[1] // kk)
    return reshape(y, y.shape[1:]) if unbatched else y
