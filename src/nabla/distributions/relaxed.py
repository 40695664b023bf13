"""Continuous relaxations of Bernoulli and one-hot Categorical draws (Concrete / Gumbel-softmax,
Maddison et al. 2017, Jang et al. 2017), reparameterized: as the temperature falls to 0 the
draws approach hard 0/1 or one-hot draws, and ``rsample`` carries the gradient to the logits.
Built as torch's: a logit-space base distribution pushed through sigmoid or exp."""

import math

from nabla.backend import array_module
from nabla.creation import rand
from nabla.distributions import constraints
from nabla.distributions.base import Distribution, _broadcast, _positive, _shape, _tensor
from nabla.distributions.basic import Categorical
from nabla.distributions.discrete import _binary
from nabla.distributions.transformed import TransformedDistribution
from nabla.distributions.transforms import ExpTransform, SigmoidTransform
from nabla.ops import clamp, exp, log, log1p, logsumexp
from nabla.tensor import Tensor

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli", "ExpRelaxedCategorical",
           "RelaxedOneHotCategorical"]


def _clamp_probs(p: Tensor) -> Tensor:
    """p kept inside [eps, 1 - eps], as torch's clamp_probs: logs of u and 1 - u stay finite."""
    eps = float(array_module(p._data).finfo(p._data.dtype).eps)
    return clamp(p, eps, 1 - eps)


class LogitRelaxedBernoulli(Distribution):
    """The logit of a RelaxedBernoulli draw: y = (logit(u) + logits) / t with u ~ U(0, 1);
    log p(y) = log t + d - 2 log1p(e^d), d = logits - t y (a logistic density)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        self._validation(validate_args)
        probs, logits = _binary(type(self).__name__, probs, logits)
        self.probs, self.logits = _broadcast(probs, logits)
        self.temperature = _tensor(temperature, self.logits)
        _positive(type(self).__name__, "temperature", self.temperature)
        self.batch_shape = tuple(self.logits.shape)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        u = _clamp_probs(rand(*shape, dtype=self.logits.dtype))
        return (log(u) - log1p(-u) + self.logits) / self.temperature

    def log_prob(self, value) -> Tensor:
        value = self._checked(value, self.logits)
        diff = self.logits - value * self.temperature
        return log(self.temperature) + diff - 2 * log1p(exp(diff))


class RelaxedBernoulli(TransformedDistribution):
    """sigmoid of a LogitRelaxedBernoulli draw, on (0, 1): log p(x) = the logit's log density
    at logit(x) - log(x (1 - x))."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical draw: y = log_softmax((logits + g) / t) with
    Gumbel noise g; log p(y) = lgamma(K) + (K - 1) log t + sum_i s_i, s = log_softmax of
    (logits - t y)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        self._validation(validate_args)
        self._categorical = Categorical(probs=probs, logits=logits)
        self.temperature = _tensor(temperature, self._categorical.logits)
        _positive(type(self).__name__, "temperature", self.temperature)
        self.batch_shape = self._categorical.batch_shape
        self.event_shape = tuple(self._categorical.probs.shape[-1:])

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)

    def rsample(self, sample_shape=()) -> Tensor:
        u = _clamp_probs(rand(*self._extended_shape(sample_shape), dtype=self.logits.dtype))
        gumbels = -log(-log(u))
        scores = (self.logits + gumbels) / self.temperature
        return scores - logsumexp(scores, -1, keepdim=True)

    def log_prob(self, value) -> Tensor:
        k = self.event_shape[0]
        value = self._checked(value, self.logits)
        log_scale = math.lgamma(k) + (k - 1) * log(self.temperature)
        score = self.logits - value * self.temperature
        return (score - logsumexp(score, -1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """exp of an ExpRelaxedCategorical draw: a point of the simplex (Gumbel-softmax);
    log p(x) = the base's log density at log x - sum log x."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)
