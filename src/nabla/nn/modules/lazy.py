"""Lazy modules: layers whose input size (``in_features``, ``in_channels``, ``num_features``) is
inferred from their first input, as PyTorch's ``torch.nn.modules.lazy``.

A lazy layer starts with ``UninitializedParameter`` / ``UninitializedBuffer`` placeholders (they
are in ``parameters()`` and ``state_dict()``, so an optimizer can be built at once). Its first
call (a forward pre-hook) infers the size, materializes each placeholder in place (the same
objects, so that optimizer then sees the real tensors), draws the initial values exactly as
the eager layer would (same order of draws: ``LazyLinear(5)`` after ``manual_seed(s)`` and a
call on (N, 3) input equals ``Linear(3, 5)`` after ``manual_seed(s)``), and then turns the
module into its eager class (``cls_to_become``): a LazyLinear becomes a Linear.

Loading a state_dict into a lazy layer materializes the placeholders with the saved shapes.
Where PyTorch then leaves a conv's ``in_channels`` (or a batch norm's ``num_features``) at 0 for
good, nabla sets it at the first call from the input, which must agree with the loaded shapes.
"""

from nabla.autograd.grad_mode import no_grad
from nabla.creation import tensor
from nabla.dtype import int64
from nabla.nn.modules.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
)
from nabla.nn.modules.linear import Linear
from nabla.nn.modules.module_state import _as_array
from nabla.nn.modules.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from nabla.nn.modules.normalization_more import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from nabla.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from nabla.tensor import Tensor

__all__ = ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class LazyModuleMixin:
    """Mixed in before a Module class: shapes inferred by ``initialize_parameters`` at the first
    call, after which the module becomes a ``cls_to_become`` (when set).

    Subclasses implement ``initialize_parameters(*inputs)``; ``has_uninitialized_params()``
    tells whether any placeholder is left.
    """

    cls_to_become: type | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer of this module (not its children) is uninitialized."""
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(t) for t in tensors)

    def initialize_parameters(self, *args, **kwargs) -> None:
        """Infer the shapes from the first input and materialize the parameters."""
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {type(self).__name__}")

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        # placeholders take the saved shapes first, then the values are copied as usual
        tensors = list(self._parameters.items()) + list(self._buffers.items())
        for name, t in tensors:
            key = prefix + name
            if is_lazy(t) and key in state_dict and not is_lazy(state_dict[key]):
                with no_grad():
                    t.materialize(tuple(_as_array(state_dict[key]).shape))
        super()._load_from_state_dict(state_dict, prefix, *args)

    def _materialize(self, shapes: dict, **inferred) -> None:
        """Set the ``inferred`` attributes, materialize the placeholders named in ``shapes``
        and draw their initial values; tensors a state_dict has materialized already must
        have the shapes the input implies."""
        name = type(self).__name__
        tensors = {**self._parameters, **self._buffers}
        present = {k: tensors[k] for k in shapes if tensors.get(k) is not None}
        lazy = [k for k, t in present.items() if is_lazy(t)]
        if lazy and len(lazy) < len(present):  # a reset would overwrite the loaded ones
            loaded = [k for k in present if k not in lazy]
            raise RuntimeError(f"{name}: {loaded} were loaded from a state_dict but {lazy} were "
                               "not; load a complete state_dict (strict=True) or none")
        for k, t in present.items():
            if not is_lazy(t) and tuple(t.shape) != tuple(shapes[k]):
                raise RuntimeError(f"{name}: the input implies {k} of shape {tuple(shapes[k])}, "
                                   f"but {k} has shape {tuple(t.shape)} (from the state_dict "
                                   "loaded into it); pass input of the matching size")
        for attr, value in inferred.items():
            setattr(self, attr, value)
        if lazy:
            with no_grad():
                for k in lazy:
                    present[k].materialize(shapes[k])
                self.reset_parameters()


def _infer_parameters(module: LazyModuleMixin, args: tuple) -> None:
    """The forward pre-hook of a lazy module: runs once, at its first call."""
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


def _check_input(name: str, input, ndims: tuple | None, error=RuntimeError) -> None:
    """The first input must be a tensor whose rank is one of ``ndims`` (None: at least 1-D):
    its size is read."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor as input, got {type(input).__name__}")
    if input.ndim not in (ndims or range(1, input.ndim + 1)):
        dims = " or ".join(f"{d}D" for d in ndims) if ndims else "at least 1D"
        raise error(f"{name}: expected {dims} input (to infer its size from), but got input of "
                    f"size {tuple(input.shape)}")


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose ``in_features`` is the last dim of its first input.

    Args:
        out_features: size of each output sample.
        bias: learn an additive bias (default True).

    Shape: (*, in_features) -> (*, out_features); becomes a Linear after the first call.
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, 0, False, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        _check_input("LazyLinear", input, None)
        n = input.shape[-1]
        self._materialize({"weight": (self.out_features, n), "bias": (self.out_features,)},
                          in_features=n)


class _LazyConvMixin(LazyModuleMixin):
    """in_channels from the input's channel dim (dim 1, or 0 if unbatched)."""

    def _make_lazy(self, out_channels: int, bias: bool, device, dtype) -> None:
        if out_channels % self.groups:
            raise ValueError(f"{type(self).__name__}: out_channels ({out_channels}) must be "
                             f"divisible by groups ({self.groups})")
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        name, n = type(self).__name__, self._n
        _check_input(name, input, (n + 1, n + 2))
        c = input.shape[1] if input.ndim == n + 2 else input.shape[0]
        if c % self.groups:
            raise ValueError(f"{name}: in_channels must be divisible by groups, but the input "
                             f"has {c} channels and groups={self.groups}")
        g, out = self.groups, self.out_channels
        shape = (c, out // g) if self.transposed else (out, c // g)
        self._materialize({"weight": shape + tuple(self.kernel_size), "bias": (out,)},
                          in_channels=c)


class _LazyConvNd(_LazyConvMixin):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device=device, dtype=dtype)
        self._make_lazy(out_channels, bias, device, dtype)


class _LazyConvTransposeNd(_LazyConvMixin):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)


class LazyConv1d(_LazyConvNd, Conv1d):
    """A Conv1d whose ``in_channels`` comes from its first input (N, C_in, L)."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    """A Conv2d whose ``in_channels`` comes from its first input (N, C_in, H, W)."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvNd, Conv3d):
    """A Conv3d whose ``in_channels`` comes from its first input (N, C_in, D, H, W)."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """A ConvTranspose1d whose ``in_channels`` comes from its first input (N, C_in, L)."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """A ConvTranspose2d whose ``in_channels`` comes from its first input (N, C_in, H, W)."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """A ConvTranspose3d whose ``in_channels`` comes from its first input (N, C_in, D, H, W)."""

    cls_to_become = ConvTranspose3d


class _LazyNormBase(LazyModuleMixin):
    """num_features from the input's channel dim. PyTorch's defaults, the same for the lazy
    batch and instance norms: affine=True, track_running_stats=True."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=int64)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _channel_dim(self, input) -> int:
        _check_input(type(self).__name__, input, self._dims, ValueError)
        return 1

    def initialize_parameters(self, input) -> None:
        c = input.shape[self._channel_dim(input)]
        self._materialize({k: (c,) for k in ("weight", "bias", "running_mean", "running_var")},
                          num_features=c)


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """A BatchNorm1d whose ``num_features`` is C of its first input (N, C) or (N, C, L)."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """A BatchNorm2d whose ``num_features`` is C of its first input (N, C, H, W)."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """A BatchNorm3d whose ``num_features`` is C of its first input (N, C, D, H, W)."""

    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyNormBase):
    def _channel_dim(self, input) -> int:
        # unbatched input has its channels first (PyTorch reads dim 1 there, the length)
        nb = self._no_batch_dim
        _check_input(type(self).__name__, input, (nb, nb + 1), ValueError)
        return input.ndim - nb


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """An InstanceNorm1d whose ``num_features`` is C of its first input (N, C, L) or (C, L)."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """An InstanceNorm2d whose ``num_features`` is C of its first input (N, C, H, W) or
    (C, H, W)."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """An InstanceNorm3d whose ``num_features`` is C of its first input (N, C, D, H, W) or
    (C, D, H, W)."""

    cls_to_become = InstanceNorm3d
