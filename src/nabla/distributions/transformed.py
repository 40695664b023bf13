"""TransformedDistribution: the law of y = f_n(...f_1(x)) with x from a base distribution, as
torch.distributions.TransformedDistribution, and ``biject_to`` / ``transform_to``: the map from
unconstrained reals onto a constraint's set (for optimizing a constrained parameter)."""

from nabla.distributions import constraints
from nabla.distributions.base import Distribution, _sum_rightmost
from nabla.distributions.multivariate import Independent
from nabla.distributions.transform_base import (
    ComposeTransform,
    IndependentTransform,
    Transform,
    identity_transform,
)
from nabla.distributions.transforms import (
    AffineTransform,
    ExpTransform,
    LowerCholeskyTransform,
    SigmoidTransform,
    SoftmaxTransform,
    StickBreakingTransform,
)
from nabla.tensor import Tensor

__all__ = ["TransformedDistribution", "biject_to", "transform_to"]


class TransformedDistribution(Distribution):
    """y = f(x), x ~ base, f = the transforms in order: log p(y) = log p_base(f^{-1}(y))
    - sum_i log |det J_{f_i}| (each summed over the event dimensions); rsample pushes the base's
    rsample through f; cdf/icdf go through the base's where f is monotone."""

    arg_constraints: dict = {}

    def __init__(self, base_distribution: Distribution, transforms,
                 validate_args=None) -> None:
        self._validation(validate_args)
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif not (isinstance(transforms, (list, tuple))
                  and all(isinstance(t, Transform) for t in transforms)):
            raise ValueError("TransformedDistribution: transforms must be a Transform or a list "
                             f"of Transforms, got {transforms!r}")
        self.transforms = list(transforms)
        transform = ComposeTransform(self.transforms)
        base_shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        base_event_dim = len(base_distribution.event_shape)
        domain_dim, codomain_dim = transform.domain.event_dim, transform.codomain.event_dim
        if len(base_shape) < domain_dim:
            raise ValueError(f"TransformedDistribution: the base distribution needs at least "
                             f"{domain_dim} dimensions for these transforms, got shape "
                             f"{base_shape}")
        shape = transform.forward_shape(base_shape)
        expanded = transform.inverse_shape(shape)
        if expanded != base_shape:  # a transform's parameters broadcast the batch
            base_distribution = base_distribution.expand(
                expanded[:len(expanded) - base_event_dim])
        if domain_dim > base_event_dim:
            base_distribution = Independent(base_distribution, domain_dim - base_event_dim)
        self.base_dist = base_distribution
        event_dim = max(codomain_dim, base_event_dim + codomain_dim - domain_dim)
        self.batch_shape = tuple(shape[:len(shape) - event_dim])
        self.event_shape = tuple(shape[len(shape) - event_dim:])

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def support(self):
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        extra = len(self.event_shape) - support.event_dim
        return constraints.independent(support, extra) if extra > 0 else support

    def rsample(self, sample_shape=()) -> Tensor:
        x = self.base_dist.rsample(sample_shape)
        for transform in self.transforms:
            x = transform(x)
        return x

    def sample(self, sample_shape=()) -> Tensor:
        x = self.base_dist.sample(sample_shape)
        for transform in self.transforms:
            x = transform(x)
        return x.detach()

    def log_prob(self, value) -> Tensor:
        y = self._checked(value)
        event_dim, log_prob = len(self.event_shape), 0.0
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            event_dim += transform.domain.event_dim - transform.codomain.event_dim
            log_det = transform.log_abs_det_jacobian(x, y)
            log_prob = log_prob - _sum_rightmost(log_det, event_dim - transform.domain.event_dim)
            y = x
        base = self.base_dist.log_prob(y)
        return log_prob + _sum_rightmost(base, event_dim - len(self.base_dist.event_shape))

    def _monotonize_cdf(self, value: Tensor) -> Tensor:
        """The base's cdf is this one's where f increases, 1 minus it where f decreases."""
        sign = 1
        for transform in self.transforms:
            sign = sign * transform.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value) -> Tensor:
        value = self._checked(value)
        for transform in reversed(self.transforms):
            value = transform.inv(value)
        if self._validate_args:
            self.base_dist._validate_sample(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value) -> Tensor:
        value = self.base_dist.icdf(self._monotonize_cdf(value))
        for transform in self.transforms:
            value = transform(value)
        return value


def biject_to(constraint) -> Transform:
    """A bijection from the reals (or real vectors) onto ``constraint``'s set: exp for
    positive, an affine exp for half-lines, an affine sigmoid for intervals, stick-breaking for
    the simplex, the identity for the reals; per element under ``independent``."""
    if isinstance(constraint, constraints._IndependentConstraint):
        return IndependentTransform(biject_to(constraint.base_constraint),
                                    constraint.reinterpreted_batch_ndims)
    if constraint is constraints.simplex:
        return StickBreakingTransform()
    return _elementwise(constraint, "biject_to")


def transform_to(constraint) -> Transform:
    """A map from the reals onto ``constraint``'s set, not necessarily one-to-one: as biject_to,
    but softmax for the simplex and exp-diagonal for lower Cholesky factors."""
    if isinstance(constraint, constraints._IndependentConstraint):
        return IndependentTransform(transform_to(constraint.base_constraint),
                                    constraint.reinterpreted_batch_ndims)
    if constraint is constraints.simplex:
        return SoftmaxTransform()
    if constraint is constraints.lower_cholesky:
        return LowerCholeskyTransform()
    return _elementwise(constraint, "transform_to")


def _elementwise(constraint, name: str) -> Transform:
    """The scalar constraints' maps, shared by biject_to and transform_to (as torch's)."""
    if isinstance(constraint, constraints._Real):
        return identity_transform
    if isinstance(constraint, (constraints._GreaterThan, constraints._GreaterThanEq)):
        if constraint.lower_bound is constraints.positive.lower_bound or (
                not isinstance(constraint.lower_bound, Tensor) and constraint.lower_bound == 0):
            return ExpTransform()
        return ComposeTransform([ExpTransform(), AffineTransform(constraint.lower_bound, 1)])
    if isinstance(constraint, constraints._LessThan):
        return ComposeTransform([ExpTransform(), AffineTransform(constraint.upper_bound, -1)])
    if isinstance(constraint, constraints._Interval):  # closed or half-open
        low, high = constraint.lower_bound, constraint.upper_bound
        if not isinstance(low, Tensor) and not isinstance(high, Tensor) and (low, high) == (0, 1):
            return SigmoidTransform()
        return ComposeTransform([SigmoidTransform(), AffineTransform(low, high - low)])
    raise NotImplementedError(f"{name}: no transform onto {constraint!r}")
