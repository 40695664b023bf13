"""Resampling: interpolate (nearest, linear, bilinear) and pixel_shuffle / pixel_unshuffle.

All derived: nearest is an index_select per spatial dim; (bi)linear is separable, a product with
one interpolation matrix per dim (Y = A_h X A_w^T), so gradients (and second derivatives) come
from matmul; pixel (un)shuffle is a reshape and a permute.
"""

import math
import warnings

from nabla.backend import array_module
from nabla.ops import index_select
from nabla.ops.linalg import matmul
from nabla.ops.shape import permute, reshape, transpose
from nabla.tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle"]

_MODES = {"nearest": 0, "nearest-exact": 0, "linear": 1, "bilinear": 2}


def _sizes(input: Tensor, k: int, size, scale_factor) -> tuple:
    """(output sizes, scales or None) for the k spatial dims."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: either size or scale_factor should be defined (not both)")
    if size is not None:
        size = (size,) * k if isinstance(size, int) else tuple(int(s) for s in size)
        if len(size) != k:
            raise ValueError(f"interpolate: size {size} must have {k} entries for input of "
                             f"shape {tuple(input.shape)}")
        return size, None
    scales = (float(scale_factor),) * k if isinstance(scale_factor, (int, float)) else \
        tuple(float(s) for s in scale_factor)
    if len(scales) != k:
        raise ValueError(f"interpolate: scale_factor {scale_factor} must have {k} entries")
    return tuple(math.floor(n * s) for n, s in zip(input.shape[2:], scales)), scales


def _nearest_index(n: int, o: int, scale, exact: bool, xp):
    """Source index of each output position: floor(dst * n / o) ('nearest', PyTorch's legacy
    rule) or floor((dst + 0.5) * n / o) ('nearest-exact'), capped at n - 1."""
    r = n / o if scale is None else 1.0 / scale
    dst = xp.arange(o, dtype=xp.float64) + (0.5 if exact else 0.0)
    return xp.minimum(xp.floor(dst * r).astype(xp.int64), n - 1)


def _linear_matrix(n: int, o: int, scale, align_corners: bool, dtype, xp) -> Tensor:
    """(o, n) matrix of linear interpolation weights (two per row)."""
    if align_corners:
        src = xp.arange(o, dtype=xp.float64) * ((n - 1) / (o - 1) if o > 1 else 0.0)
    else:
        r = n / o if scale is None else 1.0 / scale
        src = xp.maximum((xp.arange(o, dtype=xp.float64) + 0.5) * r - 0.5, 0.0)
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n - 1)
    i1 = xp.minimum(i0 + 1, n - 1)
    lam = src - i0
    a = xp.zeros((o, n), xp.float64)
    rows = xp.arange(o)
    a[rows, i0] += 1.0 - lam
    a[rows, i1] += lam
    return Tensor._make(a.astype(dtype))


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, L) or (N, C, H, W) input.

    Args:
        input: (N, C, L) for 'nearest'/'linear', (N, C, H, W) for 'nearest'/'bilinear'.
        size: output spatial size (int or tuple), or
        scale_factor: multiplier(s) of the input size (output = floor(size * scale)).
        mode: 'nearest' (src = floor(dst * in / out)), 'nearest-exact', 'linear', 'bilinear'.
        align_corners: for (bi)linear: True maps corner pixels onto corner pixels
            (src = dst (in - 1) / (out - 1)); False (default) uses pixel centres
            (src = (dst + 0.5) in / out - 0.5).
        recompute_scale_factor: True computes the source positions from the output size
            rather than from scale_factor.

    Returns:
        (N, C, *size).
    """
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (use one of "
                                  f"{tuple(_MODES)})")
    k = input.ndim - 2
    if k not in (1, 2) or (_MODES[mode] and _MODES[mode] != k):
        raise ValueError(f"interpolate: mode {mode!r} does not support input of shape "
                         f"{tuple(input.shape)}")
    if align_corners is not None and not _MODES[mode]:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    out, scales = _sizes(input, k, size, scale_factor)
    if recompute_scale_factor or scales is None:
        scales = (None,) * k
    xp = array_module(input._data)
    y = input
    for d in range(k):  # one spatial dim at a time (separable)
        axis = 2 + d
        n, o = input.shape[axis], out[d]
        if not _MODES[mode]:
            idx = _nearest_index(n, o, scales[d], mode == "nearest-exact", xp)
            y = index_select(y, axis, Tensor._make(idx))
            continue
        a = _linear_matrix(n, o, scales[d], bool(align_corners), input._data.dtype, xp)
        y = matmul(a, y) if axis == input.ndim - 2 else matmul(y, transpose(a, 0, 1))
    return y


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of interpolate (kept for PyTorch compatibility)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated (as in PyTorch): ``interpolate(input, size, scale_factor, mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. "
                  "Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated (as in PyTorch): ``interpolate(input, size, scale_factor, mode='bilinear',
    align_corners=True)`` of (N, C, H, W) input."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. "
                  "Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r): y[c, h r + i, w r + j] =
    x[c r^2 + i r + j, h, w].

    Args:
        input: (*, C * r^2, H, W).
        upscale_factor: r.

    Returns:
        (*, C, H * r, W * r).
    """
    r = int(upscale_factor)
    *lead, c, h, w = input.shape
    if input.ndim < 3 or c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    lead = tuple(lead)
    k = len(lead)
    y = reshape(input, lead + (c // (r * r), r, r, h, w))
    y = permute(y, tuple(range(k + 1)) + (k + 3, k + 1, k + 4, k + 2))
    return reshape(y, lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of pixel_shuffle: (*, C, H r, W r) -> (*, C r^2, H, W).

    Args:
        input: (*, C, H * r, W * r).
        downscale_factor: r.

    Returns:
        (*, C * r^2, H, W).
    """
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    if input.ndim < 3 or h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width divisible by "
                           f"downscale_factor {r}, got input of size {tuple(input.shape)}")
    lead = tuple(lead)
    k = len(lead)
    y = reshape(input, lead + (c, h // r, r, w // r, r))
    y = permute(y, tuple(range(k + 1)) + (k + 2, k + 4, k + 1, k + 3))
    return reshape(y, lead + (c * r * r, h // r, w // r))
