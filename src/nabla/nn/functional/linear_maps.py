"""Affine maps: ``linear`` is one fused op (a single GEMM forward, two backward); ``bilinear`` is
derived from it."""

from nabla.autograd.function import Op
from nabla.autograd.grad_mode import is_grad_enabled
from nabla.backend import array_module
from nabla.ops.linalg import matmul, rows
from nabla.ops.shape import reshape, sum_to_size
from nabla.tensor import Tensor

__all__ = ["linear", "bilinear", "identity"]


class Linear(Op):
    """y = x @ W^T + b for x (*, in), W (out, in), b (out);
    dy/dx = grad @ W,  dy/dW = grad^T @ x (batch dims folded into rows),  dy/db = sum of grad."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        xp = array_module(x)
        if x.ndim == 2:
            y = xp.matmul(x, w.T)
        else:  # one large GEMM over all leading dims
            y = xp.matmul(x.reshape(rows(x)), w.T).reshape(x.shape[:-1] + (w.shape[0],))
        if b is not None:
            y += b  # y is a fresh array: add in place, no temporary
        return y

    array_backward = True  # arrays in plain backward, Tensors under create_graph

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        if not is_grad_enabled():  # plain backward: the three products on arrays
            return _linear_grads_arrays(grad, x, w, need_x, need_w, need_b)
        grad_input = matmul(grad, w) if need_x else None
        grad_weight = grad_bias = None
        if need_w:
            g2 = grad if grad.ndim == 2 else reshape(grad, rows(grad))
            x2 = x if x.ndim == 2 else reshape(x, rows(x))
            grad_weight = matmul(g2.mT, x2)
        if need_b:
            grad_bias = sum_to_size(grad, (grad.shape[-1],))
        return grad_input, grad_weight, grad_bias


def _linear_grads_arrays(g, x, w, need_x: bool, need_w: bool, need_b: bool) -> tuple:
    if g.ndim != 2:  # batch dims folded into rows: one GEMM each, then the input's shape back
        gx, gw, gb = _linear_grads_arrays(g.reshape(rows(g)), x.reshape(rows(x)), w,
                                          need_x, need_w, need_b)
        return (gx.reshape(x.shape) if need_x else None), gw, gb
    xp = array_module(g)
    grad_input = xp.matmul(g, w) if need_x else None
    grad_weight = xp.matmul(g.T, x) if need_w else None
    grad_bias = g.sum(0) if need_b else None
    return grad_input, grad_weight, grad_bias


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b.

    Args:
        input: (*, in_features).
        weight: (out_features, in_features).
        bias: (out_features) or None.

    Returns:
        (*, out_features).
    """
    if input.shape[-1:] != weight.shape[1:] or weight.ndim != 2:
        raise RuntimeError(
            f"linear: input of shape {tuple(input.shape)} cannot be multiplied by a weight of "
            f"shape {tuple(weight.shape)} (in_features must equal input.shape[-1])"
        )
    return Linear.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1^T A_k x2 + b_k (derived from ``linear``: x2 through all A_k at once, then a
    product with x1 summed over its features).

    Args:
        input1: (*, in1_features).
        input2: (*, in2_features), same leading dims as input1.
        weight: (out_features, in1_features, in2_features).
        bias: (out_features) or None.

    Returns:
        (*, out_features).
    """
    out_f, in1, in2 = weight.shape
    lead = input1.shape[:-1]
    if input2.shape[:-1] != lead or input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise RuntimeError(
            f"bilinear: inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)} do not "
            f"match a weight of shape {tuple(weight.shape)}"
        )
    x1 = reshape(input1, (-1, 1, in1))
    t = reshape(linear(reshape(input2, (-1, in2)), reshape(weight, (out_f * in1, in2))),
                (-1, out_f, in1))
    y = reshape(sum_to_size(t * x1, (x1.shape[0], out_f, 1)), lead + (out_f,))
    return y if bias is None else y + bias


def identity(input: Tensor) -> Tensor:
    return input
