"""More activation functions (PyTorch's less common ones) and the in-place ``op_`` aliases.

All are derived from differentiable nabla ops (where, sigmoid, tanh, the Elu and LeakyRelu ops of
activation.py), so none needs a gradient rule of its own. At the kinks the ``where`` masks follow
PyTorch's backward: hardshrink, softshrink and threshold pass no gradient at x == +-lambd (x ==
threshold); hardsigmoid none at x == +-3; hardswish none at x == -3 and grad at x == 3.

``inplace=True`` is accepted for PyTorch compatibility and, as in activation.py, returns a new
tensor; the ``op_`` functions (``relu_``, ``celu_``, ...) write into their input through the
tensor's in-place machinery (recorded in the graph when a gradient is needed).
"""

from functools import partial

from nabla import ops
from nabla.backend import array_module
from nabla.nn.functional.activation import (
    Elu,
    LeakyRelu,
    _softmax_dim,
    elu,
    hardtanh,
    leaky_relu,
    relu,
    selu,
)
from nabla.ops.elementwise import sigmoid, tanh, where
from nabla.ops.reduce import _plain
from nabla.random import step_generator
from nabla.tensor import Tensor

__all__ = ["prelu", "celu", "glu", "hardshrink", "softshrink", "hardsigmoid", "hardswish",
           "softsign", "tanhshrink", "threshold", "softmin", "rrelu",
           "relu_", "elu_", "leaky_relu_", "hardtanh_", "selu_", "celu_", "threshold_", "rrelu_"]

def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else weight * x; ``weight`` has one element or one per channel (dim 1)."""
    n = weight.numel()
    if n == 1:
        w = weight.reshape(())
    else:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or n != channels:
            raise ValueError(
                f"prelu: mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {n} and channel size = {channels} (input shape "
                f"{tuple(input.shape)}).")
        w = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return where(input > 0, input, w * input)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x / alpha) - 1) = alpha * elu(x / alpha, 1)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (ZeroDivisionError in the formula)")
    if alpha == 1.0:
        return Elu.apply(input, 1.0)
    return Elu.apply(input / alpha, 1.0) * alpha


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise ValueError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {dim} is size "
                         f"{size}")
    a, b = ops.chunk(input, 2, dim)
    return a * sigmoid(b)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x if |x| > lambd else 0."""
    return where((input >= -lambd) & (input <= lambd), 0.0, input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0. Written as x - clamp(x, -lambd,
    lambd) outside [-lambd, lambd], so that a NaN stays NaN and passes its gradient, and as 0
    inside, so that no gradient (not even an infinite one) crosses: both as in PyTorch."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambda must be greater or equal to 0, but found to be "
                         f"{lambd}.")
    return where(ops.abs(input) <= lambd, 0.0, input - input.clamp(-lambd, lambd))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """0 if x <= -3, 1 if x >= 3, else x / 6 + 1 / 2."""
    return where(input <= -3, 0.0, where(input >= 3, 1.0, input / 6 + 0.5))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """0 if x <= -3, x if x >= 3, else x (x + 3) / 6."""
    return where(input <= -3, 0.0, where(input < 3, input * (input + 3) / 6, input))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (ops.abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - tanh(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """value if x <= threshold else x (a NaN stays NaN, as in PyTorch)."""
    return where(input <= threshold, value, input)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim`` (cast to ``dtype`` first when given)."""
    if dtype is not None:
        input = input.to(dtype)
    return ops.softmax(-input, _softmax_dim(input.ndim) if dim is None else dim)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: x if x > 0 else a * x, with a ~ U(lower, upper) drawn per element
    from nabla's global generator while training, and a = (lower + upper) / 2 in eval."""
    if not training:
        return LeakyRelu.apply(input, (lower + upper) / 2)
    # a plain step: a replay of nabla.jit.trace draws fresh slopes for its own input
    return input * _plain(partial(_rrelu_factors, lower=lower, upper=upper), input)


def _rrelu_factors(x, lower: float, upper: float):
    """1 where x > 0, a slope drawn from U(lower, upper) elsewhere (x's shape and dtype)."""
    xp = array_module(x)
    slopes = step_generator().uniform(lower, upper, x.shape)
    return xp.where(x <= 0, xp.asarray(slopes, dtype=x.dtype), x.dtype.type(1))


# -- in-place aliases: the op written into its input ------------------------------------------
def relu_(input: Tensor) -> Tensor:
    """relu, in place."""
    return input._apply_("relu_", relu)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """elu, in place."""
    return input._apply_("elu_", elu, alpha)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu, in place."""
    return input._apply_("leaky_relu_", leaky_relu, negative_slope)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """hardtanh, in place."""
    return input._apply_("hardtanh_", hardtanh, min_val, max_val)


def selu_(input: Tensor) -> Tensor:
    """selu, in place."""
    return input._apply_("selu_", selu)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """celu, in place."""
    return input._apply_("celu_", celu, alpha)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """threshold, in place."""
    return input._apply_("threshold_", _threshold, threshold, value)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """rrelu, in place."""
    return input._apply_("rrelu_", rrelu, lower, upper, training)


_threshold = threshold  # the parameter named ``threshold`` hides the function in threshold_
