"""Heavy-tailed families on the real line and the positive half-line, all reparameterized
(``rsample``): LogNormal and Cauchy (with ``cdf`` and ``icdf``) and StudentT (through a Gamma
draw, whose gradient in df is the implicit one of gamma_draws.py)."""

import math

from nabla.creation import full, randn
from nabla.distributions import constraints
from nabla.distributions.base import Distribution, _broadcast, _positive, _shape, _tensor
from nabla.distributions.basic import Normal
from nabla.distributions.gamma_draws import standard_gamma
from nabla.ops import atan, digamma, exp, expm1, lgamma, log, log1p, rsqrt, tan, where
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["LogNormal", "Cauchy", "StudentT"]


class LogNormal(Distribution):
    """exp(X) with X ~ N(loc, scale^2): log p(x) = Normal(loc, scale).log_prob(log x) - log x;
    mean exp(loc + scale^2 / 2); entropy that of the Normal + loc; rsample exp(loc + scale eps)."""

    has_rsample = True

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive

    def __init__(self, loc, scale, validate_args=None) -> None:
        self._validation(validate_args)
        loc, scale = _broadcast(loc, scale)
        _positive("LogNormal", "scale", scale)
        self.base_dist = Normal(loc, scale, validate_args=False)  # scores log x, checked here
        self.batch_shape = tuple(loc.shape)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mean(self) -> Tensor:
        return exp(self.loc + self.scale ** 2 / 2)

    @property
    def mode(self) -> Tensor:
        return exp(self.loc - self.scale ** 2)

    @property
    def variance(self) -> Tensor:
        s2 = self.scale ** 2
        return expm1(s2) * exp(2 * self.loc + s2)

    def rsample(self, sample_shape=()) -> Tensor:
        return exp(self.base_dist.rsample(sample_shape))

    def log_prob(self, value) -> Tensor:
        log_x = log(self._checked(value, self.loc))
        return self.base_dist.log_prob(log_x) - log_x

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc

    def cdf(self, value) -> Tensor:
        return self.base_dist.cdf(log(self._checked(value, self.loc)))

    def icdf(self, value) -> Tensor:
        return exp(self.base_dist.icdf(value))


class Cauchy(Distribution):
    """1 / (pi scale (1 + z^2)) with z = (x - loc) / scale: log p(x) = -log(pi scale) - log1p(z^2);
    entropy log(4 pi scale); cdf atan(z) / pi + 1/2; no mean or variance (nan, inf)."""

    has_rsample = True

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None) -> None:
        self._validation(validate_args)
        self.loc, self.scale = _broadcast(loc, scale)
        _positive("Cauchy", "scale", self.scale)
        self.batch_shape = tuple(self.loc.shape)

    @property
    def mean(self) -> Tensor:
        return full(self.batch_shape, math.nan, dtype=self.loc.dtype)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return full(self.batch_shape, math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        eps = numpy_generator().standard_cauchy(shape).astype(self.loc._data.dtype)
        return self.loc + Tensor(eps) * self.scale

    def log_prob(self, value) -> Tensor:
        z = (self._checked(value, self.loc) - self.loc) / self.scale
        return -math.log(math.pi) - log(self.scale) - log1p(z * z)

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + log(self.scale)

    def cdf(self, value) -> Tensor:
        return atan((self._checked(value, self.loc) - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value) -> Tensor:
        return tan(math.pi * (_tensor(value, self.loc) - 0.5)) * self.scale + self.loc


class StudentT(Distribution):
    """Student's t with df degrees of freedom, located and scaled: with y = (x - loc) / scale,
    log p(x) = -(df + 1) / 2 log1p(y^2 / df) - log(scale) - log(df pi) / 2 - log B(df / 2, 1/2);
    entropy log(scale) + (df + 1) / 2 (digamma((df + 1) / 2) - digamma(df / 2))
    + log(df) / 2 + log B(df / 2, 1/2); rsample loc + scale Z / sqrt(V / df) with Z ~ N(0, 1),
    V ~ chi2(df) = 2 Gamma(df / 2, 1) reparameterized (gamma_draws.py)."""

    has_rsample = True

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None) -> None:
        self._validation(validate_args)
        self.df, self.loc, self.scale = _broadcast(df, loc, scale)
        _positive("StudentT", "df", self.df)
        _positive("StudentT", "scale", self.scale)
        self.batch_shape = tuple(self.df.shape)

    @property
    def mean(self) -> Tensor:
        """loc where df > 1, else undefined (nan)."""
        return where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """scale^2 df / (df - 2) where df > 2; inf where 1 < df <= 2; nan where df <= 1."""
        df = self.df
        finite = where(df > 2, self.scale ** 2 * df / where(df > 2, df - 2, 1.0), math.inf)
        return where(df > 1, finite, math.nan)

    def _log_beta(self) -> Tensor:
        """log B(df / 2, 1 / 2)."""
        half = self.df / 2
        return lgamma(half) + math.lgamma(0.5) - lgamma(half + 0.5)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        z = randn(*shape, dtype=self.df.dtype)
        chi2 = 2 * standard_gamma(self.df.expand(*shape) / 2)
        return self.loc + self.scale * z * rsqrt(chi2 / self.df)

    def log_prob(self, value) -> Tensor:
        df = self.df
        y = (self._checked(value, df) - self.loc) / self.scale
        z = log(self.scale) + 0.5 * log(df) + 0.5 * math.log(math.pi) + lgamma(0.5 * df) - \
            lgamma(0.5 * (df + 1))
        return -0.5 * (df + 1) * log1p(y * y / df) - z

    def entropy(self) -> Tensor:
        df = self.df
        return log(self.scale) + 0.5 * (df + 1) * (digamma(0.5 * (df + 1)) - digamma(0.5 * df)) \
            + 0.5 * log(df) + self._log_beta()
