"""MixtureSameFamily: a mixture of k components of one family, as
torch.distributions.MixtureSameFamily (the Gaussian mixture model of density estimation)."""

from nabla.autograd.grad_mode import no_grad
from nabla.backend import array_module
from nabla.distributions import constraints
from nabla.distributions.base import Distribution
from nabla.distributions.basic import Categorical
from nabla.ops import log_softmax, logsumexp
from nabla.tensor import Tensor

__all__ = ["MixtureSameFamily"]


class _MixtureSupport(constraints.Constraint):
    """A value lies in a mixture's support when it lies in every component's."""

    def __init__(self, base: constraints.Constraint) -> None:
        self.base_constraint = base
        self.event_dim, self.is_discrete = base.event_dim, base.is_discrete

    def _check(self, x):
        xp = array_module(x)
        return self.base_constraint._check(xp.expand_dims(x, -1 - self.event_dim)).all(-1)

    def __repr__(self) -> str:
        return f"MixtureSameFamilyConstraint({self.base_constraint!r})"


class MixtureSameFamily(Distribution):
    """p(x) = sum_j pi_j p_j(x): the mixing weights pi come from a Categorical over the last
    batch dimension (k) of ``component_distribution``; log p(x) = logsumexp_j(log pi_j
    + log p_j(x)); mean sum pi_j mu_j; variance sum pi_j var_j + sum pi_j (mu_j - mean)^2
    (the law of total variance); cdf sum pi_j F_j(x). Draws pick a component, then its draw."""

    arg_constraints: dict = {}

    def __init__(self, mixture_distribution: Categorical, component_distribution: Distribution,
                 validate_args=None) -> None:
        self._validation(validate_args)
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("MixtureSameFamily: mixture_distribution must be a Categorical, "
                             f"got {type(mixture_distribution).__name__}")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("MixtureSameFamily: component_distribution must be a Distribution, "
                             f"got {type(component_distribution).__name__}")
        mdbs = tuple(mixture_distribution.batch_shape)
        cbs = tuple(component_distribution.batch_shape)
        if not cbs:
            raise ValueError("MixtureSameFamily: component_distribution needs a batch dimension "
                             "of k components (the rightmost), got batch_shape ()")
        for m, c in zip(reversed(mdbs), reversed(cbs[:-1])):
            if m != 1 and c != 1 and m != c:
                raise ValueError(f"MixtureSameFamily: mixture_distribution.batch_shape {mdbs} "
                                 "does not broadcast with component_distribution.batch_shape"
                                 f"[:-1] {cbs[:-1]}")
        km, kc = mixture_distribution.probs.shape[-1], cbs[-1]
        if km != kc:
            raise ValueError(f"MixtureSameFamily: the mixture has {km} components but "
                             f"component_distribution has {kc} (its last batch dimension)")
        self.mixture_distribution = mixture_distribution
        self.component_distribution = component_distribution
        self._event_ndims = len(component_distribution.event_shape)
        self.batch_shape = cbs[:-1]
        self.event_shape = tuple(component_distribution.event_shape)

    @property
    def has_rsample(self) -> bool:
        return False

    @property
    def support(self):
        return _MixtureSupport(self.component_distribution.support)

    def expand(self, batch_shape, _instance=None) -> "MixtureSameFamily":
        batch_shape = tuple(batch_shape)
        k = self.component_distribution.batch_shape[-1]
        return MixtureSameFamily(self.mixture_distribution.expand(batch_shape),
                                 self.component_distribution.expand(batch_shape + (k,)),
                                 validate_args=self._validate_args)

    def _pad(self, x: Tensor) -> Tensor:
        """x with a component dimension, before the event dimensions."""
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture(self, x: Tensor) -> Tensor:
        """Mixing weights (*, k) shaped to multiply the components' (batch, k, event) values."""
        pad = 0 if len(self.mixture_distribution.batch_shape) == 1 else \
            len(self.batch_shape) - len(self.mixture_distribution.batch_shape)
        shape = tuple(x.shape)
        return x.reshape(shape[:-1] + (1,) * pad + shape[-1:] + (1,) * self._event_ndims)

    @property
    def mean(self) -> Tensor:
        probs = self._pad_mixture(self.mixture_distribution.probs)
        return (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        probs = self._pad_mixture(self.mixture_distribution.probs)
        dim = -1 - self._event_ndims
        within = (probs * self.component_distribution.variance).sum(dim)
        between = (probs * (self.component_distribution.mean - self._pad(self.mean)) ** 2)
        return within + between.sum(dim)

    def log_prob(self, value) -> Tensor:
        x = self._pad(self._checked(value))
        log_prob_x = self.component_distribution.log_prob(x)  # (*, batch, k)
        log_mix = log_softmax(self.mixture_distribution.logits, -1)
        return logsumexp(log_prob_x + log_mix, -1)

    def cdf(self, value) -> Tensor:
        x = self._pad(self._checked(value))
        return (self.component_distribution.cdf(x) * self.mixture_distribution.probs).sum(-1)

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            draws = self.component_distribution.sample(sample_shape)._data  # (*, batch, k, E)
            xp = array_module(draws)
            which = self.mixture_distribution.sample(sample_shape)._data
            which = xp.broadcast_to(which, draws.shape[:draws.ndim - 1 - self._event_ndims])
            index = which.reshape(which.shape + (1,) * (self._event_ndims + 1))
            index = xp.broadcast_to(index, which.shape + (1,) + tuple(self.event_shape))
            axis = len(which.shape)
            return Tensor(xp.take_along_axis(draws, index, axis).squeeze(axis))
