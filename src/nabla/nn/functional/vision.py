"""Resampling: interpolate (nearest, linear, bilinear, bicubic) and pixel_shuffle / unshuffle.

All derived: nearest is an index_select per spatial dim; (bi)linear and bicubic are separable, a
product with one interpolation matrix per dim (Y = A_h X A_w^T), so gradients (and second
derivatives) come from matmul; pixel (un)shuffle is a reshape and a permute.
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

# mode -> the number of spatial dims it needs (0: any)
_MODES = {"nearest": 0, "nearest-exact": 0, "linear": 1, "bilinear": 2, "bicubic": 2}
_CUBIC_A = -0.75  # the cubic convolution kernel's parameter (Keys), as PyTorch and OpenCV


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
    r = _source_scale(n, o, scale, align_corners)
    if align_corners:
        src = xp.arange(o, dtype=xp.float64) * r
    else:
        src = xp.maximum((xp.arange(o, dtype=xp.float64) + 0.5) * r - 0.5, 0.0)
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n - 1)
    i1 = xp.minimum(i0 + 1, n - 1)
    lam = src - i0
    a = xp.zeros((o, n), xp.float64)
    rows = xp.arange(o)
    a[rows, i0] += 1.0 - lam
    a[rows, i1] += lam
    return Tensor._make(a.astype(dtype))


def _source_scale(n: int, o: int, scale, align_corners: bool) -> float:
    """Input pixels per output pixel: (n - 1) / (o - 1) (align_corners) or n / o, or 1 / scale
    when the scale is given."""
    if align_corners:
        return (n - 1) / (o - 1) if o > 1 else 0.0
    return n / o if scale is None else 1.0 / scale


def _cubic_weights(t, xp):
    """(o, 4) weights of the taps at floor(src) - 1 .. floor(src) + 2, t = src - floor(src):
    the kernel is (A+2)|x|³ - (A+3)|x|² + 1 for |x| <= 1 and A|x|³ - 5A|x|² + 8A|x| - 4A for
    1 < |x| < 2."""
    a = _CUBIC_A

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return xp.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)


def _cubic_matrix(n: int, o: int, scale, align_corners: bool, dtype, xp) -> Tensor:
    """(o, n) matrix of bicubic weights (four per row; taps past an edge repeat the edge)."""
    r = _source_scale(n, o, scale, align_corners)
    dst = xp.arange(o, dtype=xp.float64)
    src = dst * r if align_corners else (dst + 0.5) * r - 0.5  # not clamped at 0, unlike linear
    i0 = xp.floor(src)
    weights = _cubic_weights(src - i0, xp)
    a = xp.zeros((o, n), xp.float64)
    rows = xp.arange(o)
    for k in range(4):  # one tap per row at a time: no repeated index within an update
        taps = xp.clip(i0.astype(xp.int64) - 1 + k, 0, n - 1)
        a[rows, taps] += weights[:, k]
    return Tensor._make(a.astype(dtype))


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, L) or (N, C, H, W) input.

    Args:
        input: (N, C, L) for 'nearest'/'linear', (N, C, H, W) for 'nearest'/'bilinear'/
            'bicubic'.
        size: output spatial size (int or tuple), or
        scale_factor: multiplier(s) of the input size (output = floor(size * scale)).
        mode: 'nearest' (src = floor(dst * in / out)), 'nearest-exact', 'linear', 'bilinear',
            'bicubic' (four taps per dim, cubic convolution with A = -0.75; can overshoot the
            input's range: clamp the result for images).
        align_corners: for (bi)linear/bicubic: True maps corner pixels onto corner pixels
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
    if antialias:
        raise NotImplementedError(f"interpolate: antialias=True is not supported (mode "
                                  f"{mode!r}); resize without it, or blur before downsampling")
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
        matrix = _cubic_matrix if mode == "bicubic" else _linear_matrix
        a = matrix(n, o, scales[d], bool(align_corners), input._data.dtype, xp)
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
