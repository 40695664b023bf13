"""PyTorch's ``out=`` argument (``torch.matmul(a, b, out=c)``): the result written into a given
tensor. The write is not recorded in the graph, so, as in PyTorch, it refuses arguments that
need a gradient while grad mode is on."""

import warnings

from nabla.autograd.grad_mode import is_grad_enabled
from nabla.dtype import can_cast
from nabla.tensor import Tensor

__all__ = []  # a helper of the public functions, not a public name


def write_out(op: str, result: Tensor, out) -> Tensor:
    """Write ``result`` into ``out`` and return ``out``.

    ``out`` keeps its dtype (the result is cast, if PyTorch's casting rules allow it) and takes
    the result's shape: resized, with a warning if it held elements of another shape.

    Args:
        op: the public function's name, for the errors.
        result: the computed result, of any shape.
        out: the tensor to write into.

    Returns:
        ``out``, holding the result.
    """
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be a Tensor, not {type(out).__name__}")
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad; call it without out= (c = a @ b), or "
            "under nabla.no_grad()")
    if not can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"{op}(): the result type {result.dtype} can't be cast to out's dtype "
                           f"{out.dtype}; pass an out tensor of dtype {result.dtype}")
    if tuple(out.shape) != tuple(result.shape):
        if out.numel():
            warnings.warn(f"{op}(): out of shape {tuple(out.shape)} was resized to the result's "
                          f"shape {tuple(result.shape)}; resize it to zero elements first "
                          "(out.resize_(0)) to reuse it without this warning", UserWarning,
                          stacklevel=3)
        out.resize_(result.shape)
    return out.copy_(result.detach())
