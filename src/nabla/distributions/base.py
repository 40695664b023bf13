"""The base of every distribution and the helpers they share."""

from nabla.autograd.grad_mode import no_grad
from nabla.ops import broadcast_to
from nabla.tensor import Tensor


def _tensor(value, like: Tensor | None = None) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor(value) if like is None else Tensor(like._data.dtype.type(value))


def _shape(shape) -> tuple:
    return (shape,) if isinstance(shape, int) else tuple(shape)


class Distribution:
    """Base: ``batch_shape``, and ``sample`` as ``rsample`` without gradient."""

    batch_shape: tuple = ()

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
