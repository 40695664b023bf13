"""``torch.special``: the special functions under their SciPy-style names, as aliases of the
nabla ops (each with its gradient rule in ``nabla/ops``). As in PyTorch, the orthogonal
polynomials, the Bessel family and airy_ai have no gradient (their results do not require
grad), and zeta is differentiable in q only."""

import math

from nabla.ops import (
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    i0,
    lgamma,
    log,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    masked_fill,
    mvlgamma,
    polygamma,
    round,
    sigmoid,
    sinc,
    softmax,
    where,
    xlogy,
)
from nabla.ops.airy import airy_ai
from nabla.ops.bessel import i0e, i1, i1e
from nabla.ops.bessel_more import bessel_j0, bessel_j1, bessel_y0, bessel_y1, spherical_bessel_j0
from nabla.ops.incomplete_gamma import igamma as gammainc
from nabla.ops.incomplete_gamma import igammac as gammaincc
from nabla.ops.modified_bessel import (
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
)
from nabla.ops.normal_cdf import erfcx, log_ndtr, ndtr, ndtri, xlog1py
from nabla.ops.polynomials import (
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
)
from nabla.ops.zeta import zeta

__all__ = ["erf", "erfc", "erfinv", "expit", "logit", "xlogy", "exp2", "expm1", "log1p",
           "logsumexp", "softmax", "log_softmax", "entr", "gammaln", "digamma", "psi",
           "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e", "gammainc", "gammaincc",
           "ndtr", "log_ndtr", "ndtri", "erfcx", "xlog1py", "sinc", "round",
           "zeta", "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p", "bessel_j0", "bessel_j1",
           "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai"]

expit = sigmoid  # 1 / (1 + exp(-x))
gammaln = lgamma  # log|Gamma(x)|
psi = digamma
multigammaln = mvlgamma


def entr(input):
    """-x log(x) elementwise: 0 at x = 0 and -inf for x < 0, as PyTorch."""
    positive = input > 0
    safe = where(positive, input, 1.0)  # log only of positive numbers: no nan in the gradient
    rest = masked_fill(input * 0, input < 0, -math.inf)  # 0 at 0, nan stays nan
    return where(positive, -safe * log(safe), rest)
