"""Losses over a class dimension (dim 1): cross_entropy and nll_loss, PyTorch's signatures.

Cross-entropy with class indices is the hot path of every classifier: one fused node whose
forward computes log-softmax and the picked log-probabilities on arrays (max subtracted, so
logits of 1e4 are exact), and whose backward is (softmax - q) * grad in one pass over the logits,
q = (1 - eps) w[t] onehot(t) + eps / C w. Under create_graph the same rule is written with nabla
ops (softmax of the input), so double backward works. Weighted 'mean' divides by the summed
weights of the targets that are not ignored, as PyTorch.
"""

from nabla.autograd.function import Op
from nabla.autograd.grad_mode import _mode
from nabla.backend import array_module
from nabla.nn.functional._loss_base import (
    check_class_target,
    check_weight,
    class_targets_in_range,
    like,
    raw,
    reduce_loss,
    reduction_of,
    same_dtype,
    target_is_probabilities,
)
from nabla.ops import exp, log_softmax, softmax
from nabla.ops import sum as sum_
from nabla.tensor import Tensor

__all__ = ["cross_entropy", "nll_loss"]


# -- class indices ------------------------------------------------------------------------------
def _target_weights(xp, target, weight, ignore_index, dtype):
    """The key that picks a[n, t[n, ...], ...] of an (N, C, *d) array (ignored targets read
    class 0), the mask of kept targets and their weights (N, *d; 0 where ignored)."""
    valid = target != ignore_index
    index = xp.where(valid, target, 0)
    w_t = valid.astype(dtype) if weight is None else weight.astype(dtype)[index] * valid
    if target.ndim == 1:  # the common (N, C) case: no index grid needed
        return (xp.arange(target.shape[0]), index), valid, w_t
    grid = xp.ix_(*[xp.arange(k) for k in target.shape])
    return (grid[0], index) + tuple(grid[1:]), valid, w_t


def _all_kept(target, weight, ignore_index: int, n_classes: int) -> bool:
    """Check the targets' range; then True when there is no weight and every target is a class
    of an (N, C) input (none equals ``ignore_index``): the loss needs no mask and no weights.
    Decided on the data inside forward, so a replayed trace checks and decides again."""
    in_range = class_targets_in_range("cross_entropy", target, n_classes, ignore_index)
    if weight is not None or target.ndim != 1 or not target.size or not in_range:
        return False
    return not (0 <= ignore_index < n_classes and (target == ignore_index).any())


def _class_shape(weight, ndim: int) -> tuple:
    """Shape that broadcasts a (C,) weight along dim 1 of an (N, C, *d) input."""
    return (1, weight.shape[0]) + (1,) * (ndim - 2)


class CrossEntropy(Op):
    """Fused log-softmax + NLL over dim 1: l_i = sum_c q_ic (logsumexp(x_i) - x_ic), with
    q = (1 - eps) w[t] onehot(t) + eps / C w;  dl/dx_i = (softmax(x_i) sum_c q_ic - q_i) grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, eps):
        xp = array_module(x)
        n_classes = x.shape[1]
        z = x - x.max(axis=1, keepdims=True)
        if _all_kept(target, weight, ignore_index, n_classes):  # the common case, w_t = 1
            key, valid, w_t = (xp.arange(target.shape[0]), target), None, None
        else:
            key, valid, w_t = _target_weights(xp, target, weight, ignore_index, x.dtype)
        picked = z[key]
        total_w = float(n_classes) if weight is None else float(weight.sum())
        if eps:
            wz = z.sum(axis=1) if weight is None else (z * weight.reshape(
                _class_shape(weight, x.ndim))).sum(axis=1)
        e = xp.exp(z, out=z)  # z is not needed any more: reuse its memory
        s = e.sum(axis=1, keepdims=True)
        log_s = xp.log(s[:, 0])
        if w_t is None:
            loss = log_s - picked
            if eps:
                loss = (1 - eps) * loss + (eps / n_classes) * (total_w * log_s - wz)
            ctx.n = float(target.shape[0])
        else:
            loss = (log_s - picked) * w_t
            if eps:
                loss = (1 - eps) * loss + (eps / n_classes) * (total_w * log_s - wz) * valid
            ctx.n = float(w_t.sum())
        ctx.reduction, ctx.eps, ctx.total_w = reduction, eps, total_w
        ctx.n = ctx.n if reduction == "mean" else 1.0
        # softmax = e / s is formed in backward, fused with the gradient's scaling
        ctx.save_for_backward(x, e, s, key, valid, w_t, weight)
        return reduce_loss(loss, reduction, ctx.n)

    @staticmethod
    def backward(ctx, grad):
        x, e, s, key, valid, w_t, weight = ctx.saved_tensors
        eps, n_classes = ctx.eps, raw(e).shape[1]
        if w_t is None and not eps and not _mode.enabled:  # every target kept, unweighted:
            coef = _class_coef(ctx, raw(grad))  # (softmax - onehot(t)) * grad
            g = raw(e) * (coef / raw(s))
            g[key] -= coef[:, 0] if coef.ndim else coef
            return like(grad, g), None, None, None, None, None
        if w_t is None:  # the general rule with every target kept and weight 1
            xp, n = array_module(raw(e)), len(key[0])
            valid, w_t = xp.ones(n, bool), xp.ones(n, raw(e).dtype)
        if _mode.enabled:  # create_graph: a differentiable rule
            return _cross_entropy_graph(ctx, grad, x, key, valid, w_t, weight), *(None,) * 5
        e, s, valid, w_t, weight = map(raw, (e, s, valid, w_t, weight))
        coef = _class_coef(ctx, raw(grad))
        w_pick = (1 - eps) * w_t
        row = w_pick + (eps * ctx.total_w / n_classes) * valid
        # softmax * sum_c q_c * grad, in one pass over the logits
        g = e * (_unsqueeze(row) * coef / s)
        g[key] -= w_pick * (coef[:, 0] if coef.ndim else coef)
        if eps:
            w = 1.0 if weight is None else weight.reshape(_class_shape(weight, e.ndim))
            g -= (eps / n_classes) * w * (_unsqueeze(valid) * coef)
        return like(grad, g), None, None, None, None, None


def _class_coef(ctx, grad):
    """The upstream gradient per sample, shaped (N, 1, *d) or 0-d, over the mean's divisor."""
    if ctx.reduction == "none":
        return _unsqueeze(grad)
    if ctx.reduction == "mean":
        return grad / (ctx.n or 1.0)  # all ignored: the gradient is 0, as PyTorch's
    return grad


def _unsqueeze(a):
    """(N, *d) -> (N, 1, *d): per-sample values against an (N, C, *d) array."""
    return a.reshape((a.shape[0], 1) + tuple(a.shape[1:]))


def _dense_targets(ctx, key, valid, w_t, weight, shape, dtype):
    """q = (1 - eps) w[t] onehot(t) + eps / C w (0 for ignored targets), as an array."""
    xp = array_module(w_t)
    eps = ctx.eps
    q = xp.zeros(shape, dtype)
    q[key] = (1 - eps) * w_t
    if eps:
        w = 1.0 if weight is None else weight.reshape(_class_shape(weight, len(shape)))
        q += (eps / shape[1]) * w * _unsqueeze(valid)
    return q


def _cross_entropy_graph(ctx, grad, x, key, valid, w_t, weight):
    """The gradient (softmax(x) Q - q) * grad as nabla ops on x, so it can be differentiated."""
    q = _dense_targets(ctx, key, *map(raw, (valid, w_t, weight)), x.shape, x.dtype)
    return (softmax(x, 1) * q.sum(axis=1, keepdims=True) - q) * _class_coef(ctx, grad)


class NllLoss(Op):
    """l_i = -w[t_i] x_i[t_i] (0 where t_i = ignore_index), reduced;
    dl/dx = -w[t] onehot(t) grad (divided by the summed weights for 'mean')."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xp = array_module(x)
        class_targets_in_range("nll_loss", target, x.shape[1], ignore_index)
        key, valid, w_t = _target_weights(xp, target, weight, ignore_index, x.dtype)
        loss = -x[key] * w_t
        ctx.reduction, ctx.eps, ctx.shape = reduction, 0.0, x.shape
        ctx.n = float(w_t.sum()) if reduction == "mean" else 1.0
        ctx.save_for_backward(key, valid, w_t)
        return reduce_loss(loss, reduction, ctx.n)

    @staticmethod
    def backward(ctx, grad):
        key, valid, w_t = map(raw, ctx.saved_tensors)
        q = _dense_targets(ctx, key, valid, w_t, None, ctx.shape, w_t.dtype)
        return -q * _class_coef(ctx, grad), None, None, None, None


class CrossEntropyProbs(Op):
    """Cross-entropy with class probabilities over dim 1: l_i = -sum_c q_ic log softmax(x_i)_c,
    q = w ((1 - eps) y + eps / C);  dl/dx_i = (softmax(x_i) sum_c q_ic - q_i) grad,
    dl/dy = -(1 - eps) w log softmax(x) grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, weight, reduction, eps):
        xp = array_module(x)
        z = x - x.max(axis=1, keepdims=True)
        e = xp.exp(z)
        s = e.sum(axis=1, keepdims=True)
        log_p = z - xp.log(s)
        q = _soft_targets(y.astype(x.dtype, copy=False), weight, eps)
        loss = -(q * log_p).sum(axis=1)
        ctx.reduction, ctx.eps, ctx.n = reduction, eps, loss.size
        e /= s
        ctx.save_for_backward(x, y, weight, e, log_p)
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, p, log_p = ctx.saved_tensors
        if _mode.enabled:  # create_graph: softmax and log-softmax as functions of x
            log_p = log_softmax(x, 1)
            p = exp(log_p)
        coef = _class_coef(ctx, grad)
        need_x, need_y = ctx.needs_input_grad[:2]
        grad_input = grad_target = None
        if need_x:
            q = _soft_targets(y, raw(weight), ctx.eps)
            grad_input = (p * sum_(q, 1, True) - q) * coef
        if need_y:
            w = 1.0 if weight is None else raw(weight).reshape(_class_shape(weight, x.ndim))
            grad_target = log_p * (-(1 - ctx.eps) * w) * coef
        return grad_input, grad_target, None, None, None


def _soft_targets(y, weight, eps):
    """q = w ((1 - eps) y + eps / C), broadcasting the (C,) weight along dim 1."""
    if eps:
        y = y * (1 - eps) + eps / y.shape[1]
    if weight is not None:
        y = y * weight.reshape(_class_shape(weight, y.ndim))
    return y


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits and targets: log-softmax over dim 1, then NLL, in one node.

    Args:
        input: logits (N, C), (N, C, d1, ...) or unbatched (C,).
        target: class indices (N,), (N, d1, ...) or () of an integer dtype, with values in
            [0, C) or ``ignore_index``; or class probabilities of the input's shape (soft
            labels, mixup), of a float dtype.
        weight: (C,) rescaling weight of each class.
        ignore_index: class-index targets with this value add nothing to loss or gradient.
        reduction: 'mean' (over the summed weights of kept targets; over N * d1 * ... for
            probabilities), 'sum' or 'none' (shape of the target without C).
        label_smoothing: eps in [0, 1]: the target becomes (1 - eps) onehot + eps / C.

    Returns:
        A scalar, or per-sample losses (N, d1, ...) for reduction='none'.
    """
    name = "cross_entropy"
    reduction = reduction_of(name, reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    probs = target_is_probabilities(name, input, target)
    unbatched = input.ndim == 1
    if unbatched:
        input, target = input.reshape(1, -1), target.reshape((1,) + tuple(target.shape))
    check_weight(name, weight, input)
    weight = same_dtype(weight, input)
    if probs:
        out = CrossEntropyProbs.apply(input, same_dtype(target, input), weight, reduction,
                                      float(label_smoothing))
    else:
        check_class_target(name, input, target)
        out = CrossEntropy.apply(input, target, weight, ignore_index, reduction,
                                 float(label_smoothing))
    return out.reshape(()) if unbatched and reduction == "none" else out


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -weight[t] * input[t] for log-probabilities ``input``.

    Args:
        input: log-probabilities (N, C), (N, C, d1, ...) or unbatched (C,).
        target: class indices (N,), (N, d1, ...) or () of an integer dtype.
        weight, ignore_index, reduction: as ``cross_entropy``.
    """
    name = "nll_loss"
    reduction = reduction_of(name, reduction, size_average, reduce)
    unbatched = input.ndim == 1
    if unbatched:
        input, target = input.reshape(1, -1), target.reshape((1,) + tuple(target.shape))
    check_weight(name, weight, input)
    check_class_target(name, input, target)
    weight = same_dtype(weight, input)
    out = NllLoss.apply(input, target, weight, ignore_index, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out
