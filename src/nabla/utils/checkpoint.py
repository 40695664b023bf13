"""Activation (gradient) checkpointing, as ``torch.utils.checkpoint``: trade compute for memory.

A checkpointed ``function`` keeps only its inputs for backward, not the activations inside it;
backward runs it again from those inputs (with recording on, and the random state it had, so
dropout draws the same mask) and backpropagates through the recomputed graph::

    import nabla
    from nabla.utils.checkpoint import checkpoint, checkpoint_sequential

    block = nabla.nn.Sequential(nabla.nn.Linear(64, 256), nabla.nn.ReLU(),
                                nabla.nn.Linear(256, 64))
    x = nabla.randn(32, 64, requires_grad=True)
    y = checkpoint(block, x, use_reentrant=False)  # block's activations are not kept
    y.sum().backward()                             # block runs again here; x and weights get .grad
    z = checkpoint_sequential(block, 2, x, use_reentrant=False)  # 2 segments, the last not saved

The two variants of PyTorch, chosen by ``use_reentrant``:

- ``True`` (and ``None``, which warns, as PyTorch 2.13 does): forward runs under ``no_grad``; at
  backward the recomputed outputs are backpropagated with ``nabla.autograd.backward``, which
  accumulates into the ``.grad`` of the parameters used inside. Gradients flow only if a tensor
  argument requires grad, keyword arguments are refused, and ``autograd.grad`` /
  ``backward(inputs=...)`` do not see the parameters (they get ``.grad`` regardless): use
  ``.backward()``, as PyTorch requires for this variant.
- ``False``: forward records the function's graph only to find the leaves it uses (parameters,
  captured tensors), then frees it before returning, so the activations are gone after forward
  as above (peak memory during forward is that of one function's graph, as during its backward).
  The checkpoint's node then has an edge to every argument and leaf, so ``autograd.grad``,
  ``backward(inputs=...)``, keyword arguments and arguments that need no gradient work as in
  PyTorch. (PyTorch instead drops the saved tensors through saved-tensor hooks.) A captured
  tensor that requires grad must be a leaf or an argument: pass a computed one as an argument.

Double backward (``create_graph=True``) through a checkpoint is refused with a clear error.
"""

import warnings
from typing import Callable

from nabla.autograd import engine
from nabla.autograd.function import Function, _sequence
from nabla.autograd.grad_mode import _mode, enable_grad, no_grad
from nabla.random import get_rng_state, set_rng_state
from nabla.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function: Callable, *args, use_reentrant: bool | None = None,
               preserve_rng_state: bool = True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its activations; recompute at backward.

    Args:
        function: what to run (a module or any callable); it returns a Tensor or a tuple of
            Tensors and must compute the same thing when run again.
        *args: its arguments: Tensors (of any shapes) and plain values, which pass through.
        use_reentrant: which variant (see the module docstring); None warns and means True,
            as in PyTorch 2.13.
        preserve_rng_state: restore the random state of the forward for the recomputation, so
            random ops (dropout) draw the same values.
        **kwargs: keyword arguments of ``function`` (``use_reentrant=False`` only).

    Returns:
        What ``function`` returns: a Tensor or a tuple of Tensors.
    """
    if use_reentrant is None:
        warnings.warn(
            "checkpoint: the use_reentrant parameter should be passed explicitly; it defaults "
            "to True as in PyTorch 2.13, but use_reentrant=False is recommended (it works with "
            "autograd.grad and keyword arguments)", stacklevel=2)
        use_reentrant = True
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    if kwargs and use_reentrant:
        raise ValueError(
            "checkpoint: unexpected keyword arguments " + ", ".join(kwargs)
            + " (use_reentrant=True takes positional arguments only; pass use_reentrant=False)"
        )
    if not _mode.enabled:  # nothing to record, so nothing to recompute
        return function(*args, **kwargs)
    state = _State(function, bool(preserve_rng_state), kwargs)
    if use_reentrant:
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("checkpoint: none of the inputs have requires_grad=True; gradients "
                          "will be None (pass use_reentrant=False to reach the parameters)",
                          stacklevel=2)
        return _Reentrant.apply(state, *args)
    outputs, leaves = _forward_finding_leaves(state, args)
    state.outputs = outputs
    return _NonReentrant.apply(state, *args, *leaves)


def checkpoint_sequential(functions, segments: int, input: Tensor,
                          use_reentrant: bool | None = None, preserve_rng_state: bool = True):
    """Run ``functions`` in order in ``segments`` chunks, checkpointing all but the last.

    Args:
        functions: an ``nn.Sequential`` or a list of modules or callables of one Tensor.
        segments: how many chunks (each has ``len(functions) // segments`` functions; the last
            takes the rest and is not checkpointed, as in PyTorch).
        input: the Tensor given to the first function.
        use_reentrant: as for ``checkpoint`` (None warns and means True).
        preserve_rng_state: as for ``checkpoint``.

    Returns:
        The output of the last function.
    """
    if use_reentrant is None:
        warnings.warn(
            "checkpoint_sequential: the use_reentrant parameter should be passed explicitly; "
            "it defaults to True as in PyTorch 2.13, but use_reentrant=False is recommended",
            stacklevel=2)
        use_reentrant = True
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int) or not 1 <= segments <= max(len(functions), 1):
        raise ValueError(
            f"checkpoint_sequential: segments must be an int from 1 to the number of functions "
            f"({len(functions)}), got {segments!r}"
        )
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_Segment(functions[start:end + 1]), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve_rng_state)
    return _Segment(functions[end + 1:])(input)


class _Segment:
    """Several one-input callables run in order (one chunk of checkpoint_sequential)."""

    def __init__(self, functions) -> None:
        self.functions = functions

    def __call__(self, x):
        for f in self.functions:
            x = f(x)
        return x


class _State:
    """What the recomputation needs besides the saved tensors: the function, its keyword
    arguments and the random state at forward."""

    def __init__(self, function, preserve_rng_state: bool, kwargs: dict) -> None:
        self.function = function
        self.kwargs = kwargs
        self.rng_state = get_rng_state() if preserve_rng_state else None
        self.outputs = None  # _NonReentrant: the forward's outputs, handed over once
        self.tuple_out = False  # _NonReentrant: whether the function returned a tuple
        self.n_leaves = 0  # _NonReentrant: how many leaves follow the arguments

    def run(self, args):
        """Run the function on ``args`` with recording on, from the forward's random state
        (the caller's random state is put back afterwards)."""
        outer = None
        if self.rng_state is not None:
            outer = get_rng_state()
            set_rng_state(self.rng_state)
        try:
            with enable_grad():
                out = self.function(*args, **self.kwargs)
        finally:
            if outer is not None:
                set_rng_state(outer)
        return _as_outputs(out)


def _as_outputs(out) -> tuple:
    """The function's result as a tuple of Tensors; a clear error for anything else."""
    outs = out if isinstance(out, tuple) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(
                f"checkpoint: the function must return a Tensor or a tuple of Tensors, got "
                f"{type(out).__name__}" + (f" holding a {type(o).__name__}" if out is not o
                                           else "") + "; wrap other results in a closure"
            )
    return outs


def _detached(args) -> list:
    """Tensor arguments cut from the graph (same data), keeping whether they require grad: the
    recomputed graph then starts at them."""
    return [a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a
            for a in args]


def _refuse_double_backward() -> None:
    if _mode.enabled:
        raise RuntimeError(
            "checkpoint: double backward (create_graph=True) through a checkpointed function is "
            "not supported; call it without checkpoint() where higher-order gradients are needed"
        )


class _Reentrant(Function):
    """Forward under no_grad keeping only the arguments; backward recomputes and calls
    ``autograd.backward`` on the recomputed outputs (PyTorch's reentrant variant)."""

    @staticmethod
    def forward(ctx, state, *args):
        ctx.state = state
        ctx.save_for_backward(*args)  # checked against in-place changes before recomputing
        with no_grad():
            return state.function(*args)

    @staticmethod
    def backward(ctx, *grads):
        _refuse_double_backward()
        inputs = _detached(ctx.saved_tensors)
        outs = ctx.state.run(inputs)
        pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
        if not pairs:
            raise RuntimeError("checkpoint: none of the outputs has requires_grad=True, this "
                               "checkpoint() is not necessary")
        engine.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None,) + tuple(a.grad if isinstance(a, Tensor) else None for a in inputs)


class _NonReentrant(Function):
    """Hands over the outputs computed by ``_forward_finding_leaves``; backward recomputes and
    returns the gradients of the arguments and of the leaves found, with ``autograd.grad``."""

    @staticmethod
    def forward(ctx, state, *args_and_leaves):
        ctx.state = state
        ctx.n_args = len(args_and_leaves) - state.n_leaves
        ctx.save_for_backward(*args_and_leaves)
        outputs, state.outputs = state.outputs, None
        return outputs if state.tuple_out else outputs[0]

    @staticmethod
    def backward(ctx, *grads):
        _refuse_double_backward()
        saved = ctx.saved_tensors
        n = ctx.n_args
        inputs = _detached(saved[:n])
        outs = ctx.state.run(inputs)
        pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
        wanted = [t for t, need in zip(inputs + list(saved[n:]), ctx.needs_input_grad[1:])
                  if need]
        result = [None] * len(saved)
        if pairs and wanted:
            found = engine.grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                                allow_unused=True)
            found = iter(found)
            result = [next(found) if need else None for need in ctx.needs_input_grad[1:]]
        return (None, *result)


def _forward_finding_leaves(state, args):
    """Run the function with recording on, return its outputs cut from the graph (which is then
    freed) and the leaves that require grad it used, other than its arguments."""
    first = next(_sequence)  # nodes recorded from here on belong to this function
    inputs = _detached(args)
    with enable_grad():  # the random state moves on as it would without checkpointing
        out = state.function(*inputs, **state.kwargs)
    state.tuple_out = isinstance(out, tuple)
    outs = _as_outputs(out)
    given = {id(a) for a in inputs if isinstance(a, Tensor)}
    leaves, seen = {}, set()
    stack = [o.grad_fn for o in outs if o.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        if fn._seq < first:
            raise RuntimeError(
                "checkpoint(use_reentrant=False): the function uses a tensor computed outside "
                f"it ({fn.name()}) that requires grad; pass that tensor as an argument so that "
                "its gradient can flow back"
            )
        for edge in fn._edges:
            if not edge:
                continue
            target = edge[0]
            if isinstance(target, Tensor):
                if id(target) not in given:
                    leaves[id(target)] = target
            else:
                stack.append(target)
    state.n_leaves = len(leaves)
    return tuple(o.detach() for o in outs), list(leaves.values())
