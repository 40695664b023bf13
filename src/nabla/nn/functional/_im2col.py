"""im2col / col2im on raw arrays, for the convolutions in conv.py.

The windows of a padded input are a strided view (no copy); convolutions copy it into column
matrices a few samples at a time and multiply; col2im adds kh*kw strided slices back. For
stride 1 a flattened-row ("wide") layout turns every piece into one long contiguous run.
"""

from nabla.backend import array_module
from nabla.nn.utils.conv_utils import Geom

# The column matrix is built a few samples at a time (about _CHUNK_BYTES), so it stays in cache
# between the copy that builds it and the GEMM that reads it; nothing that large is kept for
# backward, which rebuilds its chunks the same way (cheaper than storing and re-reading them).
_CHUNK_BYTES = 1 << 22


def _padded(x, g: Geom):
    """x (N, C, H, W) with g.pad zeros around (x itself when there is no padding)."""
    if not any(g.pad):
        return x
    pt, _, pl, _ = g.pad
    h, w = x.shape[2:]
    out = array_module(x).zeros(x.shape[:2] + g.padded_hw, x.dtype)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def _windows(xpad, g: Geom):
    """A no-copy view (N, C, kh, kw, Ho, Wo) of the padded input: [n, c, i, j, p, q] is
    x_pad[n, c, p*sh + i*dh, q*sw + j*dw]."""
    sn, sc, sy, sx = xpad.strides
    (sh, sw), (dh, dw) = g.stride, g.dilation
    shape = xpad.shape[:2] + g.kernel + g.out_hw
    strides = (sn, sc, sy * dh, sx * dw, sy * sh, sx * sw)
    return array_module(xpad).lib.stride_tricks.as_strided(xpad, shape, strides,
                                                           writeable=False)


def _chunks(n: int, c: int, g: Geom, itemsize: int):
    """Sample ranges [a, b) whose column matrices take about _CHUNK_BYTES each."""
    per_sample = c * g.kernel[0] * g.kernel[1] * g.out_hw[0] * g.out_hw[1] * itemsize
    step = max(1, min(n, _CHUNK_BYTES // max(per_sample, 1)))
    return [(a, min(a + step, n)) for a in range(0, n, step)]


def _col2im_add(out, cols, g: Geom) -> None:
    """out (N, C, Hp, Wp) += the adjoint of the window view applied to cols (N, C, kh, kw, Ho,
    Wo): kh*kw vectorized adds of strided slices."""
    (sh, sw), (dh, dw), (ho, wo) = g.stride, g.dilation, g.out_hw
    for i in range(g.kernel[0]):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(g.kernel[1]):
            out[:, :, rows, j * dw:j * dw + sw * (wo - 1) + 1:sw] += cols[:, :, i, j]


def _crop(out, g: Geom):
    """The padded (N, C, Hp, Wp) array without its padding, contiguous."""
    if not any(g.pad):
        return out
    pt, _, pl, _ = g.pad
    h, w = g.in_hw
    return array_module(out).ascontiguousarray(out[:, :, pt:pt + h, pl:pl + w])


# Stride 1 ("wide" layout): on the flattened rows of the padded input, the window of kernel tap
# (i, j) is one contiguous range starting at i*dh*Wp + j*dw, so im2col and col2im move long
# contiguous runs instead of Wo-element pieces. Output (p, q) sits at m = p*Wp + q; the few
# m with q >= Wo straddle two rows: computed (dW - Wo extra columns per row), then dropped.
def _wide_len(g: Geom) -> int:
    return (g.out_hw[0] - 1) * g.padded_hw[1] + g.out_hw[1]


def _columns(x, g: Geom):
    """(windows view with the sample dim first, columns per sample): (N, C, kh, kw, Ho, Wo)
    and Ho*Wo in general, (N, C, kh, kw, M) and M for stride 1."""
    xpad = _padded(x, g)
    if g.stride != (1, 1):
        return _windows(xpad, g), g.out_hw[0] * g.out_hw[1]
    xp = array_module(x)
    xpad = xp.ascontiguousarray(xpad)
    sn, sc, _, sx = xpad.strides
    m, (dh, dw) = _wide_len(g), g.dilation
    view = xp.lib.stride_tricks.as_strided(
        xpad, xpad.shape[:2] + g.kernel + (m,), (sn, sc, sx * g.padded_hw[1] * dh, sx * dw, sx),
        writeable=False)
    return view, m


def _grad_rows(gy, g: Geom):
    """grad (N, O, Ho, Wo) as (N, O, columns) in the layout of _columns (zeros where the wide
    layout's straddling columns are)."""
    n, o = gy.shape[:2]
    if g.stride != (1, 1):
        return gy.reshape(n, o, -1)
    (ho, wo), wp = g.out_hw, g.padded_hw[1]
    out = array_module(gy).zeros((n, o, ho * wp), gy.dtype)
    out.reshape(n, o, ho, wp)[..., :wo] = gy
    return out[..., :_wide_len(g)]


def _output(y, g: Geom):
    """(N, O, columns) from the GEMMs as the (N, O, Ho, Wo) output, contiguous."""
    n, o = y.shape[:2]
    if g.stride != (1, 1):
        return y.reshape((n, o) + g.out_hw)
    xp, sx = array_module(y), y.strides[2]
    v = xp.lib.stride_tricks.as_strided(y, (n, o) + g.out_hw,
                                        y.strides[:2] + (sx * g.padded_hw[1], sx))
    return xp.ascontiguousarray(v)


def _col2im_chunk(out, cols, g: Geom) -> None:
    """out (n, C, Hp, Wp) += col2im of cols (n, C*kh*kw, columns) in the layout of _columns."""
    n, c = out.shape[:2]
    if g.stride != (1, 1):
        _col2im_add(out, cols.reshape((n, c) + g.kernel + g.out_hw), g)
        return
    m, wp, (dh, dw) = cols.shape[-1], g.padded_hw[1], g.dilation
    flat = out.reshape(n, c, -1)
    cols = cols.reshape((n, c) + g.kernel + (m,))
    for i in range(g.kernel[0]):
        for j in range(g.kernel[1]):
            start = i * dh * wp + j * dw
            flat[:, :, start:start + m] += cols[:, :, i, j]
