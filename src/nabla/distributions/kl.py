"""KL(p || q) = E_p[log p - log q] in closed form, for pairs of the same family: one function
per pair, looked up by the two types (as torch.distributions.kl's registry)."""

import math

from nabla.distributions.base import Distribution, _sum_rightmost
from nabla.distributions.basic import Bernoulli, Categorical, Normal
from nabla.distributions.continuous import Beta, Exponential, Gamma, Laplace, Uniform
from nabla.distributions.discrete import Binomial, Geometric, OneHotCategorical
from nabla.distributions.heavy_tailed import Cauchy, LogNormal
from nabla.distributions.multivariate import (
    Dirichlet,
    Independent,
    MultivariateNormal,
    _mahalanobis,
)
from nabla.distributions.poisson import Poisson
from nabla.linalg import solve_triangular
from nabla.nn.functional import softplus
from nabla.ops import abs, broadcast_shapes, digamma, exp, lgamma, log, log1p, where, xlogy
from nabla.tensor import Tensor

__all__ = ["kl_divergence"]


def _normal(p: Normal, q: Normal) -> Tensor:
    ratio = p.variance / q.variance
    return 0.5 * (ratio + (p.loc - q.loc) ** 2 / q.variance - 1 - log(ratio))


def _bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    return p.probs * (softplus(-q.logits) - softplus(-p.logits)) + \
        (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))


def _categorical(p: Categorical, q: Categorical) -> Tensor:
    return where(p.probs > 0, p.probs * (p.logits - q.logits), 0.0).sum(-1)


def _uniform(p: Uniform, q: Uniform) -> Tensor:
    """log((h_q - l_q) / (h_p - l_p)) where p's support lies inside q's, else inf."""
    inside = (q.low <= p.low) & (p.high <= q.high)
    return where(inside, log((q.high - q.low) / (p.high - p.low)), math.inf)


def _exponential(p: Exponential, q: Exponential) -> Tensor:
    ratio = q.rate / p.rate
    return ratio - 1 - log(ratio)


def _laplace(p: Laplace, q: Laplace) -> Tensor:
    distance = abs(p.loc - q.loc)
    return log(q.scale / p.scale) + distance / q.scale + \
        p.scale / q.scale * exp(-distance / p.scale) - 1


def _gamma(p: Gamma, q: Gamma) -> Tensor:
    a1, b1, a2, b2 = p.concentration, p.rate, q.concentration, q.rate
    return (a1 - a2) * digamma(a1) - lgamma(a1) + lgamma(a2) + a2 * (log(b1) - log(b2)) + \
        a1 * (b2 - b1) / b1


def _beta(p: Beta, q: Beta) -> Tensor:
    a1, b1, a2, b2 = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    return q._log_beta() - p._log_beta() + (a1 - a2) * digamma(a1) + (b1 - b2) * digamma(b1) + \
        (a2 - a1 + b2 - b1) * digamma(a1 + b1)


def _poisson(p: Poisson, q: Poisson) -> Tensor:
    return xlogy(p.rate, p.rate) - xlogy(p.rate, q.rate) - p.rate + q.rate


def _multivariate_normal(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    """log(det L_q / det L_p) + (|L_q^{-1} L_p|_F^2 + |L_q^{-1}(mu_q - mu_p)|^2 - k) / 2."""
    if p.event_shape != q.event_shape:
        raise ValueError(f"kl_divergence: MultivariateNormals of different event shapes "
                         f"{p.event_shape} and {q.event_shape}")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    k = p.event_shape[0]
    shape = tuple(broadcast_shapes(Lp.shape[:-2], Lq.shape[:-2])) + (k, k)
    ratio = solve_triangular(Lq.expand(*shape), Lp.expand(*shape), upper=False)
    trace = (ratio ** 2).sum((-2, -1))
    return q._half_log_det() - p._half_log_det() + \
        0.5 * (trace + _mahalanobis(Lq, q.loc - p.loc) - k)


def _independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent distributions with different "
                                  f"reinterpreted_batch_ndims ({p.reinterpreted_batch_ndims} "
                                  f"and {q.reinterpreted_batch_ndims})")
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


def _dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    a, b = p.concentration, q.concentration
    a0 = a.sum(-1)
    return lgamma(a0) - lgamma(b.sum(-1)) - (lgamma(a) - lgamma(b)).sum(-1) + \
        ((a - b) * (digamma(a) - digamma(a0)[..., None])).sum(-1)


def _lognormal(p: LogNormal, q: LogNormal) -> Tensor:
    return _normal(p.base_dist, q.base_dist)  # KL is invariant under the map exp


def _cauchy(p: Cauchy, q: Cauchy) -> Tensor:
    return log((p.scale + q.scale) ** 2 + (p.loc - q.loc) ** 2) - log(4 * p.scale * q.scale)


def _geometric(p: Geometric, q: Geometric) -> Tensor:
    return -p.entropy() - log1p(-q.probs) / p.probs - q.logits


def _binomial(p: Binomial, q: Binomial) -> Tensor:
    """n (p log(p / q) + log((1 - p) / (1 - q))) for equal n; inf where p's n exceeds q's."""
    if (p.total_count._data < q.total_count._data).any():
        raise NotImplementedError("kl_divergence: Binomials where q.total_count > "
                                  "p.total_count (p's support is not q's)")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + log1p(-p.probs) - log1p(-q.probs))
    return where(p.total_count > q.total_count, math.inf, kl)


def _one_hot_categorical(p: OneHotCategorical, q: OneHotCategorical) -> Tensor:
    return _categorical(p._categorical, q._categorical)


_CLOSED_FORMS = {
    (Normal, Normal): _normal, (Bernoulli, Bernoulli): _bernoulli,
    (Categorical, Categorical): _categorical, (Uniform, Uniform): _uniform,
    (Exponential, Exponential): _exponential, (Laplace, Laplace): _laplace,
    (Gamma, Gamma): _gamma, (Beta, Beta): _beta, (Poisson, Poisson): _poisson,
    (MultivariateNormal, MultivariateNormal): _multivariate_normal,
    (Independent, Independent): _independent, (Dirichlet, Dirichlet): _dirichlet,
    (LogNormal, LogNormal): _lognormal, (Cauchy, Cauchy): _cauchy,
    (Geometric, Geometric): _geometric, (Binomial, Binomial): _binomial,
    (OneHotCategorical, OneHotCategorical): _one_hot_categorical,
}


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q), in closed form for two distributions of the same family."""
    rule = _CLOSED_FORMS.get((type(p), type(q)))
    if rule is None:
        raise NotImplementedError(f"kl_divergence: no closed form for {type(p).__name__} and "
                                  f"{type(q).__name__}; estimate it from samples: "
                                  "(p.log_prob(x) - q.log_prob(x)).mean() with x = "
                                  "p.sample((n,))")
    return rule(p, q)
