"""Regression losses with the signatures of ``torch.nn.functional``: mse_loss, l1_loss,
smooth_l1_loss, huber_loss (re-exported by ``loss.py``).

Each is one fused node: its forward computes the per-element loss and the reduction on raw arrays,
its backward the closed-form gradient in nabla ops (so double backward works). A per-element
``weight`` multiplies the unreduced losses; 'mean' then divides by the summed weights (mse, l1)
or by the number of elements (huber), as PyTorch.
"""

import warnings

from nabla.autograd.function import Op
from nabla.backend import array_module, select
from nabla.nn.functional._loss_base import grad_scale, reduce_loss, reduction_of
from nabla.ops import clamp, sign
from nabla.tensor import Tensor

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"]


class MseLoss(Op):
    """l = (x - y)^2, reduced;  dl/dx = 2 (x - y) grad,  dl/dy = -dl/dx."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = x - y
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.n = reduction, d.size
        return reduce_loss(d * d, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_input = (x - y) * (grad_scale(ctx, grad) * 2)
        return grad_input, (-grad_input if ctx.needs_input_grad[1] else None), None


class L1Loss(Op):
    """l = |x - y|, reduced;  dl/dx = sign(x - y) grad,  dl/dy = -dl/dx."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = x - y
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.n = reduction, d.size
        return reduce_loss(array_module(d).abs(d), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_input = sign(x - y) * grad_scale(ctx, grad)
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
        loss = select(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
        if divisor != 1:
            loss /= divisor
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.n, ctx.delta, ctx.divisor = reduction, d.size, delta, divisor
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        s = grad_scale(ctx, grad)
        if ctx.divisor != 1:
            s = s / ctx.divisor
        grad_input = clamp(x - y, -ctx.delta, ctx.delta) * s
        return grad_input, (-grad_input if ctx.needs_input_grad[1] else None), None, None, None


def _regression(name: str, op_args: tuple, input: Tensor, target: Tensor, weight,
                reduction: str, weighted_mean_divides_by_weight: bool = True) -> Tensor:
    """Run a regression loss node; with ``weight`` (the input's shape), weigh its per-element
    losses and reduce them as PyTorch: 'mean' is sum(w l) / sum(w) (mean(w l) for huber)."""
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"{name}: using a target size {tuple(target.shape)} that is different to "
                      f"the input size {tuple(input.shape)}; they will be broadcast, which is "
                      "likely to give incorrect results. Make them the same size.", stacklevel=3)
    op = op_args[0]
    if weight is None:
        return op.apply(input, target, reduction, *op_args[1:])
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{name}: weight of shape {tuple(weight.shape)} must have the input's "
                         f"shape {tuple(input.shape)}")
    loss = op.apply(input, target, "none", *op_args[1:]) * weight
    if reduction == "none":
        return loss
    if reduction == "sum" or not weighted_mean_divides_by_weight:
        return loss.sum() if reduction == "sum" else loss.mean()
    return loss.sum() / weight.sum()


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error: reduce((input - target)^2).

    Args:
        input: any shape.  target: broadcastable to ``input`` (a warning if not the same shape).
        reduction: 'mean' (default), 'sum' or 'none' (the per-element losses).
        weight: per-element weights of the input's shape; 'mean' is then sum(w l) / sum(w).
    """
    reduction = reduction_of("mse_loss", reduction, size_average, reduce)
    return _regression("mse_loss", (MseLoss,), input, target, weight, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error: reduce(|input - target|); arguments as ``mse_loss``."""
    reduction = reduction_of("l1_loss", reduction, size_average, reduce)
    return _regression("l1_loss", (L1Loss,), input, target, weight, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target), reduced.

    ``beta=0`` is the L1 loss. Shapes as ``mse_loss``.
    """
    reduction = reduction_of("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    op_args = (L1Loss,) if beta == 0 else (HuberLoss, float(beta), float(beta))
    return _regression("smooth_l1_loss", op_args, input, target, None, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0, weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target), reduced.

    ``weight`` (the input's shape) multiplies each element; 'mean' is then mean(w l), as PyTorch.
    """
    reduction = reduction_of("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    return _regression("huber_loss", (HuberLoss, float(delta), 1.0), input, target, weight,
                       reduction, weighted_mean_divides_by_weight=False)
