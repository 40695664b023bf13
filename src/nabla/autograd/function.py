"""The graph node. Each call of a differentiable op creates one ``Function`` object (the ``ctx``),
which remembers what backward needs: the edges to its inputs and the values it saved.

Define-by-run: the graph is nothing but these nodes, linked from each output tensor's ``grad_fn``
back to the inputs, recorded while the code runs.
"""

import itertools

from nabla.autograd import anomaly as _anomaly
from nabla.autograd.grad_mode import _anomaly as _anomaly_mode
from nabla.autograd.grad_mode import _mode, _trace, no_grad
from nabla.backend import array_module, as_array, ndarray
from nabla.tensor import Tensor

_INPUT, _OUTPUT, _CONSTANT = 0, 1, 2
_CONSTANT_REF = (_CONSTANT, None, None, None)


class OpInputError(Exception):
    """Marks an error an op raises on purpose, whose message already names the op, the values
    and the fix: ``Op.apply`` lets it through as it is, where it prefixes other NumPy errors
    with the op and the input shapes. Raise a subclass that is also the builtin error."""


class OpIndexError(OpInputError, IndexError):
    """An index out of range, found by an op's own check (an IndexError for callers)."""


class OpValueError(OpInputError, ValueError):
    """A bad value or shape, found by an op's own check (a ValueError for callers)."""


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf that requires grad (PyTorch's node that adds the
    gradient into ``variable.grad``), so that a walk over the graph meets only nodes."""

    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


class Function:
    """Base of every differentiable op; the contract of PyTorch's ``torch.autograd.Function``.

    Subclass it with two static methods and call ``MyFunction.apply(*args)``::

        forward(ctx, *args) -> output or tuple of outputs   (runs with recording off)
        backward(ctx, *grads) -> one gradient per forward argument (None where not needed)

    ``ctx`` is the node itself: ``ctx.save_for_backward(*values)``, ``ctx.saved_tensors``,
    ``ctx.needs_input_grad`` and any plain attribute (shapes, axes) are available to backward.
    A user Function's forward receives Tensors, as in PyTorch. Built-in ops derive from ``Op``,
    whose forward receives raw arrays (less overhead per op). Either way backward receives and
    returns Tensors, so a backward written with nabla ops is itself differentiable.
    """

    # True when backward is written only with operators and nabla.ops functions, which accept
    # raw arrays as well as Tensors: the engine then runs it on arrays unless create_graph=True.
    array_backward = False
    is_view = False  # True for ops whose output shares memory (and version) with input 0
    _saved = ()  # the values forward saved, as it passed them; None once backward freed them
    # per saved value: (kind, input tensor or output index, version counter, version at saving);
    # empty where nothing was recorded (a jit.trace replay keeps its own checks)
    _saved_refs = ()
    _edges = ()
    _pre_hooks = None
    _non_differentiable = ()
    _n_outputs = 1
    _outputs_meta = None
    # True for binary arithmetic (add, sub, mul, div), where PyTorch wraps a number operand as
    # a tensor: next_functions then lists it, (None, 0)
    numbers_are_tensors = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError(
            f"{type(ctx).__name__} has no backward: implement backward(ctx, *grads)"
        )

    # -- the ctx API used inside forward / backward -------------------------------------------
    def save_for_backward(self, *values) -> None:
        """Keep ``values`` (inputs, outputs or other arrays) for backward."""
        self._saved = values

    def mark_non_differentiable(self, *outputs) -> None:
        self._non_differentiable = tuple(id(o) for o in outputs)

    @property
    def saved_tensors(self) -> tuple:
        """The saved values as Tensors, checked against in-place modification since saving."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to read "
                "saved tensors after they were freed). Pass retain_graph=True to the first "
                "backward() or autograd.grad() call if you need to backward twice."
            )
        refs = self._saved_refs
        for _, _, counter, version in refs:
            if counter is not None and counter[0] != version:
                self._raise_modified()
        if self.array_backward and not _mode.enabled:  # see engine: fast mode
            return saved
        out = []
        for value, (kind, ref, counter, _) in zip(saved, refs or [_CONSTANT_REF] * len(saved)):
            if kind == _INPUT:
                out.append(ref)
            elif kind == _OUTPUT:
                out.append(Tensor._make(value, True, self, ref, counter))
            else:
                out.append(Tensor._make(value) if isinstance(value, ndarray) else value)
        return tuple(out)

    def _raise_modified(self):
        for value, (_, _, counter, version) in zip(self._saved, self._saved_refs):
            if counter is not None and counter[0] != version:
                raise RuntimeError(
                    f"{self.name()}: a tensor of shape {tuple(value.shape)} needed for "
                    f"gradient computation was modified by an in-place operation (it is at "
                    f"version {counter[0]}, expected {version}). Clone it (x.clone()) "
                    "before changing it in place, or change it only after backward."
                )

    @property
    def needs_input_grad(self) -> tuple:
        # an edge is a tuple (target, output index, shape, dtype); None for a tensor that needs
        # no gradient, () for an argument that is not a tensor (see _edge)
        edges = self._edges
        if len(edges) == 2:  # the most common case, spelled out: this runs in most rules
            return bool(edges[0]), bool(edges[1])
        return tuple([bool(e) for e in edges])

    @property
    def next_functions(self) -> tuple:
        """(node, output index) for each tensor input, as PyTorch: an AccumulateGrad for a leaf
        that requires grad, (None, 0) for a tensor that needs none; arguments that were not
        tensors (dims, flags, numbers) have no entry."""
        listed = self.numbers_are_tensors
        return tuple((None, 0) if not e else
                     (AccumulateGrad(e[0]) if isinstance(e[0], Tensor) else e[0], e[1])
                     for e in self._edges if listed or e != ())

    def register_prehook(self, output_nr: int, hook) -> None:
        """Call ``hook(grad)`` on the gradient of output ``output_nr`` before backward runs."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        self._pre_hooks.setdefault(output_nr, []).append(hook)

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"

    # -- recording -------------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args):
        """Run forward on ``args`` (Tensors, with recording off) and, if any input requires grad,
        record this node in the graph."""
        if _trace.tracer is not None:
            _trace.tracer.refuse(f"the custom autograd.Function {cls.__name__}")
        ctx = cls.__new__(cls)
        record = _mode.enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx._edges = tuple(_edge(a) for a in args) if record else tuple(None for _ in args)
        with no_grad():
            out = cls.forward(ctx, *args)
        outs = out if type(out) is tuple else (out,)
        arrays = tuple(o._data if isinstance(o, Tensor) else as_array(o) for o in outs)
        if _anomaly_mode.mode:
            _anomaly.check_forward(cls, ctx, [getattr(a, "_data", a) for a in args], arrays)
        if not record:
            results = tuple(Tensor._make(a) for a in arrays)
            return results if type(out) is tuple else results[0]
        return _record(ctx, args, args, out, arrays)


class Op(Function):
    """Base of nabla's built-in ops: forward works on the raw arrays of the tensors.

    Called with raw arrays only (as backward rules do in the engine's fast mode), an op returns a
    raw array and records nothing.

    Its ``apply`` is the hot path of every op, kept short: unwrap, run forward, wrap, and only
    when an input requires grad (and grad mode is on) record the node.
    """

    @classmethod
    def apply(cls, *args):
        raw = []
        edges = []  # where each input's gradient goes (see _edge); built in the same pass
        record = False
        enabled = _mode.enabled
        wrap = False  # called on raw arrays only (inside a backward rule): return arrays
        for a in args:
            if isinstance(a, Tensor):
                data = a._data
                raw.append(data)
                wrap = True
                if a._requires_grad and enabled:
                    record = True
                    edges.append((a.grad_fn or a, a._output_nr, data.shape, data.dtype))
                else:
                    edges.append(None)
            else:
                raw.append(a)
                edges.append(())  # not a tensor: no gradient, and no entry in next_functions
        ctx = _new(cls)
        try:
            out = cls.forward(ctx, *raw)
        except OpInputError:
            raise
        except (ValueError, TypeError, IndexError) as err:
            raise _op_error(cls, args, err) from err
        if _anomaly_mode.mode:
            _anomaly.check_forward(cls, ctx, raw, out)
        if record:
            ctx._edges = edges
            ctx._seq = next(_sequence)
            if type(out) is tuple or ctx.is_view:
                result = _record(ctx, args, raw, out, out if type(out) is tuple else (out,))
            else:
                result = _make(out, True, ctx)  # the common case, inlined: one output, no view
                if ctx._saved:
                    _collect_saved(ctx, args, raw, (out,), (result,))
        elif not wrap:
            return out
        elif ctx.is_view:  # views share their base's version counter, recorded or not
            version = args[0]._version
            if type(out) is tuple:
                result = tuple(_make(o, version=version) for o in out)
            else:
                result = _make(out, version=version)
        elif type(out) is tuple:
            result = tuple(map(_make, out))
        else:
            result = _make(out)
        if _trace.tracer is not None:  # nabla.jit.trace is recording: log this call
            _trace.tracer.op(cls, args, result)
        return result


_new = object.__new__
_make = Tensor._make
# Recording order: a node's consumers get larger numbers, which the engine uses as its topological
# order (itertools.count is atomic under the GIL).
_sequence = itertools.count()


def _record(ctx, args, raw, out, arrays):
    """Wrap the outputs of a recorded op as tensors whose grad_fn is ``ctx``; keep what backward
    needs (the saved values, and for several outputs their shapes)."""
    if "_seq" not in ctx.__dict__:
        ctx._seq = next(_sequence)
    multi = type(out) is tuple
    nondiff = ctx._non_differentiable
    if not multi and not nondiff:
        results = (_make(arrays[0], True, ctx, 0),)
    else:
        results = tuple(
            _make(a, True, ctx, i) if id(outs_i) not in nondiff else _make(a)
            for i, (a, outs_i) in enumerate(zip(arrays, out if multi else (out,)))
        )
    if ctx.is_view:  # every output is a view of input 0 (split's pieces too)
        for t in results:
            t._version = args[0]._version
    if ctx._saved:
        _collect_saved(ctx, args, raw, out if multi else (out,), results)
    if multi:
        ctx._n_outputs = len(results)
        ctx._outputs_meta = tuple((a.shape, a.dtype, array_module(a)) for a in arrays)
    return results if multi else results[0]


def _edge(a):
    """Where the gradient of argument ``a`` goes: (node or leaf, output index, shape, dtype);
    None for a tensor that needs no gradient, () for an argument that is not a tensor (the
    backward walk skips both; next_functions lists only tensors, as PyTorch)."""
    if not isinstance(a, Tensor):
        return ()
    if not a._requires_grad:
        return None
    fn = a.grad_fn
    return (a if fn is None else fn, a._output_nr, a._data.shape, a._data.dtype)


def _collect_saved(ctx, args, raw, outs, results) -> None:
    """Remember which input or output each saved value was (so backward in graph mode gets the
    graph's tensors back) and its version, to detect in-place changes since saving."""
    refs = []
    for v in ctx._saved:  # counting loops without range(): this runs for every recorded op
        ref = _CONSTANT_REF  # not a tensor's array (or None: an optional input not given)
        k = 0
        for o in outs:
            if v is o:
                counter = results[k]._version  # a view's output shares its input's counter
                ref = (_OUTPUT, k, counter, counter[0])
                break
            k += 1
        else:
            i = 0
            for r in raw:
                if v is r and isinstance(args[i], Tensor):
                    counter = args[i]._version
                    ref = (_INPUT, args[i], counter, counter[0])
                    break
                i += 1
        refs.append(ref)
    ctx._saved_refs = refs


def _op_error(cls, args, err: Exception) -> Exception:
    """A NumPy failure inside forward, re-raised with the op name, the shapes and a fix (an
    ``OpInputError``, raised on purpose by the op's own check, never comes here)."""
    shapes = ", ".join(
        str(tuple(a.shape)) if isinstance(a, Tensor) else repr(a) for a in args
    )
    msg = str(err)
    if "broadcast" in msg:
        hint = (
            "the shapes are not broadcastable: trailing dimensions must be equal or 1. "
            "Reshape or unsqueeze one operand."
        )
    else:
        hint = msg
    return type(err)(f"{cls.name()}: invalid inputs ({shapes}): {hint}")
