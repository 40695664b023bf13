"""The replay half of ``nabla.jit.trace``: a recorded function as a flat program (``_Program``)
run on raw arrays, each op's forward then, for backward, the same ops' gradient rules in reverse
order, the whole program being one node of the eager graph (``TracedBackward``). The recording
half (``_Tracer``, ``_Step``) and the user-facing ``trace`` are in jit.py.
"""

from nabla.autograd.function import Function, _make, _new, _sequence
from nabla.autograd.grad_mode import _mode
from nabla.backend import array_module, as_array, ndarray
from nabla.ops.shape import sum_to_size
from nabla.tensor import Tensor


class _Program:
    """A recorded function: its steps (from jit's ``_Tracer``), where its inputs, captured
    tensors and outputs live."""

    def __init__(self, tracer, inputs, outputs, single: bool):
        self.out_slots = [tracer.slot(t) for t in outputs]  # may capture: first
        self.steps = tracer.steps
        self.n_slots = len(tracer.arrays)
        self.n_inputs = len(inputs)
        self.captured = tracer.captured
        self.captured_flags = tuple(t._requires_grad for _, t in tracer.captured)
        self.out_grad = [t._requires_grad for t in outputs]
        self.single = single
        diff_inputs = [i for i, t in enumerate(inputs) if t._requires_grad]
        self.diff_slots = diff_inputs + [s for s, t in self.captured if t._requires_grad]
        self.diff_inputs = diff_inputs
        self.diff_captured = [t for _, t in self.captured if t._requires_grad]
        self.requires_grad = any(self.out_grad)
        # every value's shape: the trace's, unless a plain step may size values from the data
        # (x[mask], nonzero, unique); then each replay reads its own
        self.shapes = None if any(s.cls is None for s in self.steps) else \
            [a.shape for a in tracer.arrays]

    def forward(self, arrays) -> tuple:
        """Run every step on arrays; return (outputs, each op's ctx for backward, every value's
        shape: a size that depends on the data (x[mask], nonzero, unique) may differ from the
        trace's, and gradients must be reduced to this call's shapes)."""
        values = [None] * self.n_slots
        values[:self.n_inputs] = arrays
        for slot, t in self.captured:
            values[slot] = t._data
        ctxs = []
        for step in self.steps:
            args = step.template.copy()
            for pos, slot in step.reads:
                args[pos] = values[slot]
            if step.cls is None:
                out = step.fn(*args)
                ctx = None
            else:
                ctx = _new(step.cls)
                out = step.fn(ctx, *args)
            if step.meta is None:
                values[step.out] = out if type(out) is ndarray else as_array(out)
            else:
                for slot, o in zip(step.outs, out):
                    values[slot] = o if type(o) is ndarray else as_array(o)
            ctxs.append(ctx)
        shapes = self.shapes if self.shapes is not None else [v.shape for v in values]
        return [values[s] for s in self.out_slots], ctxs, shapes

    def backward(self, ctxs, out_grads, shapes) -> tuple:
        """The ops' gradient rules in reverse order, on arrays; one gradient per diff slot.
        ``shapes``: every value's shape in the forward these ctxs come from."""
        grads = [None] * self.n_slots
        owned = set()  # slots whose gradient is an array this walk made (and may add into)
        for slot, g in zip(self.out_slots, out_grads):
            if g is not None:
                grads[slot] = g if grads[slot] is None else grads[slot] + g
        for step, ctx in zip(reversed(self.steps), reversed(ctxs)):
            if not step.grads:
                continue
            if step.meta is None:
                gs = (grads[step.out],)
                if gs[0] is None:
                    continue
            else:  # several outputs: an unused one has a zero gradient
                gs = [grads[s] for s in step.outs]
                if all(g is None for g in gs):
                    continue
                gs = [xp.zeros(shapes[s], dtype) if g is None else g
                      for g, s, (_, dtype, xp) in zip(gs, step.outs, step.meta)]
            ctx._edges = step.mask  # what needs_input_grad reads
            if step.arrays:
                result = step.backward(ctx, *gs)
                if type(result) is not tuple:
                    result = (result,)
            else:  # a rule written for Tensors
                result = step.backward(ctx, *[_make(g) for g in gs])
                result = [g._data if isinstance(g, Tensor) else g
                          for g in (result if type(result) is tuple else (result,))]
            for pos, slot, dtype in step.grads:
                g = result[pos]
                if g is None:
                    continue
                if g.shape != shapes[slot]:
                    g = sum_to_size(g, shapes[slot])
                if g.dtype is not dtype and g.dtype != dtype:
                    g = g.astype(dtype)
                prev = grads[slot]
                if prev is None:
                    grads[slot] = g
                elif slot in owned:  # a sum made here: no one else holds it
                    prev += g
                else:
                    grads[slot] = prev + g
                    owned.add(slot)
        return tuple(grads[s] for s in self.diff_slots)

    def __call__(self, inputs):
        outs, ctxs, shapes = self.forward([t._data for t in inputs])
        if not (self.requires_grad and _mode.enabled):
            results = [_make(a) for a in outs]
        else:
            diff = [inputs[i] for i in self.diff_inputs] + self.diff_captured
            node = _new(TracedBackward)
            node.program = self
            node._saved = ctxs
            node.shapes = shapes
            node._edges = [(t.grad_fn or t, t._output_nr, t._data.shape, t._data.dtype)
                           for t in diff]
            node._checks = [(t._version, t._version[0], i) for i, t in enumerate(diff)]
            node._seq = next(_sequence)
            results = [_make(a, True, node, i) if req else _make(a)
                       for i, (a, req) in enumerate(zip(outs, self.out_grad))]
            if len(outs) > 1:
                node._n_outputs = len(outs)
                node._outputs_meta = tuple((a.shape, a.dtype, array_module(a)) for a in outs)
        return results[0] if self.single else tuple(results)


class TracedBackward(Function):
    """The node a traced call adds to the eager graph: its backward replays the program's rules."""

    array_backward = True

    @staticmethod
    def backward(ctx, *grads):
        if _mode.enabled:
            raise RuntimeError(
                "jit.trace: create_graph=True (higher-order gradients) is not supported through "
                "a traced function; call the function eagerly for that"
            )
        if ctx._saved is None:
            raise RuntimeError(
                "jit.trace: trying to backward through a traced call a second time; pass "
                "retain_graph=True to the first backward() if you need to"
            )
        for counter, version, i in ctx._checks:
            if counter[0] != version:
                raise RuntimeError(
                    f"jit.trace: input {i} of the traced call (or a parameter it uses) was "
                    "modified in place before backward; change it only after backward"
                )
        return ctx.program.backward(ctx._saved, grads, ctx.shapes)
