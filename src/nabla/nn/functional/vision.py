"""Resampling: interpolate (nearest, (bi/tri)linear, bicubic, area) and pixel_shuffle / unshuffle.

All derived: nearest is an index_select per spatial dim; (bi/tri)linear and bicubic are separable,
a product with one interpolation matrix per dim (Y = A_h X A_w^T), so gradients (and second
derivatives) come from matmul; area is adaptive average pooling; pixel (un)shuffle is a reshape
and a permute.
"""

import math
import warnings

from nabla.backend import array_module
from nabla.nn.functional.adaptive_pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
)
from nabla.ops import index_select
from nabla.ops.linalg import matmul
from nabla.ops.shape import permute, reshape, transpose
from nabla.tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle"]

# mode -> the number of spatial dims it needs (0: any of 1, 2, 3)
_MODES = {"nearest": 0, "nearest-exact": 0, "area": 0, "linear": 1, "bilinear": 2, "trilinear": 3,
          "bicubic": 2}
_INTERPOLATING = ("linear", "bilinear", "trilinear", "bicubic")
_AREA = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}
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


def _check_rank(input: Tensor, mode: str) -> None:
    """PyTorch's errors for an input rank the mode does not take."""
    shape, need = tuple(input.shape), _MODES[mode]
    if input.ndim in (3, 4, 5) and need in (0, input.ndim - 2):
        return
    if input.ndim in (3, 4, 5) and mode != "bicubic":
        raise NotImplementedError(f"interpolate: Got {input.ndim}D input, but {mode} mode needs "
                                  f"{need + 2}D input (input of shape {shape}; give "
                                  f"(N, C) and {need} spatial dim(s))")
    raise NotImplementedError(
        f"interpolate: Input Error: Only 3D, 4D and 5D input Tensors supported (got "
        f"{input.ndim}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | "
        f"area | nearest-exact (got {mode}); input of shape {shape}: give (N, C, L), "
        f"(N, C, H, W) or (N, C, D, H, W) ((N, C, H, W) for bicubic)")


def _along(y: Tensor, axis: int, a: Tensor) -> Tensor:
    """The (o, n) matrix ``a`` applied to dim ``axis`` (of size n) of y."""
    if axis == y.ndim - 1:
        return matmul(y, transpose(a, 0, 1))
    shape = tuple(y.shape)
    rest = shape[axis + 1:]
    if len(rest) == 1:
        return matmul(a, y)
    y = reshape(y, shape[:axis + 1] + (math.prod(rest),))  # later dims as the matmul's columns
    return reshape(matmul(a, y), shape[:axis] + (a.shape[0],) + rest)


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
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) input.

    Args:
        input: (N, C, L) for 'linear', (N, C, H, W) for 'bilinear'/'bicubic', (N, C, D, H, W)
            for 'trilinear'; 'nearest', 'nearest-exact' and 'area' take any of the three.
        size: output spatial size (int or tuple), or
        scale_factor: multiplier(s) of the input size (output = floor(size * scale)).
        mode: 'nearest' (src = floor(dst * in / out)), 'nearest-exact', 'linear', 'bilinear',
            'trilinear', 'bicubic' (four taps per dim, cubic convolution with A = -0.75; can
            overshoot the input's range: clamp the result for images), 'area' (adaptive average
            pooling to the output size: y[i] = mean of x[floor(i in / out) : ceil((i+1) in / out)]).
        align_corners: for (bi/tri)linear/bicubic: True maps corner pixels onto corner pixels
            (src = dst (in - 1) / (out - 1)); False (default) uses pixel centres
            (src = (dst + 0.5) in / out - 0.5).
        recompute_scale_factor: True computes the source positions from the output size
            rather than from scale_factor ('area' always does).

    Returns:
        (N, C, *size).
    """
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (use one of "
                                  f"{tuple(_MODES)})")
    if antialias:
        raise NotImplementedError(f"interpolate: antialias=True is not supported (mode "
                                  f"{mode!r}); resize without it, or blur before downsampling")
    if align_corners is not None and mode not in _INTERPOLATING:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    _check_rank(input, mode)
    k = input.ndim - 2
    out, scales = _sizes(input, k, size, scale_factor)
    if mode == "area":
        return _AREA[k](input, out)
    if recompute_scale_factor or scales is None:
        scales = (None,) * k
    xp = array_module(input._data)
    y = input
    for d in range(k):  # one spatial dim at a time (separable)
        axis = 2 + d
        n, o = input.shape[axis], out[d]
        if mode in ("nearest", "nearest-exact"):
            idx = _nearest_index(n, o, scales[d], mode == "nearest-exact", xp)
            y = index_select(y, axis, Tensor._make(idx))
            continue
        matrix = _cubic_matrix if mode == "bicubic" else _linear_matrix
        y = _along(y, axis, matrix(n, o, scales[d], bool(align_corners), input._data.dtype, xp))
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
