"""One ONNX conversion per nabla op: ``convert(g, args, out)`` writes the nodes that compute the
op's output ``out`` (a ``Value``; a list for several outputs) from its arguments ``args``, in the
order the op's ``forward`` takes them: a ``Value`` for each tensor, constants (dims, shapes,
scalars, window geometry) as they were. Composite functions (flatten, batch norm in eval mode,
adaptive pooling, attention) need no entry: they ran as primitive ops.

This module holds the registry (``converts``) and the elementwise, shape and reduction ops; the
other families have a module each: ``converters_nn`` (the layers of nn.functional),
``converters_arith`` (integer division, remainder), ``converters_compare`` (comparisons, logical
ops, isclose, where), ``converters_index`` (gather, advanced indexing), ``converters_scatter``,
``converters_reduce`` (argmax, sort, cumulative ops), ``converters_count`` (nonzero, unique,
bincount, one_hot), ``converters_loss``, ``converters_math`` (rounding, trigonometric and other
elementwise functions; ``converters_double`` holds their float64 forms), ``converters_special``
(erf, erfinv, Bessel functions, frexp / ldexp / nextafter, gcd / lcm), ``converters_stats`` (var,
prod, logsumexp, norms, einsum, cross), ``converters_order`` (searchsorted, isin, histc, mode,
nanmedian, unique_consecutive), ``converters_write`` (index_copy / index_put / scatter_reduce
and the other index writes) and ``converters_view`` (unfold, as_strided, roll, repeat, tril,
im2col and col2im).
"""

from nabla.autograd.function import Op
from nabla.nn.functional import activation as act
from nabla.onnx.export import Graph, Value
from nabla.ops import arithmetic as ar
from nabla.ops import elementwise as el
from nabla.ops.casts import Clone, ToDtype
from nabla.ops.extrema import Amax, Amin, MaxAll, MinAll
from nabla.ops.flip import Flip
from nabla.ops.index import Getitem
from nabla.ops.join import Cat, Pad, Split, Stack, Unbind
from nabla.ops.reduce import Mean, Sum
from nabla.ops.shape import BroadcastTo, Permute, Reshape

CONVERTERS: dict = {}


def converts(*classes: type[Op]):
    """Register the decorated function as the conversion of ``classes``."""
    def register(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn
    return register


def _out(out: Value) -> list:
    return [out.name]


# -- elementwise ---------------------------------------------------------------------------------
_BINARY = {ar.Add: "Add", ar.Sub: "Sub", ar.Mul: "Mul", ar.Div: "Div", ar.Pow: "Pow",
           ar.Maximum: "Max", ar.Minimum: "Min"}
_UNARY = {el.Exp: "Exp", el.Log: "Log", el.Sqrt: "Sqrt", el.Abs: "Abs", el.Sign: "Sign",
          el.Sin: "Sin", el.Cos: "Cos", el.Tanh: "Tanh", el.Sigmoid: "Sigmoid", el.Relu: "Relu",
          ar.Neg: "Neg", Clone: "Identity"}


@converts(*_BINARY)
def binary(g: Graph, args, out: Value):
    """x op y, both operands in the output's dtype (type promotion decided it when tracing)."""
    x, y = args
    g.node(_BINARY[g.current], [g.cast(x, out.dtype), g.cast(y, out.dtype)], _out(out))


@converts(*_UNARY)
def unary(g: Graph, args, out: Value):
    g.node(_UNARY[g.current], [g.cast(args[0], out.dtype)], _out(out))


@converts(el.Log1p)
def log1p(g: Graph, args, out: Value):
    g.node("Log", [g.node("Add", [args[0], g.cast(1, out.dtype)])], _out(out))


@converts(el.Expm1)
def expm1(g: Graph, args, out: Value):
    g.node("Sub", [g.node("Exp", [args[0]]), g.cast(1, out.dtype)], _out(out))


@converts(el.Rsqrt)
def rsqrt(g: Graph, args, out: Value):
    g.node("Reciprocal", [g.node("Sqrt", [args[0]])], _out(out))


@converts(ToDtype)
def to_dtype(g: Graph, args, out: Value):
    g.node("Cast", [args[0]], _out(out), to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))


@converts(el.Clamp, act.Hardtanh)
def clamp(g: Graph, args, out: Value):
    """max(x, lo), then min(., hi): bounds may be scalars or tensors, either may be None."""
    x, lo, hi = args
    y = g.cast(x, out.dtype)
    if lo is not None:
        y = g.node("Max", [y, g.cast(lo, out.dtype)])
    if hi is not None:
        y = g.node("Min", [y, g.cast(hi, out.dtype)])
    g.node("Identity", [y], _out(out))


# -- shapes -------------------------------------------------------------------------------------
@converts(Reshape)
def reshape(g: Graph, args, out: Value):
    """The target shape with the leading dims it keeps as 0 (ONNX: copy the input's) and the
    next one as -1 (without such dims: the one of the input's first size, if any), so that a
    dynamic batch dim stays dynamic where it can; export's dynamic check catches the rest."""
    x, _ = args
    target = list(out.shape)
    if 0 not in target:
        k = 0
        while k < min(x.ndim, len(target)) and target[k] == x.shape[k]:
            target[k] = 0
            k += 1
        if k == 0 and x.ndim and x.shape[0] in target:  # (N,) -> (1, N, 1): N moves
            target[target.index(x.shape[0])] = -1
        elif k < len(target):
            target[k] = -1
    g.node("Reshape", [x, g.ints(target)], _out(out))


@converts(Permute)
def permute(g: Graph, args, out: Value):
    g.node("Transpose", [args[0]], _out(out), perm=list(args[1]))


@converts(BroadcastTo)
def broadcast_to(g: Graph, args, out: Value):
    g.node("Expand", [args[0], g.ints(out.shape)], _out(out))


@converts(Cat)
def cat(g: Graph, args, out: Value):
    dim, *xs = args
    g.node("Concat", [g.cast(x, out.dtype) for x in xs], _out(out), axis=int(dim))


@converts(Stack)
def stack(g: Graph, args, out: Value):
    dim, *xs = args
    axis = int(dim) % out.ndim
    parts = [g.node("Unsqueeze", [g.cast(x, out.dtype), g.ints([axis], "axes")]) for x in xs]
    g.node("Concat", parts, _out(out), axis=axis)


@converts(Split)
def split(g: Graph, args, outs: list):
    x, sizes, dim = args
    g.node("Split", [x, g.ints(sizes, "sizes")], [o.name for o in outs], axis=int(dim))


@converts(Unbind)
def unbind(g: Graph, args, outs: list):
    """Split into pieces of size 1, each squeezed along ``dim``."""
    x, dim = args
    axis = int(dim) % x.ndim
    pieces = [g.fresh("piece") for _ in outs]
    g.node("Split", [x, g.ints([1] * len(outs), "sizes")], pieces, axis=axis)
    for piece, o in zip(pieces, outs):
        g.node("Squeeze", [piece, g.ints([axis], "axes")], [o.name])


_END = 2**63 - 1  # a slice bound past the end of any dim (ONNX clamps it)


@converts(Flip)
def flip(g: Graph, args, out: Value):
    """A Slice with step -1 along each flipped dim, from the last element to the first."""
    x, dims = args
    if not dims:  # a 0-d input
        g.node("Identity", [x], _out(out))
        return
    k = len(dims)
    g.node("Slice", [x, g.ints([-1] * k), g.ints([-_END] * k), g.ints(dims, "axes"),
                     g.ints([-1] * k, "steps")], _out(out))


@converts(Pad)
def pad(g: Graph, args, out: Value):
    """Constant padding; negative widths crop, as ONNX's Pad does too."""
    x, widths, value = args
    pads = [a for a, _ in widths] + [b for _, b in widths]
    g.node("Pad", [x, g.ints(pads, "pads"), g.cast(value, out.dtype)], _out(out),
           mode="constant")


@converts(Getitem)
def getitem(g: Graph, args, out: Value):
    """A basic index (ints, slices, None, Ellipsis): one Slice, then Squeeze for the ints and
    Unsqueeze for the Nones. Negative ints and bounds stay negative (counted from the end by
    ONNX too), so that they hold for a dim whose size the data decides (unique(x)[-1])."""
    x, key = args
    key = key if isinstance(key, tuple) else (key,)
    if Ellipsis in key:
        i = key.index(Ellipsis)
        fill = x.ndim - (len(key) - 1 - key.count(None))
        key = key[:i] + (slice(None),) * fill + key[i + 1:]
    starts, ends, axes, steps, squeeze, new_axes = [], [], [], [], [], []
    dim = pos = 0  # dim of x, position in the output before squeezing
    for k in key:
        if k is None:
            new_axes.append(pos)
            pos += 1
            continue
        n = x.shape[dim]
        if isinstance(k, slice):
            pos += 1
            if k == slice(None) or k == slice(None, None, 1):  # the whole dim (any size)
                dim += 1
                continue
            start, stop, step = k.indices(n)
            if k.stop is None or (step < 0 and stop < 0):  # to the end, in the step's direction
                stop = _END if step > 0 else -_END
            if k.start is None and step < 0:
                start = _END
            start = k.start if k.start is not None and -n <= k.start < 0 else start
            stop = k.stop if k.stop is not None and -n <= k.stop < 0 else stop
        else:
            start, stop, step = int(k), int(k) + 1, 1
            if start < 0 and stop == 0:  # the last element: to the end
                stop = _END
            squeeze.append(dim)
        starts.append(start)
        ends.append(stop)
        axes.append(dim)
        steps.append(step)
        dim += 1
    y = x.name
    if axes:
        y = g.node("Slice", [x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        y = g.node("Squeeze", [y, g.ints(squeeze)])
    if new_axes:
        y = g.node("Unsqueeze", [y, g.ints(new_axes)])
    g.node("Identity", [y], _out(out))


# -- reductions -----------------------------------------------------------------------------------
def _axes(dims, ndim: int) -> list | None:
    if dims is None:
        return None
    dims = (dims,) if isinstance(dims, int) else dims
    return sorted(d % ndim for d in dims)


def _reduce(g: Graph, op_type: str, x, axes, keepdims: int, output=None) -> str:
    """A reduction over ``axes`` (None: all): axes is an input from opset 18 on (ReduceSum:
    13), an attribute before."""
    outputs = [output] if output else None
    if axes is None:
        return g.node(op_type, [x], outputs, keepdims=keepdims)
    if op_type == "ReduceSum" or g.opset >= 18:
        return g.node(op_type, [x, g.ints(axes, "axes")], outputs, keepdims=keepdims)
    return g.node(op_type, [x], outputs, axes=axes, keepdims=keepdims)


@converts(Sum, Mean)
def sum_mean(g: Graph, args, out: Value):
    x, dims, keepdim, _ = args
    op_type = "ReduceSum" if g.current is Sum else "ReduceMean"
    y = _reduce(g, op_type, g.cast(x, out.dtype), _axes(dims, x.ndim), int(bool(keepdim)))
    g.node("Identity", [y], _out(out))


@converts(Amax, Amin)
def amax(g: Graph, args, out: Value):
    x, dims, keepdim = args
    op_type = "ReduceMax" if g.current is Amax else "ReduceMin"
    _reduce(g, op_type, x, _axes(dims, x.ndim), int(bool(keepdim)), out.name)


@converts(MaxAll, MinAll)
def max_all(g: Graph, args, out: Value):
    (x,) = args
    op_type = "ReduceMax" if g.current is MaxAll else "ReduceMin"
    _reduce(g, op_type, x, _axes(tuple(range(x.ndim)), x.ndim), 0, out.name)
