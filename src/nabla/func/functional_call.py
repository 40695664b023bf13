"""``functional_call``: run a module with other tensors in place of its parameters and buffers,
as ``torch.func.functional_call``. The tensors are swapped into the module's tables for the call
and the originals put back afterwards, also when the call raises. ``stack_module_state`` stacks
the state of several models for an ensemble under ``vmap``.
"""

from collections.abc import Sequence

from nabla.nn.modules.module import Module
from nabla.ops.join import stack
from nabla.tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]

_MISSING = object()  # a name the module did not have before the call


def functional_call(module: Module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """``module(*args, **kwargs)`` with the named tensors in place of its parameters/buffers.

    Gradients flow to the tensors passed (the module's own parameters are not used), which makes
    the module a plain function of its parameters: ``grad(lambda p, x: functional_call(model,
    p, x).sum())(params, x)``. Names are dotted as in ``named_parameters`` ("fc.weight"); a name
    the module does not have is set as an attribute for the call (unless ``strict``).

    Args:
        module: the module to call.
        parameter_and_buffer_dicts: a dict name -> Tensor, or a sequence of such dicts with
            distinct keys.
        args: the positional arguments; anything but a tuple is one argument.
        kwargs: the keyword arguments.
        tie_weights: a tensor the module holds under several names (tied weights) is replaced
            under all of them by the value given for one; different values for tied names are
            an error.
        strict: the names must be exactly the module's parameters and buffers.

    Returns:
        What the module returns. If the module reassigns a parameter or buffer during the call
        (``self.count = self.count + 1``), the new tensor is written into the dict passed (when
        it is a single dict), as in PyTorch.
    """
    given = _merged(parameter_and_buffer_dicts)
    tensors = _untied(module, given) if tie_weights else dict(given)
    if strict:
        _check_keys(module, tensors)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    originals = {}
    try:
        for name, value in tensors.items():
            originals[name] = _swap(module, name, value)
        return module(*args, **(kwargs or {}))
    finally:
        final = {name: _swap(module, name, old) for name, old in reversed(originals.items())}
        for name in given:
            if name in final and isinstance(parameter_and_buffer_dicts, dict):
                parameter_and_buffer_dicts[name] = final[name]


def _merged(dicts) -> dict:
    """One dict from a dict or a sequence of dicts whose keys must not repeat."""
    if isinstance(dicts, dict):
        return dicts
    if not isinstance(dicts, Sequence) or isinstance(dicts, str):
        raise ValueError("functional_call: expected parameter_and_buffer_dicts to be a dict, or "
                         f"a list/tuple of dicts, but got {type(dicts).__name__}")
    if not all(isinstance(d, dict) for d in dicts):
        raise ValueError("functional_call: expected all elements of parameter_and_buffer_dicts "
                         "to be dictionaries")
    merged: dict = {}
    repeated = []
    for d in dicts:
        for k, v in d.items():
            if k in merged and k not in repeated:
                repeated.append(k)
            merged[k] = v
    if repeated:
        raise ValueError(f"functional_call: {repeated} appeared in multiple dictionaries; "
                         "behavior of functional call is ambiguous")
    return merged


def _all_named_tensors(module: Module) -> dict:
    """Every parameter and buffer under every name it has (tied ones under each)."""
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    return named


def _untied(module: Module, given: dict) -> dict:
    """``given`` extended so that a value given for one name of a tied tensor covers them all."""
    names_of: dict = {}  # id(tensor) -> its names
    for name, t in _all_named_tensors(module).items():
        names_of.setdefault(id(t), []).append(name)
    tied = {n: names for names in names_of.values() if len(names) > 1 for n in names}
    result = dict(given)
    for name in given:
        if name not in tied:
            continue
        values = {id(given[n]) for n in tied[name] if n in given}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(tied[name])}"
                             ", which are tied. Consider using tie_weights=False")
        for other in tied[name]:
            result[other] = given[name]
    return result


def _check_keys(module: Module, tensors: dict) -> None:
    expected = _all_named_tensors(module)
    unexpected = [k for k in tensors if k not in expected]
    missing = [k for k in expected if k not in tensors]
    errors = []
    if unexpected:
        errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if errors:
        raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t"
                           + "\n\t".join(errors))


def _swap(module: Module, name: str, value):
    """Put ``value`` under dotted ``name`` (_MISSING: remove it); return what was there."""
    if value is not _MISSING and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"functional_call: the value for {name!r} must be a Tensor, got "
                        f"{type(value).__name__}")
    path, _, attr = name.rpartition(".")
    owner = module.get_submodule(path) if path else module
    for table in (owner._parameters, owner._buffers):
        if attr in table:
            old = table[attr]
            if value is _MISSING:
                del table[attr]
            else:
                table[attr] = value  # bypasses __setattr__: a plain Tensor may replace a Parameter
            return old
    if attr in owner._modules:
        raise TypeError(f"functional_call: {name!r} is a submodule, not a parameter or buffer")
    # Not registered: an attribute for the call. Written into __dict__ directly, so that a
    # parametrized name (nn.utils.parametrize) is overridden, not assigned through right_inverse.
    d = owner.__dict__
    old = d.get(attr, _MISSING)
    if old is not _MISSING and old is not None and not isinstance(old, Tensor):
        raise TypeError(f"functional_call: attribute {name!r} of {owner._get_name()} is a "
                        f"{type(old).__name__}, not a Tensor")
    if value is _MISSING:
        d.pop(attr, None)
    else:
        d[attr] = value
    return old


def stack_module_state(models) -> tuple[dict, dict]:
    """(params, buffers) of ``models`` stacked for an ensemble under ``vmap``: each entry of
    shape (M, *shape) for M models, as ``torch.func.stack_module_state``.

    The stacked parameters are new leaves (they require grad if the models' did), unrelated to
    the models' own: pass them to an optimizer. Use as ``vmap(lambda p, b, x:
    functional_call(models[0], (p, b), (x,)), in_dims=(0, 0, None))(params, buffers, x)``.
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if len({type(m) for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    tables = ([dict(m.named_parameters()) for m in models],
              [dict(m.named_buffers()) for m in models])
    return tuple({k: _stacked_leaf([t[k] for t in table], k) for k in table[0]}
                 for table in tables)


def _stacked_leaf(tensors: list, name: str) -> Tensor:
    flags = {t.requires_grad for t in tensors}
    if len(flags) != 1:
        raise RuntimeError(f"stack_module_state: expected {name} from each model to have the same "
                           ".requires_grad")
    result = stack([t.detach() for t in tensors])
    return result.requires_grad_() if flags.pop() else result
