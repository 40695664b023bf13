"""Loss functions with the signatures of ``torch.nn.functional``.

Each loss is one fused node. Its forward computes the per-element loss and the reduction on raw
arrays in a numerically stable form (log-sigmoid without overflow, logs clamped at -100 as
PyTorch). Its backward is the closed-form gradient written with operators and ``nabla.ops``
functions, so the engine runs it on arrays in plain backward and records it as a graph of its own
under ``create_graph=True`` (double backward works). 'mean' divides by the number of elements.

This file holds the binary cross-entropies, kl_div and the ranking / cosine embedding losses,
and re-exports the regression losses (mse_loss, l1_loss, smooth_l1_loss, huber_loss, in
``regression_loss.py``) and those over a class dimension (cross_entropy, nll_loss, in
``class_loss.py``). The others live in ``loss_more.py`` (Gaussian and Poisson NLL, the hinge,
soft / multi-margin and triplet losses) and ``ctc.py`` (ctc_loss); ``nabla.nn.functional``
exports them all.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module, select
from nabla.nn.functional._loss_base import (
    check_same_shape,
    grad_scale,
    reduce_loss,
    reduction_of,
    same_dtype,
)
from nabla.nn.functional.class_loss import cross_entropy, nll_loss
from nabla.nn.functional.regression_loss import huber_loss, l1_loss, mse_loss, smooth_l1_loss
from nabla.ops import clamp, exp, log, log1p, minimum, sigmoid, where
from nabla.tensor import Tensor

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "margin_ranking_loss", "cosine_embedding_loss"]


# -- binary classification ----------------------------------------------------------------------
class BinaryCrossEntropy(Op):
    """l = -w (y max(log x, -100) + (1 - y) max(log(1 - x), -100)), reduced, log(1 - x) taken
    as log1p(-x) as PyTorch (exact for tiny x);
    dl/dx = w (x - y) / max(x (1 - x), 1e-12) grad,  dl/dy = w (log(1 - x) - log x) grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, weight, reduction):
        xp = array_module(x)
        loss = -(y * _log_clamped(xp, x) + (1 - y) * _log1m_clamped(xp, x))
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight)
        ctx.reduction, ctx.n = reduction, loss.size
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight = ctx.saved_tensors
        s = grad_scale(ctx, grad)
        if weight is not None:
            s = s * weight
        need_x, need_y = ctx.needs_input_grad[:2]
        grad_input = (x - y) / clamp(x * (1 - x), min=1e-12) * s if need_x else None
        grad_target = None
        if need_y:
            grad_target = (_log1m_clamped(None, x) - _log_clamped(None, x)) * s
        return grad_input, grad_target, None, None


def _log_clamped(xp, v):
    """max(log v, -100) for v >= 0, without evaluating log(0) (on arrays when ``xp`` is given,
    else in nabla ops)."""
    positive = v > 0
    if xp is None:
        return clamp(where(positive, log(where(positive, v, 1)), -100.0), min=-100)
    logs = xp.log(select(positive, v, 1))  # log 1 = 0 where v <= 0: never log(0)
    return select(positive & (logs > -100), logs, -100)  # (NumPy's maximum(x, -100) is slow)


def _log1m_clamped(xp, v):
    """max(log(1 - v), -100) for v <= 1 as log1p(-v), without evaluating log1p(-1)."""
    below = v < 1
    if xp is None:
        return clamp(where(below, log1p(-where(below, v, 0.0)), -100.0), min=-100)
    logs = xp.log1p(-select(below, v, 0))
    return select(below & (logs > -100), logs, -100)


class BinaryCrossEntropyWithLogits(Op):
    """l = w ((1 - y) x - (1 + (pw - 1) y) log sigmoid(x)), reduced, with log sigmoid(x) =
    min(x, 0) - log1p(exp(-|x|)) (no overflow);  dl/dx = w ((1 + (pw - 1) y) sigmoid(x) - pw y)
    grad,  dl/dy = -w (x + (pw - 1) log sigmoid(x)) grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight, reduction):
        xp = array_module(x)
        log_sig = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))
        log_w = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        loss = (1 - y) * x - log_w * log_sig
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight, pos_weight)
        ctx.reduction, ctx.n = reduction, loss.size
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, pos_weight = ctx.saved_tensors
        s = grad_scale(ctx, grad)
        if weight is not None:
            s = s * weight
        need_x, need_y = ctx.needs_input_grad[:2]
        grad_input = grad_target = None
        if need_x:
            if pos_weight is None:
                grad_input = (sigmoid(x) - y) * s
            else:
                grad_input = ((1 + (pos_weight - 1) * y) * sigmoid(x) - pos_weight * y) * s
        if need_y:
            grad_target = -x
            if pos_weight is not None:
                log_sig = minimum(x, 0) - log1p(exp(-abs(x)))
                grad_target = grad_target - (pos_weight - 1) * log_sig
            grad_target = grad_target * s
        return grad_input, grad_target, None, None, None


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities: -w (y log x + (1 - y) log(1 - x)), logs >= -100.

    Args:
        input: probabilities in [0, 1], any shape.  target: same shape, values in [0, 1].
        weight: broadcastable to the input.  reduction: 'mean', 'sum' or 'none'.
    """
    name = "binary_cross_entropy"
    reduction = reduction_of(name, reduction, size_average, reduce)
    check_same_shape(name, input, target, "use binary_cross_entropy_with_logits on logits, "
                     "or reshape the target (e.g. target.view_as(input))")
    data = input._data
    if data.size and not (data.min() >= 0 and data.max() <= 1):
        raise RuntimeError(f"{name}: all elements of input should be between 0 and 1 (got "
                           f"values in [{data.min()}, {data.max()}]); apply sigmoid first, or "
                           "use binary_cross_entropy_with_logits on the logits")
    return BinaryCrossEntropy.apply(input, same_dtype(target, input), same_dtype(weight, input),
                                    reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable node (exact for logits of any size).

    Args:
        input: logits, any shape.  target: same shape, values in [0, 1].
        weight: broadcastable to the input.
        pos_weight: weight of positive examples, broadcastable to the input (often (C,)).
        reduction: 'mean', 'sum' or 'none'.
    """
    name = "binary_cross_entropy_with_logits"
    reduction = reduction_of(name, reduction, size_average, reduce)
    check_same_shape(name, input, target, "reshape the target (e.g. target.view_as(input)) "
                     "and make it float (target.float())")
    return BinaryCrossEntropyWithLogits.apply(input, same_dtype(target, input),
                                              same_dtype(weight, input),
                                              same_dtype(pos_weight, input), reduction)


# -- distributions and embeddings ---------------------------------------------------------------
class KlDiv(Op):
    """l = y (log y - x) (0 where y = 0), or exp(y) (y - x) for log_target, reduced;
    dl/dx = -y grad (-exp(y) grad),  dl/dy = (log y + 1 - x) grad (exp(y) (y + 1 - x) grad)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, reduction, n, log_target):
        xp = array_module(x)
        if log_target:
            loss = xp.exp(y) * (y - x)
        else:
            positive = y > 0
            loss = select(positive, y * xp.log(select(positive, y, 1)), 0) - y * x
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.n, ctx.log_target = reduction, n or loss.size, log_target
        return reduce_loss(loss, reduction, ctx.n)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        s = grad_scale(ctx, grad)
        need_x, need_y = ctx.needs_input_grad[:2]
        p = exp(y) if ctx.log_target else y
        grad_input = -p * s if need_x else None
        grad_target = None
        if need_y:
            log_y = y if ctx.log_target else log(where(y > 0, y, 1))
            grad_target = (log_y + 1 - x) * (p if ctx.log_target else 1) * s
        return grad_input, grad_target, None, None, None


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence KL(target || exp(input)) = target (log target - input).

    Args:
        input: log-probabilities, any shape.  target: probabilities (log-probabilities if
            ``log_target``), broadcastable to the input.
        reduction: 'batchmean' (sum / N: the true KL divergence), 'sum', 'none' or 'mean'
            (over all elements, as PyTorch).
    """
    reduction = reduction_of("kl_div", reduction, size_average, reduce, ("batchmean",))
    n = None
    if reduction == "batchmean":
        reduction, n = "mean", (input.shape[0] if input.ndim else 1)
    return KlDiv.apply(input, target, reduction, n, bool(log_target))


class MarginRankingLoss(Op):
    """l = max(0, -y (x1 - x2) + margin), reduced;  where -y (x1 - x2) + margin >= 0 (the kink
    included, as PyTorch's clamp_min): dl/dx1 = -y grad, dl/dx2 = y grad, dl/dy = -(x1 - x2) grad
    (0 elsewhere)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x1, x2, y, margin, reduction):
        xp = array_module(x1)
        hinge = -y * (x1 - x2) + margin
        loss = xp.maximum(hinge, 0)
        ctx.save_for_backward(x1, x2, y, hinge >= 0)
        ctx.reduction, ctx.n = reduction, loss.size
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x1, x2, y, active = ctx.saved_tensors
        s = where(active, grad_scale(ctx, grad), 0 * grad)
        need = ctx.needs_input_grad
        return (-y * s if need[0] else None, y * s if need[1] else None,
                (x2 - x1) * s if need[2] else None, None, None)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -target * (input1 - input2) + margin): rank input1 above input2 where target = 1.

    Args:
        input1, input2: (N,) or ().  target: same shape, values 1 or -1.
    """
    name = "margin_ranking_loss"
    reduction = reduction_of(name, reduction, size_average, reduce)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"{name}: input1 {tuple(input1.shape)}, input2 "
                           f"{tuple(input2.shape)} and target {tuple(target.shape)} must have "
                           "the same number of dimensions")
    return MarginRankingLoss.apply(input1, input2, target, float(margin), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target = 1, max(0, cos(x1, x2) - margin) where target = -1.

    Derived from nabla ops (no rule of its own); cos uses |x|^2 + 1e-12 as PyTorch.

    Args:
        input1, input2: (N, D) or (D,).  target: (N,) or (), values 1 or -1.
    """
    name = "cosine_embedding_loss"
    reduction = reduction_of(name, reduction, size_average, reduce)
    if input1.shape != input2.shape or input1.ndim not in (1, 2) or \
            target.ndim != input1.ndim - 1 or (target.ndim and target.shape[0] != input1.shape[0]):
        raise RuntimeError(f"{name}: expected input1 and input2 of shape (N, D) or (D,) and "
                           f"target of shape (N,) or (), got {tuple(input1.shape)}, "
                           f"{tuple(input2.shape)} and {tuple(target.shape)}")
    prod = (input1 * input2).sum(-1)
    mag = ((input1 * input1).sum(-1) + 1e-12) * ((input2 * input2).sum(-1) + 1e-12)
    cos = prod / mag.sqrt()
    zero = cos * 0
    hinge = (cos - margin).clamp(min=0)  # not relu: the gradient passes at cos = margin, as torch
    loss = where(target == 1, 1 - cos, zero) + where(target == -1, hinge, zero)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()
