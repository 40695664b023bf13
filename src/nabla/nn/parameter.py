"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""

from nabla.creation import empty
from nabla.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered when assigned to a Module attribute.

    Shares memory with ``data``: ``Parameter(t)`` does not copy ``t``.

    Args:
        data: the initial values (a Tensor or anything ``nabla.tensor`` accepts); an empty
            tensor when None.
        requires_grad: whether the optimizer should see gradients for it (default True).
    """

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        super().__init__(empty(0) if data is None else data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        # copy.deepcopy and pickle: rebuild from a copy of the array, keep requires_grad
        return (_rebuild_parameter, (self._data, self._requires_grad, self.grad))


def _rebuild_parameter(data, requires_grad: bool, grad) -> Parameter:
    p = Parameter(Tensor._make(data), requires_grad)
    p.grad = grad
    return p
