"""ContinuousBernoulli (Loaiza-Ganem and Cunningham 2019): the normalized Bernoulli likelihood
on [0, 1], the right likelihood for a VAE's pixels in [0, 1]. As torch's, near probs = 1/2
(inside ``lims``) the normalizer, mean and variance use their Taylor series, where the closed
forms are 0 / 0."""

import math

from nabla.backend import array_module
from nabla.creation import rand
from nabla.distributions import constraints
from nabla.distributions.base import Distribution, _shape, _tensor
from nabla.nn.functional import binary_cross_entropy_with_logits
from nabla.ops import abs, clamp, log, log1p, sigmoid, where
from nabla.ops.reduce import _quiet
from nabla.tensor import Tensor

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(Distribution):
    """p(x) = C(p) p^x (1 - p)^(1 - x) on [0, 1]: log p(x) = -BCE(logits, x) + log C(p), with
    C(p) = 2 atanh(1 - 2 p) / (1 - 2 p) (2 near p = 1/2); rsample by the inverse cdf
    x = log1p(-p + u (2 p - 1)) - log1p(-p)) / (log p - log1p(-p)), u ~ U(0, 1)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501),
                 validate_args=None) -> None:
        self._validation(validate_args)
        if (probs is None) == (logits is None):
            raise ValueError("ContinuousBernoulli: pass exactly one of probs or logits, got "
                             f"{'both' if probs is not None else 'neither'}")
        if probs is not None:
            probs = _tensor(probs)
            if ((probs._data < 0) | (probs._data > 1)).any():
                raise ValueError("ContinuousBernoulli: probs must be in [0, 1], got values in "
                                 f"[{float(probs._data.min())}, {float(probs._data.max())}]")
            self.probs = self._clamp(probs)
            self.logits = log(self.probs) - log1p(-self.probs)
        else:
            self.logits = _tensor(logits)
            self.probs = self._clamp(sigmoid(self.logits))
        self._lims = tuple(lims)
        self.batch_shape = tuple(self.probs.shape)

    @staticmethod
    def _clamp(p: Tensor) -> Tensor:
        eps = float(array_module(p._data).finfo(p._data.dtype).eps)
        return clamp(p, eps, 1 - eps)

    def _outside(self) -> Tensor:
        """Where the closed forms are used: p outside (lims[0], lims[1]]."""
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        return where(self._outside(), self.probs, self._lims[0])

    def _log_norm(self) -> Tensor:
        p = self._cut_probs()
        below = where(p <= 0.5, p, 0.0)
        above = where(p >= 0.5, p, 1.0)
        log_norm = log(abs(log1p(-p) - log(p))) - where(p <= 0.5, log1p(-2.0 * below),
                                                        log(2.0 * above - 1.0))
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return where(self._outside(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        p = self._cut_probs()
        mus = p / (2.0 * p - 1.0) + 1.0 / (log1p(-p) - log(p))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x ** 2) * x
        return where(self._outside(), mus, taylor)

    @property
    def variance(self) -> Tensor:
        p = self._cut_probs()
        closed = p * (p - 1.0) / (1.0 - 2.0 * p) ** 2 + 1.0 / (log1p(-p) - log(p)) ** 2
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return where(self._outside(), closed, taylor)

    def rsample(self, sample_shape=()) -> Tensor:
        u = rand(*(_shape(sample_shape) + self.batch_shape), dtype=self.probs.dtype)
        return self.icdf(u)

    def log_prob(self, value) -> Tensor:
        value = self._checked(value, self.probs)
        shape = tuple((self.logits._data + value._data).shape)
        bce = binary_cross_entropy_with_logits(self.logits.expand(*shape), value.expand(*shape),
                                               reduction="none")
        return -bce + self._log_norm()

    def cdf(self, value) -> Tensor:
        value = self._checked(value, self.probs)
        p = self._cut_probs()
        cdfs = (p ** value * (1.0 - p) ** (1.0 - value) + p - 1.0) / (2.0 * p - 1.0)
        inside = where(self._outside(), cdfs, value)
        return where(value <= 0.0, 0.0, where(value >= 1.0, 1.0, inside))

    def icdf(self, value) -> Tensor:
        value = _tensor(value, self.probs)
        p = self._cut_probs()
        with _quiet(array_module(p._data), invalid="ignore"):
            closed = (log1p(-p + value * (2.0 * p - 1.0)) - log1p(-p)) / (log(p) - log1p(-p))
        return where(self._outside(), closed, value)

    def entropy(self) -> Tensor:
        log_p0, log_p1 = log1p(-self.probs), log(self.probs)
        return self.mean * (log_p0 - log_p1) - self._log_norm() - log_p0
