"""ONNX conversions of the losses, each a composition of ONNX ops computing nabla's forward:
regression (mse, l1, huber / smooth l1), binary cross-entropy (on probabilities and on logits),
kl_div, margin ranking and the class losses (cross_entropy with class indices or probabilities,
nll_loss), with the 'none', 'sum' and 'mean' reductions (and kl_div's 'batchmean'; the cosine
embedding loss needs no entry: it runs as elementwise ops). The class losses with class
indices use ONNX's NegativeLogLikelihoodLoss, whose weighted 'mean' divides by the summed
weights of the targets that are not ignored, as nabla's and PyTorch's.
"""

import numpy as np

from nabla.nn.functional.class_loss import CrossEntropy, CrossEntropyProbs, NllLoss
from nabla.nn.functional.loss import (
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    KlDiv,
    MarginRankingLoss,
)
from nabla.nn.functional.regression_loss import HuberLoss, L1Loss, MseLoss
from nabla.onnx.converters import _out, _reduce, converts
from nabla.onnx.export import Graph, Value


def _reduced(g: Graph, loss: str, reduction: str, out: Value) -> None:
    """The per-element ``loss`` as it is ('none'), summed or averaged over every element."""
    if reduction == "none":
        g.node("Identity", [loss], _out(out))
    else:
        _reduce(g, "ReduceSum" if reduction == "sum" else "ReduceMean", loss, None, 0, out.name)


def _difference(g: Graph, x: Value, y, out: Value) -> str:
    return g.node("Sub", [g.cast(x, out.dtype), g.cast(y, out.dtype)])


@converts(MseLoss)
def mse_loss(g: Graph, args, out: Value):
    """reduce((x - y)^2)."""
    x, y, reduction = args
    d = _difference(g, x, y, out)
    _reduced(g, g.node("Mul", [d, d]), reduction, out)


@converts(L1Loss)
def l1_loss(g: Graph, args, out: Value):
    """reduce(|x - y|)."""
    x, y, reduction = args
    _reduced(g, g.node("Abs", [_difference(g, x, y, out)]), reduction, out)


@converts(HuberLoss)
def huber_loss(g: Graph, args, out: Value):
    """reduce((d^2 / 2 if |d| < delta else delta (|d| - delta / 2)) / divisor), d = x - y."""
    x, y, reduction, delta, divisor = args
    c = lambda v: g.cast(v, out.dtype)  # noqa: E731 (a constant in the output's dtype)
    d = _difference(g, x, y, out)
    a = g.node("Abs", [d])
    square = g.node("Mul", [g.node("Mul", [d, d]), c(0.5)])
    linear = g.node("Mul", [g.node("Sub", [a, c(0.5 * delta)]), c(delta)])
    loss = g.node("Where", [g.node("Less", [a, c(delta)]), square, linear])
    if divisor != 1:
        loss = g.node("Div", [loss, c(divisor)])
    _reduced(g, loss, reduction, out)


def _weighted(g: Graph, loss: str, weight) -> str:
    return loss if weight is None else g.node("Mul", [loss, weight])


@converts(BinaryCrossEntropy)
def binary_cross_entropy(g: Graph, args, out: Value):
    """reduce(-w (y max(log x, -100) + (1 - y) max(log(1 - x), -100)))."""
    x, y, weight, reduction = args
    c = lambda v: g.cast(v, out.dtype)  # noqa: E731
    y = g.cast(y, out.dtype)
    log_x = g.node("Max", [g.node("Log", [x]), c(-100.0)])  # Log(0) = -inf: clamped
    log_1mx = g.node("Max", [g.node("Log", [g.node("Sub", [c(1.0), x])]), c(-100.0)])
    both = g.node("Add", [g.node("Mul", [y, log_x]),
                          g.node("Mul", [g.node("Sub", [c(1.0), y]), log_1mx])])
    _reduced(g, _weighted(g, g.node("Neg", [both]), weight), reduction, out)


@converts(BinaryCrossEntropyWithLogits)
def binary_cross_entropy_with_logits(g: Graph, args, out: Value):
    """reduce(w ((1 - y) x - (1 + (pw - 1) y) log sigmoid(x))), with log sigmoid(x) =
    min(x, 0) - log(1 + exp(-|x|)), which does not overflow (onnxruntime has no Softplus for
    float64)."""
    x, y, weight, pos_weight, reduction = args
    c = lambda v: g.cast(v, out.dtype)  # noqa: E731
    y = g.cast(y, out.dtype)
    tail = g.node("Log", [g.node("Add", [g.node("Exp", [g.node("Neg", [g.node("Abs", [x])])]),
                                         c(1.0)])])
    log_sig = g.node("Sub", [g.node("Min", [x, c(0.0)]), tail])
    if pos_weight is not None:
        scale = g.node("Add", [c(1.0), g.node("Mul", [g.node("Sub", [pos_weight, c(1.0)]), y])])
        log_sig = g.node("Mul", [scale, log_sig])
    loss = g.node("Sub", [g.node("Mul", [g.node("Sub", [c(1.0), y]), x]), log_sig])
    _reduced(g, _weighted(g, loss, weight), reduction, out)


@converts(KlDiv)
def kl_div(g: Graph, args, out: Value):
    """reduce(y (log y - x)), 0 where y = 0; exp(y) (y - x) for log_target. 'batchmean' (n
    given) is the sum over x's first dim, read from x's shape so that it may be dynamic."""
    x, y, reduction, n, log_target = args
    c = lambda v: g.cast(v, out.dtype)  # noqa: E731
    y = g.cast(y, out.dtype)
    if log_target:
        loss = g.node("Mul", [g.node("Exp", [y]), g.node("Sub", [y, x])])
    else:
        positive = g.node("Greater", [y, c(0)])
        log_y = g.node("Log", [g.node("Where", [positive, y, c(1)])])
        entropy = g.node("Where", [positive, g.node("Mul", [y, log_y]), c(0)])
        loss = g.node("Sub", [entropy, g.node("Mul", [y, x])])
    if n is None or reduction != "mean":
        _reduced(g, loss, reduction, out)
        return
    total = _reduce(g, "ReduceSum", loss, None, 0)
    batch = g.node("Shape", [x], start=0, end=1) if x.ndim else g.ints([1], "batch")
    batch = g.node("Cast", [g.node("Squeeze", [batch])],
                   to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))
    g.node("Div", [total, batch], _out(out))


@converts(MarginRankingLoss)
def margin_ranking_loss(g: Graph, args, out: Value):
    """reduce(max(0, -y (x1 - x2) + margin))."""
    x1, x2, y, margin, reduction = args
    c = lambda v: g.cast(v, out.dtype)  # noqa: E731
    d = _difference(g, x1, x2, out)
    raw = g.node("Add", [g.node("Mul", [g.node("Neg", [c(y)]), d]), c(margin)])
    _reduced(g, g.node("Max", [raw, c(0.0)]), reduction, out)


# -- losses over the class dim (dim 1) -----------------------------------------------------------
def _per_class(g: Graph, weight: Value, ndim: int) -> str:
    """A (C,) weight shaped (1, C, 1, ...) to broadcast along dim 1."""
    return g.node("Reshape", [weight, g.ints([1, -1] + [1] * (ndim - 2))])


def _nll(g: Graph, log_p, target: Value, weight, ignore_index: int, reduction: str,
         output=None) -> str:
    """-w[t] log_p[t] (0 where t = ignore_index), reduced as ONNX's NegativeLogLikelihoodLoss."""
    t = g.cast(target, np.dtype(np.int64))
    inputs = [log_p, t] + ([weight] if weight is not None else [])
    return g.node("NegativeLogLikelihoodLoss", inputs, [output] if output else None,
                  reduction=reduction, ignore_index=int(ignore_index))


@converts(NllLoss)
def nll_loss(g: Graph, args, out: Value):
    x, target, weight, ignore_index, reduction = args
    _nll(g, x, target, weight, ignore_index, reduction, out.name)


@converts(CrossEntropy)
def cross_entropy(g: Graph, args, out: Value):
    """NLL of LogSoftmax over dim 1. With label smoothing eps: (1 - eps) nll + eps / C
    sum_c w_c (-log_p_c) for each kept target, 'mean' over the summed weights w[t] of those."""
    x, target, weight, ignore_index, reduction, eps = args
    log_p = g.node("LogSoftmax", [x], axis=1)
    if not eps:
        _nll(g, log_p, target, weight, ignore_index, reduction, out.name)
        return
    c = lambda v: g.cast(v, out.dtype)  # noqa: E731
    nll = _nll(g, log_p, target, weight, ignore_index, "none")
    t = g.cast(target, np.dtype(np.int64))
    kept = g.node("Not", [g.node("Equal", [t, g.const(np.int64(ignore_index))])])
    valid = g.node("Cast", [kept], to=g.onnx.helper.np_dtype_to_tensor_dtype(out.dtype))
    w_log_p = log_p if weight is None else g.node("Mul", [log_p, _per_class(g, weight, x.ndim)])
    smooth = g.node("Neg", [_reduce(g, "ReduceSum", w_log_p, [1], 0)])
    loss = g.node("Add", [g.node("Mul", [nll, c(1 - eps)]),
                          g.node("Mul", [g.node("Mul", [smooth, valid]), c(eps / x.shape[1])])])
    if reduction != "mean":
        _reduced(g, loss, reduction, out)
        return
    w_t = valid
    if weight is not None:  # w[t] where kept, 0 elsewhere
        picked = g.node("Gather", [weight, g.node("Where", [kept, t, g.const(np.int64(0))])])
        w_t = g.node("Mul", [picked, valid])
    total = _reduce(g, "ReduceSum", loss, None, 0)
    g.node("Div", [total, _reduce(g, "ReduceSum", w_t, None, 0)], _out(out))


@converts(CrossEntropyProbs)
def cross_entropy_probs(g: Graph, args, out: Value):
    """-sum_c q_c log softmax(x)_c over dim 1 with q = w ((1 - eps) y + eps / C), reduced
    ('mean' over the elements of the result)."""
    x, y, weight, reduction, eps = args
    c = lambda v: g.cast(v, out.dtype)  # noqa: E731
    q = g.cast(y, out.dtype)
    if eps:
        q = g.node("Add", [g.node("Mul", [q, c(1 - eps)]), c(eps / x.shape[1])])
    if weight is not None:
        q = g.node("Mul", [q, _per_class(g, weight, x.ndim)])
    log_p = g.node("LogSoftmax", [x], axis=1)
    loss = g.node("Neg", [_reduce(g, "ReduceSum", g.node("Mul", [q, log_p]), [1], 0)])
    _reduced(g, loss, reduction, out)
