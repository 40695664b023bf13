"""Adaptive pooling: a fixed output size, whatever the input size (PyTorch's windows: start
floor(i H / Ho), end ceil((i + 1) H / Ho)).

Derived from other ops, so it has no gradient rule of its own: average pooling is a product with
two averaging matrices (Y = A_h X A_w^T), max pooling a gather at the argmax (plain pooling when
the sizes divide).
"""

from nabla.backend import array_module
from nabla.nn.functional._shapes import squeeze_h, unsqueeze_h
from nabla.nn.functional.pooling import avg_pool2d, max_pool2d
from nabla.nn.utils.conv_utils import ntuple
from nabla.ops import gather
from nabla.ops.linalg import matmul
from nabla.ops.reduce import _unary, mean
from nabla.ops.shape import reshape, transpose
from nabla.tensor import Tensor

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d"]


def _bounds(n: int, o: int) -> list:
    """PyTorch's adaptive windows: [floor(i n / o), ceil((i + 1) n / o)) for i < o."""
    return [(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]


def _output_size(op: str, x: Tensor, output_size, k: int) -> tuple:
    size = ntuple(output_size, k, "output_size") if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    size = tuple(x.shape[-k + i] if s is None else int(s) for i, s in enumerate(size))
    if len(size) != k or min(size) <= 0:
        raise RuntimeError(f"{op}: output_size must be {k} positive ints, got {output_size}")
    return size


def _averaging_matrix(n: int, o: int, dtype, xp):
    """(o, n) matrix whose row i averages the inputs of adaptive window i."""
    a = xp.zeros((o, n), dtype)
    for i, (s, e) in enumerate(_bounds(n, o)):
        a[i, s:e] = 1.0 / (e - s)
    return Tensor._make(a)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over PyTorch's adaptive windows (start floor(i H / Ho), end ceil((i+1) H / Ho)).

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: int or (Ho, Wo) (None keeps the input size).

    Returns:
        (N, C, Ho, Wo).
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d: expected 3D or 4D input, got "
                           f"{tuple(input.shape)}")
    (ho, wo), (h, w) = _output_size("adaptive_avg_pool2d", input, output_size, 2), \
        tuple(input.shape[-2:])
    if (ho, wo) == (1, 1):
        return mean(input, (-2, -1), keepdim=True)
    if h % ho == 0 and w % wo == 0:
        return avg_pool2d(input, (h // ho, w // wo))
    xp, dtype = array_module(input._data), input._data.dtype
    y = matmul(input, transpose(_averaging_matrix(w, wo, dtype, xp), 0, 1))
    return matmul(_averaging_matrix(h, ho, dtype, xp), y)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average over adaptive windows of (N, C, L) or (C, L) input.

    Returns:
        (N, C, Lo).
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d: expected 2D or 3D input, got "
                           f"{tuple(input.shape)}")
    (lo,) = _output_size("adaptive_avg_pool1d", input, output_size, 1)
    a = _averaging_matrix(input.shape[-1], lo, input._data.dtype, array_module(input._data))
    return matmul(input, transpose(a, 0, 1))


def _adaptive_argmax(x, out_hw: tuple):
    """Flat indices h * W + w (N, C, Ho, Wo) of the maximum of each adaptive window."""
    xp = array_module(x)
    h, w = x.shape[-2:]
    picks = []
    for n, o in ((h, out_hw[0]), (w, out_hw[1])):
        b = _bounds(n, o)
        k = max(e - s for s, e in b)
        # windows padded to k taps by repeating their last element (harmless for a maximum)
        picks.append(xp.array([[min(s + t, e - 1) for t in range(k)] for s, e in b]))
    ih, iw = picks
    v = x[..., ih[:, :, None, None], iw[None, None, :, :]]  # (N, C, Ho, kh, Wo, kw)
    v = xp.moveaxis(v, -3, -2).reshape(x.shape[:-2] + out_hw + (-1,))
    a = v.argmax(-1)  # the first maximum; NaN wins, as in PyTorch
    kw = iw.shape[1]
    rows = ih[xp.arange(out_hw[0])[:, None], a // kw]
    cols = iw[xp.arange(out_hw[1]), a % kw]
    return (rows * w + cols).astype(xp.int64)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over PyTorch's adaptive windows (derived: a gather at the argmax).

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: int or (Ho, Wo) (None keeps the input size).
        return_indices: also return the flat indices h * W + w of the maxima.

    Returns:
        (N, C, Ho, Wo) (and the int64 indices).
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d: expected 3D or 4D input, got "
                           f"{tuple(input.shape)}")
    out_hw = _output_size("adaptive_max_pool2d", input, output_size, 2)
    h, w = input.shape[-2:]
    if h % out_hw[0] == 0 and w % out_hw[1] == 0:
        return max_pool2d(input, (h // out_hw[0], w // out_hw[1]),
                          return_indices=return_indices)
    # the argmax as a step that nabla.jit.trace replays (it depends on the input's values)
    idx = _unary(lambda a: _adaptive_argmax(a, out_hw), input)
    lead = tuple(input.shape[:-2])
    flat = reshape(input, lead + (h * w,))
    y = reshape(gather(flat, -1, reshape(idx, lead + (-1,))), lead + out_hw)
    return (y, idx) if return_indices else y


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over adaptive windows of (N, C, L) or (C, L) input.

    Returns:
        (N, C, Lo) (and the int64 indices).
    """
    x = unsqueeze_h("adaptive_max_pool1d", input)
    out = adaptive_max_pool2d(x, (1, ntuple(output_size, 1, "output_size")[0]), return_indices)
    if return_indices:
        return squeeze_h(out[0]), squeeze_h(out[1])
    return squeeze_h(out)
