"""The base of ``nn.utils.prune``'s methods: ``BasePruningMethod`` (the mask, the forward
pre-hook, applying and removing a pruning) and ``PruningContainer`` (several prunings of one
tensor, each among the entries the earlier ones kept). The methods and functions are in
``prune.py``, which re-exports these two.
"""

from abc import ABC, abstractmethod

from nabla.autograd.grad_mode import no_grad
from nabla.creation import ones_like
from nabla.tensor import Tensor

__all__ = ["BasePruningMethod", "PruningContainer"]


class BasePruningMethod(ABC):
    """A pruning method: subclass it, set ``PRUNING_TYPE`` ("unstructured", "structured" with a
    ``dim`` attribute, or "global") and define ``compute_mask``. An instance is the forward
    pre-hook that recomputes ``module.<name>`` from ``<name>_orig`` and ``<name>_mask``."""

    PRUNING_TYPE: str
    _tensor_name: str | None = None

    def __call__(self, module, inputs) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask (t's shape): ``default_mask`` (the mask so far) with more zeros.

        Args:
            t: the importance of each entry (by default the tensor being pruned).
            default_mask: the current mask, ones where entries are still kept.
        """

    def apply_mask(self, module) -> Tensor:
        """``<name>_mask * <name>_orig``: the pruned tensor."""
        if self._tensor_name is None:
            raise ValueError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(orig.dtype) * orig

    @classmethod
    def apply(cls, module, name: str, *args, importance_scores: Tensor | None = None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)`` (combined with the methods that
        pruned it before), by the scores ``importance_scores`` (default: the tensor itself).

        Returns:
            The method now registered as the module's forward pre-hook.
        """
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is None:
            importance_scores = orig
        elif tuple(importance_scores.shape) != tuple(orig.shape):
            raise ValueError(f"importance_scores should have the same shape as parameter {name} "
                             f"of {module._get_name()}, got {tuple(importance_scores.shape)} vs "
                             f"{tuple(orig.shape)}")
        first = not isinstance(method, PruningContainer)
        if first:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            with no_grad():
                mask = method.compute_mask(importance_scores.detach(), default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # leave the module as it was
                module.register_parameter(name, getattr(module, name + "_orig"))
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """``t`` times the mask computed from ``importance_scores`` (default: ``t``)."""
        scores = t if importance_scores is None else importance_scores
        default_mask = ones_like(t) if default_mask is None else default_mask
        with no_grad():
            mask = self.compute_mask(scores.detach(), default_mask=default_mask)
        return t * mask

    def remove(self, module) -> None:
        """Make the pruning permanent: ``<name>`` a parameter holding the pruned values, with
        ``<name>_orig`` and ``<name>_mask`` gone (the hook is removed by ``prune.remove``)."""
        if self._tensor_name is None:
            raise ValueError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        module.__dict__.pop(self._tensor_name, None)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.detach()
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


def _composite_method(cls, module, name: str, *args, **kwargs) -> BasePruningMethod:
    """A new ``cls`` method on ``name``; joined in a container with the one already there,
    whose hook is taken off (``apply`` registers the result)."""
    found = [(key, hook) for key, hook in module._forward_pre_hooks.items()
             if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
    if len(found) > 1:
        raise ValueError(f"Avoid adding multiple pruning hooks to the same tensor {name} of "
                         f"module {module._get_name()}. Use a PruningContainer.")
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if not found:
        return method
    key, old = found[0]
    del module._forward_pre_hooks[key]
    if not isinstance(old, PruningContainer):
        old = PruningContainer(old)
    old.add_pruning_method(method)
    return old


class PruningContainer(BasePruningMethod):
    """The methods that pruned one tensor, in order; the newest prunes among the entries (or the
    channels) the earlier ones kept."""

    def __init__(self, *methods: BasePruningMethod) -> None:
        self._pruning_methods: tuple = ()
        if len(methods) == 1:
            self._tensor_name = methods[0]._tensor_name
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if self._tensor_name != method._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The newest method's mask, computed on the part of ``t`` still kept."""
        method = self._pruning_methods[-1]
        mask = default_mask.to(t.dtype)
        kind = method.PRUNING_TYPE
        if kind == "unstructured":
            kept = mask == 1
        elif kind == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have '
                                     "the attribute `dim` defined.")
            dim = method.dim + t.ndim if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {t.ndim}")
            others = [d for d in range(t.ndim) if d != dim]
            kept = [slice(None)] * t.ndim
            kept[dim] = mask.sum(dim=others) != 0
            kept = tuple(kept)
        elif kind == "global":
            kept = (slice(None),) * t.ndim
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")
        mask = mask.clone()
        mask[kept] = method.compute_mask(t[kept], default_mask=mask[kept]).to(mask.dtype)
        return mask
