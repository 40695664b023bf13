"""Sliding windows on raw arrays in any number of spatial dimensions (2-D pooling, 3-D
convolution and pooling): the padded input, the strided slice each kernel tap sees, and all the
windows as one strided view. Arrays are (N, C, *spatial); the geometry is a conv_utils.Geom.
"""

import itertools

from nabla.backend import array_module
from nabla.nn.utils.conv_utils import Geom


def _inner(g: Geom) -> tuple:
    """The index of the unpadded input inside the padded one."""
    return (slice(None), slice(None)) + tuple(
        slice(a, a + n) for a, n in zip(g.pad[0::2], g.in_hw))


def pad_array(x, g: Geom, value=0):
    """x (N, C, *in) with ``value`` around it as g.pad says (x itself without padding)."""
    if not any(g.pad):
        return x
    out = array_module(x).full(x.shape[:2] + g.padded_hw, value, x.dtype)
    out[_inner(g)] = x
    return out


def unpad(xpad, g: Geom):
    """The padded array without its padding, contiguous (inverse of pad_array)."""
    if not any(g.pad):
        return xpad
    return array_module(xpad).ascontiguousarray(xpad[_inner(g)])


def tap_slices(g: Geom):
    """(k, index of the slice of the padded input that kernel tap k sees) for each tap, taps
    numbered row-major over the kernel: the slice (N, C, *out) holds x_pad[..., o*s + t*d]."""
    taps = itertools.product(*(range(k) for k in g.kernel))
    for k, tap in enumerate(taps):
        yield k, (slice(None), slice(None)) + tuple(
            slice(t * d, t * d + s * (o - 1) + 1, s)
            for t, s, d, o in zip(tap, g.stride, g.dilation, g.out_hw))


def window_view(xpad, g: Geom):
    """All the windows as one no-copy view (N, C, *kernel, *out): [n, c, *t, *o] is
    x_pad[n, c, o*s + t*d] (per spatial dimension)."""
    spatial = xpad.strides[2:]
    strides = xpad.strides[:2] + tuple(st * d for st, d in zip(spatial, g.dilation)) + \
        tuple(st * s for st, s in zip(spatial, g.stride))
    return array_module(xpad).lib.stride_tricks.as_strided(
        xpad, xpad.shape[:2] + g.kernel + g.out_hw, strides, writeable=False)


def add_windows(out, cols, g: Geom) -> None:
    """out (N, C, *padded) += the adjoint of window_view applied to cols (N, C, *kernel, *out)
    (col2im), one strided slice per kernel tap. Windows that cannot overlap (stride >= the
    dilated kernel) never meet, so their slices are written, not added (a strided add costs
    twice a strided copy): ``out`` must then start at zero."""
    overlapping = g.overlapping
    taps = itertools.product(*(range(k) for k in g.kernel))
    for tap, (_, idx) in zip(taps, tap_slices(g)):
        v = cols[(slice(None), slice(None)) + tap]
        if overlapping:
            out[idx] += v
        else:
            out[idx] = v
