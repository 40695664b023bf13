"""Batch and layer normalization as fused ops with the closed-form backward.

Both normalize x over a set of axes: xhat = (x - mean) / sqrt(var + eps), var biased, then
y = xhat * weight + bias. With g = grad * weight and M elements per statistic,

    dx = invstd * (g - mean(g) - xhat * mean(g * xhat)),  dweight = sum(grad * xhat),
    dbias = sum(grad).

The rule is written with nabla ops. For a first derivative xhat and invstd come from forward;
when the graph of the gradient is being recorded (create_graph) they are recomputed from x with
nabla ops, so that second derivatives see how they depend on x.
"""

from nabla.autograd.function import Op
from nabla.autograd.grad_mode import is_grad_enabled, no_grad
from nabla.backend import array_module
from nabla.ops.elementwise import rsqrt
from nabla.ops.shape import reshape, sum_to_size
from nabla.tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm"]


def _stats_arrays(x, axes: tuple, eps: float):
    """xhat and invstd (kept dims) of array ``x`` over ``axes``."""
    xp = array_module(x)
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = xp.mean(xc * xc, axis=axes, keepdims=True)
    invstd = 1.0 / xp.sqrt(var + eps)
    xc *= invstd
    return xc, invstd, mean, var


def _stats_tensors(x: Tensor, stat_shape: tuple, count: int, eps: float):
    """The same with nabla ops (differentiable): statistics of shape ``stat_shape``."""
    xc = x - sum_to_size(x, stat_shape) / count
    invstd = rsqrt(sum_to_size(xc * xc, stat_shape) / count + eps)
    return xc * invstd, invstd


class _Normalize(Op):
    """y = xhat * w + b, xhat normalized over the axes where ``stat_shape`` is 1;
    dx = invstd (g - mean(g) - xhat mean(g xhat)), g = grad * w;  dw = sum(grad xhat);
    db = sum(grad)."""

    @staticmethod
    def forward(ctx, x, w, b, stat_shape, param_shape, eps, stats_out):
        axes = tuple(i for i, n in enumerate(stat_shape) if n == 1 and x.shape[i] != 1)
        xhat, invstd, mean, var = _stats_arrays(x, axes, eps)
        y = xhat.copy() if w is None else xhat * w.reshape(param_shape)
        if b is not None:
            y += b.reshape(param_shape)
        ctx.save_for_backward(x, w, xhat, invstd)
        ctx.stat_shape, ctx.param_shape, ctx.eps = stat_shape, param_shape, eps
        ctx.shapes = (None if w is None else w.shape, None if b is None else b.shape)
        ctx.count = x.size // max(invstd.size, 1)
        if stats_out is not None:  # batch_norm reads them for the running averages
            stats_out.extend((mean, var))
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w, xhat, invstd = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        w_shape, b_shape = ctx.shapes
        stat_shape, count = ctx.stat_shape, ctx.count
        if not is_grad_enabled():  # plain backward: the same rule on arrays, in place
            return _grads_arrays(ctx, grad._data, xhat._data, invstd._data,
                                 None if w is None else w._data)
        # create_graph: xhat and invstd recomputed from x, so second derivatives see them move
        xhat, invstd = _stats_tensors(x, stat_shape, count, ctx.eps)
        wb = None if w is None else reshape(w, ctx.param_shape)
        if stat_shape == ctx.param_shape:  # batch norm: statistics and parameters per channel
            grad_input, sum_gx, sum_g = _per_channel_grads(grad, xhat, invstd, wb, count,
                                                           stat_shape, need_x)
        else:  # layer norm: statistics per sample, parameters per feature
            grad_input = None
            if need_x:
                g = grad if wb is None else grad * wb
                mean_g = sum_to_size(g, stat_shape) / count
                mean_gx = sum_to_size(g * xhat, stat_shape) / count
                grad_input = (g - mean_g - xhat * mean_gx) * invstd
            sum_gx = sum_to_size(grad * xhat, ctx.param_shape) if need_w else None
            sum_g = sum_to_size(grad, ctx.param_shape) if need_b else None
        grad_weight = reshape(sum_gx, w_shape) if need_w else None
        grad_bias = reshape(sum_g, b_shape) if need_b else None
        return grad_input, grad_weight, grad_bias, None, None, None, None


def _grads_arrays(ctx, g, xhat, invstd, w) -> tuple:
    """The rule of ``_Normalize`` on arrays for a first derivative. Fresh full-size arrays cost
    more than the arithmetic (page faults), so it makes two and works in place in them."""
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    stat_shape, param_shape, count = ctx.stat_shape, ctx.param_shape, ctx.count
    p_axes = tuple(i for i, n in enumerate(param_shape) if n == 1)
    gx = g * xhat
    sum_gx = gx.sum(axis=p_axes, keepdims=True)
    sum_g = g.sum(axis=p_axes, keepdims=True)
    dx = None
    if need_x:
        wb = None if w is None else w.reshape(param_shape)
        if stat_shape == param_shape:  # batch norm: the parameter sums are the statistic sums
            dx = g - sum_g / count
            array_module(g).multiply(xhat, sum_gx / count, out=gx)
            dx -= gx
            dx *= invstd if wb is None else invstd * wb
        else:
            s_axes = tuple(i for i, n in enumerate(stat_shape) if n == 1)
            dx = g.copy() if wb is None else g * wb
            if wb is not None:
                gx *= wb  # now g * w * xhat
            mean_gx = gx.mean(axis=s_axes, keepdims=True)
            dx -= dx.mean(axis=s_axes, keepdims=True)
            array_module(g).multiply(xhat, mean_gx, out=gx)
            dx -= gx
            dx *= invstd
    w_shape, b_shape = ctx.shapes
    grad_weight = Tensor._make(sum_gx.reshape(w_shape)) if need_w else None
    grad_bias = Tensor._make(sum_g.reshape(b_shape)) if need_b else None
    return (None if dx is None else Tensor._make(dx)), grad_weight, grad_bias, None, None, \
        None, None


def _per_channel_grads(grad, xhat, invstd, wb, count, stat_shape, need_x):
    """Batch norm's rule with the two channel sums shared by all three gradients:
    dx = (grad - sum(grad) / M - xhat sum(grad xhat) / M) * (w invstd)."""
    sum_g = sum_to_size(grad, stat_shape)
    sum_gx = sum_to_size(grad * xhat, stat_shape)
    grad_input = None
    if need_x:
        scale = invstd if wb is None else invstd * wb
        grad_input = (grad - sum_g / count - xhat * (sum_gx / count)) * scale
    return grad_input, sum_gx, sum_g


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel over the batch (and length): y = (x - mean) / sqrt(var + eps) * w + b.

    In training the batch statistics are used and, when given, ``running_mean`` and
    ``running_var`` are updated in place: r = (1 - momentum) r + momentum * stat, the variance
    unbiased (divided by M - 1). Otherwise the running statistics are used.

    Args:
        input: (N, C) or (N, C, L) (or more trailing dims).
        running_mean, running_var: (C) or None.
        weight, bias: (C) or None.

    Returns:
        same shape as input.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected 2D or more input (N, C, ...), got {input.ndim}D")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise ValueError(f"batch_norm: input of shape {tuple(input.shape)} has {c} channels "
                             f"(dim 1) but {name} has {t.numel()}; num_features of the BatchNorm "
                             "layer must equal the input's channels")
    param_shape = (1, c) + (1,) * (input.ndim - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not "
                             "training")
        return _affine(input, running_mean, running_var, weight, bias, param_shape, eps)
    count = input.numel() // c
    if count <= 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size "
            f"{tuple(input.shape)}"
        )
    stats = []
    y = _Normalize.apply(input, weight, bias, param_shape, param_shape, eps, stats)
    if running_mean is not None and running_var is not None:
        mean, var = stats
        with no_grad():
            running_mean.mul_(1 - momentum).add_(mean.reshape(c) * momentum)
            running_var.mul_(1 - momentum).add_(var.reshape(c) * (momentum * count / (count - 1)))
    return y


def _affine(input, running_mean, running_var, weight, bias, param_shape, eps) -> Tensor:
    """Evaluation mode: a fixed per-channel affine map (derived from elementwise ops)."""
    invstd = Tensor._make(1.0 / array_module(running_var._data).sqrt(running_var._data + eps))
    scale = reshape(invstd, param_shape)
    if weight is not None:
        scale = scale * reshape(weight, param_shape)
    y = (input - reshape(running_mean.detach(), param_shape)) * scale.to(input.dtype)
    return y if bias is None else y + reshape(bias, param_shape)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims: (x - mean) / sqrt(var + eps) * w + b.

    Args:
        input: (*, *normalized_shape).
        normalized_shape: the trailing shape to normalize over.
        weight, bias: ``normalized_shape`` or None.

    Returns:
        same shape as input.
    """
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise RuntimeError(
            f"layer_norm: expected input with shape [*, {', '.join(map(str, normalized_shape))}]"
            f", but got input of size {tuple(input.shape)}"
        )
    stat_shape = tuple(input.shape[:input.ndim - k]) + (1,) * k
    param_shape = (1,) * (input.ndim - k) + normalized_shape
    return _Normalize.apply(input, weight, bias, stat_shape, param_shape, eps, None)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize each group of C / num_groups channels of each sample, then scale and shift
    per channel (derived: the normalization op on a (N, G, -1) view, then an affine map).

    Args:
        input: (N, C, *).
        num_groups: G, dividing C.
        weight, bias: (C) or None.

    Returns:
        same shape as input.
    """
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise ValueError(f"group_norm: num_channels ({c}) must be divisible by num_groups "
                         f"({num_groups})")
    grouped = reshape(input, (n, num_groups, -1))
    y = reshape(_Normalize.apply(grouped, None, None, (n, num_groups, 1), (1, 1, 1), eps, None),
                input.shape)
    param_shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * reshape(weight, param_shape)
    if bias is not None:
        y = y + reshape(bias, param_shape)
    return y
