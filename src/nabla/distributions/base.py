"""The base of every distribution and the helpers they share."""

from nabla.autograd.grad_mode import no_grad
from nabla.ops import broadcast_to, sqrt
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
    ``rsample`` without gradient."""

    batch_shape: tuple = ()
    event_shape: tuple = ()
    has_rsample: bool = False

    def _extended_shape(self, sample_shape=()) -> tuple:
        """sample_shape + batch_shape + event_shape: the shape of ``sample(sample_shape)``."""
        return _shape(sample_shape) + tuple(self.batch_shape) + tuple(self.event_shape)

    @property
    def stddev(self) -> Tensor:
        return sqrt(self.variance)

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
