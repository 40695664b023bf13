"""Poisson(rate): counts k = 0, 1, ...: log p(k) = k log(rate) - rate - lgamma(k + 1)."""

from nabla.autograd.grad_mode import no_grad
from nabla.distributions import constraints
from nabla.distributions.base import Distribution, _broadcast, _shape
from nabla.ops import lgamma, xlogy
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["Poisson"]


class Poisson(Distribution):
    """Counts with mean and variance ``rate`` (rate >= 0)."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None) -> None:
        self._validation(validate_args)
        (self.rate,) = _broadcast(rate)
        if (self.rate._data < 0).any():
            raise ValueError("Poisson: rate must be non-negative")
        self.batch_shape = tuple(self.rate.shape)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.detach().floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape=()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        rate = self.rate._data
        with no_grad():
            return Tensor(numpy_generator().poisson(rate, shape).astype(rate.dtype))

    def log_prob(self, value) -> Tensor:
        value = self._checked(value, self.rate)
        return xlogy(value, self.rate) - self.rate - lgamma(value + 1)
