"""Trace and replay (define-and-run): record the ops a function runs once, then replay them.

Define-by-run builds the graph anew at every call: a Tensor per value, a node per op, a walk over
the nodes in backward. ``trace(fn, example_inputs)`` runs ``fn`` once on the examples and keeps
the ops it ran as a flat program (define-and-run, as a static-graph framework does). Calling the
result replays that program on new inputs: each op's forward on raw arrays, then, for backward,
the same ops' gradient rules in reverse order, the whole program being ONE node of the eager
graph. Same numbers as eager mode, a fraction of the Python work per op (benchmarks/bench.py).

    step = nabla.jit.trace(lambda x, y: loss_fn(model(x), y), (x, y))
    step(x, y).backward()          # gradients reach x (if it requires grad) and model's parameters

A trace sees only nabla ops, as ``torch.jit.trace`` sees only what it records:

- tensors the function uses but did not get as inputs (a model's parameters) are read anew at
  every call, so optimizer updates are seen; anything else is a constant of the trace;
- Python control flow is frozen at the path the examples took; values taken out of tensors
  (``.item()``, ``.numpy()``, ``bool(t)``) are frozen too, with a ``TracerWarning``;
- the random draws of dropout (all kinds), rrelu (training) and fractional max pooling are
  steps of the program that draw anew at each replay, as eager calls do; other draws (rand,
  randn, multinomial), in-place writes and custom ``autograd.Function``s are refused with a
  ``TraceError``: keep them outside the traced function;
- sizes that depend on the data (``x[mask]``, nonzero, unique) are recomputed at each replay,
  gradients included; a size read in Python (``len(t)``, ``t.shape[0]`` of such a value) is
  frozen like any Python value;
- a new input signature (shapes, dtypes, requires_grad) gets a trace of its own;
- ``check_trace=True`` (default) replays the trace on perturbed inputs and compares outputs and
  gradients with an eager call (both from the same random state), so a trace that froze a
  value it should not have fails loudly;
- only first derivatives: ``create_graph=True`` through a trace raises (call ``fn`` eagerly).

This module records (``_Tracer``, told of every op by ``Op.apply``) and holds the user-facing
``trace``; jit_program.py replays (``_Program``, and ``TracedBackward``, its node in the graph).
"""

import threading
import warnings

from nabla.autograd.grad_mode import _mode, _trace, enable_grad
from nabla.backend import array_module
from nabla.jit_program import _Program
from nabla.random import default_generator
from nabla.tensor import Tensor

__all__ = ["trace", "TracedFunction", "TraceError", "TracerWarning", "compile"]


class TraceError(RuntimeError):
    """The function does something a trace cannot replay."""


class TracerWarning(UserWarning):
    """The trace froze a value that may depend on the inputs."""


# -- recording ------------------------------------------------------------------------------------
class _Step:
    """One op of the program: ``fn(*args)`` where ``args`` is ``template`` with the values of
    ``reads`` (position, slot) filled in; its outputs go to ``outs``. ``grads`` lists (position,
    slot, dtype) of the arguments a gradient flows to (those that required grad)."""

    __slots__ = ("cls", "fn", "template", "reads", "outs", "out", "grads", "mask", "meta",
                 "backward", "arrays")

    def __init__(self, cls, fn, template, reads, outs, grads, mask, meta):
        self.cls, self.fn, self.template, self.reads = cls, fn, template, reads
        self.outs, self.grads, self.mask, self.meta = outs, grads, mask, meta
        self.out = outs[0]  # the one output, when meta is None
        self.backward = None if cls is None else cls.backward
        self.arrays = cls is not None and cls.array_backward  # its rule runs on arrays


class _Tracer:
    """Active while ``fn`` runs eagerly on the examples: every op tells it what it ran (see
    ``Op.apply``). Values are told apart by their arrays: each op output is a new array."""

    def __init__(self, inputs):
        self.thread = threading.get_ident()
        self.slots = {}  # id(array) -> slot
        self.arrays = []  # keeps every array alive while tracing, so its id stays unique
        self.captured = []  # (slot, tensor): tensors used but not given as inputs
        self.steps = []
        for t in inputs:
            self._new_slot(t._data)

    def _new_slot(self, array) -> int:
        self.slots[id(array)] = len(self.arrays)
        self.arrays.append(array)
        return len(self.arrays) - 1

    def slot(self, t: Tensor) -> int:
        slot = self.slots.get(id(t._data))
        if slot is None:  # made outside the function (a parameter) or by an untraced path
            slot = self._new_slot(t._data)
            self.captured.append((slot, t))
        return slot

    def op(self, cls, args, result) -> None:
        """Log ``cls.apply(*args) -> result`` (a differentiable op)."""
        if threading.get_ident() == self.thread:
            self._log(cls, cls.forward, args, result)

    def plain(self, fn, args, result) -> None:
        """Log ``result = fn(*arrays of args)``, a function without gradient (a comparison)."""
        if threading.get_ident() == self.thread:
            self._log(None, fn, args, result)

    def _log(self, cls, fn, args, result) -> None:
        template, reads, grads, mask = list(args), [], [], []
        for pos, a in enumerate(args):
            flows = None
            if isinstance(a, Tensor):
                slot = self.slot(a)
                template[pos] = None
                reads.append((pos, slot))
                # (tracing runs with grad mode on; a plain step passes no gradient back)
                if a._requires_grad and cls is not None:
                    grads.append((pos, slot, a._data.dtype))
                    flows = True
            mask.append(flows)
        outs = result if type(result) is tuple else (result,)
        meta = tuple((t._data.shape, t._data.dtype, array_module(t._data)) for t in outs)
        slots = [self._new_slot(t._data) for t in outs]
        self.steps.append(_Step(cls, fn, template, reads, slots, grads, mask,
                                meta if type(result) is tuple else None))

    def refuse(self, what: str) -> None:
        if threading.get_ident() == self.thread:
            raise TraceError(
                f"jit.trace: {what} cannot be traced (a replay would not repeat it). Keep it "
                "outside the traced function, trace the model in eval() mode, or call the "
                "function eagerly."
            )

    def leak(self, what: str) -> None:
        if threading.get_ident() == self.thread:
            warnings.warn(
                f"jit.trace: {what} takes a value out of a tensor; the trace keeps the value it "
                "had while tracing, so replays are wrong if it depends on the inputs.",
                TracerWarning, stacklevel=3,
            )


# -- the user-facing wrapper ----------------------------------------------------------------------
class TracedFunction:
    """``fn`` traced once per input signature (shapes, dtypes, requires_grad) and replayed."""

    def __init__(self, fn, check_trace: bool = True):
        self.fn = fn
        self.check_trace = check_trace
        self._programs = {}

    def __call__(self, *inputs):
        for t in inputs:
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"jit.trace: the inputs of a traced function must be Tensors, got "
                    f"{type(t).__name__}; bind other arguments with a closure or functools.partial"
                )
        key = tuple((t._data.shape, t._data.dtype, t._requires_grad) for t in inputs)
        program = self._programs.get(key)
        if program is not None and program.captured_flags == tuple(
                t._requires_grad for _, t in program.captured):
            return program(inputs)
        outputs, program = self._trace(inputs)
        self._programs[key] = program
        return outputs

    def _trace(self, inputs):
        """Run ``fn`` eagerly with a tracer listening; return its outputs and the program."""
        if _trace.tracer is not None:
            raise TraceError("jit.trace: a traced function cannot be traced inside another trace")
        tracer = _Tracer(inputs)
        _trace.tracer = tracer
        try:
            with enable_grad():
                result = self.fn(*inputs)
        finally:
            _trace.tracer = None
        single = isinstance(result, Tensor)
        outputs = [result] if single else list(result) if isinstance(result, (tuple, list)) \
            else None
        if outputs is None or not all(isinstance(t, Tensor) for t in outputs):
            raise TraceError("jit.trace: the function must return a Tensor or a tuple of Tensors")
        program = _Program(tracer, inputs, outputs, single)
        if self.check_trace:
            _check(self.fn, program, inputs)
        if not _mode.enabled:  # the trace ran with grad on; the caller asked for none
            outputs = [t.detach() for t in outputs]
        return (outputs[0] if single else tuple(outputs)), program


def trace(fn, example_inputs=None, check_trace: bool = True) -> TracedFunction:
    """Trace ``fn`` (a function of Tensors returning a Tensor or a tuple of Tensors, or a
    Module): the result computes the same values and gradients, replaying the recorded ops.

    Args:
        fn: the function or module to trace.
        example_inputs: a Tensor or tuple of Tensors to trace with now; without them the
            first call traces.
        check_trace: after tracing, compare a replay with an eager call on perturbed inputs
            (values and gradients) and raise ``TraceError`` if they differ.
    """
    traced = TracedFunction(fn, check_trace)
    if example_inputs is not None:
        if isinstance(example_inputs, Tensor):
            example_inputs = (example_inputs,)
        traced(*example_inputs)
    return traced


def _check(fn, program: _Program, inputs) -> None:
    """Eager call vs replay on permuted (and, for floats, rescaled) copies of the inputs."""
    others = []
    for k, t in enumerate(inputs):
        a = t._data
        rng = array_module(a).random.default_rng(k)
        b = rng.permutation(a.reshape(-1)).reshape(a.shape)
        if a.dtype.kind == "f":
            b = (b * rng.uniform(0.9, 1.1, a.shape)).astype(a.dtype)
        others.append(Tensor(b, requires_grad=t._requires_grad))
    rng = default_generator.np.bit_generator
    state = rng.state
    with enable_grad():
        eager = fn(*others)
        rng.state = state  # a replay's random steps (dropout) draw what the eager call drew
        replay = program(others)
    eager = [eager] if isinstance(eager, Tensor) else list(eager)
    replay = [replay] if isinstance(replay, Tensor) else list(replay)
    _compare("output", [t._data for t in eager], [t._data for t in replay])
    diff = [others[i] for i in program.diff_inputs] + program.diff_captured
    roots = [(e, r) for e, r in zip(eager, replay) if e._requires_grad and r._requires_grad]
    if not diff or not roots:
        return
    from nabla.autograd.engine import grad  # the engine imports jit's neighbours: import late

    seeds = [Tensor(array_module(e._data).random.default_rng(7).standard_normal(e._data.shape)
                    .astype(e._data.dtype)) for e, _ in roots]
    ge = grad([e for e, _ in roots], diff, seeds, allow_unused=True)
    gr = grad([r for _, r in roots], diff, seeds, allow_unused=True)
    _compare("gradient", [None if g is None else g._data for g in ge],
             [None if g is None else g._data for g in gr])


def _compare(what: str, eager, replay) -> None:
    for i, (a, b) in enumerate(zip(eager, replay)):
        if a is None and b is None:
            continue
        xp = array_module(a if a is not None else b)
        if a is None or b is None:  # no gradient on one side, a zero one on the other is the same
            a, b = (xp.zeros_like(b), b) if a is None else (a, xp.zeros_like(a))
        same = a is not None and b is not None and a.shape == b.shape and bool(
            xp.allclose(a, b, rtol=1e-4, atol=1e-6 * max(1.0, float(xp.abs(a).max(initial=0))),
                        equal_nan=True))
        if not same:
            raise TraceError(
                f"jit.trace: the trace does not reproduce the function on other inputs ({what} "
                f"{i} differs). The function probably depends on something the trace froze: "
                "Python control flow on tensor values, .item() or .numpy() values, or an op "
                "that makes tensors outside nabla's ops (argmax, nonzero, integer casts). Call "
                "it eagerly, or pass check_trace=False if you know the trace is right."
            )


def compile(model=None, **options):
    """``torch.compile``, accepted for porting: returns ``model`` itself (and works as a
    decorator). nabla's define-and-run speed-up is ``trace``, which needs example inputs."""
    return (lambda m: m) if model is None else model
