"""Pooling: max and average over sliding windows (their adaptive forms: adaptive_pooling.py).

Max and average pooling loop over the kernel offsets (kh*kw, or kd*kh*kw), each step one
vectorized operation on a strided slice of the padded input (no loop over pixels). Their backward
rules scatter the gradient back the same way, as a pair of linear ops that are each other's
adjoint (so second derivatives work): gather <-> scatter for max pooling (the argmax fixed),
window sum <-> window scatter for average pooling. 1-D pooling is 2-D pooling of height 1; the
ops work on 3-D windows unchanged (pooling3d.py names them MaxPool3d and AvgPool3d).
"""

import math

from nabla.autograd.function import Op
from nabla.backend import all_finite, array_module, select
from nabla.nn.functional._shapes import batched, squeeze_h, unsqueeze_h
from nabla.nn.functional._windows import pad_array, tap_slices, unpad
from nabla.nn.utils.conv_utils import Geom, ntuple, pool_output_size
from nabla.ops.shape import reshape
from nabla.tensor import Tensor

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"]


# -- the padded input's strided slices (one per kernel offset: _windows.tap_slices) -------------
def _scatter(parts, g: Geom, shape: tuple, dtype, xp):
    """Sum (slice index, values (N, C, *out)) into the padded input's slices; crop to ``shape``.
    Windows that cannot overlap (stride >= kernel) never meet: each slice is written, not added
    (a strided add costs twice a strided copy)."""
    out = xp.zeros(shape[:2] + g.padded_hw, dtype)
    overlapping = g.overlapping
    for idx, v in parts:
        if overlapping:
            out[idx] += v
        else:
            out[idx] = v
    return unpad(out, g)


# -- max pooling ---------------------------------------------------------------------------------
class MaxPool2d(Op):
    """y = max over each window of x (-inf padding); dx = grad scattered to the argmax."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, g: Geom, with_indices: bool):
        xp = array_module(x)
        xpad = pad_array(x, g, -xp.inf)
        best, arg = _window_max(xp, xpad, g, nan=False)
        if xp.isnan(best).any():  # rare: redo with the NaN rule (two more passes per tap)
            best, arg = _window_max(xp, xpad, g, nan=True)
        ctx.geom, ctx.arg, ctx.shape = g, arg, x.shape
        if not with_indices:
            return best
        idx = _flat_indices(arg, g)  # a second output, without gradient
        ctx.mark_non_differentiable(idx)
        return best, idx

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        return MaxPool2dBackward.apply(grad, ctx.arg, ctx.geom, ctx.shape), None, None


def _taps(xp, xpad, g: Geom):
    """(k, the input under kernel offset k (N, C, *out)) for each offset k. Windows that tile
    the input (stride = kernel, no dilation: 2x2 pooling) are copied tap-major once, so each
    tap is one contiguous block (ops on the strided slices run several times slower)."""
    if g.stride != g.kernel or any(d != 1 for d in g.dilation):
        return ((k, xpad[idx]) for k, idx in tap_slices(g))
    n, c = xpad.shape[:2]
    dims = len(g.kernel)
    tiled = xpad[(slice(None), slice(None)) + tuple(slice(0, o * k) for o, k in
                                                    zip(g.out_hw, g.kernel))]
    v = tiled.reshape((n, c) + tuple(m for o, k in zip(g.out_hw, g.kernel) for m in (o, k)))
    # (n, c, o1, k1, o2, k2, ...) -> (k1, k2, ..., n, c, o1, o2, ...)
    order = tuple(3 + 2 * i for i in range(dims)) + (0, 1) + tuple(2 + 2 * i for i in range(dims))
    return enumerate(xp.ascontiguousarray(v.transpose(order)).reshape(
        (math.prod(g.kernel), n, c) + g.out_hw))


def _window_max(xp, xpad, g: Geom, nan: bool):
    """(max of each window, its kernel offset) by a pass per offset. PyTorch's rule: move to a
    later offset if it is larger, or (``nan``) if it is NaN, so NaN propagates; without NaNs
    in the input the NaN test can be left out."""
    best = arg = None
    small = math.prod(g.kernel) <= 127  # offsets fit in int8: less memory traffic
    for k, v in _taps(xp, xpad, g):
        if best is None:
            best, arg = v.copy(), xp.zeros(v.shape, xp.int8 if small else xp.int32)
            continue
        take = (v > best) | xp.isnan(v) if nan else v > best
        best = xp.maximum(best, v)
        # offsets come in increasing order, so where(take, k, arg) is max(arg, take * k): plain
        # arithmetic, many times faster than where or a masked copy
        arg = xp.maximum(arg, take * arg.dtype.type(k))
    return best, arg


class MaxPool2dBackward(Op):
    """dx = grad of each window sent to its argmax (a scatter, linear in grad);
    its own gradient gathers at the same argmax."""

    array_backward = True

    @staticmethod
    def forward(ctx, grad, arg, g: Geom, shape):
        ctx.arg, ctx.geom = arg, g
        xp = array_module(grad)
        if all_finite(grad):  # the product with the 0/1 mask is exact
            parts = ((idx, grad * (arg == k)) for k, idx in tap_slices(g))
        else:  # as PyTorch, an infinite or NaN grad goes only to its argmax (0 * inf is NaN)
            parts = ((idx, select(arg == k, grad, 0.0)) for k, idx in tap_slices(g))
        return _scatter(parts, g, shape, grad.dtype, xp)

    @staticmethod
    def backward(ctx, grad):
        return MaxPool2dGather.apply(grad, ctx.arg, ctx.geom), None, None, None


class MaxPool2dGather(Op):
    """y = x at each window's (fixed) argmax; dx = grad scattered back there."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, arg, g: Geom):
        ctx.arg, ctx.geom, ctx.shape = arg, g, x.shape
        xpad = pad_array(x, g, 0)
        out = array_module(x).zeros(arg.shape, x.dtype)
        for k, idx in tap_slices(g):
            v = xpad[idx]
            out += v * (arg == k)
        return out

    @staticmethod
    def backward(ctx, grad):
        return MaxPool2dBackward.apply(grad, ctx.arg, ctx.geom, ctx.shape), None, None


# -- average pooling -----------------------------------------------------------------------------
class AvgPool2d(Op):
    """y = scale * (sum of each zero-padded window), scale = 1 / divisor per output position;
    dx = grad * scale scattered over each window."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, g: Geom, scale):
        xpad = pad_array(x, g, 0)
        out = array_module(x).zeros(x.shape[:2] + g.out_hw, x.dtype)
        for _, idx in tap_slices(g):
            out += xpad[idx]
        out *= scale
        ctx.geom, ctx.scale, ctx.shape = g, scale, x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2dBackward.apply(grad, ctx.geom, ctx.scale, ctx.shape), None, None


class AvgPool2dBackward(Op):
    """dx = grad * scale added over each window (the adjoint of AvgPool2d; its own gradient
    is AvgPool2d again)."""

    array_backward = True

    @staticmethod
    def forward(ctx, grad, g: Geom, scale, shape):
        ctx.geom, ctx.scale = g, scale
        gs = grad * scale
        return _scatter(((idx, gs) for _, idx in tap_slices(g)), g, shape, grad.dtype,
                        array_module(grad))

    @staticmethod
    def backward(ctx, grad):
        return AvgPool2d.apply(grad, ctx.geom, ctx.scale), None, None, None


# -- public functions ----------------------------------------------------------------------------
def _pool_geom(op: str, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode) -> Geom:
    """Window geometry over the spatial dims of batched ``x`` (N, C, *spatial); the padding
    after each dim grows to cover ceil_mode's last window."""
    dims = x.ndim - 2
    kernel = ntuple(kernel_size, dims, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else \
        ntuple(stride, dims, "stride")
    pad, dilation = ntuple(padding, dims, "padding"), ntuple(dilation, dims, "dilation")
    if any(2 * p > d * (k - 1) + 1 for p, k, d in zip(pad, kernel, dilation)):
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got "
                           f"pad={pad}, kernel_size={kernel} and dilation={dilation}")
    if min(kernel) <= 0 or min(stride) <= 0 or min(dilation) <= 0:
        raise RuntimeError(f"{op}: kernel_size {kernel}, stride {stride} and dilation "
                           f"{dilation} must be positive")
    in_hw = tuple(x.shape[2:])
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(in_hw, kernel, stride, pad, dilation))
    if min(out) <= 0:
        raise RuntimeError(f"{op}: input of size {tuple(x.shape)} is too small for kernel "
                           f"{kernel} (output size {out})")
    after = tuple(max((o - 1) * s + d * (k - 1) + 1 - n - p, 0)
                  for o, s, d, k, n, p in zip(out, stride, dilation, kernel, in_hw, pad))
    pads = tuple(v for pair in zip(pad, after) for v in pair)
    return Geom(kernel, stride, pads, dilation, 1, in_hw, out)


def _flat_indices(arg, g: Geom):
    """PyTorch's indices: the position (h * W + w, or (d * H + h) * W + w) in the unpadded
    input of each argmax, from its kernel offset ``arg`` (N, C, *out)."""
    xp = array_module(arg)
    dims = len(g.kernel)
    offsets = xp.unravel_index(arg.astype(xp.int64), g.kernel)
    flat = 0
    for i, (t, s, d, o, p, n) in enumerate(zip(offsets, g.stride, g.dilation, g.out_hw,
                                                g.pad[0::2], g.in_hw)):
        start = (xp.arange(o) * s - p).reshape((o,) + (1,) * (dims - 1 - i))
        flat = flat * n + start + t * d
    return flat


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over each (dilated) window: y[n,c,h,w] = max_{i,j} x_pad[n,c,h*s+i*d,w*s+j*d].

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: int or (kH, kW); stride defaults to kernel_size.
        padding: implicit -inf padding on both sides (at most half the kernel).
        dilation: spacing between window taps.
        ceil_mode: round the output size up (windows may hang over the end).
        return_indices: also return the argmax as flat indices h * W + w into the input.

    Returns:
        (N, C, Ho, Wo), Ho = floor((H + 2p - d(k - 1) - 1) / s) + 1 (ceil with ceil_mode);
        with return_indices also the int64 indices of the same shape.
    """
    return max_pool_nd("max_pool2d", MaxPool2d, input, 2, kernel_size, stride, padding,
                       dilation, ceil_mode, return_indices)


def max_pool_nd(op: str, cls, input: Tensor, dims: int, kernel_size, stride, padding, dilation,
                ceil_mode: bool, return_indices: bool):
    """max_pool2d (dims = 2) or max_pool3d (dims = 3) with the node class ``cls``."""
    x, unbatched = batched(op, input, dims + 2)
    g = _pool_geom(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices:
        y = cls.apply(x, g, False)
        return reshape(y, y.shape[1:]) if unbatched else y
    y, idx = cls.apply(x, g, True)
    if unbatched:
        y, idx = reshape(y, y.shape[1:]), reshape(idx, idx.shape[1:])
    return y, idx


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over each window of (N, C, L) or (C, L) input (max_pool2d of height 1).

    Returns:
        (N, C, Lo), Lo = floor((L + 2p - d(k - 1) - 1) / s) + 1; with return_indices also the
        int64 positions of the maxima.
    """
    x = unsqueeze_h("max_pool1d", input)
    stride = None if stride is None or stride == () else (1, _one(stride, "stride"))
    out = max_pool2d(x, (1, _one(kernel_size, "kernel_size")), stride,
                     (0, _one(padding, "padding")), (1, _one(dilation, "dilation")), ceil_mode,
                     return_indices)
    if return_indices:
        return squeeze_h(out[0]), squeeze_h(out[1])
    return squeeze_h(out)


def _one(v, name: str) -> int:
    return ntuple(v, 1, name)[0]


def _avg_scale(g: Geom, count_include_pad: bool, divisor_override, dtype, xp):
    """1 / divisor for each output position (separable: a product of per-dimension counts)."""
    if divisor_override:
        return dtype.type(1.0 / divisor_override)
    dims, count = len(g.kernel), 1
    for i, (n, k, s, p, o) in enumerate(zip(g.in_hw, g.kernel, g.stride, g.pad[0::2],
                                             g.out_hw)):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, n + p)
        c = end - start if count_include_pad else xp.minimum(end, n) - xp.maximum(start, 0)
        count = count * c.reshape((o,) + (1,) * (dims - 1 - i))
    return (1.0 / count).astype(dtype)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over each window: y = (sum of the zero-padded window) / divisor.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: int or (kH, kW); stride defaults to kernel_size.
        padding: implicit zero padding on both sides (at most half the kernel).
        ceil_mode: round the output size up.
        count_include_pad: count padded zeros in the divisor (windows hanging over the padded
            border in ceil_mode are still cut there).
        divisor_override: a fixed divisor instead.

    Returns:
        (N, C, Ho, Wo), Ho = floor((H + 2p - k) / s) + 1 (ceil with ceil_mode).
    """
    return avg_pool_nd("avg_pool2d", AvgPool2d, input, 2, kernel_size, stride, padding,
                       ceil_mode, count_include_pad, divisor_override)


def avg_pool_nd(op: str, cls, input: Tensor, dims: int, kernel_size, stride, padding,
                ceil_mode: bool, count_include_pad: bool, divisor_override) -> Tensor:
    """avg_pool2d (dims = 2) or avg_pool3d (dims = 3) with the node class ``cls``."""
    x, unbatched = batched(op, input, dims + 2)
    g = _pool_geom(op, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor_override must not be zero (None: the window size)")
    xp = array_module(x._data)
    scale = _avg_scale(g, count_include_pad, divisor_override, x._data.dtype, xp)
    y = cls.apply(x, g, scale)
    return reshape(y, y.shape[1:]) if unbatched else y


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over each window of (N, C, L) or (C, L) input (avg_pool2d of height 1).

    Returns:
        (N, C, Lo), Lo = floor((L + 2p - k) / s) + 1 (ceil with ceil_mode).
    """
    x = unsqueeze_h("avg_pool1d", input)
    stride = None if stride is None or stride == () else (1, _one(stride, "stride"))
    return squeeze_h(avg_pool2d(x, (1, _one(kernel_size, "kernel_size")), stride,
                                 (0, _one(padding, "padding")), ceil_mode, count_include_pad))
