"""Gradient clipping, as ``torch.nn.utils``: rescale all gradients together when their total
norm exceeds a bound (``clip_grad_norm_``), or clamp each element (``clip_grad_value_``).

Gradients are changed in place (their version counters move), under no_grad, so optimizers and
anything holding a ``.grad`` see the clipped values.
"""

import math

from nabla.autograd.grad_mode import no_grad
from nabla.backend import array_module
from nabla.creation import zeros
from nabla.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _grads(parameters) -> list:
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def _vector_norm(array, p: float):
    """The p-norm of all elements of ``array`` (p = inf: max |x|, -inf: min |x|, 0: count of
    non-zeros), in the array's dtype."""
    xp = array_module(array)
    a = xp.abs(array)
    if p == math.inf:
        return a.max() if a.size else xp.zeros((), a.dtype)
    if p == -math.inf:
        return a.min() if a.size else xp.asarray(math.inf, a.dtype)
    if p == 0:
        return xp.asarray((a != 0).sum(), a.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        return xp.sqrt((a * a).sum())
    return (a**p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The norm of the norms of ``tensors``: as if they were concatenated into one vector.

    Args:
        tensors: a tensor or an iterable of tensors (usually gradients).
        norm_type: p of the p-norm; ``float('inf')`` for the largest absolute value.
        error_if_nonfinite: raise if the total norm is nan or inf.
        foreach: accepted for PyTorch compatibility (no effect).

    Returns:
        A 0-d tensor (0.0 when there are no tensors).
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return zeros(())  # the default float dtype, as PyTorch
    norms = [_vector_norm(t._data, norm_type) for t in tensors]
    xp = array_module(tensors[0]._data)
    total = _vector_norm(xp.stack([xp.asarray(n) for n in norms]), norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable this error and "
            "scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._make(xp.asarray(total))


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = _grads(parameters)
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else total_norm
    xp = array_module(grads[0]._data)
    coef = xp.minimum(max_norm / (xp.asarray(total) + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            g.mul_(coef.astype(g.dtype))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Rescale the gradients of ``parameters`` so that their total norm is at most
    ``max_norm``: g <- g * min(1, max_norm / (total_norm + 1e-6)), in place.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped (those
            without a gradient are skipped).
        max_norm: the largest total norm allowed.
        norm_type: p of the p-norm (2 by default; ``float('inf')`` for the max-norm).
        error_if_nonfinite: raise RuntimeError if the total norm is nan or inf.
        foreach: accepted for PyTorch compatibility (no effect).

    Returns:
        The total norm of the gradients before clipping, a 0-d tensor.
    """
    parameters = _as_list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, float(max_norm), total, foreach)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element of ``parameters`` to [-clip_value, clip_value], in place.

    Args:
        parameters: a tensor or an iterable of tensors.
        clip_value: the bound (a positive number).
        foreach: accepted for PyTorch compatibility (no effect).
    """
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)
