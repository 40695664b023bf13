"""KL(p || q) = E_p[log p - log q] in closed form, for pairs of the same family: one function
per pair, looked up by the two types (as torch.distributions.kl's registry)."""

import math

from nabla.distributions.base import Distribution
from nabla.distributions.basic import Bernoulli, Categorical, Normal
from nabla.distributions.continuous import Beta, Exponential, Gamma, Laplace, Uniform
from nabla.distributions.poisson import Poisson
from nabla.nn.functional import softplus
from nabla.ops import abs, digamma, exp, lgamma, log, where, xlogy
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


_CLOSED_FORMS = {
    (Normal, Normal): _normal, (Bernoulli, Bernoulli): _bernoulli,
    (Categorical, Categorical): _categorical, (Uniform, Uniform): _uniform,
    (Exponential, Exponential): _exponential, (Laplace, Laplace): _laplace,
    (Gamma, Gamma): _gamma, (Beta, Beta): _beta, (Poisson, Poisson): _poisson,
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
