"""State dicts: ``state_dict()`` and ``load_state_dict()``, PyTorch's keys and rules.

Keys are dotted paths ("0.weight", "bn.running_mean") in definition order; values share memory with
the module's state. Loading copies in place (so optimizers keep their parameters), reports missing
and unexpected keys, and rejects shape mismatches with the key and both shapes.
"""

from collections import OrderedDict, namedtuple

from nabla.autograd.grad_mode import no_grad
from nabla.backend import as_array
from nabla.nn.parameter import is_lazy
from nabla.tensor import Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class StateDictMixin:
    """The state-dict methods of ``Module`` (uses its ``_parameters``, ``_buffers``,
    ``_non_persistent_buffers_set`` and ``_modules``)."""

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        # an uninitialized (lazy) tensor is saved as it is: it has nothing to detach
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars or is_lazy(p) else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars or is_lazy(b) else b.detach()

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict of every parameter and persistent buffer, by dotted name.

        Values share memory with the module's state (detached unless ``keep_vars``).
        """
        if args:  # PyTorch's deprecated positional form: state_dict(destination, prefix, ...)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, mod in self._modules.items():
            if mod is not None:
                mod.state_dict(destination=destination, prefix=prefix + name + ".",
                               keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local = {k: v for k, v in {**self._parameters, **persistent}.items() if v is not None}
        for name, target in local.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            if is_lazy(state_dict[key]) or is_lazy(target):
                if not (is_lazy(state_dict[key]) and is_lazy(target)):  # both: nothing to copy
                    error_msgs.append(_lazy_mismatch(key, is_lazy(target)))
                continue
            value = _as_array(state_dict[key])
            if value.shape != target.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(target.shape)}."
                )
                continue
            with no_grad():
                target.copy_(value)
        # unexpected keys are listed even when not strict (they only raise when strict)
        for key in state_dict:
            if key.startswith(prefix):
                head = key[len(prefix):].split(".", 1)[0]
                if head not in self._modules and head not in local:
                    unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Values may be nabla Tensors, NumPy arrays or anything with ``.numpy()`` (PyTorch
        tensors). Returns ``(missing_keys, unexpected_keys)``; with ``strict`` any of those, and
        always a shape mismatch, raises a RuntimeError listing them all.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []
        for prefix, mod in self.named_modules(remove_duplicate=False):
            mod._load_from_state_dict(state_dict, prefix + "." if prefix else "", strict,
                                      missing, unexpected, errors)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self._get_name(), "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)


def _lazy_mismatch(key: str, target_is_lazy: bool) -> str:
    if target_is_lazy:
        return (f"can't load {key} into an uninitialized parameter or buffer of a module that "
                "is not a Lazy module: materialize it first")
    return (f"{key} in the state_dict is uninitialized (saved from a Lazy module before its "
            "first call): run that module once on a batch (a dry run) before saving it")


def _as_array(value):
    """A state-dict value as an array: nabla Tensor, NumPy array, or a PyTorch tensor."""
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    return as_array(value)
