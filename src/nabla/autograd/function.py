"""The graph node. Each call of a differentiable op creates one ``Function`` object (the ``ctx``),
which remembers what backward needs: the edges to its inputs and the values it saved.

Define-by-run: the graph is nothing but these nodes, linked from each output tensor's ``grad_fn``
back to the inputs, recorded while the code runs.
"""

from nabla.autograd.grad_mode import _mode, no_grad
from nabla.backend import array_module, as_array, ndarray
from nabla.tensor import Tensor

_INPUT, _OUTPUT, _CONSTANT = 0, 1, 2


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

    _forward_on_arrays = False
    is_view = False  # True for ops whose output shares memory (and version) with input 0
    _saved = ()
    _edges = ()
    _pre_hooks = None
    _non_differentiable = ()
    _n_outputs = 1
    _outputs_meta = None

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
        self._to_save = values

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
        out = []
        for kind, value, counter, version in saved:
            if counter is not None and counter[0] != version:
                raise RuntimeError(
                    f"{self.name()}: a tensor of shape {tuple(value.shape)} needed for gradient "
                    f"computation was modified by an in-place operation (it is at version "
                    f"{counter[0]}, expected {version}). Clone it (x.clone()) before changing it "
                    "in place, or change it only after backward."
                )
            if kind == _OUTPUT:
                value = Tensor._make(value[0], True, self, value[1], counter)
            elif kind == _CONSTANT and isinstance(value, ndarray):
                value = Tensor._make(value)
            out.append(value)
        return tuple(out)

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(e is not None for e in self._edges)

    @property
    def next_functions(self) -> tuple:
        """(node or leaf tensor, output index) for each input; None where no grad flows."""
        return tuple(None if e is None else (e[0], e[1]) for e in self._edges)

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
        """Run forward on ``args`` and, if any input requires grad, record a graph node."""
        ctx = cls.__new__(cls)
        record = False
        if _mode.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    record = True
                    break
        if record:
            ctx._edges = tuple(_edge(a) for a in args)
        if cls._forward_on_arrays:
            raw = [a._data if isinstance(a, Tensor) else a for a in args]
            try:
                out = cls.forward(ctx, *raw)
            except (ValueError, TypeError, IndexError) as err:
                raise _op_error(cls, args, err) from err
        else:
            raw = args
            with no_grad():
                out = cls.forward(ctx, *args)
        multi = type(out) is tuple
        outs = out if multi else (out,)
        if not cls._forward_on_arrays:
            outs = tuple(o._data if isinstance(o, Tensor) else as_array(o) for o in outs)
        if not record:
            results = tuple(Tensor._make(o) for o in outs)
            return results if multi else results[0]
        nondiff = ctx._non_differentiable
        results = tuple(
            Tensor._make(o, True, ctx, i)
            if (not nondiff or id(out[i] if multi else out) not in nondiff)
            else Tensor._make(o)
            for i, o in enumerate(outs)
        )
        if cls.is_view:
            results[0]._version = args[0]._version
        ctx._saved = _collect_saved(ctx, args, raw, out, outs, results, multi)
        if multi:
            ctx._n_outputs = len(results)
            ctx._outputs_meta = tuple((o.shape, o.dtype, array_module(o)) for o in outs)
        return results if multi else results[0]

    def _release(self) -> None:
        """Free the saved values once backward has passed this node (unless retain_graph)."""
        self._saved = None
        self._to_save = ()


class Op(Function):
    """Base of nabla's built-in ops: forward works on raw arrays of the tensors' array module."""

    _forward_on_arrays = True


def _edge(a):
    """Where the gradient of argument ``a`` goes: (node or leaf, output index, shape, dtype)."""
    if not isinstance(a, Tensor) or not a._requires_grad:
        return None
    fn = a.grad_fn
    return (a if fn is None else fn, a._output_nr, a._data.shape, a._data.dtype)


def _collect_saved(ctx, args, raw, out, outs, results, multi):
    """Turn what forward saved into entries that remember which input/output each value was."""
    to_save = getattr(ctx, "_to_save", ())
    saved = []
    for v in to_save:
        entry = None
        for i, r in enumerate(raw):
            if v is r and isinstance(args[i], Tensor):
                a = args[i]
                entry = (_INPUT, a, a._version, a._version[0])
                break
        if entry is None:
            for k, o in enumerate(out if multi else (out,)):
                if v is o:
                    t = results[k]
                    entry = (_OUTPUT, (outs[k], k), t._version, t._version[0])
                    break
        saved.append(entry or (_CONSTANT, v, None, 0))
    return tuple(saved)


def _op_error(cls, args, err: Exception) -> Exception:
    """A NumPy failure inside forward, re-raised with the op name, the shapes and a fix."""
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
