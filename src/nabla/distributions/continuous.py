"""Uniform, Exponential, Laplace (``cdf`` and ``icdf``), Gamma and Beta, all reparameterized
(``rsample``; Gamma and Beta through the implicit gradient of gamma_draws.py).
Log-probabilities and entropies are nabla ops, differentiable in the parameters; Gamma and Beta
use lgamma and digamma."""

import math

from nabla.creation import rand
from nabla.distributions import constraints
from nabla.distributions.base import Distribution, _broadcast, _positive, _shape, _tensor
from nabla.distributions.gamma_draws import standard_gamma
from nabla.distributions.multivariate import _simplex_mode
from nabla.ops import (
    abs,
    clamp,
    digamma,
    exp,
    expm1,
    lgamma,
    log,
    log1p,
    sign,
    stack,
    where,
    xlogy,
)
from nabla.ops.incomplete_gamma import igamma
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["Uniform", "Exponential", "Laplace", "Gamma", "Beta"]


class Uniform(Distribution):
    """U[low, high): log p(x) = -log(high - low) inside, -inf outside; entropy log(high - low)."""

    has_rsample = True

    arg_constraints = {"low": constraints.dependent, "high": constraints.dependent}

    def __init__(self, low, high, validate_args=None) -> None:
        self._validation(validate_args)
        self.low, self.high = _broadcast(low, high)
        _positive("Uniform", "high - low", self.high - self.low)
        self.batch_shape = tuple(self.low.shape)

    @property
    def support(self):
        """[low, high], closed as torch's (log_prob is -inf at high)."""
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.low + self.high) / 2

    @property
    def mode(self) -> Tensor:
        """nan: every point of [low, high) is a mode."""
        return self.high.detach() * math.nan

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()) -> Tensor:
        u = rand(*(_shape(sample_shape) + self.batch_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        value = self._checked(value, self.low)
        inside = (value >= self.low) & (value < self.high)
        return where(inside, -log(self.high - self.low), -math.inf)

    def entropy(self) -> Tensor:
        return log(self.high - self.low)

    def cdf(self, value) -> Tensor:
        value = self._checked(value, self.low)
        return clamp((value - self.low) / (self.high - self.low), 0, 1)

    def icdf(self, value) -> Tensor:
        return _tensor(value, self.low) * (self.high - self.low) + self.low


class Exponential(Distribution):
    """rate e^(-rate x) for x >= 0: log p(x) = log(rate) - rate x; entropy 1 - log(rate);
    rsample = E / rate with E ~ Exp(1)."""

    has_rsample = True

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, rate, validate_args=None) -> None:
        self._validation(validate_args)
        (self.rate,) = _broadcast(rate)
        _positive("Exponential", "rate", self.rate)
        self.batch_shape = tuple(self.rate.shape)

    @property
    def mean(self) -> Tensor:
        return 1 / self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.detach() * 0

    @property
    def variance(self) -> Tensor:
        return self.rate ** -2

    def rsample(self, sample_shape=()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        e = Tensor(numpy_generator().exponential(1.0, shape).astype(self.rate._data.dtype))
        return e / self.rate

    def log_prob(self, value) -> Tensor:
        value = self._checked(value, self.rate)
        return where(value >= 0, log(self.rate) - self.rate * value, -math.inf)

    def entropy(self) -> Tensor:
        return 1 - log(self.rate)

    def cdf(self, value) -> Tensor:
        return 1 - exp(-self.rate * self._checked(value, self.rate))

    def icdf(self, value) -> Tensor:
        return -log1p(-_tensor(value, self.rate)) / self.rate


class Laplace(Distribution):
    """exp(-|x - loc| / scale) / (2 scale): log p(x) = -log(2 scale) - |x - loc| / scale;
    entropy 1 + log(2 scale); rsample = loc - scale sign(u) log(1 - |u|), u ~ U(-1, 1)."""

    has_rsample = True

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None) -> None:
        self._validation(validate_args)
        self.loc, self.scale = _broadcast(loc, scale)
        _positive("Laplace", "scale", self.scale)
        self.batch_shape = tuple(self.loc.shape)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale ** 2

    def rsample(self, sample_shape=()) -> Tensor:
        u = rand(*(_shape(sample_shape) + self.batch_shape), dtype=self.loc.dtype) * 2 - 1
        return self.loc - self.scale * sign(u) * log1p(-abs(u))

    def log_prob(self, value) -> Tensor:
        value = self._checked(value, self.loc)
        return -log(2 * self.scale) - abs(value - self.loc) / self.scale

    def entropy(self) -> Tensor:
        return 1 + log(2 * self.scale)

    def cdf(self, value) -> Tensor:
        z = self._checked(value, self.loc) - self.loc
        return 0.5 - 0.5 * sign(z) * expm1(-abs(z) / self.scale)

    def icdf(self, value) -> Tensor:
        term = _tensor(value, self.loc) - 0.5
        return self.loc - self.scale * sign(term) * log1p(-2 * abs(term))


class Gamma(Distribution):
    """Gamma(a = concentration, b = rate): log p(x) = a log b + (a - 1) log x - b x - lgamma(a);
    entropy a - log b + lgamma(a) + (1 - a) digamma(a); rsample G / b with G ~ Gamma(a, 1)
    drawn with the implicit reparameterization gradient (gamma_draws.py)."""

    has_rsample = True

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, concentration, rate, validate_args=None) -> None:
        self._validation(validate_args)
        self.concentration, self.rate = _broadcast(concentration, rate)
        _positive("Gamma", "concentration", self.concentration)
        _positive("Gamma", "rate", self.rate)
        self.batch_shape = tuple(self.rate.shape)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return clamp((self.concentration - 1) / self.rate, min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape=()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        return standard_gamma(self.concentration.expand(*shape)) / self.rate

    def log_prob(self, value) -> Tensor:
        a, b = self.concentration, self.rate
        value = self._checked(value, b)
        return xlogy(a, b) + xlogy(a - 1, value) - b * value - lgamma(a)

    def entropy(self) -> Tensor:
        a = self.concentration
        return a - log(self.rate) + lgamma(a) + (1 - a) * digamma(a)

    def cdf(self, value) -> Tensor:
        """P(a, b x), the regularized lower incomplete gamma; as in PyTorch it has no derivative
        in the concentration (detach it)."""
        return igamma(self.concentration, self.rate * self._checked(value, self.rate))


class Beta(Distribution):
    """Beta(a, b) on (0, 1): log p(x) = (a - 1) log x + (b - 1) log(1 - x) - log B(a, b), with
    log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b); rsample X / (X + Y) with X ~ Gamma(a, 1),
    Y ~ Gamma(b, 1) reparameterized (gamma_draws.py)."""

    has_rsample = True

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1, concentration0, validate_args=None) -> None:
        self._validation(validate_args)
        self.concentration1, self.concentration0 = _broadcast(concentration1, concentration0)
        _positive("Beta", "concentration1", self.concentration1)
        _positive("Beta", "concentration0", self.concentration0)
        self.batch_shape = tuple(self.concentration1.shape)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        """(a - 1) / (a + b - 2) for a, b > 1; torch's Dirichlet edge cases otherwise (1 where
        a, b < 1; 0 or 1 where only one is below 1; nan where a = b = 1)."""
        pair = stack([self.concentration1, self.concentration0], -1)
        return _simplex_mode(pair)[..., 0]

    @property
    def variance(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total ** 2 * (total + 1))

    def _log_beta(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return lgamma(a) + lgamma(b) - lgamma(a + b)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        x = standard_gamma(self.concentration1.expand(*shape))
        return x / (x + standard_gamma(self.concentration0.expand(*shape)))

    def log_prob(self, value) -> Tensor:
        a, b = self.concentration1, self.concentration0
        value = self._checked(value, a)
        return xlogy(a - 1, value) + xlogy(b - 1, 1 - value) - self._log_beta()

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return (self._log_beta() - (a - 1) * digamma(a) - (b - 1) * digamma(b)
                + (a + b - 2) * digamma(a + b))
