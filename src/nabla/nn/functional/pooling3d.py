"""3-D pooling (volumes): max_pool3d, avg_pool3d, lp_pool3d and max_unpool3d.

pooling.py's ops loop over the kernel's taps, whatever their number of dimensions, so the 3-D
ops are theirs under their own names (the graph, error messages and the ONNX export tell 2-D
and 3-D apart); their backward nodes are pooling.py's. Adaptive 3-D pooling is in
adaptive_pooling.py, with the 2-D form.
"""

import math

from nabla.nn.functional._shapes import batched
from nabla.nn.functional.pooling import AvgPool2d, MaxPool2d, avg_pool_nd, max_pool_nd
from nabla.nn.functional.pooling_more import _lp_finish, _unpool, _unpool_size
from nabla.nn.utils.conv_utils import ntuple
from nabla.ops.shape import reshape
from nabla.tensor import Tensor

__all__ = ["max_pool3d", "avg_pool3d", "lp_pool3d", "max_unpool3d", "max_pool3d_with_indices"]


class MaxPool3d(MaxPool2d):
    """y = max over each 3-D window of x (-inf padding); dx = grad scattered to the argmax
    (MaxPool2dBackward, whose rules work in any dimension)."""


class AvgPool3d(AvgPool2d):
    """y = scale * (sum of each zero-padded 3-D window); dx = grad * scale scattered over each
    window (AvgPool2dBackward)."""


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over each (dilated) window: y[n,c,d,h,w] = max_{i,j,l}
    x_pad[n, c, d*sD + i*dD, h*sH + j*dH, w*sW + l*dW].

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        kernel_size: int or (kD, kH, kW); stride defaults to kernel_size.
        padding: implicit -inf padding on both sides (at most half the kernel).
        dilation: spacing between window taps.
        ceil_mode: round the output size up (windows may hang over the end).
        return_indices: also return the argmax as flat indices (d * H + h) * W + w into each
            channel's volume (as max_unpool3d takes them).

    Returns:
        (N, C, Do, Ho, Wo), Do = floor((D + 2p - d(k - 1) - 1) / s) + 1 (ceil with ceil_mode;
        likewise Ho, Wo); with return_indices also the int64 indices of the same shape.
    """
    return max_pool_nd("max_pool3d", MaxPool3d, input, 3, kernel_size, stride, padding,
                       dilation, ceil_mode, return_indices)


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """max_pool3d returning (output, indices) whatever ``return_indices`` says."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over each window: y = (sum of the zero-padded window) / divisor.

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        kernel_size: int or (kD, kH, kW); stride defaults to kernel_size.
        padding: implicit zero padding on both sides (at most half the kernel).
        ceil_mode: round the output size up.
        count_include_pad: count padded zeros in the divisor (windows hanging over the padded
            border in ceil_mode are still cut there).
        divisor_override: a fixed divisor instead.

    Returns:
        (N, C, Do, Ho, Wo), Do = floor((D + 2p - k) / s) + 1 (ceil with ceil_mode; likewise
        Ho, Wo).
    """
    return avg_pool_nd("avg_pool3d", AvgPool3d, input, 3, kernel_size, stride, padding,
                       ceil_mode, count_include_pad, divisor_override)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: y = (sum over each 3-D window of x^p)^(1/p) (derived from
    avg_pool3d, as lp_pool2d from avg_pool2d).

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        norm_type: the exponent p.
        kernel_size: int or (kD, kH, kW); stride defaults to kernel_size.
        ceil_mode: round the output size up.

    Returns:
        (N, C, Do, Ho, Wo), Do = floor((D - kD) / s) + 1 (ceil with ceil_mode; likewise Ho, Wo).
    """
    kernel = ntuple(kernel_size, 3, "kernel_size")
    out = avg_pool3d(input ** norm_type, kernel, stride, 0, ceil_mode)
    return _lp_finish(out, math.prod(kernel), norm_type)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of max_pool3d: each value put back at its index, zeros elsewhere.

    Args:
        input: (N, C, D, H, W) or (C, D, H, W), pooled values.
        indices: the flat indices (d * Ho + h) * Wo + w from max_pool3d(return_indices=True).
        kernel_size, stride, padding: those of the pooling (stride defaults to kernel_size).
        output_size: (Do, Ho, Wo) (or with N, C in front) when the default is ambiguous.

    Returns:
        (N, C, Do, Ho, Wo), Do = (D - 1) * s - 2p + k by default (likewise Ho, Wo).
    """
    op = "max_unpool3d"
    x, unbatched = batched(op, input, 5)
    kernel = ntuple(kernel_size, 3, "kernel_size")
    stride = kernel if stride is None else ntuple(stride, 3, "stride")
    size = _unpool_size(op, tuple(x.shape[2:]), kernel, stride, ntuple(padding, 3, "padding"),
                        output_size)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: expected indices of the input's shape {tuple(input.shape)}, "
                           f"got {tuple(indices.shape)}")
    idx, volume = indices._data, math.prod(size)
    if idx.size and (idx.min() < 0 or idx.max() >= volume):
        raise RuntimeError(f"{op}: found an invalid max index {int(idx.max())} (output volume "
                           f"{volume}, of size {size}); pass output_size if the pooled input "
                           "was larger")
    # each channel's volume as one row: the flat indices address it directly
    n, c = x.shape[:2]
    flat = (n, c, 1, -1)
    y = _unpool(op, reshape(x, flat), reshape(indices, flat), (1, volume))
    y = reshape(y, (n, c) + size)
    return reshape(y, y.shape[1:]) if unbatched else y
