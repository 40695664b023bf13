"""Trigonometric and hyperbolic functions beyond sin, cos and tanh (elementwise.py), each with
its derivative."""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.arithmetic import _like_torch
from nabla.ops.elementwise import floating, sqrt, where
from nabla.tensor import Tensor

__all__ = ["tan", "sinh", "cosh", "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh"]


class Tan(Op):
    """y = tan(x);  dy/dx = grad * (1 + y^2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        y = array_module(x).tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 + y * y)


class Sinh(Op):
    """y = sinh(x);  dy/dx = grad * cosh(x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cosh(x)


class Cosh(Op):
    """y = cosh(x);  dy/dx = grad * sinh(x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sinh(x)


class Asin(Op):
    """y = asin(x), |x| <= 1;  dy/dx = grad / sqrt(1 - x^2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / sqrt(1 - x * x)


class Acos(Op):
    """y = acos(x), |x| <= 1;  dy/dx = -grad / sqrt(1 - x^2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad / sqrt(1 - x * x)


class Atan(Op):
    """y = atan(x);  dy/dx = grad / (1 + x^2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x * x)


class Atan2(Op):
    """z = atan2(y, x), the angle of the point (x, y);  dz/dy = grad * x / (x^2 + y^2),
    dz/dx = -grad * y / (x^2 + y^2); both 0 at the origin (where x^2 + y^2 is 0), as PyTorch."""

    array_backward = True

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return _like_torch(array_module(y).arctan2(y, x), y, x, true_division=True)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        r2 = x * x + y * y
        scale = where(r2 == 0, 0.0, grad / r2)
        return scale * x, -scale * y


class Asinh(Op):
    """y = asinh(x);  dy/dx = grad / sqrt(x^2 + 1)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / sqrt(x * x + 1)


class Acosh(Op):
    """y = acosh(x), x >= 1;  dy/dx = grad / sqrt(x^2 - 1)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / sqrt(x * x - 1)


class Atanh(Op):
    """y = atanh(x), |x| < 1;  dy/dx = grad / (1 - x^2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return array_module(x).arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 - x * x)


def tan(input: Tensor) -> Tensor:
    return Tan.apply(input)


def sinh(input: Tensor) -> Tensor:
    return Sinh.apply(input)


def cosh(input: Tensor) -> Tensor:
    return Cosh.apply(input)


def asin(input: Tensor) -> Tensor:
    return Asin.apply(input)


def acos(input: Tensor) -> Tensor:
    return Acos.apply(input)


def atan(input: Tensor) -> Tensor:
    return Atan.apply(input)


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of (other, input): atan(input / other) in the right quadrant, in (-pi, pi]."""
    return Atan2.apply(input, other)


def asinh(input: Tensor) -> Tensor:
    return Asinh.apply(input)


def acosh(input: Tensor) -> Tensor:
    return Acosh.apply(input)


def atanh(input: Tensor) -> Tensor:
    return Atanh.apply(input)
