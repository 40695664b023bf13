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

__all__ = ["TransformedDistribution", "ConstraintRegistry", "biject_to", "transform_to"]


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


class ConstraintRegistry:
    """Constraint type -> a factory of the Transform from the reals onto that set, as torch's:
    ``register(constraint, factory)`` (or as a decorator) adds a type, calling looks one up."""

    def __init__(self) -> None:
        self._registry: dict = {}

    def register(self, constraint, factory=None):
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not (isinstance(constraint, type) and issubclass(constraint, constraints.Constraint)):
            raise TypeError("register: expected a Constraint or its type, got "
                            f"{constraint!r}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint) -> Transform:
        factory = self._registry.get(type(constraint))
        if factory is None:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__[1:]} "
                                      "constraints")
        return factory(constraint)


biject_to = ConstraintRegistry()  # bijections (log-det defined): for HMC-style reparameterizing
transform_to = ConstraintRegistry()  # onto the set, not necessarily one-to-one: for optimizing


def _number(x, value) -> bool:
    return not isinstance(x, Tensor) and x == value


def _to_real(constraint) -> Transform:
    return identity_transform


def _to_half_line(constraint) -> Transform:
    """exp for (0, inf); shifted (and for an upper bound, flipped) exp for other half-lines."""
    if isinstance(constraint, constraints._LessThan):
        return ComposeTransform([ExpTransform(), AffineTransform(constraint.upper_bound, -1)])
    if _number(constraint.lower_bound, 0):
        return ExpTransform()
    return ComposeTransform([ExpTransform(), AffineTransform(constraint.lower_bound, 1)])


def _to_interval(constraint) -> Transform:
    """sigmoid for [0, 1]; a scaled and shifted sigmoid for other intervals."""
    low, high = constraint.lower_bound, constraint.upper_bound
    if _number(low, 0) and _number(high, 1):
        return SigmoidTransform()
    return ComposeTransform([SigmoidTransform(), AffineTransform(low, high - low)])


def _independent(registry):
    def factory(constraint) -> Transform:
        return IndependentTransform(registry(constraint.base_constraint),
                                    constraint.reinterpreted_batch_ndims)
    return factory


for _registry in (biject_to, transform_to):
    _registry.register(constraints._Real, _to_real)
    for _kind in (constraints._GreaterThan, constraints._GreaterThanEq, constraints._LessThan):
        _registry.register(_kind, _to_half_line)
    for _kind in (constraints._Interval, constraints._HalfOpenInterval):
        _registry.register(_kind, _to_interval)
    _registry.register(constraints._IndependentConstraint, _independent(_registry))
biject_to.register(constraints._Simplex, lambda c: StickBreakingTransform())
transform_to.register(constraints._Simplex, lambda c: SoftmaxTransform())
transform_to.register(constraints._LowerCholesky, lambda c: LowerCholeskyTransform())
