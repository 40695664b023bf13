"""Pruning as ``torch.nn.utils.prune``: zero a share of a tensor's entries (unstructured) or whole
channels (structured) by magnitude, at random or by a mask of your own.

Pruning ``module.weight`` moves the parameter to ``weight_orig``, keeps the 0/1 mask in the buffer
``weight_mask`` (PyTorch's state_dict keys) and recomputes ``weight = weight_mask * weight_orig``
in a forward pre-hook (the pruning method itself), so the gradient reaches ``weight_orig`` only
through the kept entries. Pruning the same tensor again prunes among the entries still kept: the
methods are gathered in a ``PruningContainer`` that combines the masks. ``remove`` makes the
pruning permanent (``weight`` a parameter again, its pruned entries zero).

``amount`` is a share in [0, 1] (rounded to a count as Python's ``round``) or a count.
"""

import numbers

from nabla.autograd.grad_mode import no_grad
from nabla.creation import ones_like, rand, rand_like, zeros_like
from nabla.linalg import vector_norm
from nabla.nn.utils.pruning_base import BasePruningMethod, PruningContainer
from nabla.ops import cat, kthvalue, topk
from nabla.tensor import Tensor

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask", "identity",
           "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
           "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


class Identity(BasePruningMethod):
    """Prunes nothing (the mask is all ones): the reparametrization alone."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module, name: str):
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries chosen uniformly at random."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        k = _count(self.amount, t.numel())
        return _zero_flat(default_mask, topk(rand_like(t).reshape(-1), k).indices if k else None)

    @classmethod
    def apply(cls, module, name: str, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest absolute value."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        k = _count(self.amount, t.numel())
        smallest = topk(t.abs().reshape(-1), k, largest=False).indices if k else None
        return _zero_flat(default_mask, smallest)

    @classmethod
    def apply(cls, module, name: str, amount, importance_scores: Tensor | None = None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` channels along ``dim`` chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        channels = _check_structured(t, self.dim)
        k = _count(self.amount, channels)
        if k == 0:
            return default_mask
        prob = rand(channels)
        keep = prob > kthvalue(prob, k).values
        return _channel_mask(t, self.dim, keep) * default_mask.to(t.dtype)

    @classmethod
    def apply(cls, module, name: str, amount, dim: int = -1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels along ``dim`` of smallest L``n`` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        channels = _check_structured(t, self.dim)
        k = _count(self.amount, channels)
        if k == 0:
            return default_mask
        dims = [d for d in range(t.ndim) if d != self.dim % t.ndim]
        norms = vector_norm(t, ord=_norm_order(self.n, dims, t.shape), dim=dims)
        largest = topk(norms, channels - k).indices
        return _channel_mask(t, self.dim, largest) * default_mask.to(t.dtype)

    @classmethod
    def apply(cls, module, name: str, amount, n, dim: int,
              importance_scores: Tensor | None = None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where ``mask`` is zero."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ValueError(f"custom_from_mask: the mask's shape {tuple(self.mask.shape)} must "
                             f"be the tensor's, {tuple(default_mask.shape)}")
        return default_mask * self.mask.to(default_mask.dtype)

    @classmethod
    def apply(cls, module, name: str, mask: Tensor):
        return super().apply(module, name, mask=mask)


def identity(module, name: str):
    """Reparametrize ``module.<name>`` as pruned, with a mask of ones. Returns the module."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name: str, amount):
    """Prune ``amount`` (a share or a count) of ``module.<name>``'s entries at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name: str, amount, importance_scores: Tensor | None = None):
    """Prune the ``amount`` entries of ``module.<name>`` of smallest |score| (default score:
    the entry). Returns the module."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name: str, amount, dim: int):
    """Prune ``amount`` channels of ``module.<name>`` along ``dim`` at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name: str, amount, n, dim: int,
                  importance_scores: Tensor | None = None):
    """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` of smallest L``n`` norm
    (``n``: a number, inf, -inf or "fro"). Returns the module."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores: dict | None = None,
                        **kwargs) -> None:
    """Prune the (module, name) pairs of ``parameters`` together: ``pruning_method(**kwargs)``
    (an unstructured method, e.g. ``L1Unstructured`` with ``amount``) chooses among all their
    entries at once, so layers lose different shares.

    Args:
        parameters: iterable of (module, name) pairs.
        pruning_method: a BasePruningMethod subclass of PRUNING_TYPE "unstructured".
        importance_scores: optional {(module, name): scores} (default: the tensors).
        **kwargs: the method's arguments (``amount``).
    """
    if not hasattr(parameters, "__iter__"):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = {} if importance_scores is None else importance_scores
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = cat([importance_scores.get((m, n), getattr(m, n)).detach().reshape(-1)
                  for m, n in parameters])
    default_mask = cat([_mask_of(m, n).reshape(-1) for m, n in parameters])
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    method._tensor_name = "temp"
    container = PruningContainer(method)
    with no_grad():
        final_mask = container.compute_mask(scores, default_mask)
    start = 0
    for module, name in parameters:
        size = getattr(module, name).numel()
        shape = tuple(getattr(module, name).shape)
        custom_from_mask(module, name, mask=final_mask[start:start + size].reshape(shape))
        start += size


def _mask_of(module, name: str) -> Tensor:
    """The current mask of ``module.<name>``: ones when it is not pruned yet."""
    if name + "_mask" in module._buffers:
        return module._buffers[name + "_mask"]
    return ones_like(getattr(module, name))


def custom_from_mask(module, name: str, mask: Tensor):
    """Prune ``module.<name>`` where ``mask`` (its shape) is zero. Returns the module."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name: str):
    """Make the pruning of ``module.<name>`` permanent and take its hook off."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module._get_name()} has to be pruned before "
                     "pruning can be removed")


def is_pruned(module) -> bool:
    """Whether ``module`` or any module below it has a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for sub in module.modules() for hook in sub._forward_pre_hooks.values())


def _check_amount(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _count(amount, size: int) -> int:
    """The number of entries (channels) to prune out of ``size``."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters "
                             f"to prune={size}")
        return amount
    return round(amount * size)


def _check_structured(t: Tensor, dim: int) -> int:
    """The number of channels along ``dim``, after checking that t has channels there."""
    if t.ndim <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {tuple(t.shape)} with {t.ndim} dims")
    if dim >= t.ndim or dim < -t.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")
    return t.shape[dim]


def _norm_order(n, dims: list, shape) -> float:
    """The vector norm's order for ``n``: "fro" is the 2-norm, as PyTorch's norm over at most two
    dims (it rejects "fro" over more, and every other matrix norm)."""
    if n == "fro" and len(dims) <= 2:
        return 2
    if isinstance(n, str):
        raise RuntimeError(f"ln_structured: n={n!r} is a matrix norm, taken over two dims, but "
                           f"the channels of a tensor of shape {tuple(shape)} span {len(dims)}; "
                           "use n=2 for the 2-norm of each channel")
    return n


def _zero_flat(mask: Tensor, indices: Tensor | None) -> Tensor:
    """A copy of ``mask`` with the entries at the flat ``indices`` set to zero."""
    flat = mask.reshape(-1).clone()
    if indices is not None:
        flat[indices] = 0
    return flat.reshape(tuple(mask.shape))


def _channel_mask(t: Tensor, dim: int, channels: Tensor) -> Tensor:
    """Ones on the ``channels`` (indices or a bool mask) along ``dim``, zeros elsewhere."""
    mask = zeros_like(t)
    where = [slice(None)] * t.ndim
    where[dim] = channels
    mask[tuple(where)] = 1
    return mask
