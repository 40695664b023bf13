"""The base of every distribution and the helpers they share."""

import warnings

from nabla.autograd.grad_mode import no_grad
from nabla.ops import broadcast_to, exp, sqrt
from nabla.tensor import Tensor


def _tensor(value, like: Tensor | None = None) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor(value) if like is None else Tensor(like._data.dtype.type(value))


def _shape(shape) -> tuple:
    return (shape,) if isinstance(shape, int) else tuple(shape)


class Distribution:
    """Base: ``batch_shape`` (independent, differently parameterized draws) and ``event_shape``
    (the shape of one draw: () for a scalar family, (k,) for a vector); ``sample`` is
    ``rsample`` without gradient.

    ``arg_constraints`` names each parameter's set and ``support`` the values' set
    (constraints.py). As in torch, log_prob and cdf check that a value lies in the support
    unless validation is off, per instance (``validate_args=False``) or for instances made
    afterwards (``Distribution.set_default_validate_args(False)``); unchecked, a value outside
    gets what the formula gives there (-inf for the families that define it, else nan or a
    meaningless number, as torch).
    """

    batch_shape: tuple = ()
    event_shape: tuple = ()
    has_rsample: bool = False
    has_enumerate_support: bool = False
    arg_constraints: dict = {}
    _validate_args: bool = True  # the class-wide default, set_default_validate_args's
    _shared: tuple = ()  # attributes that expand keeps as they are (not batch-shaped)

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn value validation on (torch's default) or off for distributions made later."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def _validation(self, validate_args) -> None:
        """Record the instance's choice (None: the default at construction, as torch)."""
        if validate_args is not None:
            self._validate_args = bool(validate_args)
        else:
            self._validate_args = Distribution._validate_args

    @property
    def support(self):
        raise NotImplementedError(f"{type(self).__name__} does not define its support")

    def _validate_sample(self, value) -> None:
        """torch's check of a scored value: its rightmost dimensions broadcast with
        batch_shape + event_shape, and every element lies in the support."""
        shape, event = tuple(value.shape), tuple(self.event_shape)
        name = type(self).__name__
        if event and shape[len(shape) - len(event):] != event:
            raise ValueError(f"{name}: the right-most size of value must match event_shape: "
                             f"{shape} vs {event}")
        expected = tuple(self.batch_shape) + event
        for i, j in zip(reversed(shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"{name}: value is not broadcastable with batch_shape + "
                                 f"event_shape: {shape} vs {expected}")
        try:
            support = self.support
        except NotImplementedError:  # as torch: warn, and score the value unchecked
            warnings.warn(f"{name} does not define its support, so its values are not "
                          "validated; pass validate_args=False to silence this", stacklevel=3)
            return
        valid = support.check(value)._data
        if not bool(valid.all()):
            first = value._data[~valid][0]  # the leading (batch) dimensions index the events
            raise ValueError(f"{name}: value (shape {shape}) must lie in the support "
                             f"{support!r}; found {int((~valid).sum())} outside it, the first "
                             f"{first}; pass validate_args=False for the unvalidated result "
                             "(as torch)")

    def _checked(self, value, like: Tensor | None = None) -> Tensor:
        """The value as a tensor (of ``like``'s dtype for a number), validated if asked."""
        value = _tensor(value, like)
        if self._validate_args:
            self._validate_sample(value)
        return value

    def expand(self, batch_shape, _instance=None) -> "Distribution":
        """A new instance with batch_shape ``batch_shape``: every parameter broadcast (a view, no
        copy; nothing re-checked). A parameter shaped batch_shape + tail becomes new batch_shape
        + tail; a component distribution is expanded likewise; others are shared."""
        batch_shape = _shape(batch_shape)
        new = object.__new__(type(self)) if _instance is None else _instance
        old = tuple(self.batch_shape)
        for key, item in vars(self).items():
            if key in self._shared:
                pass
            elif isinstance(item, Tensor) and tuple(item.shape[:len(old)]) == old:
                item = item.expand(*batch_shape, *item.shape[len(old):])
            elif isinstance(item, Distribution):
                item = item.expand(batch_shape + tuple(item.batch_shape)[len(old):])
            setattr(new, key, item)
        new.batch_shape = batch_shape
        return new

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no finite support to enumerate")

    def perplexity(self) -> Tensor:
        """exp(entropy)."""
        return exp(self.entropy())

    def sample_n(self, n: int) -> Tensor:
        """sample((n,)); deprecated in torch, kept for old scripts."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample((n,))

    def _extended_shape(self, sample_shape=()) -> tuple:
        """sample_shape + batch_shape + event_shape: the shape of ``sample(sample_shape)``."""
        return _shape(sample_shape) + tuple(self.batch_shape) + tuple(self.event_shape)

    def _missing(self, what: str):
        return NotImplementedError(f"{type(self).__name__} has no {what}")

    @property
    def mean(self) -> Tensor:
        raise self._missing("mean")

    @property
    def mode(self) -> Tensor:
        raise self._missing("mode")

    @property
    def variance(self) -> Tensor:
        raise self._missing("variance")

    @property
    def stddev(self) -> Tensor:
        return sqrt(self.variance)

    def log_prob(self, value) -> Tensor:
        raise self._missing("log_prob")

    def cdf(self, value) -> Tensor:
        raise self._missing("cdf")

    def icdf(self, value) -> Tensor:
        raise self._missing("icdf")

    def entropy(self) -> Tensor:
        raise self._missing("entropy")

    def __repr__(self) -> str:
        """torch's form: the parameters given, each by its value (one element) or shape."""
        parts = []
        for name in self.arg_constraints:
            value = vars(self).get(name)
            if isinstance(value, Tensor):
                shown = value._data.item() if value._data.size == 1 else tuple(value.shape)
                parts.append(f"{name}: {shown}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampling; "
                                  "use sample()")

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            return self.rsample(sample_shape).detach()


def _broadcast(*values) -> tuple:
    """The parameters as tensors of one dtype (the first tensor's), broadcast to one shape."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    tensors = [_tensor(v, like) for v in values]
    shape = tuple(sum(t._data for t in tensors).shape)
    return tuple(broadcast_to(t, shape) for t in tensors)


def _positive(name: str, what: str, t: Tensor) -> None:
    if (t._data <= 0).any():
        raise ValueError(f"{name}: {what} must be positive, got a minimum of "
                         f"{float(t._data.min())}")


def _sum_rightmost(x: Tensor, n: int) -> Tensor:
    """x summed over its last n dimensions (x itself when n = 0)."""
    return x.sum(tuple(range(-n, 0))) if n > 0 else x
