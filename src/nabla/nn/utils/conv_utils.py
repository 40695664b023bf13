"""Sizes and window geometry of convolutions and pooling (pure Python, no arrays)."""

import math
from typing import NamedTuple

__all__ = ["conv_output_size"]


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    """Output length of a convolution or pooling window slid along one dimension.

    O = floor((H + 2P - D(K - 1) - 1) / S) + 1: the dilated kernel spans D(K - 1) + 1 inputs,
    and it fits (H + 2P - span) / S more times after the first position.

    Args:
        size: input length H.
        kernel: kernel length K.
        stride: step S between windows.
        padding: P elements added on each side.
        dilation: spacing D between kernel taps.

    Returns:
        The output length O (0 or negative when the kernel does not fit).
    """
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def ntuple(value, n: int, name: str = "argument") -> tuple:
    """``value`` as an n-tuple of ints (an int is repeated), as PyTorch's _pair / _single."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value}")
    return value


class Geom(NamedTuple):
    """A sliding window over a padded input, in 2-D or 3-D: input (H, W) (or (D, H, W)) padded
    by (before, after) per dimension, (top, bottom, left, right) in 2-D, kernel (kh, kw) with
    dilation, stride, and the resulting output size (Ho, Wo)."""

    kernel: tuple
    stride: tuple
    pad: tuple  # (before, after) per spatial dimension: (top, bottom, left, right) in 2-D
    dilation: tuple
    groups: int
    in_hw: tuple
    out_hw: tuple

    @property
    def padded_hw(self) -> tuple:
        return tuple(n + a + b for n, a, b in zip(self.in_hw, self.pad[0::2], self.pad[1::2]))

    @property
    def overlapping(self) -> bool:
        """Whether two windows can share an input element (their scatter must add)."""
        return any(d * (k - 1) + 1 > s for k, s, d in zip(self.kernel, self.stride, self.dilation))


def make_geom(op: str, in_hw, kernel, stride, pad, dilation, groups: int = 1) -> Geom:
    """The window geometry with output size O = (H + P_before + P_after - D(K-1) - 1) // S + 1;
    raises when the output would be empty."""
    out = tuple(
        (n + a + b - d * (k - 1) - 1) // s + 1
        for n, a, b, k, s, d in zip(in_hw, pad[0::2], pad[1::2], kernel, stride, dilation)
    )
    if any(o <= 0 for o in out) or any(s <= 0 for s in stride) or any(d <= 0 for d in dilation):
        raise RuntimeError(
            f"{op}: input size {tuple(in_hw)} padded by {tuple(pad)} is too small for kernel "
            f"{tuple(kernel)} with dilation {tuple(dilation)} and stride {tuple(stride)} "
            f"(calculated output size {out}); stride and dilation must be positive"
        )
    return Geom(tuple(kernel), tuple(stride), tuple(pad), tuple(dilation), groups,
                tuple(in_hw), out)


def same_padding(kernel, dilation) -> tuple:
    """(before, after) per dimension for padding='same' ((top, bottom, left, right) in 2-D):
    total D(K-1), the extra one after."""
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                     ceil_mode: bool) -> int:
    """Pooling output length; with ceil_mode the last window may hang over the end but must
    start inside the input or the left padding (PyTorch's rule)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out
