"""Instance, RMS and local response normalization, derived from existing differentiable ops.

instance_norm reuses the fused normalization op of batch/layer/group norm with statistics per
(N, C) and parameters per C; rms_norm and local_response_norm are compositions of elementwise
ops, reductions and ``pad``, so their gradients (and second derivatives) need no rule of their own.
"""

from nabla.autograd.grad_mode import no_grad
from nabla.backend import array_module
from nabla.nn.functional.normalization import _affine, _Normalize
from nabla.ops.elementwise import rsqrt
from nabla.ops.join import pad
from nabla.ops.shape import reshape
from nabla.tensor import Tensor

__all__ = ["instance_norm", "rms_norm", "local_response_norm"]


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample over its spatial dims:
    y = (x - mean) / sqrt(var + eps) * w + b, statistics per (N, C).

    With ``use_input_stats`` the running statistics, when given, are updated in place with the
    per-instance statistics averaged over the batch: r = (1 - momentum) r + momentum * stat,
    the variance unbiased. Otherwise the running statistics normalize the input.

    Args:
        input: (N, C, *) with at least one spatial dim.
        running_mean, running_var: (C) or None.
        weight, bias: (C) or None.

    Returns:
        same shape as input.
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected 3D or more input (N, C, *), got "
                         f"{input.ndim}D input of size {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    param_shape = (1, c) + (1,) * (input.ndim - 2)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when "
                             "use_input_stats=False")
        return _affine(input, running_mean, running_var, weight, bias, param_shape, eps)
    count = input.numel() // max(n * c, 1)
    if count <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                         f"got input size {tuple(input.shape)}")
    stat_shape = (n, c) + (1,) * (input.ndim - 2)
    stats = []
    y = _Normalize.apply(input, weight, bias, stat_shape, param_shape, eps, stats)
    if running_mean is not None and running_var is not None:
        mean, var = stats
        with no_grad():
            batch_mean = Tensor._make(mean.reshape(n, c).mean(axis=0))
            batch_var = Tensor._make(var.reshape(n, c).mean(axis=0) * (count / (count - 1)))
            running_mean.mul_(1 - momentum).add_(batch_mean.to(running_mean.dtype) * momentum)
            running_var.mul_(1 - momentum).add_(batch_var.to(running_var.dtype) * momentum)
    return y


def _as_shape(normalized_shape) -> tuple:
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """Root-mean-square normalization over the trailing dims: y = x / sqrt(mean(x^2) + eps) * w.

    Args:
        input: (*, *normalized_shape).
        normalized_shape: the trailing shape to normalize over.
        weight: ``normalized_shape`` or None.
        eps: added to the mean square; None means the machine epsilon of the input's dtype.

    Returns:
        same shape as input.
    """
    normalized_shape = _as_shape(normalized_shape)
    k = len(normalized_shape)
    if k > input.ndim or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise RuntimeError(
            f"rms_norm: expected input with shape [*, {', '.join(map(str, normalized_shape))}]"
            f", but got input of size {tuple(input.shape)}")
    if eps is None:
        eps = float(array_module(input._data).finfo(input.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    y = input * rsqrt((input * input).mean(dim=dims, keepdim=True) + eps) if dims else \
        input * rsqrt(input * input + eps)
    return y if weight is None else y * weight


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalize each element by its neighbours across channels:
    y_c = x_c / (k + alpha / size * sum_{c' in window(c)} x_{c'}^2) ^ beta, the window of
    ``size`` channels from c - size // 2 to c + (size - 1) // 2, zero-padded at the ends.

    Args:
        input: (N, C, *) with at least one dim after C.
        size: the number of channels in the window.

    Returns:
        same shape as input.
    """
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input "
                         f"(got {input.ndim} dimensions)")
    if size < 1:
        raise ValueError(f"local_response_norm: size must be positive, got {size}")
    if input.numel() == 0:
        return input
    n, c = input.shape[0], input.shape[1]
    sq = reshape(input * input, (n, c, -1))
    padded = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    window = padded[:, 0:c]
    for i in range(1, size):
        window = window + padded[:, i:i + c]
    div = (reshape(window, input.shape) * (alpha / size) + k) ** beta
    return input / div
