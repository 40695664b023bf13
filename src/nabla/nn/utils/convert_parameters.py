"""Flatten parameters into one vector and back, as ``torch.nn.utils`` (used by second-order
methods, evolution strategies and weight averaging)."""

from nabla.autograd.grad_mode import no_grad
from nabla.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate the flattened ``parameters`` into one 1-D tensor (differentiable: the
    gradient flows back to each parameter).

    Args:
        parameters: an iterable of tensors (e.g. ``model.parameters()``).

    Returns:
        A tensor of shape (total number of elements,).
    """
    from nabla.ops import cat

    vec = [p.reshape(-1) for p in parameters]
    if not vec:
        raise RuntimeError("parameters_to_vector: got no parameters (an empty iterable; note "
                           "that model.parameters() is a generator and can be used only once)")
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of ``vec`` into ``parameters``, in place and without recording
    a graph (each parameter's version counter moves, as any in-place write).

    Args:
        vec: a 1-D tensor with at least as many elements as all parameters together.
        parameters: an iterable of tensors, filled in order.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {tuple(vec.shape)}")
    parameters = list(parameters)
    needed = sum(p.numel() for p in parameters)
    if vec.shape[0] < needed:
        raise ValueError(f"vector_to_parameters: vec has {vec.shape[0]} elements but the "
                         f"parameters need {needed}")
    data = vec._data
    pointer = 0
    with no_grad():
        for param in parameters:
            n = param.numel()
            param.copy_(data[pointer:pointer + n].reshape(param.shape))
            pointer += n
