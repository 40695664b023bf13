"""Convolution layers: Conv1d/2d/3d, ConvTranspose1d/2d/3d (PyTorch's parameter names, shapes and
default init), and Unfold / Fold (im2col / col2im)."""

import math

from nabla.creation import empty
from nabla.nn import init
from nabla.nn.functional.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from nabla.nn.functional.conv_volumes import conv3d, conv_transpose3d
from nabla.nn.functional.folding import fold, unfold
from nabla.nn.modules.module import Module
from nabla.nn.parameter import Parameter
from nabla.nn.utils.conv_utils import ntuple, same_padding
from nabla.ops.join import pad as _pad
from nabla.tensor import Tensor

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "Unfold", "Fold"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared by the convolution layers: weight (out, in/groups, *k) or, transposed,
    (in, out/groups, *k); bias (out). Both drawn as in PyTorch: kaiming_uniform_(a=sqrt(5))
    for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias."""

    _n = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 output_padding=0, device=None, dtype=None) -> None:
        super().__init__()
        n = self._n
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in ntuple(stride, n)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = ntuple(kernel_size, n, "kernel_size")
        self.stride = ntuple(stride, n, "stride")
        self.padding = padding if isinstance(padding, str) else ntuple(padding, n, "padding")
        self.dilation = ntuple(dilation, n, "dilation")
        self.transposed = self._transposed
        self.output_padding = ntuple(output_padding, n, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) if self._transposed else \
            (out_channels, in_channels // groups)
        self.weight = Parameter(empty(*shape, *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _mode_pad(self, input: Tensor):
        """For padding_mode != 'zeros': (input padded by F.pad in that mode, padding 0)."""
        if self.padding_mode == "zeros":
            return input, self.padding
        if self.padding == "same":
            amounts = same_padding(self.kernel_size, self.dilation)
        elif self.padding == "valid":
            amounts = (0,) * (2 * self._n)
        else:
            amounts = tuple(p for p in self.padding for _ in range(2))
        # F.pad lists the last dimension first: (left_W, right_W, top_H, bottom_H, ...)
        pairs = [amounts[2 * i:2 * i + 2] for i in range(self._n)][::-1]
        return _pad(input, tuple(p for pair in pairs for p in pair), self.padding_mode), 0


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L): weight (C_out, C_in/groups, K), bias (C_out).

    Shape: (N, C_in, L) -> (N, C_out, Lo), Lo = floor((L + 2P - D(K - 1) - 1) / S) + 1.
    """

    _n = 1

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._mode_pad(input)
        return conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W): weight (C_out, C_in/groups, kH, kW), bias (C_out).

    Shape: (N, C_in, H, W) -> (N, C_out, Ho, Wo), Ho = floor((H + 2P - D(K - 1) - 1) / S) + 1.
    """

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._mode_pad(input)
        return conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W): weight (C_out, C_in/groups, kD, kH, kW), bias
    (C_out).

    Shape: (N, C_in, D, H, W) -> (N, C_out, Do, Ho, Wo),
    Do = floor((D + 2P - dil (K - 1) - 1) / S) + 1 (likewise Ho, Wo).
    """

    _n = 3

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._mode_pad(input)
        return conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f"{type(self).__name__}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """output_padding, or the one that gives ``output_size`` (as PyTorch's forward)."""
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-self._n:]
        extra = []
        for d in range(self._n):
            smallest = ((input.shape[d - self._n] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            if not smallest <= size[d] < smallest + self.stride[d]:
                raise ValueError(f"requested an output size of {size}, but valid sizes range "
                                 f"from {smallest} to {smallest + self.stride[d] - 1} in dim {d}")
            extra.append(size[d] - smallest)
        return tuple(extra)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution: weight (C_in, C_out/groups, K), bias (C_out).

    Shape: (N, C_in, L) -> (N, C_out, Lo), Lo = (L - 1) S - 2P + D(K - 1) + output_padding + 1.
    """

    _n = 1

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution: weight (C_in, C_out/groups, kH, kW), bias (C_out).

    Shape: (N, C_in, H, W) -> (N, C_out, Ho, Wo),
    Ho = (H - 1) S - 2P + D(K - 1) + output_padding + 1.
    """

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution: weight (C_in, C_out/groups, kD, kH, kW), bias (C_out).

    Shape: (N, C_in, D, H, W) -> (N, C_out, Do, Ho, Wo),
    Do = (D - 1) S - 2P + dil (K - 1) + output_padding + 1 (likewise Ho, Wo).
    """

    _n = 3

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        return conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class Unfold(Module):
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C * kH * kW, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Sum sliding local blocks into an image (col2im): (N, C * kH * kW, L) -> (N, C, H, W)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
