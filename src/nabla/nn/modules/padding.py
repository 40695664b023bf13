"""Padding layers: Zero/Constant/Reflection/Replication/CircularPad1d/2d/3d over ``F.pad``.

The padding argument takes PyTorch's forms: an int pads every side of the last 1, 2 or 3 dims
by the same amount; a tuple gives (left, right[, top, bottom[, front, back]]).
"""

from nabla.nn.modules.module import Module
from nabla.ops.join import pad
from nabla.tensor import Tensor

__all__ = [
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d",
]


class _PadNd(Module):
    """Shared by the padding layers: ``_dims`` padded trailing dims in ``_mode``."""

    _dims: int = 1
    _mode: str = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        n = 2 * self._dims
        if isinstance(padding, int):
            padding = (padding,) * n
        padding = tuple(int(p) for p in padding)
        if len(padding) != n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"{n} ints, got {padding}")
        self.padding = padding

    def forward(self, input: Tensor) -> Tensor:
        if self._mode != "constant" and input.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self._dims + 1}D or "
                             f"{self._dims + 2}D input (got {input.ndim}D input)")
        if input.ndim < self._dims:
            raise ValueError(f"{type(self).__name__}: expected at least {self._dims}D input "
                             f"(got {input.ndim}D input)")
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pads with a constant ``value``."""

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < self._dims:
            raise ValueError(f"{type(self).__name__}: expected at least {self._dims}D input "
                             f"(got {input.ndim}D input)")
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``: (*, W) -> (*, W + left + right)."""

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``: (*, H, W) -> (*, H + top + bottom, W + left + right).
    """

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with ``value``: (*, D, H, W) -> each grown by its two amounts."""

    _dims = 3


class _ZeroPadNd(_ConstantPadNd):
    """Pads with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros: (*, W) -> (*, W + left + right)."""

    _dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dims with zeros: (*, H, W) -> (*, H + top + bottom, W + left + right)."""

    _dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dims with zeros: (*, D, H, W) -> each grown by its two amounts."""

    _dims = 3


class ReflectionPad1d(_PadNd):
    """Pad the last dim by reflection at the edges (edge not repeated): (C, W) or (N, C, W)."""

    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last two dims by reflection: (C, H, W) or (N, C, H, W)."""

    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad the last three dims by reflection: (C, D, H, W) or (N, C, D, H, W)."""

    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating the edge value: (C, W) or (N, C, W)."""

    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last two dims by repeating the edge values: (C, H, W) or (N, C, H, W)."""

    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad the last three dims by repeating the edge values: (C, D, H, W) or (N, C, D, H, W)."""

    _dims, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pad the last dim by wrapping around: (C, W) or (N, C, W)."""

    _dims, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pad the last two dims by wrapping around: (C, H, W) or (N, C, H, W)."""

    _dims, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Pad the last three dims by wrapping around: (C, D, H, W) or (N, C, D, H, W)."""

    _dims, _mode = 3, "circular"
