"""ONNX conversions of the reductions and products beyond sum, mean and max: var and std (the
squared deviations from the mean over n - correction, n read from the input's shape), prod,
logsumexp (shifted by the max, as nabla), vector norms (p = 1, 2, other p, and p = 0 as a
count), nanmean, dot, einsum, det, cross; and the writes into zeros that some forward computations
use (diag_embed, setitem): zeros with x added (or written) at an index's positions.
"""

import numpy as np

from nabla.linalg.inverse import Det
from nabla.linalg.products import Cross
from nabla.onnx.converters import _out, _reduce, converts, getitem
from nabla.onnx.converters_index import advanced_getitem
from nabla.onnx.export import ExportError, Graph, Value
from nabla.ops import linalg
from nabla.ops.index import AdvancedGetitemBackward, GetitemBackward
from nabla.ops.nan_ops import NanMean
from nabla.ops.reduce import Prod, Std, Var
from nabla.ops.softmax_family import Logsumexp

_INT64 = np.dtype(np.int64)


def _axes(dims, ndim: int):
    """The reduced axes (sorted, non-negative), or None for all of them (also for a 0-d x)."""
    if dims is None:
        return None
    dims = (dims,) if isinstance(dims, int) else dims
    return sorted(d % ndim for d in dims) or None


def _c(g: Graph, value, dtype) -> str:
    return g.const(np.asarray(value, dtype))


# -- var, std, prod, logsumexp, nanmean ------------------------------------------------------------
@converts(Var, Std)
def var(g: Graph, args, out: Value):
    """sum((x - mean)^2) / max(n - correction, 0) over dims (sqrt of it for std), n the count
    of the reduced elements (a sum of ones, so that it follows a dynamic dim)."""
    x, dims, keepdim, correction = args
    axes = _axes(dims, x.ndim)
    data = g.cast(x, out.dtype)
    deviation = g.node("Sub", [data, _reduce(g, "ReduceMean", data, axes, 1)])
    squares = _reduce(g, "ReduceSum", g.node("Mul", [deviation, deviation]), axes, int(keepdim))
    ones = g.node("ConstantOfShape", [g.node("Shape", [x])],
                  value=g.onnx.numpy_helper.from_array(np.ones(1, out.dtype)))
    count = _reduce(g, "ReduceSum", ones, axes, int(keepdim))
    divisor = g.node("Max", [g.node("Sub", [count, _c(g, correction, out.dtype)]),
                             _c(g, 0, out.dtype)])
    v = g.node("Div", [squares, divisor])
    g.node("Sqrt" if g.current is Std else "Identity", [v], _out(out))


@converts(Prod)
def prod(g: Graph, args, out: Value):
    x, dims, keepdim, _ = args
    _reduce(g, "ReduceProd", g.cast(x, out.dtype), _axes(dims, x.ndim), int(keepdim), out.name)


@converts(Logsumexp)
def logsumexp(g: Graph, args, out: Value):
    """log(sum(exp(x - m))) + m with m the max over dims, 0 where it is infinite (rows of -inf
    give -inf, rows holding +inf give +inf)."""
    x, dims, keepdim = args
    axes = _axes(dims, x.ndim)
    m = _reduce(g, "ReduceMax", x, axes, 1)
    m = g.node("Where", [g.node("IsInf", [m]), _c(g, 0, out.dtype), m])
    total = _reduce(g, "ReduceSum", g.node("Exp", [g.node("Sub", [x, m])]), axes, 1)
    y = g.node("Add", [g.node("Log", [total]), m])
    if keepdim:
        g.node("Identity", [y], _out(out))
    elif axes is None:
        g.node("Reshape", [y, g.ints(out.shape)], _out(out))
    else:
        g.node("Squeeze", [y, g.ints(axes, "axes")], _out(out))


@converts(NanMean)
def nanmean(g: Graph, args, out: Value):
    """The sum of the non-NaN values over their count (NaN where there are none)."""
    x, dims, keepdim, _ = args
    axes = _axes(dims, x.ndim)
    kept = g.node("Not", [g.node("IsNaN", [x])])
    values = g.node("Where", [kept, g.cast(x, out.dtype), _c(g, 0, out.dtype)])
    total = _reduce(g, "ReduceSum", values, axes, int(keepdim))
    count = _reduce(g, "ReduceSum", g.node("Cast", [kept], to=_elem(g, out.dtype)), axes,
                    int(keepdim))
    g.node("Div", [total, count], _out(out))


def _elem(g: Graph, dtype) -> int:
    return g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


# -- norms -----------------------------------------------------------------------------------------
@converts(linalg.Norm)
def norm(g: Graph, args, out: Value):
    """p = 2: sqrt(sum x^2); p = 1: sum |x|; else (sum |x|^p)^(1/p), over dims."""
    x, p, dims, keepdim = args
    axes, keep = _axes(dims, x.ndim), int(keepdim)
    if p == 2:
        y = g.node("Sqrt", [_reduce(g, "ReduceSum", g.node("Mul", [x, x]), axes, keep)])
    elif p == 1:
        y = _reduce(g, "ReduceSum", g.node("Abs", [x]), axes, keep)
    else:
        powers = g.node("Pow", [g.node("Abs", [x]), _c(g, p, out.dtype)])
        y = g.node("Pow", [_reduce(g, "ReduceSum", powers, axes, keep), _c(g, 1.0 / p, out.dtype)])
    g.node("Identity", [y], _out(out))


@converts(linalg._count_nonzero)
def norm_zero(g: Graph, args, out: Value):
    """The p = 0 norm: how many elements are nonzero, in x's dtype."""
    x, axis, keepdims = args
    nonzero = g.node("Cast", [g.node("Not", [g.node("Equal", [x, _c(g, 0, x.dtype)])])],
                     to=_elem(g, out.dtype))
    _reduce(g, "ReduceSum", nonzero, _axes(axis, x.ndim), int(keepdims), out.name)


# -- products --------------------------------------------------------------------------------------
@converts(linalg.Dot)
def dot(g: Graph, args, out: Value):
    """MatMul of two vectors: a 0-d result."""
    a, b = (g.cast(v, out.dtype) for v in args)
    g.node("MatMul", [a, b], _out(out))


@converts(linalg.Einsum)
def einsum(g: Graph, args, out: Value):
    """ONNX's Einsum with the same equation, its letters made lower case (ONNX's alphabet)."""
    spec, *operands = args
    letters = sorted({c for c in spec if c.isalpha()})
    if len(letters) > 26:
        raise ExportError(f"onnx.export: einsum {spec!r} uses more than 26 subscripts; ONNX's "
                          "Einsum has 26 (a-z)")
    lower = dict(zip(letters, "abcdefghijklmnopqrstuvwxyz"))
    equation = "".join(lower.get(c, c) for c in spec)
    g.node("Einsum", [g.cast(v, out.dtype) for v in operands], _out(out), equation=equation)


@converts(Det)
def det(g: Graph, args, out: Value):
    """ONNX's Det of the (batched) square matrices (onnxruntime runs it in float32 only)."""
    g.node("Det", [args[0]], _out(out))


@converts(Cross)
def cross(g: Graph, args, out: Value):
    """(a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0) along ``dim`` (counted from the end, so
    that it holds for inputs of fewer dims, broadcast as NumPy's)."""
    a, b, dim = args
    axis = dim - out.ndim if dim >= 0 else dim
    a, b = (g.cast(v, out.dtype) for v in (a, b))

    def part(v, i):
        return g.node("Slice", [v, g.ints([i]), g.ints([i + 1]), g.ints([axis], "axes")])

    def term(i, j):
        return g.node("Sub", [g.node("Mul", [part(a, i), part(b, j)]),
                              g.node("Mul", [part(a, j), part(b, i)])])

    g.node("Concat", [term(1, 2), term(2, 0), term(0, 1)], _out(out), axis=axis)


# -- zeros with values placed at an index ----------------------------------------------------------
@converts(AdvancedGetitemBackward, GetitemBackward)
def placed(g: Graph, args, out: Value):
    """zeros(shape) with x added at the positions of ``zeros[key]`` (written, for a basic key
    or masks, which select each position once): those flat positions are read from an iota of
    the shape by the getitem conversions, then ScatterElements into zeros."""
    x, shape, key = args
    count = int(np.prod(shape))
    iota = g.node("Reshape", [g.const(np.arange(count, dtype=np.int64), "iota"), g.ints(shape)])
    iota = Value(iota, shape, _INT64)
    places = Value(g.fresh("places"), x.shape, _INT64)
    if g.current is GetitemBackward:
        getitem(g, [iota, key], places)
    else:
        advanced_getitem(g, [iota, _no_ellipsis(key, len(shape))], places)
    parts = key if isinstance(key, tuple) else (key,)
    adds = any(isinstance(k, np.ndarray) and k.dtype.kind in "iu" for k in parts)
    zeros = g.const(np.zeros(count, out.dtype), "zeros")
    flat = g.node("ScatterElements", [zeros, g.node("Reshape", [places, g.ints([-1])]),
                                      g.node("Reshape", [x, g.ints([-1])])], axis=0,
                  reduction="add" if adds else "none")
    g.node("Reshape", [flat, g.ints(shape)], _out(out))


def _no_ellipsis(key, ndim: int):
    """``key`` with an Ellipsis spelled out as the slices it stands for."""
    key = key if isinstance(key, tuple) else (key,)
    at = [i for i, k in enumerate(key) if k is Ellipsis]
    if not at:
        return key
    used = sum(k.ndim if isinstance(k, (np.ndarray, Value)) and k.dtype == np.dtype(bool) else 1
               for k in key if k is not None and k is not Ellipsis)
    return key[:at[0]] + (slice(None),) * (ndim - used) + key[at[0] + 1:]
