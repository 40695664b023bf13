"""Copies and dtype casts: clone, to_dtype (behind ``Tensor.to`` / ``.float()`` / ``.double()``)
and as_tensor_like (a Python number or array as a tensor beside another, for the reflected
operators such as ``2 / x``). Each node's forward (on arrays) and its gradient rule sit together."""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.memory_layout import copy_in_format
from nabla.tensor import Tensor

__all__ = ["clone", "to_dtype", "as_tensor_like"]


class Clone(Op):
    """y = a copy of x (laid out as ``memory_format``; None: row-major);  dy/dx = grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, memory_format):
        return x.copy() if memory_format is None else copy_in_format(x, memory_format, "clone")

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class ToDtype(Op):
    """y = x cast to another dtype;  dy/dx = grad cast back to x's dtype."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return to_dtype(grad, ctx.in_dtype), None


def clone(input, *, memory_format=None) -> Tensor:
    """A copy of ``input`` in the graph. nabla copies row-major unless ``memory_format`` says
    otherwise (PyTorch's default, preserve_format, keeps a dense input's strides: pass
    ``nabla.preserve_format`` for that)."""
    return Clone.apply(input, memory_format)


def to_dtype(input, dtype) -> Tensor:
    """Cast to ``dtype``; the gradient is cast back."""
    if not isinstance(input, Tensor):
        return input.astype(dtype)
    if dtype == input.dtype:
        return input
    if input.requires_grad and dtype.kind not in "fc":
        return Tensor._make(input._data.astype(dtype))  # integer results carry no gradient
    return ToDtype.apply(input, dtype)


def as_tensor_like(value, like: Tensor) -> Tensor:
    """``value`` as a tensor with the dtype and array module of ``like``."""
    if isinstance(value, Tensor):
        return value
    return Tensor._make(array_module(like._data).asarray(value, dtype=like.dtype))
