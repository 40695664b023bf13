"""Power-average (LP) pooling, max unpooling and the *_with_indices aliases, derived from
avg/max pooling and scatter (no gradient rules of their own)."""

from nabla.backend import array_module
from nabla.creation import zeros
from nabla.nn.functional._shapes import batched
from nabla.nn.functional.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from nabla.nn.utils.conv_utils import ntuple
from nabla.ops.elementwise import abs as _abs
from nabla.ops.elementwise import relu, sign
from nabla.ops.scatter import scatter
from nabla.ops.shape import reshape
from nabla.tensor import Tensor

__all__ = ["lp_pool1d", "lp_pool2d", "max_unpool1d", "max_unpool2d", "max_pool1d_with_indices",
           "max_pool2d_with_indices"]


def _lp_finish(out: Tensor, window: int, norm_type: float) -> Tensor:
    # sign * relu(|.|) as PyTorch: a negative window sum (odd p) becomes 0 before the root
    return ((sign(out) * relu(_abs(out))) * window) ** (1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: y = (sum over each window of x^p)^(1/p).

    Args:
        input: (N, C, L) or (C, L).
        norm_type: the exponent p.
        kernel_size: the window length; stride defaults to it.
        ceil_mode: round the output size up.

    Returns:
        (N, C, Lo), Lo = floor((L - k) / s) + 1 (ceil with ceil_mode).
    """
    k = ntuple(kernel_size, 1, "kernel_size")[0]
    out = avg_pool1d(input ** norm_type, k, stride, 0, ceil_mode)
    return _lp_finish(out, k, norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: y = (sum over each window of x^p)^(1/p).

    Args:
        input: (N, C, H, W) or (C, H, W).
        norm_type: the exponent p.
        kernel_size: int or (kH, kW); stride defaults to kernel_size.
        ceil_mode: round the output size up.

    Returns:
        (N, C, Ho, Wo), Ho = floor((H - kH) / s) + 1 (ceil with ceil_mode).
    """
    kh, kw = ntuple(kernel_size, 2, "kernel_size")
    out = avg_pool2d(input ** norm_type, (kh, kw), stride, 0, ceil_mode)
    return _lp_finish(out, kh * kw, norm_type)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """max_pool1d returning (output, indices) whatever ``return_indices`` says."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """max_pool2d returning (output, indices) whatever ``return_indices`` says."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _unpool_size(op: str, in_hw: tuple, kernel, stride, padding, output_size) -> tuple:
    """PyTorch's default (in - 1) * s - 2p + k, or ``output_size`` checked against it."""
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(in_hw, stride, padding, kernel))
    if output_size is None:
        return default
    size = tuple(int(v) for v in output_size)
    if len(size) == len(default) + 2:
        size = size[2:]
    if len(size) != len(default):
        raise ValueError(f"{op}: output_size must have {len(default)} or {len(default) + 2} "
                         f"elements (got {len(size)})")
    for d, s, n in zip(default, stride, size):
        if not d - s < n < d + s:
            raise ValueError(f"{op}: invalid output_size {size} (dim sizes must be between "
                             f"{tuple(d - s for d in default)} and "
                             f"{tuple(d + s for d in default)})")
    return size


def _unpool(op: str, input: Tensor, indices: Tensor, out_hw: tuple) -> Tensor:
    """Scatter each value of (N, C, H, W) to its flat index into a zero (N, C, *out_hw)."""
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: expected indices of the input's shape {tuple(input.shape)}, "
                           f"got {tuple(indices.shape)}")
    if not isinstance(indices, Tensor):
        indices = Tensor._make(array_module(indices).asarray(indices))
    idx = indices._data
    n, c = input.shape[:2]
    size = out_hw[0] * out_hw[1]
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise RuntimeError(f"{op}: found an invalid max index {int(idx.max())} (output volume "
                           f"{size}, of size {tuple(out_hw)})")
    flat_idx = reshape(indices.long(), (n, c, -1))  # tensor ops: jit.trace reads the indices
    out = zeros(n, c, size, dtype=input.dtype)
    out = scatter(out, 2, flat_idx, reshape(input, (n, c, -1)))
    return reshape(out, (n, c) + tuple(out_hw))


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of max_pool2d: each value put back at its index, zeros elsewhere.

    Args:
        input: (N, C, H, W) or (C, H, W), pooled values.
        indices: the flat indices h * Wo + w from max_pool2d(return_indices=True).
        kernel_size, stride, padding: those of the pooling (stride defaults to kernel_size).
        output_size: (Ho, Wo) (or with N, C in front) when the default is ambiguous.

    Returns:
        (N, C, Ho, Wo), Ho = (H - 1) * s - 2p + k by default.
    """
    x, unbatched = batched("max_unpool2d", input, 4)
    kernel = ntuple(kernel_size, 2, "kernel_size")
    stride = kernel if stride is None else ntuple(stride, 2, "stride")
    out_hw = _unpool_size("max_unpool2d", tuple(x.shape[2:]), kernel, stride,
                          ntuple(padding, 2, "padding"), output_size)
    y = _unpool("max_unpool2d", x, reshape(indices, x.shape) if unbatched else indices, out_hw)
    return reshape(y, y.shape[1:]) if unbatched else y


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of max_pool1d: each value put back at its index, zeros elsewhere.

    Args:
        input: (N, C, L) or (C, L); indices: from max_pool1d(return_indices=True).
        output_size: (Lo,) (or with N, C in front) when the default is ambiguous.

    Returns:
        (N, C, Lo), Lo = (L - 1) * s - 2p + k by default.
    """
    x, unbatched = batched("max_unpool1d", input, 3)
    k = ntuple(kernel_size, 1, "kernel_size")
    s = k if stride is None else ntuple(stride, 1, "stride")
    (lo,) = _unpool_size("max_unpool1d", (x.shape[2],), k, s, ntuple(padding, 1, "padding"),
                         output_size)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"max_unpool1d: expected indices of the input's shape "
                           f"{tuple(input.shape)}, got {tuple(indices.shape)}")
    rows = tuple(x.shape[:2]) + (1, x.shape[2])
    y = _unpool("max_unpool1d", reshape(x, rows), reshape(indices, rows), (1, lo))
    y = reshape(y, tuple(y.shape[:2]) + (lo,))
    return reshape(y, y.shape[1:]) if unbatched else y
