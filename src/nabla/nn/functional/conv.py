"""Convolutions as matrix products (im2col): conv1d/2d, conv_transpose1d/2d (unfold and fold,
the im2col and col2im maps themselves, are in folding.py).

Forward: the padded input's sliding windows, one strided view, are copied once into a column
matrix X_col (C*kh*kw, N*Ho*Wo); then Y = W (O, C*kh*kw) @ X_col is one GEMM (one per group).
Backward is again two convolutions, each one GEMM:

    dL/dW = dY (O, N*Ho*Wo) @ X_col^T       (a convolution of X with dY)
    dL/dX = col2im(W^T @ dY)                (a transposed convolution: dY with the flipped
                                             kernel; col2im adds kh*kw strided slices)

The three maps conv(x, w), its adjoint in x, T(g, w), and its adjoint in w, W(x, g), are Ops
whose rules call each other, so second derivatives work:

    conv:  dx = T(grad, w),   dw = W(x, grad)
    T:     dg = conv(grad, w), dw = W(grad, g)
    W:     dx = T(g, grad),   dg = conv(x, grad)

1-D convolutions are 2-D ones of height 1. Everything is computed in NCHW order. 3-D
convolutions (conv_volumes.py) share the argument checks below (conv_geom, conv_transpose_geom).
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.nn.functional._im2col import (
    chunk_columns,
    chunks,
    col2im_buffer,
    col2im_chunk,
    col2im_result,
    column_view,
    grad_chunk,
    padded_input,
    position_major,
    store_output,
    worth_threads,
)
from nabla.nn.functional._parallel import map_chunks
from nabla.nn.functional._shapes import batched
from nabla.nn.utils.conv_utils import Geom, make_geom, ntuple, same_padding
from nabla.ops.shape import reshape, sum_to_size
from nabla.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


# -- the three ops -------------------------------------------------------------------------------
# Shapes inside, for a chunk of n samples: cols (G, Cg*kh*kw, n*columns), weight
# (G, Og, Cg*kh*kw), grad (G, Og, n*columns): each product is one GEMM per group over the whole
# chunk (columns: Ho*Wo, or Ho rows of the padded width in _im2col's "wide" layout); the chunk's
# samples are moved behind the channels when the columns are copied, and back when stored. The
# backward of small stride-1 convolutions orders the columns (position, sample) instead
# (position_major in _im2col): the same products, on longer contiguous runs.
def _w3(w, groups: int):
    return w.reshape(groups, w.shape[0] // groups, -1)


def _rows(o: int, groups: int) -> int:
    """Rows for the products whose rows are the ``o`` output channels (one group): OpenBLAS's
    float kernels work on 8 rows at a time, and 4-7 rows (or 12-15) take as long as the next
    multiple of 8 or longer (LeNet's 6 channels: 1.5x the time of 8, measured), so such
    products get zero rows appended and the extra results are dropped."""
    return o + (-o % 8) if groups == 1 and o % 8 >= 4 else o


class Conv2d(Op):
    """y = conv(x, w) + b, y[n,o] = sum_{c,i,j} w[o,c,i,j] x_pad[n,c,p*s+i*d,q*s+j*d];
    dx = conv_transpose(grad, w),  dw = W(x, grad) (x correlated with grad),  db = sum grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, w, b, g: Geom):
        xp = array_module(x)
        xpad = padded_input(x, g)
        ctx.save_for_backward(x, w, xpad)  # the padded copy, for the weight's gradient
        ctx.geom = g
        (n, c), o, groups = x.shape[:2], w.shape[0], g.groups
        w3, rows = _w3(w, groups), _rows(o, groups)
        if rows > o:  # zero rows: a faster product (see _rows)
            w3 = xp.concatenate([w3, xp.zeros((1, rows - o, w3.shape[2]), w3.dtype)], 1)
        view = column_view(xpad, g)
        out = xp.empty((n, o) + g.out_hw, xp.result_type(x, w))
        bias = None if b is None else b.reshape(1, o, 1, 1)

        def one(chunk):
            a, z = chunk
            y = xp.matmul(w3, chunk_columns(view, a, z, g))
            store_output(out[a:z], y[:, :o // groups], g, bias)

        map_chunks(one, chunks(n, c, g, x.itemsize), worth_threads(n, c, o, g))
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w, xpad = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g = ctx.geom
        grad_input = grad_weight = grad_bias = None
        if need_b:
            grad_bias = reshape(sum_to_size(grad, (1, grad.shape[1], 1, 1)), (grad.shape[1],))
        if isinstance(grad, Tensor):  # create_graph: the two adjoints as differentiable ops
            grad_input = Conv2dBackwardInput.apply(grad, w, g) if need_x else None
            grad_weight = Conv2dBackwardWeight.apply(x, grad, g) if need_w else None
        elif need_x or need_w:  # on arrays: both in one pass, sharing each chunk's grad matrix
            grad_input, grad_weight = _adjoints(grad, w if need_x else None,
                                                xpad if need_w else None, g, x.shape[1])
        return grad_input, grad_weight, grad_bias, None


def _adjoints(gy, w, xpad, g: Geom, c: int) -> tuple:
    """(dx, dw) for upstream gradient gy (N, O, Ho, Wo): dx = T(gy, w) = col2im(W^T @ gy) when
    ``w`` is given, dw = W(x, gy) = gy @ X_col^T when the padded x (padded_input) is given
    (else None). One pass over the batch chunks; each builds its gradient matrix once."""
    xp = array_module(gy)
    groups, (n, o) = g.groups, gy.shape[:2]
    by_position = position_major(g)
    view = None if xpad is None else column_view(xpad, g, by_position)
    dx = wt = None
    if w is not None:
        wt = _w3(w, groups).transpose(0, 2, 1)  # (G, Cg*kh*kw, Og)
        dx = col2im_buffer(n, c, g, xp.result_type(gy, w), xp)

    rows = _rows(o, groups) if view is not None else o

    def one(chunk):
        a, z = chunk
        gm = grad_chunk(gy[a:z], g, groups, rows)  # rows > o: zero rows for the dw product
        if dx is not None:
            col2im_chunk(dx, a, z, xp.matmul(wt, gm[:, :o // groups]), g)
        if view is not None:
            cols = chunk_columns(view, a, z, g, by_position)
            return xp.matmul(gm, cols.transpose(0, 2, 1))[:, :o // groups]
        return None

    # one weight product per chunk, summed in chunk order: the same bits with or without threads
    parts = map_chunks(one, chunks(n, c, g, gy.itemsize), worth_threads(n, c, o, g))
    dw = None
    if view is not None:
        if parts:
            dw = parts[0]
            for p in parts[1:]:
                dw += p
        else:  # empty batch
            dw = xp.zeros((groups, o // groups, c // groups * g.kernel[0] * g.kernel[1]),
                          xp.result_type(view, gy))
        dw = dw.reshape((o, c // groups) + g.kernel)
    return (None if dx is None else col2im_result(dx, g)), dw


class Conv2dBackwardInput(Op):
    """x = T(g, w), the adjoint of conv in its input (a transposed convolution):
    x = col2im(W^T @ g);  dg = conv(grad, w),  dw = W(grad, g)."""

    array_backward = True

    @staticmethod
    def forward(ctx, gy, w, g: Geom):
        ctx.save_for_backward(gy, w)
        ctx.geom = g
        return _adjoints(gy, w, None, g, w.shape[1] * g.groups)[0]

    @staticmethod
    def backward(ctx, grad):
        gy, w = ctx.saved_tensors
        need_g, need_w = ctx.needs_input_grad[:2]
        g = ctx.geom
        grad_gy = Conv2d.apply(grad, w, None, g) if need_g else None
        grad_w = Conv2dBackwardWeight.apply(grad, gy, g) if need_w else None
        return grad_gy, grad_w, None


class Conv2dBackwardWeight(Op):
    """w = W(x, g), the adjoint of conv in its weight: w = g (O, N*Ho*Wo) @ X_col^T;
    dx = T(g, grad),  dg = conv(x, grad)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, gy, g: Geom):
        ctx.save_for_backward(x, gy)
        ctx.geom = g
        return _adjoints(gy, None, padded_input(x, g), g, x.shape[1])[1]

    @staticmethod
    def backward(ctx, grad):
        x, gy = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad[:2]
        g = ctx.geom
        grad_x = Conv2dBackwardInput.apply(gy, grad, g) if need_x else None
        grad_gy = Conv2d.apply(x, grad, None, g) if need_g else None
        return grad_x, grad_gy, None


# -- argument handling ---------------------------------------------------------------------------
def check_dtypes(op: str, input: Tensor, weight: Tensor, bias) -> None:
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise RuntimeError(
            f"{op}: input ({input.dtype}), weight ({weight.dtype})"
            f"{'' if bias is None else f' and bias ({bias.dtype})'} must have the same dtype"
        )


def _kernel_letters(n: int) -> str:
    return ", ".join(("kD", "kH", "kW")[-n:])


def _conv_pad(op: str, padding, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """padding (int, tuple, 'same' or 'valid') as (before, after) per spatial dimension:
    (top, bottom, left, right) in 2-D."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * n)
        if padding != "same":
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                             "'valid' or 'same'")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
        return same_padding(kernel, dilation)
    p = ntuple(padding, n, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: negative padding is not supported, got {p}")
    return tuple(v for v in p for _ in range(2))


def conv_geom(op: str, input: Tensor, weight: Tensor, stride, padding, dilation,
              groups: int) -> Geom:
    """The window geometry of a convolution of batched ``input`` (N, C, *spatial) with
    ``weight`` (O, C / groups, *kernel), its arguments checked."""
    n = input.ndim - 2
    if weight.ndim != n + 2:
        raise RuntimeError(f"{op}: expected a {n + 2}D weight (out, in/groups, "
                           f"{_kernel_letters(n)}), got shape {tuple(weight.shape)}")
    c = input.shape[1]
    if groups <= 0 or c % groups or weight.shape[0] % groups or weight.shape[1] * groups != c:
        raise RuntimeError(
            f"{op}: given groups={groups}, weight of size {tuple(weight.shape)}, expected input"
            f"{tuple(input.shape)} to have {weight.shape[1] * groups} channels, but got {c} "
            "channels instead (and out channels divisible by groups)"
        )
    kernel, stride = tuple(weight.shape[2:]), ntuple(stride, n, "stride")
    dilation = ntuple(dilation, n, "dilation")
    pad = _conv_pad(op, padding, kernel, stride, dilation)
    return make_geom(op, tuple(input.shape[2:]), kernel, stride, pad, dilation, groups)


def conv_transpose_geom(op: str, input: Tensor, weight: Tensor, stride, padding,
                        output_padding, groups: int, dilation) -> Geom:
    """The geometry of the convolution whose input adjoint is the transposed convolution of
    batched ``input`` (N, C_in, *spatial) with ``weight`` (C_in, C_out / groups, *kernel): its
    input size is the transposed convolution's output size."""
    n = input.ndim - 2
    if weight.ndim != n + 2 or input.shape[1] != weight.shape[0] or groups <= 0 or \
            weight.shape[0] % groups:
        raise RuntimeError(
            f"{op}: weight of size {tuple(weight.shape)} (C_in, C_out/groups, "
            f"{_kernel_letters(n)}) does not fit input of size {tuple(input.shape)} with "
            f"groups={groups}"
        )
    kernel = tuple(weight.shape[2:])
    stride, dilation = ntuple(stride, n, "stride"), ntuple(dilation, n, "dilation")
    pad, extra = ntuple(padding, n, "padding"), ntuple(output_padding, n, "output_padding")
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)) or min(extra) < 0:
        raise RuntimeError(f"{op}: output padding {extra} must be smaller than either stride "
                           f"{stride} or dilation {dilation}")
    out_size = tuple((i - 1) * s - 2 * p + d * (k - 1) + e + 1 for i, s, p, d, k, e in
                     zip(input.shape[2:], stride, pad, dilation, kernel, extra))
    g = make_geom(op, out_size, kernel, stride, tuple(p for p in pad for _ in range(2)),
                  dilation, groups)
    # output_padding >= stride (allowed when smaller than dilation) fits more windows than the
    # input has positions: the geometry keeps only the input's windows
    return g._replace(out_hw=tuple(input.shape[2:]))


# -- public functions ----------------------------------------------------------------------------
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation: y[n,o] = b[o] + sum_{c,i,j} w[o,c,i,j] x[n, g(o)*C/G + c,
    h*s + i*d - p, w*s + j*d - p].

    Args:
        input: (N, C, H, W) or (C, H, W).
        weight: (O, C / groups, kH, kW).
        bias: (O) or None.
        stride, dilation: int or (sH, sW).
        padding: int, (pH, pW), 'valid' (none) or 'same' (output size = input size; stride 1).
        groups: channels split into this many independent convolutions (groups = C with
            O = k * C is a depthwise convolution).

    Returns:
        (N, O, Ho, Wo), Ho = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1 (likewise Wo).
    """
    x, unbatched = batched("conv2d", input, 4)
    check_dtypes("conv2d", x, weight, bias)
    g = conv_geom("conv2d", x, weight, stride, padding, dilation, groups)
    y = Conv2d.apply(x, weight, bias, g)
    return reshape(y, y.shape[1:]) if unbatched else y


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D cross-correlation (a 2-D one of height 1).

    Args:
        input: (N, C, L) or (C, L).
        weight: (O, C / groups, K).
        bias: (O) or None.
        stride, padding, dilation: ints (padding also 'valid' or 'same').
        groups: as in conv2d.

    Returns:
        (N, O, Lo), Lo = floor((L + 2P - D(K - 1) - 1) / S) + 1.
    """
    x, unbatched = batched("conv1d", input, 3)
    if weight.ndim != 3:
        raise RuntimeError(f"conv1d: expected a 3D weight (out, in/groups, K), got shape "
                           f"{tuple(weight.shape)}")
    x4 = reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2]))
    w4 = reshape(weight, (weight.shape[0], weight.shape[1], 1, weight.shape[2]))
    pad = padding if isinstance(padding, str) else (0, ntuple(padding, 1, "padding")[0])
    y = conv2d(x4, w4, bias, (1, ntuple(stride, 1, "stride")[0]), pad,
               (1, ntuple(dilation, 1, "dilation")[0]), groups)
    y = reshape(y, (y.shape[0], y.shape[1], y.shape[3]))
    return reshape(y, y.shape[1:]) if unbatched else y


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution (the gradient of conv2d with respect to its input): each
    input pixel scatters w[c_in] scaled by its value onto a window of the output.

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW).
        bias: (C_out) or None.
        stride, padding, dilation: int or pair; padding is removed from each output border.
        output_padding: extra rows/columns added at the bottom/right (< stride or dilation).
        groups: as in conv2d.

    Returns:
        (N, C_out, Ho, Wo), Ho = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding + 1.
    """
    op = "conv_transpose2d"
    x, unbatched = batched(op, input, 4)
    check_dtypes(op, x, weight, bias)
    g = conv_transpose_geom(op, x, weight, stride, padding, output_padding, groups, dilation)
    y = Conv2dBackwardInput.apply(x, weight, g)
    if bias is not None:
        y = y + reshape(bias, (1, -1, 1, 1))
    return reshape(y, y.shape[1:]) if unbatched else y


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution (a 2-D one of height 1).

    Args:
        input: (N, C_in, L) or (C_in, L).
        weight: (C_in, C_out / groups, K).
        bias: (C_out) or None.

    Returns:
        (N, C_out, Lo), Lo = (L - 1) S - 2P + D(K - 1) + output_padding + 1.
    """
    x, unbatched = batched("conv_transpose1d", input, 3)
    if weight.ndim != 3:
        raise RuntimeError(f"conv_transpose1d: expected a 3D weight (C_in, C_out/groups, K), "
                           f"got shape {tuple(weight.shape)}")
    x4 = reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2]))
    w4 = reshape(weight, (weight.shape[0], weight.shape[1], 1, weight.shape[2]))

    def one(v, name):
        return (ntuple(v, 1, name)[0],)

    y = conv_transpose2d(x4, w4, bias, (1,) + one(stride, "stride"), (0,) + one(padding,
                         "padding"), (0,) + one(output_padding, "output_padding"), groups,
                         (1,) + one(dilation, "dilation"))
    y = reshape(y, (y.shape[0], y.shape[1], y.shape[3]))
    return reshape(y, y.shape[1:]) if unbatched else y
