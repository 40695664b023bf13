"""Loss functions with the signatures of ``torch.nn.functional``.

Each loss is one fused node. Its forward computes the per-element loss and the reduction on raw
arrays in a numerically stable form (log-sum-exp with the max subtracted, log-sigmoid without
overflow). Its backward is the closed-form gradient written with operators and ``nabla.ops``
functions, so the engine runs it on arrays in plain backward and records it as a graph of its own
under ``create_graph=True`` (double backward works). Cross-entropy with class indices, the hot
path of every classifier, keeps an array-only backward for the plain case.

Reductions follow PyTorch: 'mean' divides by the number of elements, or for class-index losses
with ``weight`` / ``ignore_index`` by the summed weights of the targets that are not ignored.
"""

from nabla.autograd.function import Op
from nabla.autograd.grad_mode import _mode
from nabla.backend import array_module
from nabla.nn.functional._loss_check import (
    check_class_target,
    check_same_shape,
    check_weight,
    reduction_of,
    target_is_probabilities,
)
from nabla.ops import clamp, exp, log, log1p, minimum, sigmoid, sign, where
from nabla.tensor import Tensor

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "margin_ranking_loss", "cosine_embedding_loss"]


# -- reduction helpers (arrays in forward; arrays or Tensors in backward) -------------------------
def _reduce(loss, reduction: str, n=None):
    """Reduce a per-element loss array: as is, its sum, or its sum / n (default: its size)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction != "sum":
        n = loss.size if n is None else n
        total = total / n if n else total * float("nan")  # mean of nothing, as PyTorch
    return array_module(loss).asarray(total, dtype=loss.dtype)


def _scale(ctx, grad):
    """The upstream gradient of each element: ``grad`` ('none', 'sum') or ``grad / n``."""
    return grad if ctx.reduction in ("none", "sum") else grad / ctx.n


def _raw(value):
    return value._data if isinstance(value, Tensor) else value


def _like(grad, array):
    """``array`` as the kind of value the engine passed in: an array or a Tensor."""
    return Tensor._make(array) if isinstance(grad, Tensor) else array


# -- regression losses --------------------------------------------------------------------------
class MseLoss(Op):
    """l = (x - y)^2, reduced;  dl/dx = 2 (x - y) grad,  dl/dy = -dl/dx."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = x - y
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.n = reduction, d.size
        return _reduce(d * d, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_input = (x - y) * (_scale(ctx, grad) * 2)
        return grad_input, (-grad_input if ctx.needs_input_grad[1] else None), None


class L1Loss(Op):
    """l = |x - y|, reduced;  dl/dx = sign(x - y) grad,  dl/dy = -dl/dx."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = x - y
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.n = reduction, d.size
        return _reduce(array_module(d).abs(d), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_input = sign(x - y) * _scale(ctx, grad)
        return grad_input, (-grad_input if ctx.needs_input_grad[1] else None), None


class HuberLoss(Op):
    """d = x - y;  l = d^2 / 2 if |d| < delta else delta (|d| - delta / 2), reduced;
    dl/dx = clamp(d, -delta, delta) grad,  dl/dy = -dl/dx.  SmoothL1(beta) = Huber(beta) / beta."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, reduction, delta, divisor):
        xp = array_module(x)
        d = x - y
        a = xp.abs(d)
        loss = xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
        if divisor != 1:
            loss /= divisor
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.n, ctx.delta, ctx.divisor = reduction, d.size, delta, divisor
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        s = _scale(ctx, grad)
        if ctx.divisor != 1:
            s = s / ctx.divisor
        grad_input = clamp(x - y, -ctx.delta, ctx.delta) * s
        return grad_input, (-grad_input if ctx.needs_input_grad[1] else None), None, None, None


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight=None) -> Tensor:
    """Mean squared error: reduce((input - target)^2).

    Args:
        input: any shape.  target: broadcastable to ``input``.
        reduction: 'mean' (default), 'sum' or 'none' (the per-element losses).
    """
    reduction = reduction_of("mse_loss", reduction, size_average, reduce)
    if weight is not None:
        raise NotImplementedError("mse_loss: weight is not supported; multiply the 'none' loss")
    return MseLoss.apply(input, target, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean") -> Tensor:
    """Mean absolute error: reduce(|input - target|); shapes as ``mse_loss``."""
    reduction = reduction_of("l1_loss", reduction, size_average, reduce)
    return L1Loss.apply(input, target, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target), reduced.

    ``beta=0`` is the L1 loss. Shapes as ``mse_loss``.
    """
    reduction = reduction_of("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return L1Loss.apply(input, target, reduction)
    return HuberLoss.apply(input, target, reduction, float(beta), float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0, weight=None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target), reduced."""
    reduction = reduction_of("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    if weight is not None:
        raise NotImplementedError("huber_loss: weight is not supported; multiply the 'none' loss")
    return HuberLoss.apply(input, target, reduction, float(delta), 1.0)


# -- classification: class indices ---------------------------------------------------------------
def _target_weights(xp, target, weight, ignore_index, dtype):
    """The key that picks a[n, t[n, ...], ...] of an (N, C, *d) array (ignored targets read
    class 0), the mask of kept targets and their weights (N, *d; 0 where ignored)."""
    valid = target != ignore_index
    index = xp.where(valid, target, 0)
    w_t = valid.astype(dtype) if weight is None else weight.astype(dtype)[index] * valid
    grid = xp.ix_(*[xp.arange(k) for k in target.shape])
    return (grid[0], index) + tuple(grid[1:]), valid, w_t


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
        key, valid, w_t = _target_weights(xp, target, weight, ignore_index, x.dtype)
        picked = z[key]
        total_w = float(n_classes) if weight is None else float(weight.sum())
        if eps:
            wz = z.sum(axis=1) if weight is None else (z * weight.reshape(
                _class_shape(weight, x.ndim))).sum(axis=1)
        e = xp.exp(z, out=z)  # z is not needed any more: reuse its memory
        s = e.sum(axis=1, keepdims=True)
        log_s = xp.log(s[:, 0])
        loss = (log_s - picked) * w_t
        if eps:
            loss = (1 - eps) * loss + (eps / n_classes) * (total_w * log_s - wz) * valid
        ctx.reduction, ctx.eps, ctx.total_w = reduction, eps, total_w
        ctx.n = float(w_t.sum()) if reduction == "mean" else 1.0
        # softmax = e / s is formed in backward, fused with the gradient's scaling
        ctx.save_for_backward(x, e, s, key, valid, w_t, weight)
        return _reduce(loss, reduction, ctx.n)

    @staticmethod
    def backward(ctx, grad):
        x, e, s, key, valid, w_t, weight = ctx.saved_tensors
        if _mode.enabled:  # create_graph: a differentiable rule
            return _cross_entropy_graph(ctx, grad, x, key, valid, w_t, weight), *(None,) * 5
        e, s, valid, w_t, weight = map(_raw, (e, s, valid, w_t, weight))
        eps, n_classes = ctx.eps, e.shape[1]
        coef = _class_coef(ctx, _raw(grad), e.dtype)
        w_pick = (1 - eps) * w_t
        row = w_pick + (eps * ctx.total_w / n_classes) * valid
        # softmax * sum_c q_c * grad, in one pass over the logits
        g = e * (_unsqueeze(row) * coef / s)
        g[key] -= w_pick * (coef[:, 0] if coef.ndim else coef)
        if eps:
            w = 1.0 if weight is None else weight.reshape(_class_shape(weight, e.ndim))
            g -= (eps / n_classes) * w * (_unsqueeze(valid) * coef)
        return _like(grad, g), None, None, None, None, None


def _class_coef(ctx, grad, dtype):
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
    from nabla.ops import softmax

    q = _dense_targets(ctx, key, *map(_raw, (valid, w_t, weight)), x.shape, x.dtype)
    return (softmax(x, 1) * q.sum(axis=1, keepdims=True) - q) * _class_coef(ctx, grad, x.dtype)


class NllLoss(Op):
    """l_i = -w[t_i] x_i[t_i] (0 where t_i = ignore_index), reduced;
    dl/dx = -w[t] onehot(t) grad (divided by the summed weights for 'mean')."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xp = array_module(x)
        key, valid, w_t = _target_weights(xp, target, weight, ignore_index, x.dtype)
        loss = -x[key] * w_t
        ctx.reduction, ctx.eps, ctx.shape = reduction, 0.0, x.shape
        ctx.n = float(w_t.sum()) if reduction == "mean" else 1.0
        ctx.save_for_backward(key, valid, w_t)
        return _reduce(loss, reduction, ctx.n)

    @staticmethod
    def backward(ctx, grad):
        key, valid, w_t = map(_raw, ctx.saved_tensors)
        q = _dense_targets(ctx, key, valid, w_t, None, ctx.shape, w_t.dtype)
        return -q * _class_coef(ctx, grad, q.dtype), None, None, None, None


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
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, p, log_p = ctx.saved_tensors
        if _mode.enabled:  # create_graph: softmax and log-softmax as functions of x
            from nabla.ops import log_softmax

            log_p = log_softmax(x, 1)
            p = exp(log_p)
        coef = _class_coef(ctx, grad, None)
        need_x, need_y = ctx.needs_input_grad[:2]
        grad_input = grad_target = None
        if need_x:
            q = _soft_targets(y, _raw(weight), ctx.eps)
            grad_input = (p * q.sum(1, keepdim=True) - q) * coef if isinstance(q, Tensor) else \
                (p * q.sum(axis=1, keepdims=True) - q) * coef
        if need_y:
            w = 1.0 if weight is None else _raw(weight).reshape(_class_shape(weight, x.ndim))
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
    if probs:
        out = CrossEntropyProbs.apply(input, target, weight, reduction, float(label_smoothing))
    else:
        check_class_target(name, input, target, ignore_index)
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
    check_class_target(name, input, target, ignore_index)
    out = NllLoss.apply(input, target, weight, ignore_index, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


# -- binary classification ----------------------------------------------------------------------
class BinaryCrossEntropy(Op):
    """l = -w (y max(log x, -100) + (1 - y) max(log(1 - x), -100)), reduced;
    dl/dx = w (x - y) / max(x (1 - x), 1e-12) grad,  dl/dy = w (log(1 - x) - log x) grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, weight, reduction):
        xp = array_module(x)
        loss = -(y * _log_clamped(xp, x) + (1 - y) * _log_clamped(xp, 1 - x))
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight)
        ctx.reduction, ctx.n = reduction, loss.size
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight = ctx.saved_tensors
        s = _scale(ctx, grad)
        if weight is not None:
            s = s * weight
        need_x, need_y = ctx.needs_input_grad[:2]
        grad_input = (x - y) / clamp(x * (1 - x), min=1e-12) * s if need_x else None
        grad_target = None
        if need_y:
            grad_target = (_log_clamped(None, 1 - x) - _log_clamped(None, x)) * s
        return grad_input, grad_target, None, None


def _log_clamped(xp, v):
    """max(log v, -100) for v >= 0, without evaluating log(0) (on arrays when ``xp`` is given,
    else in nabla ops)."""
    if xp is None:
        return clamp(where(v > 0, log(where(v > 0, v, 1)), -100.0), min=-100)
    return xp.maximum(xp.where(v > 0, xp.log(xp.where(v > 0, v, 1)), -100), -100)


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
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, pos_weight = ctx.saved_tensors
        s = _scale(ctx, grad)
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
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


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
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


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
            loss = xp.where(y > 0, y * xp.log(xp.where(y > 0, y, 1)), 0) - y * x
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.n, ctx.log_target = reduction, n or loss.size, log_target
        return _reduce(loss, reduction, ctx.n)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        s = _scale(ctx, grad)
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
    """l = max(0, -y (x1 - x2) + margin), reduced;  where l > 0: dl/dx1 = -y grad,
    dl/dx2 = y grad, dl/dy = -(x1 - x2) grad (0 elsewhere)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x1, x2, y, margin, reduction):
        xp = array_module(x1)
        loss = xp.maximum(-y * (x1 - x2) + margin, 0)
        ctx.save_for_backward(x1, x2, y, loss > 0)
        ctx.reduction, ctx.n = reduction, loss.size
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x1, x2, y, active = ctx.saved_tensors
        s = where(active, _scale(ctx, grad), 0 * grad)
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
    loss = where(target == 1, 1 - cos, zero) + where(target == -1, (cos - margin).relu(), zero)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()
