"""More normalization layers: InstanceNorm1d/2d/3d, RMSNorm and LocalResponseNorm."""

from nabla.nn import functional as F
from nabla.nn.modules.module import Module
from nabla.nn.modules.normalization import _BatchNorm, _TrailingDimsNorm
from nabla.tensor import Tensor

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "RMSNorm",
           "LocalResponseNorm"]


class _InstanceNorm(_BatchNorm):
    """Shared by InstanceNorm1d/2d/3d: the parameters and buffers of batch norm (PyTorch's
    defaults differ: affine=False, track_running_stats=False; num_batches_tracked stays at 0),
    statistics per sample and channel."""

    _no_batch_dim: int = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        name, nb = type(self).__name__, self._no_batch_dim
        if input.ndim not in (nb, nb + 1):
            raise ValueError(f"{name}: expected {nb}D or {nb + 1}D input (got {input.ndim}D "
                             "input)")
        channels = input.shape[input.ndim - nb]
        if self.affine and channels != self.num_features:
            raise ValueError(f"{name}: expected input's size at dim={input.ndim - nb} to match "
                             f"num_features ({self.num_features}), but got: {channels}.")
        batched = input.ndim == nb + 1
        x = input if batched else input.unsqueeze(0)
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y if batched else y.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization over (N, C, L) or (C, L): statistics per sample and channel.

    With ``track_running_stats`` the running averages are updated in training and used in eval
    mode; otherwise the input's statistics are used in both.
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization over (N, C, H, W) or (C, H, W)."""

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization over (N, C, D, H, W) or (C, D, H, W)."""

    _no_batch_dim = 4


class RMSNorm(_TrailingDimsNorm):
    """Root-mean-square normalization over the trailing ``normalized_shape`` dims, then an
    elementwise scale (weight ones of ``normalized_shape``); ``eps=None`` uses the dtype's
    machine epsilon.

    Shape: input (*, *normalized_shape) -> same.
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None) -> None:
        super().__init__(normalized_shape, eps, elementwise_affine, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)


class LocalResponseNorm(Module):
    """Normalize each element by the squares of its ``size`` neighbouring channels:
    y = x / (k + alpha / size * sum x^2) ^ beta.

    Shape: input (N, C, *) -> same.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
