"""The log-sum-exp family: logsumexp, softmax, log_softmax, each computed after subtracting the
maximum (no overflow for large inputs), each one fused node with its own rule."""

from nabla import dtype as _dt
from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.casts import to_dtype
from nabla.ops.elementwise import exp
from nabla.ops.reduce import _dims, _keep, _kept_shape, _one_dim, _out_shape, _quiet
from nabla.ops.reduce import sum as _sum
from nabla.tensor import Tensor

__all__ = ["logsumexp", "softmax", "log_softmax"]


class Logsumexp(Op):
    """y = m + log(sum(exp(x - m))) over dims with m = max x (no overflow);
    dy/dx = grad * exp(x - y)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = array_module(x)
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        if x.size:
            m = xp.asarray(x.max(axis=dims, keepdims=True))  # (an array also for 0-d x)
            m[xp.isinf(m)] = 0  # rows of -inf (or holding +inf): avoid inf - inf = nan
        else:
            m = xp.zeros(_kept_shape(x.shape, dims), x.dtype)
        with _quiet(xp, divide="ignore"):  # log(0) = -inf for all -inf rows, as PyTorch
            y = xp.log(xp.exp(x - m).sum(axis=dims, keepdims=True)) + m
        if not keepdim:
            y = y.reshape(_out_shape(x.shape, dims, False))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        y = _keep(y, ctx.in_shape, ctx.dims, ctx.keepdim)
        return _keep(grad, ctx.in_shape, ctx.dims, ctx.keepdim) * exp(x - y), None, None


class Softmax(Op):
    """y = exp(x - max x) / sum(exp(x - max x)) along dim;  dy/dx = y * (grad - sum(grad * y))."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        xp = array_module(x)
        ctx.dim = dim
        if x.size == 0:
            e = x.copy()
            ctx.save_for_backward(e)
            return e
        e = xp.asarray(x - x.max(axis=dim, keepdims=True))  # (an array also for 0-d x)
        xp.exp(e, out=e)
        e /= e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(e)
        return e

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - _sum(grad * y, ctx.dim, True)), None


class LogSoftmax(Op):
    """y = x - max x - log(sum(exp(x - max x))) along dim;
    dy/dx = grad - exp(y) * sum(grad)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        xp = array_module(x)
        ctx.dim = dim
        if x.size == 0:
            s = x.copy()
            ctx.save_for_backward(s)
            return s
        s = xp.asarray(x - x.max(axis=dim, keepdims=True))
        s -= xp.log(xp.exp(s).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - exp(y) * _sum(grad, ctx.dim, True), None


def _float_input(name: str, input: Tensor, dtype=None) -> Tensor:
    """``input`` cast to ``dtype``, or integers to the default float (PyTorch's promotion)."""
    dtype = _dt.to_dtype(dtype)
    if dtype is None and input.dtype.kind not in "fc":
        dtype = _dt.get_default_dtype()
    return input if dtype is None else to_dtype(input, dtype)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over ``dim``, computed without overflow.

    Args:
        input: tensor of any shape (integers are promoted to the default float dtype).
        dim: int or tuple of ints.
        keepdim: keep the reduced dimensions with size 1.

    Returns:
        The input's shape without (or with size 1 at, if keepdim) the reduced dimensions.
    """
    input = _float_input("logsumexp", input)
    return Logsumexp.apply(input, _dims(dim, input.ndim, "logsumexp"), keepdim)


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim``, computed stably.

    Args:
        input: tensor of any shape.
        dim: the dimension that sums to 1.
        dtype: cast the input to this dtype first.

    Returns:
        Same shape as the input.
    """
    input = _float_input("softmax", input, dtype)
    return Softmax.apply(input, _one_dim("softmax", dim, input.ndim))


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """x_i - log(sum_j exp(x_j)) along ``dim``, computed stably; shapes as ``softmax``."""
    input = _float_input("log_softmax", input, dtype)
    return LogSoftmax.apply(input, _one_dim("log_softmax", dim, input.ndim))
