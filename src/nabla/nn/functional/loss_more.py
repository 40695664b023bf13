"""More losses with the signatures of ``torch.nn.functional``: probabilistic (Gaussian and
Poisson negative log-likelihood), margin (hinge, soft margin, multi-class and multi-label
margins) and embedding (triplet) losses.

Each is a composition of differentiable nabla ops (softplus, gather, where, clamp, norm, ...), so
none has a gradient rule of its own and double backward works wherever those ops allow it. Each
checks its shapes first and raises an error that names the loss, the shapes and the fix.
"""

import math
from collections.abc import Callable

import numpy as np

from nabla.creation import arange
from nabla.nn.functional._loss_base import reduction_of, same_dtype
from nabla.nn.functional.activation import softplus
from nabla.nn.functional.distance import pairwise_distance
from nabla.ops import clamp, exp, gather, log, minimum, relu, where
from nabla.tensor import Tensor

__all__ = ["gaussian_nll_loss", "poisson_nll_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss"]


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _shape(t) -> tuple:
    return tuple(t.shape)


def _check_tensors(name: str, **tensors) -> None:
    for what, value in tensors.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(value).__name__}")


def _check_broadcast(name: str, input: Tensor, target: Tensor) -> None:
    """Element-wise losses broadcast the target against the input, as PyTorch."""
    _check_tensors(name, input=input, target=target)
    try:
        np.broadcast_shapes(_shape(input), _shape(target))
    except ValueError:
        raise ValueError(f"{name}: target of shape {_shape(target)} does not broadcast against "
                         f"input of shape {_shape(input)}; give the target the input's shape "
                         "(e.g. target.view_as(input))") from None


# -- probabilistic losses -----------------------------------------------------------------------
def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood: 0.5 (log max(var, eps) + (input - target)^2 /
    max(var, eps)) (+ 0.5 log(2 pi) when ``full``), reduced.

    The clamp at ``eps`` changes the value only: the gradient flows to ``var`` as if unclamped,
    as PyTorch (which clamps under no_grad).

    Args:
        input: the predicted means, (N, *) or (*).  target: broadcastable to the input.
        var: the predicted variances (>= 0): the input's shape, the input's shape without its
            last dimension, or the input's shape with one dimension of size 1.
        reduction: 'mean' (default), 'sum' or 'none'.

    Returns:
        a scalar, or the broadcast shape of input and target for 'none'.
    """
    name = "gaussian_nll_loss"
    reduction = reduction_of(name, reduction)
    _check_broadcast(name, input, target)
    _check_tensors(name, var=var)
    shape, vshape = _shape(input), _shape(var)
    if vshape != shape:
        if shape[:-1] == vshape:  # one variance per sample: broadcast over the last dimension
            var = var.unsqueeze(-1)
        elif not (len(shape) == len(vshape)
                  and sum(v for i, v in zip(shape, vshape, strict=True) if i != v) == 1):
            raise ValueError(f"{name}: var of shape {vshape} does not fit input of shape {shape}; "
                             f"give var the input's shape {shape}, the shape {shape[:-1]} (one "
                             "variance per sample), or the input's shape with one dimension of "
                             "size 1")
    if var._data.size and var._data.min() < 0:
        raise ValueError(f"{name}: var has negative entries (min {var._data.min()}); variances "
                         "must be >= 0 (e.g. pass softplus(raw_var) or exp(log_var))")
    var = same_dtype(var, input)
    fixed = var.detach()
    # value max(var, eps), gradient 1: (var - var) is exactly zero, so the value is exact
    var = (var - fixed) + clamp(fixed, min=eps)
    diff = input - same_dtype(target, input)
    loss = 0.5 * (log(var) + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: exp(input) - target input (``log_input``), else
    input - target log(input + eps); ``full`` adds Stirling's approximation of log(target!),
    target log target - target + 0.5 log(2 pi target), where target > 1.

    Args:
        input: the log-rates (or the rates without ``log_input``), any shape.
        target: counts, broadcastable to the input.
        reduction: 'mean' (default), 'sum' or 'none'.
    """
    name = "poisson_nll_loss"
    reduction = reduction_of(name, reduction, size_average, reduce)
    _check_broadcast(name, input, target)
    target = same_dtype(target, input)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        big = target > 1
        t = where(big, target, 1.0)  # log(t) is finite everywhere, also off the mask
        stirling = t * log(t) - t + 0.5 * log(2 * math.pi * t)
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction)


# -- margin losses ------------------------------------------------------------------------------
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """input where target = 1, max(0, margin - input) where target = -1, reduced.

    Args:
        input: distances, any shape.  target: values 1 or -1, broadcastable to the input.
    """
    name = "hinge_embedding_loss"
    reduction = reduction_of(name, reduction, size_average, reduce)
    _check_broadcast(name, input, target)
    zero = input * 0
    loss = where(target != 1, clamp(margin - input, min=0), zero) + \
        where(target != -1, input, zero)
    return _reduce(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target input)), as softplus(-target input) (finite for any input), reduced.

    Args:
        input: any shape.  target: values 1 or -1, broadcastable to the input.
    """
    name = "soft_margin_loss"
    reduction = reduction_of(name, reduction, size_average, reduce)
    _check_broadcast(name, input, target)
    loss = softplus(-same_dtype(target, input) * input, 1.0, math.inf)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """-mean over classes of w (y log sigmoid(x) + (1 - y) log sigmoid(-x)), reduced over N.

    Args:
        input: (N, C) or (C,) logits.  target: 0/1 labels, broadcastable to the input.
        weight: per-class weights, broadcastable to the input (often (C,)).

    Returns:
        a scalar, or (N,) for 'none'.
    """
    name = "multilabel_soft_margin_loss"
    reduction = reduction_of(name, reduction, size_average, reduce)
    _check_broadcast(name, input, target)
    if input.ndim == 0:
        raise ValueError(f"{name}: input must be (N, C) or (C,), got shape ()")
    target = same_dtype(target, input)
    # -log sigmoid(x) = softplus(-x), stable for logits of any size
    loss = target * softplus(-input, 1.0, math.inf) + (1 - target) * softplus(input, 1.0, math.inf)
    if weight is not None:
        _check_broadcast(name, input, weight)
        loss = loss * same_dtype(weight, input)
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, reduction)


def _as_batch(name: str, input: Tensor, target: Tensor) -> tuple:
    """(N, C) input and its target for the multi-class margin losses, or an error."""
    _check_tensors(name, input=input, target=target)
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise ValueError(f"{name}: expected input of shape (N, C) or (C,) with C > 0, got "
                         f"{_shape(input)}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold class indices with an integer dtype, got "
                        f"{target.dtype}; convert with target.long()")
    return (input, target) if input.ndim == 2 else (input.unsqueeze(0), target.unsqueeze(0))


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge: sum over j != y of w_y max(0, margin - x_y + x_j)^p / C, reduced.

    Args:
        input: (N, C) or (C,) scores.  target: (N,) or () class indices in [0, C).
        p: 1 or 2.  weight: (C,) per-class weights.

    Returns:
        a scalar, or (N,) ((), for a (C,) input) for 'none'.
    """
    name = "multi_margin_loss"
    reduction = reduction_of(name, reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"{name}: only p == 1 and p == 2 are supported, got p={p}")
    x, y = _as_batch(name, input, target)
    n, c = x.shape
    if _shape(y) != (n,):
        expected = "()" if input.ndim == 1 else f"({n},)"
        raise ValueError(f"{name}: expected target of shape {expected} (one class index per "
                         f"sample) for input of shape {_shape(input)}, got {_shape(target)}")
    idx = y._data
    if idx.size and (idx.min() < 0 or idx.max() >= c):
        raise IndexError(f"{name}: target out of range: values must be in [0, {c}), got "
                         f"[{idx.min()}, {idx.max()}]")
    x_y = gather(x, 1, y.unsqueeze(1))
    loss = relu(margin - x_y + x)  # relu, not clamp: no gradient at 0, as PyTorch's kernel
    if p == 2:
        loss = loss * loss
    if weight is not None:
        _check_tensors(name, weight=weight)
        if _shape(weight) != (c,):
            raise ValueError(f"{name}: weight must have shape ({c},) (one per class), got "
                             f"{_shape(weight)}")
        loss = loss * gather(same_dtype(weight, input), 0, y).unsqueeze(1)
    own = y.unsqueeze(1) == arange(c)  # the target class adds no margin
    loss = where(own, loss * 0, loss).sum(1) / c
    if input.ndim == 1:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge: sum over targets j and non-targets i of max(0, 1 - (x_j - x_i)) / C.

    Args:
        input: (N, C) or (C,) scores.
        target: the input's shape, integer class indices; each row lists its target classes
            first and ends at the first -1 (the rest is ignored), as PyTorch.

    Returns:
        a scalar, or (N,) ((), for a (C,) input) for 'none'.
    """
    name = "multilabel_margin_loss"
    reduction = reduction_of(name, reduction, size_average, reduce)
    x, t = _as_batch(name, input, target)
    if _shape(target) != _shape(input):
        raise ValueError(f"{name}: target of shape {_shape(target)} must have the input's shape "
                         f"{_shape(input)}: class indices padded with -1 (e.g. [3, 0, -1, -1])")
    n, c = x.shape
    # masks from tensor ops, not from target's values, so that jit.trace recomputes them
    valid = (t >= 0).cumprod(1).bool()  # (N, slots): the slots before the first -1
    listed_values = t._data[valid._data]
    if listed_values.size and listed_values.max() >= c:
        raise IndexError(f"{name}: target {listed_values.max()} is out of range for {c} classes "
                         f"(expected 0 <= target < {c}, padded with -1)")
    listed = (t.unsqueeze(2) == arange(c)) & valid.unsqueeze(2)  # (N, slots, C)
    is_target = listed.any(1)  # (N, C)
    x_y = gather(x, 1, where(valid, t, 0))  # (N, slots)
    hinge = relu(1 - x_y.unsqueeze(2) + x.unsqueeze(1))  # (N, slots, C); no gradient at 0
    pairs = valid.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = where(pairs, hinge, hinge * 0).sum((1, 2)) / c
    if input.ndim == 1:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


# -- embedding losses ---------------------------------------------------------------------------
def _check_triplet(name: str, anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    _check_tensors(name, anchor=anchor, positive=positive, negative=negative)
    shapes = [_shape(anchor), _shape(positive), _shape(negative)]
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"{name}: the anchor, positive and negative tensors must have the same "
                           f"number of dimensions, got shapes {shapes[0]}, {shapes[1]} and "
                           f"{shapes[2]}; batch them all as (N, D) or pass all as (D,)")
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{name}: anchor {shapes[0]}, positive {shapes[1]} and negative "
                         f"{shapes[2]} do not broadcast; give them the same shape (N, D)") from None


def _triplet(dist: Callable, anchor, positive, negative, margin, swap, reduction) -> Tensor:
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:  # the harder negative: the positive may sit closer to it than the anchor does
        dist_neg = minimum(dist_neg, dist(positive, negative))
    return _reduce(clamp(margin + dist_pos - dist_neg, min=0), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)) with d the p-norm distance ||x1 - x2 + eps||_p.

    Args:
        anchor, positive, negative: (N, D) or (D,), broadcastable, the same number of dims.
        swap: use min(d(a, n), d(p, n)) as the negative distance.

    Returns:
        a scalar, or (N,) for 'none'.
    """
    name = "triplet_margin_loss"
    reduction = reduction_of(name, reduction, size_average, reduce)
    _check_triplet(name, anchor, positive, negative)
    return _triplet(lambda a, b: pairwise_distance(a, b, p, eps), anchor, positive, negative,
                    margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable | None = None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)) with a distance of your choice (default:
    pairwise_distance).

    Args:
        anchor, positive, negative: (N, *) or (*), the same number of dims.
        distance_function: maps two tensors to their distances (e.g. 1 - cosine_similarity).
        margin: > 0.  swap: use min(d(a, n), d(p, n)) as the negative distance.
    """
    name = "triplet_margin_with_distance_loss"
    reduction = reduction_of(name, reduction)
    if margin <= 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin}")
    _check_triplet(name, anchor, positive, negative)
    dist = pairwise_distance if distance_function is None else distance_function
    return _triplet(dist, anchor, positive, negative, margin, swap, reduction)
