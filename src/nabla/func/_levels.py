"""What the differentiating transforms share: the arguments picked by ``argnums`` made into
tensors that require grad, and the decision whether a result must keep its graph.

torch.func tracks nesting with levels; nabla has one tape, so a transform here works thus:
an input that does not require grad becomes a fresh leaf (``x.detach().requires_grad_()``), one
that does (an outer transform's leaf, a model's parameter) becomes a view of itself, which keeps
the path to whatever lies outside. After the function has run, a walk over its graph tells
whether the output depends on anything outside the fresh leaves. Only then are the derivatives
computed with ``create_graph=True`` (an outer transform, or the user's ``backward``, may
differentiate them again); otherwise they are plain tensors and the graph is dropped, so
``grad(f)(x)`` at the top level returns tensors without history, as in PyTorch.
"""

from nabla.autograd.engine import grad as autograd_grad
from nabla.creation import zeros_like
from nabla.func._pytree import tree_flatten, tree_unflatten
from nabla.tensor import Tensor


def check_argnums(name: str, argnums) -> None:
    """argnums is an int or a non-empty tuple of distinct ints."""
    if isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError(f"{name}: argnums must be non-empty")
        if not all(isinstance(a, int) for a in argnums):
            raise RuntimeError(f"{name}: argnums must be int or Tuple[int, ...], got {argnums}")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"{name}: argnums elements must be unique, got {argnums}")
    elif not isinstance(argnums, int) or isinstance(argnums, bool):
        raise RuntimeError(f"{name}: argnums must be int or Tuple[int, ...], got: "
                           f"{type(argnums).__name__}")


def _wrap(name: str, argnum: int, n: int) -> int:
    if -n <= argnum < n:
        return argnum % n
    raise RuntimeError(f"{name}: got argnum={argnum}, but only {n} positional inputs")


def differentiable(name: str, x, outer: bool) -> Tensor:
    """The stand-in for input ``x`` that the function runs on and gradients are taken for."""
    if not isinstance(x, Tensor):
        raise ValueError(f"{name}: the inputs to differentiate must be Tensors, got "
                         f"{type(x).__name__}")
    if not x.is_floating_point():
        raise RuntimeError(f"{name}: only floating-point inputs can be differentiated, got "
                           f"dtype {x.dtype}")
    if outer and x.requires_grad:
        return x.view_as(x)
    return x.detach().requires_grad_()


def prepare_args(name: str, args: tuple, argnums, outer: bool) -> tuple:
    """(args with stand-ins at ``argnums``, the stand-ins flat, a rebuild function that turns
    one value per stand-in into the structure of ``args[argnums]``).

    Call under ``enable_grad``: the views of inputs that require grad must be recorded."""
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    nums = tuple(_wrap(name, a, len(args)) for a in nums)
    new_args = list(args)
    flat, specs = [], []
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        if not leaves:
            raise RuntimeError(f"{name}: argument {a} holds no Tensor to differentiate")
        stand_ins = [differentiable(name, x, outer) for x in leaves]
        new_args[a] = tree_unflatten(stand_ins, spec)
        flat.extend(stand_ins)
        specs.append((spec, len(leaves)))

    def rebuild(values: list):
        parts, k = [], 0
        for spec, n in specs:
            parts.append(tree_unflatten(values[k:k + n], spec))
            k += n
        return tuple(parts) if isinstance(argnums, tuple) else parts[0]

    return tuple(new_args), flat, rebuild


def reaches_outside(tensors, inputs: list, outer: bool) -> bool:
    """Whether the graph of ``tensors`` leads to any tensor that requires grad other than the
    fresh leaves among ``inputs``: then derivatives must keep their graph. Never when recording
    was off where the transform was called (``outer``): nothing outside can differentiate."""
    if not outer:
        return False
    ours = {id(x) for x in inputs if x.grad_fn is None}
    if len(ours) != len(inputs):  # a view of an input that requires grad outside
        return True
    seen, stack = set(), []
    for t in tensors:
        if isinstance(t, Tensor) and t.requires_grad:
            if t.grad_fn is None:
                if id(t) not in ours:
                    return True
            elif id(t.grad_fn) not in seen:
                seen.add(id(t.grad_fn))
                stack.append(t.grad_fn)
    while stack:  # iterative: a long chain must not hit the recursion limit
        node = stack.pop()
        for fn, _ in getattr(node, "next_functions", ()):
            if fn is None:
                continue
            variable = getattr(fn, "variable", None)
            if variable is not None:  # an AccumulateGrad: a leaf
                if id(variable) not in ours:
                    return True
            elif id(fn) not in seen:
                seen.add(id(fn))
                stack.append(fn)
    return False


def split_aux(name: str, result, has_aux: bool) -> tuple:
    """(output, aux) from what the function returned."""
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f"{name}: output of function f should be a tuple: (output, aux) "
                           "if has_aux is True")
    return result


def release(tree, keep: bool):
    """The tensors of ``tree`` detached from the transform's graph unless it must be kept."""
    if keep:
        return tree
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


def pullback(outputs: list, inputs: list, cotangents: list, create_graph: bool,
             retain_graph: bool = True) -> list:
    """sum_k d(outputs[k] . cotangents[k]) / d inputs, one backward pass: v^T J per input
    (zeros for an input the outputs do not depend on)."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents, strict=True) if o.requires_grad]
    if pairs:
        found = autograd_grad([o for o, _ in pairs], inputs, [c for _, c in pairs],
                              retain_graph=retain_graph or create_graph,
                              create_graph=create_graph, allow_unused=True)
    else:
        found = (None,) * len(inputs)
    return [zeros_like(x) if g is None else g for x, g in zip(inputs, found, strict=True)]


def check_outputs(name: str, outputs: list) -> None:
    """The function's outputs, flattened, must be floating-point Tensors (and some)."""
    if not outputs:
        raise RuntimeError(f"{name}: expected f to return at least one Tensor, got none")
    for o in outputs:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{name}: expected f(*args) to return only Tensors, got "
                               f"{type(o).__name__}")
        if not o.is_floating_point():
            raise RuntimeError(f"{name}: all outputs of f must be floating-point Tensors, got "
                               f"a Tensor of dtype {o.dtype}")
