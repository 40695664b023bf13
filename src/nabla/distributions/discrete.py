"""Counts and one-hot draws: Binomial, Geometric, Multinomial and OneHotCategorical, each given
by ``probs`` or ``logits`` (exactly one) as torch.distributions. ``sample`` only (draws are not
differentiable); log-probabilities and entropies are nabla ops, differentiable in the
parameters."""

import math

from nabla.autograd.grad_mode import no_grad
from nabla.backend import array_module
from nabla.creation import arange, eye
from nabla.distributions import constraints
from nabla.distributions.base import Distribution, _broadcast, _tensor
from nabla.distributions.basic import Categorical
from nabla.nn.functional import binary_cross_entropy_with_logits, one_hot
from nabla.ops import abs, clamp, clamp_min, exp, lgamma, log, log1p, sigmoid, where
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["Binomial", "Geometric", "Multinomial", "OneHotCategorical"]


def _binary(name: str, probs, logits, open_at_zero: bool = False) -> tuple:
    """(probs, logits) of a two-outcome parameter given as exactly one of them; probs are
    clamped by the dtype's eps before the log, as torch's probs_to_logits."""
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: pass exactly one of probs or logits, got "
                         f"{'both' if probs is not None else 'neither'}")
    if logits is not None:
        logits = _tensor(logits)
        return sigmoid(logits), logits
    probs = _tensor(probs)
    low = probs._data <= 0 if open_at_zero else probs._data < 0
    if (low | (probs._data > 1)).any():
        span = "(0, 1]" if open_at_zero else "[0, 1]"
        raise ValueError(f"{name}: probs must be in {span}, got values in "
                         f"[{float(probs._data.min())}, {float(probs._data.max())}]; pass "
                         "logits for unnormalized scores")
    eps = float(array_module(probs._data).finfo(probs._data.dtype).eps)
    p = clamp(probs, eps, 1 - eps)
    return probs, log(p) - log1p(-p)


def _count(name: str, total_count: Tensor) -> None:
    data = total_count._data
    if (data < 0).any() or (data != data.round()).any():
        raise ValueError(f"{name}: total_count must be a non-negative integer, got "
                         f"{data.ravel()[((data < 0) | (data != data.round())).ravel()][0]}")


def _softplus(x: Tensor) -> Tensor:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for any x."""
    return clamp_min(x, 0) + log1p(exp(-abs(x)))


class Binomial(Distribution):
    """Successes in total_count trials of probability p: log p(k) = k logits - n softplus(logits)
    + log C(n, k), with log C(n, k) = lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
    mean n p, variance n p (1 - p)."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None) -> None:
        self._validation(validate_args)
        probs, logits = _binary("Binomial", probs, logits)
        self.total_count, self.probs, self.logits = _broadcast(total_count, probs, logits)
        self.total_count = self.total_count.detach().to(self.probs.dtype)
        _count("Binomial", self.total_count)
        self.batch_shape = tuple(self.probs.shape)

    @property
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        n = self.total_count
        return where((n + 1) * self.probs >= n, n, ((n + 1) * self.probs).floor())

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        p, n = self.probs._data, self.total_count._data
        with no_grad():
            k = numpy_generator().binomial(n.astype("int64"), p, self._extended_shape(sample_shape))
            return Tensor(k.astype(p.dtype))

    def log_prob(self, value) -> Tensor:
        n, logits = self.total_count, self.logits
        k = self._checked(value, logits)
        log_binom = lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)
        return k * logits - n * _softplus(logits) + log_binom

    def entropy(self) -> Tensor:
        """-sum_k p(k) log p(k) over k = 0..n; n must be the same across the batch (torch's
        restriction)."""
        n = self.total_count._data
        if n.size and n.min() != n.max():
            raise NotImplementedError("Binomial.entropy: total_count must be the same for the "
                                      "whole batch (it sums over k = 0..total_count)")
        top = int(n.max()) if n.size else 0
        k = arange(top + 1, dtype=self.probs.dtype).reshape((-1,) + (1,) * len(self.batch_shape))
        log_p = self.log_prob(k)
        return -(exp(log_p) * log_p).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """0..n as a (n + 1,) + (1,) * len(batch_shape) tensor; n the same across the batch."""
        n = self.total_count._data
        if n.size and n.min() != n.max():
            raise NotImplementedError("Binomial.enumerate_support: total_count must be the same "
                                      "for the whole batch")
        top = int(n.max()) if n.size else 0
        values = arange(top + 1, dtype=self.probs.dtype)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand(top + 1, *self.batch_shape) if expand else values


class Geometric(Distribution):
    """Failures before the first success, k = 0, 1, ...: log p(k) = k log(1 - p) + log p;
    mean 1 / p - 1, variance (1 - p) / p^2, entropy BCE(logits, p) / p."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        self._validation(validate_args)
        self.probs, self.logits = _binary("Geometric", probs, logits, open_at_zero=True)
        self.batch_shape = tuple(self.probs.shape)

    @property
    def mean(self) -> Tensor:
        return 1 / self.probs - 1

    @property
    def mode(self) -> Tensor:
        return self.probs.detach() * 0

    @property
    def variance(self) -> Tensor:
        return (1 / self.probs - 1) / self.probs

    def sample(self, sample_shape=()) -> Tensor:
        p = self.probs._data
        with no_grad():
            k = numpy_generator().geometric(p, self._extended_shape(sample_shape)) - 1
            return Tensor(k.astype(p.dtype))

    def log_prob(self, value) -> Tensor:
        p = self.probs
        k = self._checked(value, p)
        # p = 1 and k = 0: 0 * log(1 - p) is 0 * -inf; log p(0) = log p = 0 wanted
        return k * log1p(-where((p == 1) & (k == 0), 0.0, p)) + log(p)

    def entropy(self) -> Tensor:
        return binary_cross_entropy_with_logits(self.logits, self.probs,
                                                reduction="none") / self.probs


class Multinomial(Distribution):
    """Counts x (*, K) of total_count draws from a Categorical: log p(x) = lgamma(n + 1)
    - sum lgamma(x_i + 1) + sum x_i log p_i; mean n p, variance n p (1 - p)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None) -> None:
        self._validation(validate_args)
        if not isinstance(total_count, int) or total_count < 0:
            raise ValueError("Multinomial: total_count must be a non-negative int, got "
                             f"{total_count!r}")
        if (probs is None) == (logits is None):
            raise ValueError("Multinomial: pass exactly one of probs or logits")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self.batch_shape = self._categorical.batch_shape
        self.event_shape = tuple(self._categorical.probs.shape[-1:])

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        p = self.probs._data
        pvals = p.astype("float64")
        pvals = pvals / pvals.sum(-1, keepdims=True)
        with no_grad():
            shape = self._extended_shape(sample_shape)[:-1]
            return Tensor(numpy_generator().multinomial(self.total_count, pvals, shape)
                          .astype(p.dtype))

    def log_prob(self, value) -> Tensor:
        logits = self.logits
        x = self._checked(value, logits)
        # a category with p = 0 counted 0 times contributes 0 (not 0 * -inf)
        powers = where(x == 0, 0.0, x * logits).sum(-1)
        return lgamma(x.sum(-1) + 1) - lgamma(x + 1).sum(-1) + powers

    def entropy(self) -> Tensor:
        """n H(Categorical) - lgamma(n + 1) + sum_i E[lgamma(x_i + 1)], x_i ~ Binomial(n, p_i)."""
        n = self.total_count
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        if n == 0:
            return term1
        support = arange(1, n + 1, dtype=self.probs.dtype)
        support = support.reshape((-1,) + (1,) * (len(self.batch_shape) + 1))
        binomial = Binomial(n, probs=self.probs)
        weights = exp(binomial.log_prob(support)) * lgamma(support + 1)
        return term1 + weights.sum((0, -1))


class OneHotCategorical(Distribution):
    """A Categorical whose draws are one-hot vectors (*, K): log p(x) = logits[argmax x];
    mean p, variance p (1 - p), entropy -sum p log p."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        self._validation(validate_args)
        if (probs is None) == (logits is None):
            raise ValueError("OneHotCategorical: pass exactly one of probs or logits")
        self._categorical = Categorical(probs=probs, logits=logits)
        self.batch_shape = self._categorical.batch_shape
        self.event_shape = tuple(self._categorical.probs.shape[-1:])

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        k = self.event_shape[0]
        return one_hot(self.probs.detach().argmax(-1), k).to(self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            index = self._categorical.sample(sample_shape)
            return one_hot(index, self.event_shape[0]).to(self.probs.dtype)

    def log_prob(self, value) -> Tensor:
        return self._categorical.log_prob(self._checked(value, self.probs).argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The K one-hot vectors as a (K,) + (1,) * len(batch_shape) + (K,) tensor."""
        k = self.event_shape[0]
        values = eye(k, dtype=self.probs.dtype).reshape((k,) + (1,) * len(self.batch_shape) + (k,))
        return values.expand(k, *self.batch_shape, k) if expand else values
