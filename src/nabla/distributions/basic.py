"""Normal, Bernoulli and Categorical. Written with nabla ops,
so log-probabilities, entropies and KL terms have gradients with respect to the parameters.

The reparameterization trick (VAEs) is ``Normal.rsample``: the draw is loc + scale * eps with
eps ~ N(0, 1) drawn apart, so the gradient reaches loc and scale through a sample; ``sample``
draws without gradient. Draws use nabla's global generator (``nabla.manual_seed``).
"""

import math

from nabla.autograd.grad_mode import no_grad
from nabla.backend import array_module
from nabla.creation import arange, bernoulli, full, randn
from nabla.distributions import constraints
from nabla.distributions.base import Distribution, _shape, _tensor
from nabla.nn.functional import binary_cross_entropy_with_logits
from nabla.ops import (
    broadcast_to,
    erf,
    erfinv,
    gather,
    log,
    log1p,
    logsumexp,
    multinomial,
    sigmoid,
    softmax,
    where,
)
from nabla.ops.reduce import _quiet
from nabla.tensor import Tensor

__all__ = ["Normal", "Bernoulli", "Categorical"]


class Normal(Distribution):
    """N(loc, scale^2): log p(x) = -(x - loc)^2 / (2 scale^2) - log(scale) - log(2 pi) / 2;
    entropy 1/2 + log(2 pi) / 2 + log(scale)."""

    has_rsample = True
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None) -> None:
        self._validation(validate_args)
        loc = _tensor(loc)
        scale = _tensor(scale, loc)
        shape = tuple((loc._data + scale._data).shape)  # the broadcast shape
        if (scale._data <= 0).any():
            raise ValueError("Normal: scale must be positive")
        self.loc, self.scale = broadcast_to(loc, shape), broadcast_to(scale, shape)
        self.batch_shape = shape

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self.scale * self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        eps = randn(*shape, dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        value = self._checked(value, self.loc)
        z = (value - self.loc) / self.scale
        return -0.5 * z * z - log(self.scale) - 0.5 * math.log(2 * math.pi)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + log(self.scale)

    def cdf(self, value) -> Tensor:
        """Phi((x - loc) / scale) = (1 + erf((x - loc) / (scale sqrt 2))) / 2."""
        z = (self._checked(value, self.loc) - self.loc) / (self.scale * math.sqrt(2))
        return 0.5 * (1 + erf(z))

    def icdf(self, value) -> Tensor:
        """loc + scale sqrt(2) erfinv(2 p - 1)."""
        return self.loc + self.scale * erfinv(2 * _tensor(value, self.loc) - 1) * math.sqrt(2)


class Bernoulli(Distribution):
    """1 with probability p, else 0; given as ``probs`` or ``logits`` (log p / (1 - p)):
    log p(x) = x logits - softplus(logits), computed stably from the logits."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        self._validation(validate_args)
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: pass exactly one of probs or logits")
        if probs is not None:
            probs = _tensor(probs)
            if ((probs._data < 0) | (probs._data > 1)).any():
                raise ValueError("Bernoulli: probs must be in [0, 1]")
            with _quiet(array_module(probs._data), divide="ignore"):  # p = 0 or 1: -inf, inf
                self.probs, self.logits = probs, log(probs) - log1p(-probs)
        else:
            self.logits = _tensor(logits)
            self.probs = sigmoid(self.logits)
        self.batch_shape = tuple(self.probs.shape)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        """1 where p > 1/2, 0 where p < 1/2, nan (no single mode) where p = 1/2."""
        p = self.probs.detach()
        return where(p == 0.5, math.nan, (p > 0.5).to(p.dtype))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        shape = _shape(sample_shape) + self.batch_shape
        with no_grad():
            return bernoulli(broadcast_to(self.probs.detach(), shape))

    def log_prob(self, value) -> Tensor:
        value = self._checked(value, self.probs)
        logits = broadcast_to(self.logits, tuple((self.logits._data + value._data).shape))
        return -binary_cross_entropy_with_logits(logits, broadcast_to(value, logits.shape),
                                                 reduction="none")

    def entropy(self) -> Tensor:
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """[0, 1] as a (2,) + (1,) * len(batch_shape) tensor, expanded over the batch."""
        values = arange(2, dtype=self.probs.dtype).reshape((2,) + (1,) * len(self.batch_shape))
        return values.expand(2, *self.batch_shape) if expand else values


class Categorical(Distribution):
    """One of C categories (the last dimension of ``probs`` or ``logits``); the logits are
    normalized, so log p(k) = logits[k]; entropy -sum p log p."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        self._validation(validate_args)
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: pass exactly one of probs or logits")
        if probs is not None:
            probs = _tensor(probs)
            probs = probs / probs.sum(-1, keepdim=True)
            with _quiet(array_module(probs._data), divide="ignore"):  # p = 0: logit -inf
                self.probs, self.logits = probs, log(probs)
        else:
            logits = _tensor(logits)
            self.logits = logits - logsumexp(logits, -1, keepdim=True)
            self.probs = softmax(logits, -1)
        self.batch_shape = tuple(self.probs.shape[:-1])

    @property
    def support(self):
        return constraints.integer_interval(0, self.probs.shape[-1] - 1)

    @property
    def mode(self) -> Tensor:
        return self.probs.detach().argmax(-1)

    @property
    def mean(self) -> Tensor:
        """nan: the categories are labels, not numbers (as torch)."""
        return full(self.batch_shape, math.nan, dtype=self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return full(self.batch_shape, math.nan, dtype=self.probs.dtype)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """0..C-1 (int64) as a (C,) + (1,) * len(batch_shape) tensor, expanded over the batch."""
        c = self.probs.shape[-1]
        values = arange(c).reshape((c,) + (1,) * len(self.batch_shape))
        return values.expand(c, *self.batch_shape) if expand else values

    def sample(self, sample_shape=()) -> Tensor:
        n = math.prod(_shape(sample_shape))
        c = self.probs.shape[-1]
        with no_grad():
            draws = multinomial(self.probs.detach().reshape(-1, c), max(n, 1), True)
        return draws.T.reshape(_shape(sample_shape) + self.batch_shape)

    def log_prob(self, value) -> Tensor:
        value = self._checked(value).long()
        shape = tuple((value._data[..., None] + self.logits._data[..., :1]).shape[:-1])
        logits = broadcast_to(self.logits, shape + (self.logits.shape[-1],))
        return gather(logits, -1, broadcast_to(value, shape)[..., None])[..., 0]

    def entropy(self) -> Tensor:
        p_log_p = where(self.probs > 0, self.probs * self.logits, 0.0)
        return -p_log_p.sum(-1)
