"""Fractional max pooling layers, PyTorch's ``FractionalMaxPool2d`` / ``FractionalMaxPool3d``:
the window size, the output size or ratio, and optional fixed ``_random_samples`` (a buffer,
in the state_dict when given, as in PyTorch)."""

from nabla.nn.functional import fractional_pooling as F
from nabla.nn.modules.module import Module
from nabla.nn.utils.conv_utils import ntuple
from nabla.tensor import Tensor

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d"]


class _FractionalMaxPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None) -> None:
        super().__init__()
        name, dims = type(self).__name__, self._dims
        kernel = ntuple(kernel_size, dims, "kernel_size")
        if min(kernel) <= 0:
            raise ValueError(f"{name}: kernel_size must be greater than 0, but got "
                             f"{kernel_size}")
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError(f"{name}: only one of output_size and output_ratio may be "
                             "specified")
        self.kernel_size = kernel
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = None if output_size is None else ntuple(output_size, dims,
                                                                    "output_size")
        self.output_ratio = None
        if output_ratio is not None:
            ratio = (output_ratio,) * dims if isinstance(output_ratio, (int, float)) else \
                tuple(output_ratio)
            if len(ratio) == 1:
                ratio = ratio * dims
            if len(ratio) != dims or not all(0 < r < 1 for r in ratio):
                raise ValueError(f"{name}: output_ratio must be between 0 and 1 (got "
                                 f"{output_ratio})")
            self.output_ratio = ratio


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max over kH x kW windows at pseudo-random fractional steps, to (Ho, Wo) = output_size
    or (int(H * rH), int(W * rW)): (N, C, H, W) -> (N, C, Ho, Wo); see
    ``nn.functional.fractional_max_pool2d``."""

    _dims = 2

    def forward(self, input: Tensor):
        return F.fractional_max_pool2d(input, self.kernel_size, self.output_size,
                                       self.output_ratio, self.return_indices,
                                       _random_samples=self._random_samples)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Max over kT x kH x kW windows at pseudo-random fractional steps:
    (N, C, T, H, W) -> (N, C, To, Ho, Wo); see ``nn.functional.fractional_max_pool3d``."""

    _dims = 3

    def forward(self, input: Tensor):
        return F.fractional_max_pool3d(input, self.kernel_size, self.output_size,
                                       self.output_ratio, self.return_indices,
                                       _random_samples=self._random_samples)
