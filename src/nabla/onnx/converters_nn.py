"""ONNX conversions of the layers of ``nn.functional``: activations, linear, convolution (and
its transpose), pooling, normalization, embedding and the recurrent steps (one per time step, as
the model ran them). Layers that are compositions (flatten, batch norm in eval mode, adaptive
pooling, attention) need no entry: they ran as primitive ops; the one step of their own, the
argmax of adaptive max pooling over windows of different sizes, is converted here.
"""

import math

import numpy as np

from nabla.nn.functional import activation as act
from nabla.nn.functional.adaptive_pooling import _adaptive_argmax, _window_taps
from nabla.nn.functional.conv import Conv2d, Conv2dBackwardInput
from nabla.nn.functional.conv_volumes import Conv3d, Conv3dBackwardInput
from nabla.nn.functional.embedding_lookup import Embedding
from nabla.nn.functional.linear_maps import Linear
from nabla.nn.functional.normalization import _Normalize
from nabla.nn.functional.pooling import AvgPool2d, MaxPool2d
from nabla.nn.functional.pooling3d import AvgPool3d, MaxPool3d
from nabla.nn.functional.recurrent import GruStep, LstmStep, RnnStep
from nabla.onnx.converters import _out, _reduce, converts
from nabla.onnx.converters_special import _erf
from nabla.onnx.export import Graph, Value
from nabla.ops.linalg import Matmul
from nabla.ops.softmax_family import LogSoftmax, Softmax


# -- activations ---------------------------------------------------------------------------------
@converts(act.LeakyRelu)
def leaky_relu(g: Graph, args, out: Value):
    g.node("LeakyRelu", [args[0]], _out(out), alpha=float(args[1]))


@converts(act.Elu)
def elu(g: Graph, args, out: Value):
    g.node("Elu", [args[0]], _out(out), alpha=float(args[1]))


@converts(act.Silu)
def silu(g: Graph, args, out: Value):
    g.node("Mul", [args[0], g.node("Sigmoid", [args[0]])], _out(out))


@converts(act.Gelu)
def gelu(g: Graph, args, out: Value):
    """0.5 x (1 + erf(x / sqrt 2)), or with tanh(sqrt(2/pi) (x + 0.044715 x^3)) for 'tanh'."""
    x, approximate = args
    c = lambda v: g.cast(v, out.dtype)  # noqa: E731 (a constant in the output's dtype)
    if approximate == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Mul", [g.node("Add", [x, g.node("Mul", [cube, c(0.044715)])]),
                               c(math.sqrt(2 / math.pi))])
        s = g.node("Tanh", [inner])
    else:
        s = _erf(g, g.node("Mul", [x, c(1 / math.sqrt(2))]), out.dtype)
    g.node("Mul", [g.node("Mul", [x, c(0.5)]), g.node("Add", [s, c(1.0)])], _out(out))


@converts(act.Softplus)
def softplus(g: Graph, args, out: Value):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    x, beta, threshold = args
    bx = g.node("Mul", [x, g.cast(beta, out.dtype)])
    soft = g.node("Div", [g.node("Softplus", [bx]), g.cast(beta, out.dtype)])
    big = g.node("Greater", [bx, g.cast(threshold, out.dtype)])
    g.node("Where", [big, x, soft], _out(out))


@converts(Softmax, LogSoftmax)
def softmax(g: Graph, args, out: Value):
    g.node("Softmax" if g.current is Softmax else "LogSoftmax", [args[0]], _out(out),
           axis=int(args[1]))


# -- products, convolution, pooling ----------------------------------------------------------------
@converts(Linear)
def linear(g: Graph, args, out: Value):
    """Gemm for 2-D input (y = x W^T + b), else MatMul with W transposed, then the bias."""
    x, w, b = args
    if x.ndim == 2:
        g.node("Gemm", [x, w] + ([b] if b is not None else []), _out(out), transB=1)
        return
    y = g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])])
    g.node("Add" if b is not None else "Identity", [y] + ([b] if b is not None else []),
           _out(out))


@converts(Matmul)
def matmul(g: Graph, args, out: Value):
    g.node("MatMul", [g.cast(args[0], out.dtype), g.cast(args[1], out.dtype)], _out(out))


def _window(geom) -> dict:
    """kernel_shape, strides and pads (all the begins, then all the ends) of a 2-D or 3-D
    window geometry (nabla keeps the pads as (before, after) per dimension)."""
    return dict(kernel_shape=list(geom.kernel), strides=list(geom.stride),
                pads=list(geom.pad[0::2]) + list(geom.pad[1::2]))


@converts(Conv2d, Conv3d)
def conv(g: Graph, args, out: Value):
    x, w, b, geom = args
    g.node("Conv", [x, w] + ([b] if b is not None else []), _out(out), **_window(geom),
           dilations=list(geom.dilation), group=geom.groups)


@converts(Conv2dBackwardInput, Conv3dBackwardInput)
def conv_transpose(g: Graph, args, out: Value):
    """The transposed convolution (its bias is a separate Add). ``geom`` is that of the forward
    convolution whose input gradient this is: its input size is the output size here, and the
    rows or columns the convolution's stride never reached are ONNX's output_padding."""
    x, w, geom = args
    reached = [s * (o - 1) + d * (k - 1) + 1 - a - b for s, o, d, k, a, b in zip(
        geom.stride, geom.out_hw, geom.dilation, geom.kernel, geom.pad[0::2], geom.pad[1::2])]
    g.node("ConvTranspose", [x, w], _out(out), **_window(geom), dilations=list(geom.dilation),
           group=geom.groups, output_padding=[n - r for n, r in zip(geom.in_hw, reached)])


@converts(MaxPool2d, MaxPool3d)
def max_pool(g: Graph, args, out):
    """MaxPool; its indices count over all of x (N, C, ...), nabla's over one channel's plane:
    the remainder by the plane's size."""
    x, geom, with_indices = args
    if not with_indices:
        g.node("MaxPool", [x], _out(out), **_window(geom), dilations=list(geom.dilation))
        return
    values, indices = out
    flat = g.fresh("flat_indices")
    g.node("MaxPool", [x], [values.name, flat], **_window(geom), dilations=list(geom.dilation))
    g.node("Mod", [flat, g.const(np.int64(math.prod(x.shape[2:])), "plane")], [indices.name])


@converts(_adaptive_argmax)
def adaptive_argmax(g: Graph, args, out: Value):
    """The flat index of the maximum of each adaptive window (the first; the first NaN
    wins, as nabla's argmax): the windows' elements gathered through a constant table of
    their flat indices (o1, ..., ok, taps), ArgMax over the taps, the table read there."""
    x, out_size = args
    lead, table = x.ndim - len(out_size), _windows_table(x.shape[-len(out_size):], out_size)
    flat_shape = g.node("Concat", [g.node("Shape", [x], end=lead),
                                   g.ints([math.prod(x.shape[lead:])])], axis=0)
    flat = g.node("Reshape", [x, flat_shape])  # (lead..., H * W), lead dims as they come
    v = g.node("Gather", [flat, g.const(table, "windows")], axis=lead)
    tap = g.node("ArgMax", [v], axis=-1, keepdims=0, select_last_index=0)
    if x.dtype.kind == "f":  # ONNX does not say how ArgMax treats NaN
        nan = g.node("Cast", [g.node("IsNaN", [v])], to=g.onnx.TensorProto.INT32)
        first_nan = g.node("ArgMax", [nan], axis=-1, keepdims=0, select_last_index=0)
        any_nan = g.node("Cast", [_reduce(g, "ReduceMax", nan, [x.ndim], 0)],
                         to=g.onnx.TensorProto.BOOL)
        tap = g.node("Where", [any_nan, first_nan, tap])
    rows = np.arange(table[..., 0].size).reshape(table.shape[:-1]) * table.shape[-1]
    at = g.node("Add", [tap, g.const(rows, "window_rows")])
    g.node("Gather", [g.const(table.reshape(-1), "windows_flat"), at], _out(out), axis=0)


def _windows_table(sizes: tuple, out_size: tuple) -> np.ndarray:
    """(o1, ..., ok, taps) the flat indices (h * W + w in 2-D) of each window's elements,
    the taps of dims 1..k in row-major order, as nabla's argmax walks them."""
    k, flat = len(sizes), 0
    for i, (n, o) in enumerate(zip(sizes, out_size)):
        p = _window_taps(n, o, np)  # (o, t) on axes i and k + i
        flat = flat * n + p.reshape((1,) * i + (o,) + (1,) * (k - 1) + (p.shape[1],)
                                    + (1,) * (k - 1 - i))
    return flat.reshape(tuple(out_size) + (-1,)).astype(np.int64)


@converts(AvgPool2d, AvgPool3d)
def avg_pool(g: Graph, args, out: Value):
    """AveragePool counting the zero padding (window sum / window size), then nabla's own
    divisor per output position (count_include_pad=False, divisor_override)."""
    x, geom, scale = args
    y = g.node("AveragePool", [x], **_window(geom), count_include_pad=1)
    factor = np.asarray(scale, out.dtype) * math.prod(geom.kernel)
    if np.allclose(factor, 1):
        g.node("Identity", [y], _out(out))
    else:
        g.node("Mul", [y, g.const(factor.astype(out.dtype), "divisor")], _out(out))


# -- normalization, embedding ----------------------------------------------------------------------
@converts(_Normalize)
def normalize(g: Graph, args, out: Value):
    """(x - mean) / sqrt(var + eps) over the normalized axes, then * w + b (layer, group,
    instance norm, and batch norm in training mode)."""
    x, w, b, stat_shape, param_shape, eps, _ = args
    axes = [i for i, n in enumerate(stat_shape) if n == 1 and x.shape[i] != 1]
    mean = _reduce(g, "ReduceMean", x, axes, keepdims=1)
    d = g.node("Sub", [x, mean])
    var = _reduce(g, "ReduceMean", g.node("Mul", [d, d]), axes, keepdims=1)
    y = g.node("Div", [d, g.node("Sqrt", [g.node("Add", [var, g.cast(eps, out.dtype)])])])
    if w is not None:
        y = g.node("Mul", [y, g.node("Reshape", [w, g.ints(param_shape)])])
    if b is not None:
        y = g.node("Add", [y, g.node("Reshape", [b, g.ints(param_shape)])])
    g.node("Identity", [y], _out(out))


@converts(Embedding)
def embedding(g: Graph, args, out: Value):
    w, idx, _ = args
    g.node("Gather", [w, g.cast(idx, np.dtype(np.int64))], _out(out), axis=0)


# -- recurrent steps (one per time step, as the model ran them) ---------------------------------
def _recurrent(g: Graph, h, w_hh, b_hh) -> str:
    """h W_hh^T + b_hh."""
    y = g.node("MatMul", [h, g.node("Transpose", [w_hh], perm=[1, 0])])
    return y if b_hh is None else g.node("Add", [y, b_hh])


def _gates(g: Graph, a, k: int) -> list:
    """The k equal parts of the last dim of ``a`` (the gates, side by side)."""
    parts = [g.fresh("gate") for _ in range(k)]
    g.node("Split", [a], parts, axis=-1, num_outputs=k) if g.opset >= 18 else \
        g.node("Split", [a], parts, axis=-1)
    return parts


@converts(RnnStep)
def rnn_step(g: Graph, args, out: Value):
    """h' = act(gi + h W_hh^T + b_hh)."""
    gi, h, w_hh, b_hh, nonlinearity, _ = args
    pre = g.node("Add", [gi, _recurrent(g, h, w_hh, b_hh)])
    g.node("Tanh" if nonlinearity == "tanh" else "Relu", [pre], _out(out))


@converts(LstmStep)
def lstm_step(g: Graph, args, outs: list):
    """[i f g o] = [sig sig tanh sig](gi + h W_hh^T + b_hh); c' = f c + i g; h' = o tanh(c')."""
    gi, h, c, w_hh, b_hh, _ = args
    i, f, cand, o = _gates(g, g.node("Add", [gi, _recurrent(g, h, w_hh, b_hh)]), 4)
    i, f, o = (g.node("Sigmoid", [v]) for v in (i, f, o))
    c_new = g.node("Add", [g.node("Mul", [f, c]), g.node("Mul", [i, g.node("Tanh", [cand])])],
                   [outs[1].name])
    g.node("Mul", [o, g.node("Tanh", [c_new])], [outs[0].name])


@converts(GruStep)
def gru_step(g: Graph, args, out: Value):
    """[r z] = sig(gi_rz + gh_rz), n = tanh(gi_n + r gh_n), h' = n + z (h - n)."""
    gi, h, w_hh, b_hh, _ = args
    gi_r, gi_z, gi_n = _gates(g, gi, 3)
    gh_r, gh_z, gh_n = _gates(g, _recurrent(g, h, w_hh, b_hh), 3)
    r = g.node("Sigmoid", [g.node("Add", [gi_r, gh_r])])
    z = g.node("Sigmoid", [g.node("Add", [gi_z, gh_z])])
    n = g.node("Tanh", [g.node("Add", [gi_n, g.node("Mul", [r, gh_n])])])
    g.node("Add", [n, g.node("Mul", [z, g.node("Sub", [h, n])])], _out(out))
