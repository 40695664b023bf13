"""Post-accumulate-grad hooks: ``hook(param)`` called once ``backward()`` has accumulated
``param.grad`` (PyTorch's ``Tensor.register_post_accumulate_grad_hook``), so that an "optimizer in
backward" can step and free each gradient as soon as it is ready.

The hooks live here, keyed by the tensor's id with a weak reference (a tensor gets no extra slot,
so creating tensors costs nothing more). The engine looks at ``hooks`` once per backward call:
while no hook is registered that is one test of an empty dict.
"""

import weakref

hooks = {}  # id(tensor) -> (weak reference to it, [hook, ...]); empty when none is registered


class _Handle:
    """What registration returns: ``remove()`` takes the hook off again."""

    def __init__(self, key: int, ref, hook) -> None:
        self._key, self._ref, self._hook = key, ref, hook

    def remove(self) -> None:
        entry = hooks.get(self._key)
        if entry is None or entry[0] is not self._ref or self._hook not in entry[1]:
            return
        entry[1].remove(self._hook)
        if not entry[1]:
            del hooks[self._key]


def _forgetter(key: int):
    """The weak reference's callback: drops the entry when the tensor is garbage-collected (its
    id may be reused). A closure over the registry, so it still works while the interpreter
    shuts down and module globals are gone."""
    registry = hooks

    def forget(ref) -> None:
        entry = registry.get(key)
        if entry is not None and entry[0] is ref:
            del registry[key]

    return forget


def register(tensor, hook) -> _Handle:
    """Call ``hook(tensor)`` after each backward() that accumulates into ``tensor.grad``."""
    key = id(tensor)
    entry = hooks.get(key)
    if entry is None or entry[0]() is not tensor:
        entry = hooks[key] = (weakref.ref(tensor, _forgetter(key)), [])
    entry[1].append(hook)
    return _Handle(key, entry[0], hook)


def run(tensors) -> None:
    """Call the hooks of each of ``tensors`` (the leaves whose .grad was just accumulated)."""
    for t in list(tensors):
        entry = hooks.get(id(t))
        if entry is not None and entry[0]() is t:
            for hook in list(entry[1]):
                hook(t)
