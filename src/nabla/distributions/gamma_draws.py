"""Reparameterized Gamma draws, on which Gamma, Beta, Dirichlet and StudentT ``rsample`` rest.

A Gamma(a, 1) draw x is no smooth function of a fixed noise, but its quantile u = P(a, x) (the
regularized lower incomplete gamma) is: holding u fixed gives the implicit reparameterization
gradient dx/da = -(dP/da) / (dP/dx) (Figurnov et al. 2018; torch's _standard_gamma_grad). Here
dP/da comes from the series P(a, x) = sum_n x^(a+n) e^(-x) / Gamma(a + n + 1), differentiated
term by term, which converges for every x > 0; dP/dx is the density.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops import digamma  # on arrays: an array, nothing recorded
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["standard_gamma"]


def _dx_dalpha(alpha, x):
    """dx/da of Gamma(a, 1) draws x at fixed quantile, elementwise, computed in float64.

    With r_n = prod_{j=1..n} x / (a + j) and psi = digamma:
        dP/da = t_0 sum_n r_n (log x - psi(a + n + 1)),  t_0 = x^a e^-x / Gamma(a + 1),
        density = t_0 a / x,  so  dx/da = -(x / a) sum_n r_n (log x - psi(a + n + 1)).
    The terms grow while n < x - a and then fall faster than geometrically; the loop stops when
    every element's term is below 1e-17 of its sum past that peak.
    """
    xp = array_module(x)
    a = xp.asarray(alpha, dtype=xp.float64)
    x = xp.asarray(x, dtype=xp.float64)
    a, x = xp.broadcast_arrays(a, x)
    log_x = xp.log(x)
    psi = digamma(a + 1)
    r = xp.ones_like(x)
    total = log_x - psi
    scale = xp.ones_like(x)  # the running sum of r, for the stopping rule
    n = 0
    while True:
        n += 1
        r = r * x / (a + n)
        psi = psi + 1 / (a + n)
        total = total + r * (log_x - psi)
        scale = scale + r
        if n > 1 and not ((n <= x - a) | (r > 1e-17 * scale)).any():
            break
    return -(x / a) * total


class StandardGammaGrad(Op):
    """dx/da of Gamma(a, 1) draws x (see _dx_dalpha); it has no derivative of its own."""

    @staticmethod
    def forward(ctx, alpha, x):
        return _dx_dalpha(alpha, x).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(
            "StandardGammaGrad: the second derivative of a reparameterized Gamma draw (through "
            "Gamma, Beta, Dirichlet or StudentT rsample) is not implemented, as in PyTorch; "
            "take second derivatives of log_prob instead, or use sample()")


class StandardGamma(Op):
    """x ~ Gamma(alpha, 1) elementwise (alpha's shape); dx/dalpha = grad * the implicit
    reparameterization gradient -(dP/dalpha) / p(x) at the drawn x."""

    @staticmethod
    def forward(ctx, alpha):
        xp = array_module(alpha)
        x = xp.asarray(numpy_generator().standard_gamma(alpha), dtype=alpha.dtype)  # 0-d too
        x = xp.maximum(x, xp.finfo(alpha.dtype).tiny)  # a tiny alpha rounds draws to 0
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * StandardGammaGrad.apply(alpha, x)


def standard_gamma(alpha: Tensor) -> Tensor:
    """Draws of Gamma(alpha, 1), one per element of alpha, differentiable in alpha.

    Args:
        alpha: (*), positive concentrations (float32 or float64).

    Returns:
        (*), the draws; their gradient with respect to alpha is the implicit one.
    """
    return StandardGamma.apply(alpha)
