"""The shape and indexing methods of Tensor (``x.reshape(2, 3)``, ``x.permute(1, 0)``,
``x.gather(1, i)``), split from ``tensor_methods.py``. Each one is the function of the same name in
``nabla.ops``; look there for the op and its gradient rule."""

import numbers

import nabla  # resolved at call time, as in tensor_methods.py
from nabla.backend import array_module
from nabla.dtype import to_dtype


def _shape_args(shape):
    """Accept both ``x.reshape(2, 3)`` and ``x.reshape((2, 3))``."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _viewed(tensor, shape: tuple, where: str):
    """``tensor`` reshaped to ``shape`` as a view of its memory; refused, as in PyTorch, where
    the strides do not allow it (reshape would have to copy, and writes would not reach it)."""
    out = nabla.ops.reshape(tensor, shape)
    data = out._data
    if data.size and data is not tensor._data and \
            not array_module(data).may_share_memory(data, tensor._data):
        raise RuntimeError(f"{where}: size {tuple(data.shape)} is not compatible with the "
                           f"tensor's shape {tuple(tensor.shape)} and strides (a dimension to "
                           "merge spans memory that is not adjacent); use .reshape(...) instead, "
                           "or .contiguous() first")
    return out


def _view_dtype(tensor, dtype):
    """The tensor's memory reinterpreted as ``dtype`` (PyTorch's rules for a different size)."""
    data, new = tensor._data, to_dtype(dtype)
    old = data.dtype
    if new.itemsize != old.itemsize:
        what = f"to view {old} as {new} (different element sizes)"
        if data.ndim == 0:
            raise RuntimeError(f"view: self.dim() cannot be 0 {what}")
        if data.strides[-1] != old.itemsize and data.shape[-1] != 1:
            raise RuntimeError(f"view: self.stride(-1) must be 1 {what}, but got "
                               f"{data.strides[-1] // old.itemsize}")
        if (data.shape[-1] * old.itemsize) % new.itemsize:
            raise RuntimeError(f"view: self.size(-1) must be divisible by "
                               f"{new.itemsize // old.itemsize} {what}, but got {data.shape[-1]}")
    return nabla.Tensor._make(data.view(new), version=tensor._version)


class ShapeTensorMethods:
    __slots__ = ()

    # shape
    def reshape(self, *shape):
        return nabla.ops.reshape(self, _shape_args(shape))

    def view(self, *shape):
        """A view of another shape (``x.view(2, -1)``), or of another dtype (``x.view(
        nabla.int32)``): the same bits read as that dtype, not differentiable; a dtype of
        another size scales the last dim, which must be contiguous."""
        if len(shape) == 1 and not isinstance(shape[0], (numbers.Integral, tuple, list)):
            return _view_dtype(self, shape[0])
        return _viewed(self, _shape_args(shape), "view")

    def view_as(self, other):
        return _viewed(self, tuple(other.shape), "view_as")

    def reshape_as(self, other):
        return nabla.ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return nabla.ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return nabla.ops.unflatten(self, dim, sizes)

    def permute(self, *dims):
        return nabla.ops.permute(self, _shape_args(dims))

    def transpose(self, dim0, dim1):
        return nabla.ops.transpose(self, dim0, dim1)

    def t(self):
        return nabla.ops.transpose(self, 0, 1) if self.ndim == 2 else self

    def squeeze(self, dim=None):
        return nabla.ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return nabla.ops.unsqueeze(self, dim)

    def expand(self, *sizes):
        return nabla.ops.expand(self, _shape_args(sizes))

    def expand_as(self, other):
        return nabla.ops.expand(self, other.shape)

    def broadcast_to(self, shape):
        return nabla.ops.broadcast_to(self, shape)

    def sum_to_size(self, *size):
        return nabla.ops.sum_to_size(self, _shape_args(size))

    def repeat(self, *sizes):
        return nabla.ops.repeat(self, _shape_args(sizes))

    def split(self, split_size_or_sections, dim=0):
        return nabla.ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return nabla.ops.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return nabla.ops.unbind(self, dim)

    def tril(self, diagonal=0):
        return nabla.ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return nabla.ops.triu(self, diagonal)

    def swapaxes(self, axis0, axis1):
        return nabla.ops.transpose(self, axis0, axis1)

    swapdims = swapaxes

    def movedim(self, source, destination):
        return nabla.ops.movedim(self, source, destination)

    moveaxis = movedim

    def narrow(self, dim, start, length):
        return nabla.ops.narrow(self, dim, start, length)

    def flip(self, *dims):
        return nabla.ops.flip(self, _shape_args(dims))

    def roll(self, shifts, dims=None):
        return nabla.ops.roll(self, shifts, dims)

    # indexing
    def gather(self, dim, index):
        return nabla.ops.gather(self, dim, index)

    def scatter_add(self, dim, index, src):
        return nabla.ops.scatter_add(self, dim, index, src)

    def scatter(self, dim, index, src=None, *, value=None):
        return nabla.ops.scatter(self, dim, index, src, value=value)

    def index_select(self, dim, index):
        return nabla.ops.index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        return nabla.ops.index_add(self, dim, index, source, alpha=alpha)

    def masked_select(self, mask):
        return nabla.ops.masked_select(self, mask)

    def take_along_dim(self, indices, dim=None):
        return nabla.ops.take_along_dim(self, indices, dim)
