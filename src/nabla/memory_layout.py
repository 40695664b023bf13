"""Memory formats, and the placement keywords of PyTorch's factory functions.

Ported code passes ``device``, ``layout``, ``pin_memory`` and ``memory_format`` to the factory
functions (``torch.zeros_like(x, device=x.device)``, ``x.new_zeros(n, device=...)``,
``torch.zeros_like(p, memory_format=torch.preserve_format)``). nabla runs on the CPU with dense
strided arrays, so ``device`` must name the CPU, ``layout`` be ``nabla.strided`` and
``pin_memory`` False (pinned memory speeds up copies to a GPU); anything else is a clear error.

A memory format is the order of a tensor's elements in memory, honoured as NumPy strides:

- ``contiguous_format``: row-major (C order), the layout of new tensors;
- ``channels_last`` (4-D) / ``channels_last_3d`` (5-D): the channels vary fastest, NHWC /
  NDHWC in memory while the shape stays (N, C, H, W) / (N, C, D, H, W);
- ``preserve_format``: the layout of the tensor copied (``*_like``, ``clone``, ``to``).
"""

from nabla.backend import array_module
from nabla.tensor_queries import strided

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d",
           "preserve_format"]


class memory_format:
    """A memory format, as ``torch.memory_format`` (see the module's docstring)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"nabla.{self.name}"


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

# channels-last formats: (rank, the axes in memory order)
_CHANNELS_LAST = {channels_last: (4, (0, 2, 3, 1)), channels_last_3d: (5, (0, 2, 3, 4, 1))}


def check_placement(name: str, device=None, layout=None, pin_memory: bool = False) -> None:
    """``device``, ``layout`` and ``pin_memory`` of a factory call: the CPU, dense, unpinned."""
    if device is not None and str(device).partition(":")[0] != "cpu":
        raise RuntimeError(f"{name}: device {str(device)!r} is not available; nabla runs on "
                           "'cpu'")
    if layout is not None and layout is not strided:
        raise RuntimeError(f"{name}: layout {layout!r} is not supported; nabla's tensors are "
                           "dense (nabla.strided)")
    if pin_memory:
        raise RuntimeError(f"{name}: pin_memory=True pins memory for copies to a GPU, and nabla "
                           "runs on the CPU; pass pin_memory=False")


def empty_in_format(xp, shape: tuple, dtype, fmt, name: str, like=None):
    """An uninitialised array of ``shape`` laid out as ``fmt`` (None: row-major;
    ``preserve_format``: in the order of the array ``like``'s strides, row-major without one or
    when ``like`` repeats elements through a 0 stride (an expanded tensor), as PyTorch)."""
    if fmt is preserve_format and like is not None and not _repeats(like):
        return xp.empty_like(like, dtype=dtype, order="K")
    if fmt is None or fmt is contiguous_format or fmt is preserve_format:
        return xp.empty(shape, dtype)
    rank, axes = _channels_last(fmt, len(shape), name)
    inverse = sorted(range(rank), key=axes.__getitem__)
    return xp.empty([shape[a] for a in axes], dtype).transpose(inverse)


def _repeats(array) -> bool:
    """Whether some dimension longer than 1 has stride 0 (broadcast / expanded)."""
    return any(s == 0 and n > 1 for s, n in zip(array.strides, array.shape))


def copy_in_format(array, fmt, name: str):
    """A copy of ``array`` laid out as ``fmt``."""
    out = empty_in_format(array_module(array), array.shape, array.dtype, fmt, name, like=array)
    out[...] = array
    return out


def is_in_format(array, fmt, name: str = "is_contiguous") -> bool:
    """Whether ``array``'s elements lie in memory in the order of ``fmt``, without gaps."""
    if fmt is contiguous_format:
        return array.flags.c_contiguous
    if fmt is preserve_format:
        raise RuntimeError(f"{name}: preserve_format is not a layout to check against; use "
                           "contiguous_format, channels_last or channels_last_3d")
    rank, axes = _channels_last(fmt, rank=None, name=name)
    return array.ndim == rank and array.transpose(axes).flags.c_contiguous


def _channels_last(fmt, rank, name: str) -> tuple:
    if fmt not in _CHANNELS_LAST:
        raise TypeError(f"{name}: memory_format must be nabla.contiguous_format, "
                        f"channels_last, channels_last_3d or preserve_format, got {fmt!r}")
    want, axes = _CHANNELS_LAST[fmt]
    if rank is not None and rank != want:
        raise RuntimeError(f"{name}: {fmt.name} needs a {want}-D tensor, got {rank}-D")
    return want, axes

