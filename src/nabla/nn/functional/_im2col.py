"""im2col / col2im on raw arrays, for the convolutions in conv.py.

The windows of a padded input are a strided view (no copy). Convolutions copy it, a chunk of
samples at a time, into a column matrix (G, Cg*kh*kw, samples*columns) with the samples inside
each row, so each pass is one large GEMM per group and chunk (few BLAS calls: OpenBLAS threads
synchronise once per call), and col2im adds kh*kw strided slices back.

Stride 1 uses a "wide" layout: on the flattened rows of the padded input the window of tap
(i, j) is one contiguous run starting at i*dh*Wp + j*dw, so the copies move long runs instead of
Wo-element pieces. Output (p, q) sits at column p*Wp + q; the columns with q >= Wo straddle two
rows: they are computed (Wp - Wo extra per row), given zero gradient, and dropped. One extra zero
row below the padded input keeps the last row's runs inside the buffer.

When those runs are short (small images: LeNet's 10x10 outputs give runs of 140), a copy or an
add of many short runs costs more in NumPy's loop overhead than in moving data. The backward of
such convolutions uses the "position-major" variant of the wide layout: a chunk's padded input
is transposed once to (C, rows * Wp, samples), so the samples sit innermost and each tap's
window over the whole chunk is a single contiguous run (columns ordered (position, sample)), and
so is each tap's add in col2im. The backward of LeNet's second convolution takes 2.1 -> 1.4 ms.
Measured, the transposes cost more than they save past about 160 columns per sample (12x12
outputs), and in the forward pass (one copy, no col2im) at every size.
"""

import math

from nabla.backend import array_module
from nabla.nn.functional._windows import add_windows as col2im_add
from nabla.nn.functional._windows import window_view as windows
from nabla.nn.utils.conv_utils import Geom

# about this many bytes of column matrix per chunk: large GEMMs, yet bounded memory
_CHUNK_BYTES = 1 << 23
# passes with fewer multiply-adds than this run on one thread (see worth_threads)
_THREAD_MIN_MACS = 50_000_000
# wide layouts with at most this many columns per sample are position-major
_POSITION_MAJOR_MAX = 160


def _wide(g: Geom) -> bool:
    return g.stride == (1, 1)


def position_major(g: Geom) -> bool:
    """Whether backward orders its columns (position, sample): stride 1 and short rows."""
    return g.stride == (1, 1) and g.out_hw[0] * g.padded_hw[1] <= _POSITION_MAJOR_MAX


def grid(g: Geom) -> tuple:
    """The columns of one sample: (Ho, Wp) in the wide layout, else (Ho, Wo)."""
    return (g.out_hw[0], g.padded_hw[1]) if _wide(g) else g.out_hw


def padded_input(x, g: Geom):
    """x (N, C, H, W) with g.pad zeros around (plus the wide layout's extra row)."""
    extra = 1 if _wide(g) else 0
    if not any(g.pad) and not extra:
        return x
    pt, _, pl, _ = g.pad
    h, w = x.shape[2:]
    hp, wp = g.padded_hw
    out = array_module(x).zeros(x.shape[:2] + (hp + extra, wp), x.dtype)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def padded_zeros(n: int, c: int, g: Geom, dtype, xp):
    """Zeros of padded_input's shape, to accumulate col2im into."""
    hp, wp = g.padded_hw
    return xp.zeros((n, c, hp + (1 if _wide(g) else 0), wp), dtype)


def column_view(xpad, g: Geom, by_position: bool = False):
    """The windows as (N, C, kh, kw, columns...) in the layout of ``grid`` (no copy); the padded
    input itself ``by_position`` (position-major: chunk_columns transposes each chunk)."""
    if by_position:
        return xpad
    if not _wide(g):
        return windows(xpad, g)
    sn, sc, sy, sx = xpad.strides
    (dh, dw), (ho, wp) = g.dilation, grid(g)
    return array_module(xpad).lib.stride_tricks.as_strided(
        xpad, xpad.shape[:2] + g.kernel + (ho * wp,), (sn, sc, sy * dh, sx * dw, sx),
        writeable=False)


def chunks(n: int, c: int, g: Geom, itemsize: int) -> list:
    """Sample ranges [a, b) whose column matrices take about _CHUNK_BYTES each: an even number
    of near-equal ones (when n > 1), so that two threads get the same work."""
    if n == 0:
        return []
    per_sample = c * math.prod(g.kernel) * math.prod(grid(g)) * itemsize
    count = max(2, -(-n * per_sample // _CHUNK_BYTES))
    count = min(n, count + count % 2)
    ends = [i * n // count for i in range(count + 1)]
    return list(zip(ends[:-1], ends[1:]))


def worth_threads(n: int, c: int, o: int, g: Geom) -> bool:
    """Whether one pass (n samples, c -> o channels) has enough arithmetic to split over two
    threads: below about 50M multiply-adds (LeNet's convolutions) the hand-over and BLAS held
    to one thread cost more than the second core gives (measured on a 2-core machine)."""
    macs = n * o * (c // g.groups) * math.prod(g.kernel) * math.prod(grid(g))
    return macs >= _THREAD_MIN_MACS


def chunk_columns(view, a: int, z: int, g: Geom, by_position: bool = False):
    """Column matrix of samples [a, z): (G, Cg*kh*kw, (z - a) * columns), contiguous; columns
    ordered (position, sample) ``by_position``, else (sample, position)."""
    xp = array_module(view)
    if by_position:
        return _position_major_columns(xp, view[a:z], g)
    cols = xp.ascontiguousarray(xp.moveaxis(view[a:z], 0, 3))
    return cols.reshape(g.groups, -1, cols[0, 0, 0].size)


def _position_major_columns(xp, xpad, g: Geom):
    """(G, Cg*kh*kw, columns * n) from a padded chunk (n, C, Hp + 1, Wp): the chunk transposed
    to (C, rows * Wp, n), then each tap's window one contiguous run of columns * n."""
    n, c = xpad.shape[:2]
    flat = xp.ascontiguousarray(xpad.transpose(1, 2, 3, 0)).reshape(c, -1, n)
    (dh, dw), (ho, wp) = g.dilation, grid(g)
    sc, sp, sn = flat.strides
    view = xp.lib.stride_tricks.as_strided(
        flat, (c,) + g.kernel + (ho * wp, n), (sc, sp * dh * wp, sp * dw, sp, sn),
        writeable=False)
    return xp.ascontiguousarray(view).reshape(g.groups, -1, ho * wp * n)


def grad_chunk(gy, g: Geom, groups: int, rows: int):
    """grad chunk (n, O, Ho, Wo) as (G, Og, n * columns), channel-major, zero in the wide
    layout's extra columns; columns ordered (position, sample) if ``position_major(g)``.
    With one group, ``rows`` > O appends zero rows."""
    xp = array_module(gy)
    n, o = gy.shape[:2]
    if position_major(g):  # (O, Ho, Wp, n)
        out = xp.zeros((rows,) + grid(g) + (n,), gy.dtype)
        out[:o, :, :g.out_hw[1]] = gy.transpose(1, 2, 3, 0)
    elif _wide(g):
        out = xp.zeros((rows, n) + grid(g), gy.dtype)
        out[:o, ..., :g.out_hw[1]] = gy.transpose(1, 0, 2, 3)
    elif rows > o:
        out = xp.zeros((rows, n) + g.out_hw, gy.dtype)
        out[:o] = gy.transpose(1, 0, 2, 3)
    else:
        out = xp.ascontiguousarray(gy.transpose(1, 0, 2, 3))
    return out.reshape(groups, rows // groups, -1)


def store_output(out, y, g: Geom, bias=None) -> None:
    """out chunk (n, O, Ho, Wo) = GEMM result y (G, Og, n * columns) (+ bias (1, O, 1, 1), in
    the same pass)."""
    n, o = out.shape[:2]
    v = y.reshape((o, n) + grid(g)).transpose(1, 0, 2, 3)
    v = v[..., :g.out_hw[1]] if _wide(g) else v
    if bias is None:
        out[...] = v
    else:
        array_module(out).add(v, bias, out=out)


def col2im_buffer(n: int, c: int, g: Geom, dtype, xp):
    """Zeros to accumulate a batch's col2im into: (C, N, Hp + 1, Wp) in the wide layout
    (channel-major like the GEMM result, so each tap adds runs of whole samples), else
    padded_input's (N, C, Hp, Wp). Position-major: the result (N, C, H, W) itself, which each
    chunk fills from a buffer of its own."""
    if position_major(g):
        return xp.empty((n, c) + g.in_hw, dtype)
    if not _wide(g):
        return padded_zeros(n, c, g, dtype, xp)
    hp, wp = g.padded_hw
    return xp.zeros((c, n, hp + 1, wp), dtype)


def col2im_chunk(buf, a: int, z: int, cols, g: Geom) -> None:
    """Samples [a, z) of col2im_buffer ``buf`` += col2im of GEMM result cols
    (G, Cg*kh*kw, (z - a) * columns)."""
    if position_major(g):
        _position_major_col2im(buf[a:z], cols, g)
        return
    if not _wide(g):
        out = buf[a:z]
        n, c = out.shape[:2]
        cols = cols.reshape((c,) + g.kernel + (n,) + g.out_hw)
        col2im_add(out, cols.transpose(3, 0, 1, 2, 4, 5), g)
        return
    c, n = buf.shape[0], z - a
    (ho, wp), (dh, dw) = grid(g), g.dilation
    m = ho * wp
    flat = buf[:, a:z].reshape(c, n, -1)
    cols = cols.reshape((c,) + g.kernel + (n, m))
    for i in range(g.kernel[0]):
        for j in range(g.kernel[1]):
            start = i * dh * wp + j * dw
            flat[:, :, start:start + m] += cols[:, i, j]


def _position_major_col2im(out, cols, g: Geom) -> None:
    """out (n, C, H, W) = col2im of cols (G, Cg*kh*kw, columns * n), position-major: each tap
    adds one contiguous run to a (C, (Hp + 1) * Wp * n) buffer, cropped and transposed once."""
    xp = array_module(cols)
    n, c = out.shape[:2]
    (ho, wp), (dh, dw), (hp, _) = grid(g), g.dilation, g.padded_hw
    run = ho * wp * n
    buf = xp.zeros((c, (hp + 1) * wp * n), cols.dtype)
    cols = cols.reshape((c,) + g.kernel + (run,))
    for i in range(g.kernel[0]):
        for j in range(g.kernel[1]):
            start = (i * dh * wp + j * dw) * n
            buf[:, start:start + run] += cols[:, i, j]
    h, w = g.in_hw
    pt, _, pl, _ = g.pad
    out[...] = buf.reshape(c, hp + 1, wp, n)[:, pt:pt + h, pl:pl + w].transpose(3, 0, 1, 2)


def col2im_result(buf, g: Geom):
    """The (N, C, H, W) image of a col2im_buffer: padding cropped, contiguous."""
    if position_major(g):
        return buf
    if not _wide(g):
        return crop(buf, g)
    h, w = g.in_hw
    pt, _, pl, _ = g.pad
    return array_module(buf).ascontiguousarray(
        buf[:, :, pt:pt + h, pl:pl + w].transpose(1, 0, 2, 3))


def crop(out, g: Geom):
    """The padded array without its padding (and extra row), contiguous."""
    h, w = g.in_hw
    if out.shape[2:] == (h, w):
        return out
    pt, _, pl, _ = g.pad
    return array_module(out).ascontiguousarray(out[:, :, pt:pt + h, pl:pl + w])
