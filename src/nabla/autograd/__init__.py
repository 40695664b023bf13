"""Reverse-mode automatic differentiation: the graph node (Function), the backward walk
(engine), grad modes, gradient checking, and derivatives of whole functions (functional:
jacobian, hessian, vjp, jvp, vhp, hvp)."""

# ruff: noqa: I001 - the order matters: grad_mode, then the tensor (which pulls in the ops and
# this package's function module), then the engine that needs both.
from nabla.autograd.grad_mode import enable_grad, no_grad, set_grad_enabled
from nabla.tensor import Tensor  # noqa: F401
from nabla.autograd.engine import backward, grad
from nabla.autograd.function import Function
from nabla.autograd.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from nabla.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from nabla.autograd import functional  # noqa: F401

__all__ = ["Function", "backward", "grad", "gradcheck", "gradgradcheck", "GradcheckError",
           "no_grad", "enable_grad", "set_grad_enabled", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled"]
