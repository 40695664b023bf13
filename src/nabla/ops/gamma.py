"""The gamma family: lgamma = log|Gamma(x)|, digamma = psi = d lgamma/dx, polygamma(n) = the n-th
derivative of psi, and mvlgamma (derived). Each rule is the next function of the family, so
every derivative order is available. The values come from _gamma.py (float64, about 1e-14)."""

import math

from nabla.autograd.function import Op
from nabla.ops import _gamma
from nabla.ops.elementwise import floating
from nabla.tensor import Tensor

__all__ = ["lgamma", "digamma", "polygamma", "mvlgamma"]


class Lgamma(Op):
    """y = log|Gamma(x)|;  dy/dx = grad * digamma(x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return _gamma.lgamma(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Digamma.apply(x)


class Digamma(Op):
    """y = psi(x) = d/dx log Gamma(x);  dy/dx = grad * polygamma(1, x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        x = floating(x)
        ctx.save_for_backward(x)
        return _gamma.digamma(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Polygamma.apply(1, x)


class Polygamma(Op):
    """y = psi^(n)(x), n >= 1;  dy/dx = grad * polygamma(n + 1, x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, n, x):
        x = floating(x)
        ctx.n = n
        ctx.save_for_backward(x)
        return _gamma.polygamma(n, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return None, grad * Polygamma.apply(ctx.n + 1, x)


def lgamma(input: Tensor) -> Tensor:
    """log|Gamma(x)| elementwise; +inf at 0 and the negative integers."""
    return Lgamma.apply(input)


def digamma(input: Tensor) -> Tensor:
    """psi(x) = Gamma'(x) / Gamma(x) elementwise; -inf at 0, NaN at the negative integers."""
    return Digamma.apply(input)


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of digamma, psi^(n)(x), elementwise (n = 0 is digamma)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}")
    return Digamma.apply(input) if n == 0 else Polygamma.apply(n, input)


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma of dimension p: p(p-1)/4 log(pi) + sum_{j<p} lgamma(x - j/2)
    (derived); every element must be greater than (p - 1) / 2."""
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ValueError(f"mvlgamma: p must be a positive int, got {p!r}")
    bound = (p - 1) / 2
    if bool((input.detach() <= bound).any()):
        raise ValueError(f"mvlgamma: all elements must be greater than (p - 1) / 2 = {bound}")
    total = lgamma(input)
    for j in range(1, p):
        total = total + lgamma(input - j / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)
