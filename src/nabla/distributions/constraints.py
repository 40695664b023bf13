"""Constraints: the sets a parameter or a value must lie in, as torch.distributions.constraints.

``check(value)`` returns a bool tensor of the value's shape less the constraint's ``event_dim``
rightmost dimensions (a simplex is checked per vector, a matrix constraint per matrix). A
family names its parameters' sets in ``arg_constraints`` and its values' set in ``support``; the
transforms of transforms.py map between sets (``domain`` -> ``codomain``), and ``biject_to``
(transformed.py) finds the map from the real numbers onto a set.
Checks work on the raw arrays: they record nothing and have no gradient.
"""

from nabla.backend import array_module
from nabla.ops.reduce import _quiet
from nabla.tensor import Tensor

__all__ = ["Constraint", "dependent", "is_dependent", "boolean", "one_hot", "nonnegative_integer",
           "positive_integer", "integer_interval", "real", "real_vector", "positive",
           "nonnegative", "greater_than", "greater_than_eq", "less_than", "multinomial",
           "unit_interval", "interval", "half_open_interval", "simplex", "lower_triangular",
           "lower_cholesky", "square", "symmetric", "positive_semidefinite",
           "positive_definite", "independent"]


def _data(x):
    """The raw array (or number) behind a tensor, a bound or a value."""
    return x._data if isinstance(x, Tensor) else x


class Constraint:
    """A set of values: ``check(value)`` says which values (per event of ``event_dim``
    dimensions) lie in it; ``is_discrete`` marks sets of integers."""

    is_discrete = False
    event_dim = 0

    def check(self, value) -> Tensor:
        x = value._data if isinstance(value, Tensor) else Tensor(value)._data
        with _quiet(array_module(x), invalid="ignore"):  # inf % 1, inf - inf: nan, refused
            return Tensor(self._check(x))

    def _check(self, x):
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__[1:] + "()"


class _Bounded(Constraint):
    """A constraint with bounds (numbers or tensors), printed with them."""

    _names: tuple = ()

    def __init__(self, *bounds) -> None:
        for name, bound in zip(self._names, bounds, strict=True):
            setattr(self, name, bound)

    def _bounds(self) -> tuple:
        return tuple(_data(getattr(self, name)) for name in self._names)

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={_short(getattr(self, n))}" for n in self._names)
        return f"{type(self).__name__[1:]}({args})"


def _short(bound) -> str:
    """A bound for a message: a number as itself, a tensor by its shape and range."""
    if not isinstance(bound, Tensor):
        return str(bound)
    data = bound._data
    if data.size == 1:
        return str(data.item())
    return f"tensor of shape {tuple(data.shape)} in [{data.min()}, {data.max()}]"


class _Dependent(Constraint):
    """A placeholder for a parameter whose set depends on others (Uniform's low and high):
    never checked."""

    def check(self, value) -> Tensor:
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint) -> bool:
    return isinstance(constraint, _Dependent)


class _Boolean(Constraint):
    is_discrete = True

    def _check(self, x):
        return (x == 0) | (x == 1)


class _OneHot(Constraint):
    is_discrete, event_dim = True, 1

    def _check(self, x):
        return ((x == 0) | (x == 1)).all(-1) & (x.sum(-1) == 1)


class _IntegerInterval(_Bounded):
    """Integers in [lower_bound, upper_bound]."""

    is_discrete, _names = True, ("lower_bound", "upper_bound")

    def _check(self, x):
        low, high = self._bounds()
        return (x % 1 == 0) & (low <= x) & (x <= high)


class _IntegerGreaterThan(_Bounded):
    """Integers in [lower_bound, inf)."""

    is_discrete, _names = True, ("lower_bound",)

    def _check(self, x):
        return (x % 1 == 0) & (x >= self._bounds()[0])


class _Real(Constraint):
    """The extended real line [-inf, inf]: everything but nan."""

    def _check(self, x):
        return x == x


class _GreaterThan(_Bounded):
    """(lower_bound, inf]."""

    _names = ("lower_bound",)

    def _check(self, x):
        return self._bounds()[0] < x


class _GreaterThanEq(_Bounded):
    """[lower_bound, inf)."""

    _names = ("lower_bound",)

    def _check(self, x):
        return self._bounds()[0] <= x


class _LessThan(_Bounded):
    """[-inf, upper_bound)."""

    _names = ("upper_bound",)

    def _check(self, x):
        return x < self._bounds()[0]


class _Interval(_Bounded):
    """[lower_bound, upper_bound] (closed, as torch's)."""

    _names = ("lower_bound", "upper_bound")

    def _check(self, x):
        low, high = self._bounds()
        return (low <= x) & (x <= high)


class _HalfOpenInterval(_Interval):
    """[lower_bound, upper_bound)."""

    def _check(self, x):
        low, high = self._bounds()
        return (low <= x) & (x < high)


class _Simplex(Constraint):
    """Vectors with x >= 0 and |sum x - 1| < 1e-6."""

    event_dim = 1

    def _check(self, x):
        return (x >= 0).all(-1) & (abs(x.sum(-1) - 1) < 1e-6)


class _Multinomial(_Bounded):
    """Count vectors: x >= 0 and sum x <= upper_bound (torch's weaker form of = total)."""

    is_discrete, event_dim, _names = True, 1, ("upper_bound",)

    def _check(self, x):
        return (x >= 0).all(-1) & (x.sum(-1) <= self._bounds()[0])


class _LowerTriangular(Constraint):
    event_dim = 2

    def _check(self, x):
        xp = array_module(x)
        return (xp.tril(x) == x).all((-2, -1))


class _LowerCholesky(_LowerTriangular):
    """Lower-triangular with a positive diagonal."""

    def _check(self, x):
        xp = array_module(x)
        return super()._check(x) & (xp.diagonal(x, 0, -2, -1) > 0).all(-1)


class _Square(Constraint):
    event_dim = 2

    def _check(self, x):
        xp = array_module(x)
        return xp.full(x.shape[:-2], x.shape[-2] == x.shape[-1], dtype=bool)


class _Symmetric(_Square):
    """Square and equal to its transpose within torch's isclose(atol=1e-6)."""

    def _check(self, x):
        square = super()._check(x)
        if not square.all():
            return square
        xp = array_module(x)
        return xp.isclose(x, x.swapaxes(-1, -2), atol=1e-6).all((-2, -1))


class _PositiveSemidefinite(_Symmetric):
    def _check(self, x):
        symmetric = super()._check(x)
        if not symmetric.all():
            return symmetric
        return (array_module(x).linalg.eigvalsh(x) >= 0).all(-1)


class _PositiveDefinite(_Symmetric):
    """Symmetric with positive eigenvalues (torch asks whether the Cholesky factorization
    succeeds: the same set)."""

    def _check(self, x):
        symmetric = super()._check(x)
        if not symmetric.all():
            return symmetric
        return (array_module(x).linalg.eigvalsh(x) > 0).all(-1)


class _IndependentConstraint(Constraint):
    """``base_constraint`` with its rightmost ``reinterpreted_batch_ndims`` dimensions read as
    event dimensions: a value passes where every element of the event passes."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = int(reinterpreted_batch_ndims)

    @property
    def is_discrete(self) -> bool:
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def _check(self, x):
        result = self.base_constraint._check(x)
        n = self.reinterpreted_batch_ndims
        if result.ndim < n:
            raise ValueError(f"independent: expected {self.event_dim} event dimensions, got a "
                             f"value of shape {tuple(x.shape)}")
        return result.all(tuple(range(-n, 0))) if n else result

    def __repr__(self) -> str:
        return (f"IndependentConstraint({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


dependent = _Dependent()
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
