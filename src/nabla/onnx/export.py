"""``export``: run the model once with ``jit``'s tracer listening, then write each recorded op as
ONNX nodes (the ``converters*.py`` modules have one function per op; ``plain.py`` tells which op
a step without gradient ran) into a ``ModelProto``."""

import os

import numpy as np

from nabla.autograd.grad_mode import _trace, no_grad
from nabla.jit import TraceError, _Tracer
from nabla.serialization import _atomic_write
from nabla.tensor import Tensor

DEFAULT_OPSET = 17  # LayerNormalization is in 17; onnxruntime runs it everywhere


class ExportError(RuntimeError):
    """The model does something the ONNX exporter cannot write."""


class Value:
    """An ONNX value of the graph being built: its name, shape and NumPy dtype at trace time,
    and ``free``, the dims whose size depends on the data (unique's, nonzero's count)."""

    __slots__ = ("name", "shape", "dtype", "free")

    def __init__(self, name: str, shape: tuple, dtype, free=()) -> None:
        self.name, self.shape, self.dtype = name, tuple(shape), dtype
        self.free = frozenset(free)

    @property
    def ndim(self) -> int:
        return len(self.shape)


class Graph:
    """The nodes and initializers written so far; converters add to it through ``node``,
    ``const`` and ``cast``. ``current`` is the op class being converted (for conversions that
    serve several ops), ``opset`` the target opset."""

    def __init__(self, onnx, opset: int) -> None:
        self.onnx, self.opset = onnx, opset
        self.nodes, self.initializers = [], []
        self.current = None
        self.free = {}  # graph output name -> its dims whose size depends on the data
        self.owners = {}  # initializer name -> the op class whose conversion made it
        self._count = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def node(self, op_type: str, inputs: list, outputs=None, **attrs) -> str:
        """Add a node; return the name of its (first) output."""
        outputs = outputs or [self.fresh(op_type.lower())]
        names = ["" if i is None else i.name if isinstance(i, Value) else i for i in inputs]
        self.nodes.append(self.onnx.helper.make_node(op_type, names, outputs, **attrs))
        return outputs[0]

    def const(self, array, hint: str = "const") -> str:
        """An initializer holding ``array`` (a NumPy array or scalar); its name."""
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        self.owners[name] = self.current
        return name

    def ints(self, values, hint: str = "shape") -> str:
        return self.const(np.asarray(list(values), np.int64), hint)

    def cast(self, v, dtype) -> str:
        """``v`` (a Value or a Python/NumPy constant) as an input of ``dtype``."""
        if not isinstance(v, Value):
            return self.const(np.asarray(v, dtype))
        if v.dtype == dtype:
            return v.name
        return self.node("Cast", [v], to=self.onnx.helper.np_dtype_to_tensor_dtype(dtype))


def export(model, args, f, input_names=None, output_names=None, opset_version: int = DEFAULT_OPSET,
           dynamic_axes: dict | None = None):
    """Export ``model(*args)`` to ONNX, as ``torch.onnx.export``.

    The model runs once on ``args`` in eval mode (dropout off, batch norm on its running
    statistics; its modes are restored afterwards); every op it runs becomes ONNX nodes, its
    parameters and buffers initializers named by their state-dict keys. Control flow is frozen
    at the path ``args`` took, as in any trace.

    Args:
        model: a Module or a function of Tensors returning a Tensor or a tuple of Tensors.
        args: a Tensor or a tuple of Tensors, the example inputs.
        f: a path to write the ``.onnx`` file to (written atomically), or None to only return
            the model.
        input_names, output_names: names of the graph's inputs and outputs (default input_0,
            ..., output_0, ...).
        opset_version: the ONNX opset (17 or newer).
        dynamic_axes: ``{name: {dim: label}}`` or ``{name: [dims]}``: dims of inputs or outputs
            left symbolic (a batch dim, so the file runs on any batch size).

    Returns:
        The ``onnx.ModelProto``.
    """
    onnx = _import_onnx()
    inputs = _example_inputs(args, opset_version)
    input_names = list(input_names or [f"input_{i}" for i in range(len(inputs))])
    graph, outputs, output_names = _build(onnx, model, inputs, input_names, output_names,
                                          opset_version)
    if dynamic_axes:
        grown = _check_dynamic(onnx, model, inputs, graph, input_names, output_names,
                               opset_version, dynamic_axes)
        for name, t, other in zip(output_names, outputs, grown):  # output dims that follow a
            graph.free[name] = graph.free[name] | {  # dynamic input dim are named too
                d for d, (a, b) in enumerate(zip(t.shape, other.shape)) if a != b}
    proto = _model_proto(onnx, model, graph, zip(input_names, inputs),
                         zip(output_names, outputs), dynamic_axes, opset_version)
    if f is not None:
        _atomic_write(os.fspath(f), proto.SerializeToString(), who="nabla.onnx.export")
    return proto


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("onnx.export needs the onnx package: pip install nabla[onnx]") \
            from None
    return onnx


def _example_inputs(args, opset_version: int) -> tuple:
    """The example inputs as a tuple of Tensors, after checking them and the opset."""
    if opset_version < DEFAULT_OPSET:
        raise ValueError(f"onnx.export: opset_version must be >= {DEFAULT_OPSET}, got "
                         f"{opset_version}")
    inputs = (args,) if isinstance(args, Tensor) else tuple(args)
    if not inputs or not all(isinstance(t, Tensor) for t in inputs):
        raise TypeError("onnx.export: args must be a Tensor or a tuple of Tensors")
    return inputs


def _model_proto(onnx, model, graph: Graph, inputs, outputs, dynamic_axes, opset: int):
    """The checked ModelProto of the converted graph; ``inputs`` and ``outputs`` are (name,
    example Tensor) pairs, their dims named as ``dynamic_axes`` (and the data) say."""
    onnx_graph = onnx.helper.make_graph(
        graph.nodes, getattr(model, "_get_name", lambda: "nabla")(),
        [_info(onnx, name, t, dynamic_axes) for name, t in inputs],
        [_info(onnx, name, t, dynamic_axes, graph.free[name]) for name, t in outputs],
        graph.initializers)
    proto = onnx.helper.make_model(onnx_graph, producer_name="nabla",
                                   opset_imports=[onnx.helper.make_opsetid("", opset)])
    onnx.checker.check_model(proto)
    return proto


def _build(onnx, model, inputs, input_names, output_names, opset_version):
    """Trace the model on ``inputs`` and convert every op; the graph, outputs, output names."""
    converters = _converters()
    tracer, outputs = _record(model, inputs)
    output_names = list(output_names or [f"output_{i}" for i in range(len(outputs))])
    if len(input_names) != len(inputs) or len(output_names) != len(outputs):
        raise ValueError(f"onnx.export: {len(inputs)} inputs and {len(outputs)} outputs, got "
                         f"{len(input_names)} input names and {len(output_names)} output names")
    graph = Graph(onnx, opset_version)
    values = {}  # slot -> Value
    for i, (t, name) in enumerate(zip(inputs, input_names)):
        values[i] = Value(name, t.shape, t.dtype)
    names = _state_names(model)
    for slot, t in tracer.captured:  # parameters and buffers, or constants of the trace
        name = names.get(id(t)) or graph.fresh("constant")
        graph.initializers.append(onnx.numpy_helper.from_array(t._data, name))
        values[slot] = Value(name, t.shape, t.dtype)
    for step in tracer.steps:
        _convert(graph, converters, step, values, tracer)
    out_slots = [tracer.slots[id(t._data)] for t in outputs]
    for slot, name in zip(out_slots, output_names):
        graph.node("Identity", [values[slot]], [name])
        graph.free[name] = values[slot].free
    return graph, outputs, output_names


def _check_dynamic(onnx, model, inputs, graph, input_names, output_names, opset, dynamic_axes):
    """Trace again with each dynamic dim one larger: a size the model computed in Python from a
    dynamic dim (x.shape[0]) shows up as a constant that changed, which the file would freeze.
    Returns the outputs of that second trace (their sizes show which output dims follow)."""
    grown = []
    for t, name in zip(inputs, input_names):
        a = t._data
        for d in dynamic_axes.get(name, ()):
            a = np.take(a, np.arange(a.shape[d] + 1), axis=d, mode="wrap")  # valid values
        grown.append(Tensor._make(a))
    other, other_outputs, _ = _build(onnx, model, grown, input_names, output_names, opset)
    if [n.op_type for n in other.nodes] != [n.op_type for n in graph.nodes]:
        raise ExportError("onnx.export: the model runs other ops when a dynamic dim changes "
                          "size (Python control flow on the shape); export without dynamic_axes")
    for mine, theirs in zip(graph.initializers, other.initializers):
        if mine.SerializeToString() != theirs.SerializeToString():
            owner = graph.owners.get(mine.name)
            what = f"the op {owner.__name__}" if owner else "a tensor the model creates"
            raise ExportError(
                f"onnx.export: {what} uses a size computed in Python from a dynamic dim (such "
                "as x.shape[0]); the file would keep the size of the example inputs. Export "
                "without dynamic_axes, or compute the size from the tensor (-1 in reshape)")
    return other_outputs


def _record(model, inputs):
    """Run the model once with a tracer listening (eval mode, no graph); its outputs."""
    modules = list(model.modules()) if hasattr(model, "modules") else []
    modes = [m.training for m in modules]
    for m in modules:
        m.training = False
    tracer = _Tracer(inputs)
    if _trace.tracer is not None:
        raise ExportError("onnx.export cannot run inside jit.trace")
    _trace.tracer = tracer
    try:
        with no_grad():
            result = model(*inputs)
    except TraceError as err:
        raise ExportError(str(err).replace("jit.trace", "onnx.export")) from None
    finally:
        _trace.tracer = None
        for m, mode in zip(modules, modes):
            m.training = mode
    outputs = _flat_outputs(result)
    if outputs is None:
        raise ExportError("onnx.export: the model must return a Tensor or (nested) tuples or "
                          f"lists of Tensors, got {type(result).__name__}")
    for t in outputs:
        tracer.slot(t)  # an output that no op made (an input, a parameter) is captured here
    return tracer, outputs


def _flat_outputs(result):
    """The model's output tensors in order, nested tuples and lists flattened (an LSTM's
    ``(y, (h, c))`` gives three graph outputs, as torch.onnx.export does); None if one is not
    a Tensor."""
    if isinstance(result, Tensor):
        return [result]
    if not isinstance(result, (tuple, list)):
        return None
    flat = []
    for item in result:
        inner = _flat_outputs(item)
        if inner is None:
            return None
        flat += inner
    return flat


def _converters() -> dict:
    """Every conversion, by op class (or NumPy function, for the ops without gradient)."""
    from nabla.onnx import (  # noqa: F401 (importing a module registers its conversions)
        converters,
        converters_arith,
        converters_compare,
        converters_count,
        converters_index,
        converters_loss,
        converters_math,
        converters_nn,
        converters_order,
        converters_reduce,
        converters_scatter,
        converters_special,
        converters_stats,
        converters_view,
        converters_write,
    )

    return converters.CONVERTERS


def _convert(graph: Graph, converters: dict, step, values: dict, tracer) -> None:
    """Write one traced op: its converter gets the arguments (Values for tensors, the
    constants as they were) and the names of its outputs."""
    from nabla.onnx.plain import identify, plain_name

    args = list(step.template)
    for pos, slot in step.reads:
        args[pos] = values[slot]
    key = step.cls
    if key is None:  # an op without gradient: a NumPy function (plain.py)
        key, args = identify(step.fn, args)
        if key is None:
            raise ExportError(f"onnx.export: {plain_name(step.fn)} (an op without gradient) "
                              "has no ONNX conversion yet")
    convert = converters.get(key)
    if convert is None:
        raise ExportError(
            f"onnx.export: the op {key.__name__} has no ONNX conversion yet. Supported: "
            f"{', '.join(sorted(c.__name__ for c in converters))}")
    graph.current = key
    args = [_traced(graph, a, values, tracer) for a in args]
    outs = []
    for slot in step.outs:
        a = tracer.arrays[slot]
        values[slot] = Value(f"t{slot}", a.shape, a.dtype)
        outs.append(values[slot])
    convert(graph, args, outs if step.meta is not None else outs[0])
    _carry_free(args, outs)


def _carry_free(args, outs) -> None:
    """Mark the dims of ``outs`` that take a data-dependent size from an input (x[mask] * 2,
    unique(x).reshape(-1, 1)), unless their conversion marked them: a dim of the size of an
    input's free dim is taken to be it. (At worst a fixed dim of that size is left unnamed in
    the file, which is still valid.)"""
    sizes = set()
    stack = list(args)
    while stack:
        a = stack.pop()
        if type(a) is tuple:
            stack.extend(a)
        elif isinstance(a, Value):
            sizes.update(a.shape[d] for d in a.free)
    if not sizes:
        return
    for out in outs:
        if not out.free:
            out.free = frozenset(d for d, n in enumerate(out.shape) if n in sizes)


def _traced(graph: Graph, a, values: dict, tracer):
    """``a`` (an argument, or a part of an index key) with each array that is a traced value
    as its Value (``x[idx]`` reads the array of the tensor ``idx``), and a broadcast view of
    one (masked_select's mask) expanded from it; other arrays are constants of the trace."""
    if type(a) is tuple:
        return tuple(_traced(graph, k, values, tracer) for k in a)
    base = a
    while isinstance(base, np.ndarray) and id(base) not in tracer.slots:
        base = base.base
    if not isinstance(base, np.ndarray) or tracer.slots[id(base)] not in values:
        return a
    value = values[tracer.slots[id(base)]]
    if base is a:
        return value
    same = _same_memory(a, values, tracer)
    if same is not None:
        return same
    try:
        expanded = np.array_equal(np.broadcast_to(base, a.shape), a)
    except ValueError:  # not a broadcast of base
        expanded = False
    if not expanded:
        raise ExportError("onnx.export: an index computed from a tensor outside nabla's ops "
                          "(a view of its array) cannot be exported")
    name = graph.node("Expand", [value, graph.ints(a.shape)])
    return Value(name, a.shape, a.dtype)


def _same_memory(a: np.ndarray, values: dict, tracer):
    """The Value of the latest traced array that is ``a`` (same memory, shape and strides), or
    None. ``a`` may be a fresh view of it: ``index.reshape(-1)`` of a sliced index is, and
    NumPy makes its ``base`` the array that owns the memory, skipping the slice."""
    layout = (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype)
    for slot in sorted(values, reverse=True):
        t = tracer.arrays[slot]
        if isinstance(t, np.ndarray) and \
                (t.__array_interface__["data"][0], t.shape, t.strides, t.dtype) == layout:
            return values[slot]
    return None


def _state_names(model) -> dict:
    """id(tensor) -> its state-dict name, for the model's parameters and buffers."""
    if not hasattr(model, "named_parameters"):
        return {}
    named = list(model.named_parameters()) + list(model.named_buffers())
    return {id(t): name for name, t in named}


def _info(onnx, name: str, t: Tensor, dynamic_axes, free=()):
    """The ValueInfo of a graph input or output, with its dynamic dims named (those of
    ``dynamic_axes``, and the ``free`` dims of an output, whose size depends on the data)."""
    dims = list(t.shape)
    dynamic = (dynamic_axes or {}).get(name, {})
    if not isinstance(dynamic, dict):
        dynamic = {d: f"{name}_dim_{d}" for d in dynamic}
    for d in free:
        dims[d] = f"{name}_dim_{d}"
    for d, label in dynamic.items():
        dims[d] = label
    elem = onnx.helper.np_dtype_to_tensor_dtype(t.dtype)
    return onnx.helper.make_tensor_value_info(name, elem, dims)

