"""The error function: erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, and erfc = 1 - erf
(NumPy has neither: the values come from the polynomial fits in _erf.py, accurate to about
1e-14; erfc is formed as 1 - erf, so its relative accuracy drops where it is tiny, x > 4)."""

import math

from nabla.autograd.function import Op
from nabla.ops._erf import erf as _erf_array
from nabla.ops.elementwise import exp, floating
from nabla.tensor import Tensor

__all__ = ["erf", "erfc"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Erf(Op):
    """y = erf(x);  dy/dx = grad * 2/sqrt(pi) exp(-x^2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return _erf_array(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _TWO_OVER_SQRT_PI * exp(-x * x)


class Erfc(Op):
    """y = 1 - erf(x);  dy/dx = -grad * 2/sqrt(pi) exp(-x^2)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return (1.0 - _erf_array(x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * _TWO_OVER_SQRT_PI * exp(-x * x)


def erf(input: Tensor) -> Tensor:
    return Erf.apply(input)


def erfc(input: Tensor) -> Tensor:
    return Erfc.apply(input)
