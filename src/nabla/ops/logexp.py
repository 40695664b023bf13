"""More logarithms and exponentials: log2, log10, exp2, logaddexp, logit, xlogy, each with its
derivative (log, exp, log1p and expm1 are in elementwise.py)."""

import math

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.dtype import get_default_dtype, result_type
from nabla.ops.arithmetic import _like_torch
from nabla.ops.elementwise import floating, log, sigmoid, where
from nabla.ops.reduce import _quiet
from nabla.tensor import Tensor

__all__ = ["log2", "log10", "exp2", "logaddexp", "logit", "xlogy"]


class Log2(Op):
    """y = log2(x);  dy/dx = grad / (x ln 2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).log2(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * math.log(2.0))


class Log10(Op):
    """y = log10(x);  dy/dx = grad / (x ln 10)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).log10(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * math.log(10.0))


class Exp2(Op):
    """y = 2^x;  dy/dx = grad * y ln 2."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        y = array_module(x).exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * math.log(2.0)


class LogAddExp(Op):
    """z = log(e^x + e^y), without overflow;  dz/dx = grad * sigmoid(x - y),
    dz/dy = grad * sigmoid(y - x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _like_torch(array_module(x).logaddexp(x, y), x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * sigmoid(x - y), grad * sigmoid(y - x)


class Logit(Op):
    """y = log(p / (1 - p)), p clamped to [eps, 1 - eps] when eps is given;
    dy/dp = grad / (p (1 - p)), 0 where the clamp cut p, NaN outside [0, 1] without eps (as
    PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, p, eps):
        p = floating(p)
        xp = array_module(p)
        q = p if eps is None else xp.clip(p, eps, 1 - eps)
        ctx.save_for_backward(p)
        ctx.eps = eps
        return xp.log(q / (1 - q))

    @staticmethod
    def backward(ctx, grad):
        (p,) = ctx.saved_tensors
        g = grad / (p * (1 - p))
        if ctx.eps is not None:
            g = where((p < ctx.eps) | (p > 1 - ctx.eps), 0.0, g)
        else:
            g = where((p < 0) | (p > 1), float("nan"), g)
        return g, None


class XLogY(Op):
    """z = x log(y), and 0 where x = 0 (even for y = 0; NaN for y NaN);  dz/dx = grad log(y) (0
    where x = 0 and y <= 0), dz/dy = grad x / y (as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        xp = array_module(x)
        ctx.save_for_backward(x, y)
        with _quiet(xp, divide="ignore", invalid="ignore"):  # 0 log 0: set to 0 below
            z = xp.where((x == 0) & (y == y), 0, x * xp.log(y))  # y == y: not NaN
        dtype = result_type(x, y)  # PyTorch's promotion; integers give the default float
        return z.astype(dtype if dtype.kind in "fc" else get_default_dtype(), copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        cut = (x == 0) & (y <= 0)  # log(y) is -inf or nan there: PyTorch's gradient is 0
        with _quiet(array_module(grad), divide="ignore", invalid="ignore"):  # y = 0: x / 0
            return where(cut, 0.0, grad * log(where(cut, 1.0, y))), grad * x / y


def log2(input: Tensor) -> Tensor:
    return Log2.apply(input)


def log10(input: Tensor) -> Tensor:
    return Log10.apply(input)


def exp2(input: Tensor) -> Tensor:
    return Exp2.apply(input)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(exp(input) + exp(other)) elementwise, broadcasting, without overflow."""
    return LogAddExp.apply(input, other)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), the inverse of sigmoid; p clamped to [eps, 1 - eps] if eps is given."""
    return Logit.apply(input, eps)


def xlogy(input, other) -> Tensor:
    """input * log(other), defined as 0 where input is 0 (entropy terms: 0 log 0 = 0)."""
    return XLogY.apply(input, other)
