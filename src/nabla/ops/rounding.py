"""Rounding: floor, ceil, round, trunc (gradient 0 almost everywhere, as PyTorch) and frac
(gradient 1: x - trunc(x))."""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.elementwise import zeros_like_grad
from nabla.tensor import Tensor

__all__ = ["floor", "ceil", "round", "trunc", "frac"]


class _Step(Op):
    """A piecewise-constant map: its gradient is 0 wherever it is defined."""

    array_backward = True

    @staticmethod
    def backward(ctx, grad):
        return zeros_like_grad(grad), None


class Floor(_Step):
    """y = floor(x) (largest integer <= x);  dy/dx = 0."""

    @staticmethod
    def forward(ctx, x):
        return array_module(x).floor(x)


class Ceil(_Step):
    """y = ceil(x) (smallest integer >= x);  dy/dx = 0."""

    @staticmethod
    def forward(ctx, x):
        return array_module(x).ceil(x)


class Trunc(_Step):
    """y = trunc(x) (toward zero);  dy/dx = 0."""

    @staticmethod
    def forward(ctx, x):
        return array_module(x).trunc(x)


class Round(_Step):
    """y = x rounded to ``decimals`` places, halves to even (as PyTorch);  dy/dx = 0."""

    @staticmethod
    def forward(ctx, x, decimals=0):
        return array_module(x).round(x, decimals)


class Frac(Op):
    """y = x - trunc(x) (the fractional part, with x's sign);  dy/dx = grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return x - array_module(x).trunc(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def floor(input: Tensor) -> Tensor:
    return Floor.apply(input)


def ceil(input: Tensor) -> Tensor:
    return Ceil.apply(input)


def trunc(input: Tensor) -> Tensor:
    return Trunc.apply(input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    return Round.apply(input, decimals)


def frac(input: Tensor) -> Tensor:
    return Frac.apply(input)
