"""Reverse-mode automatic differentiation: the graph node (Function), the backward walk
(engine), grad modes, and gradient checking."""

from nabla.autograd.grad_mode import enable_grad, no_grad, set_grad_enabled
from nabla.tensor import Tensor  # noqa: F401  (imports the core in the right order)
from nabla.autograd.engine import backward, grad
from nabla.autograd.function import Function
from nabla.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["Function", "backward", "grad", "gradcheck", "gradgradcheck", "GradcheckError",
           "no_grad", "enable_grad", "set_grad_enabled"]
