"""Activation functions. Each is one Op with a cheap rule; the rule is written with nabla ops on
the saved input or output, so second derivatives work too. relu, sigmoid and tanh are the ops of
``nabla.ops``; softmax and log_softmax delegate to ``nabla.ops`` (reduce.py)."""

import math

from nabla import ops
from nabla.autograd.function import Op
from nabla.autograd.grad_mode import is_grad_enabled
from nabla.backend import array_module, select
from nabla.ops._erf import erf as _erf_array
from nabla.ops.elementwise import Relu, exp, masked_grad, sigmoid, sigmoid_array, tanh, where
from nabla.tensor import Tensor

__all__ = ["relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "sigmoid", "tanh",
           "softmax", "log_softmax", "relu6", "hardtanh", "logsigmoid", "mish"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class LeakyRelu(Op):
    """y = x if x > 0 else slope * x;  dy/dx = grad where x > 0, else slope * grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, slope):
        xp = array_module(x)
        s = x.dtype.type(slope)
        positive = x > 0
        if 0 < slope <= 1:  # y = max(x, s x), dy/dx = max(1 or 0, s): exact, and much faster
            ctx.save_for_backward(xp.maximum(positive.astype(x.dtype), s))  # than a select
            return xp.maximum(x, x * s)
        ctx.save_for_backward(select(positive, x.dtype.type(1), s))  # dy/dx: 1 or slope
        return select(positive, x, x * s)

    @staticmethod
    def backward(ctx, grad):
        (slope_or_one,) = ctx.saved_tensors
        return grad * slope_or_one, None


class Elu(Op):
    """y = x if x > 0 else alpha * (exp(x) - 1);  dy/dx = grad where x > 0, else grad * (y + alpha).
    """

    @staticmethod
    def forward(ctx, x, alpha):
        xp = array_module(x)
        mask = ~(x <= 0)  # NaN takes the identity branch, as in PyTorch
        y = select(mask, x, xp.expm1(xp.minimum(x, 0)) * x.dtype.type(alpha))
        ctx.save_for_backward(mask, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx, grad):
        mask, y = ctx.saved_tensors
        return where(mask, grad, grad * (y + ctx.alpha)), None


class NormalCdf(Op):
    """y = Phi(x) = (1 + erf(x / sqrt 2)) / 2;  dy/dx = grad * exp(-x**2 / 2) / sqrt(2 pi)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (0.5 * (1.0 + _erf_array(x * (1 / math.sqrt(2.0))))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * exp(x * x * -0.5) * _INV_SQRT_2PI


class Gelu(Op):
    """y = x * Phi(x) (exact) or its tanh approximation;  dy/dx = grad * (Phi(x) + x phi(x))
    (tanh form: 0.5 (1 + t) + 0.5 x (1 - t**2) k (1 + 3 c x**2), t = tanh(k (x + c x**3)))."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        xp = array_module(x)
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            return (0.5 * x * (1 + t)).astype(x.dtype, copy=False)
        cdf = 0.5 * (1.0 + _erf_array(x * (1 / math.sqrt(2.0))))
        return (x * cdf).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if not is_grad_enabled():  # plain backward: the same rule on arrays, in place
            return Tensor._make(_gelu_grad_array(grad._data, x._data, ctx.approximate)), None
        if ctx.approximate == "tanh":
            x2 = x * x
            t = tanh((x + x2 * x * 0.044715) * _SQRT_2_OVER_PI)
            d = (t + 1) * 0.5 + x * (1 - t * t) * (x2 * (3 * 0.044715) + 1) * (
                0.5 * _SQRT_2_OVER_PI)
        else:
            d = NormalCdf.apply(x) + x * exp(x * x * -0.5) * _INV_SQRT_2PI
        return grad * d, None


class Silu(Op):
    """y = x * sigmoid(x);  dy/dx = grad * s * (1 + x * (1 - s)), s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * sigmoid_array(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if not is_grad_enabled():  # plain backward: the same rule on arrays, in place
            s = sigmoid_array(x._data)
            d = 1 - s
            d *= x._data
            d += 1
            d *= s
            d *= grad._data
            return Tensor._make(d)
        s = sigmoid(x)
        return grad * s * (x * (1 - s) + 1)


def _gelu_grad_array(g, x, approximate: str):
    """grad * GELU'(x) on arrays, in place in three temporaries (see Gelu for the rule)."""
    xp = array_module(x)
    if approximate == "tanh":
        x2 = x * x
        t = x2 * 0.044715
        t += 1
        t *= x
        t *= _SQRT_2_OVER_PI
        xp.tanh(t, out=t)  # t = tanh(k (x + c x**3))
        one_minus_t2 = t * t
        xp.subtract(1, one_minus_t2, out=one_minus_t2)
        x2 *= 3 * 0.044715
        x2 += 1
        x2 *= one_minus_t2
        x2 *= x
        x2 *= 0.5 * _SQRT_2_OVER_PI
        t += 1
        t *= 0.5
        t += x2
        t *= g
        return t
    d = _erf_array(x * (1 / math.sqrt(2.0)))
    d += 1
    d *= 0.5  # Phi(x)
    pdf = x * x
    pdf *= -0.5
    xp.exp(pdf, out=pdf)
    pdf *= x
    pdf *= _INV_SQRT_2PI  # x phi(x)
    d += pdf
    d *= g
    return d


class Softplus(Op):
    """y = log(1 + exp(beta x)) / beta, or x where beta x > threshold;
    dy/dx = grad * sigmoid(beta x) (grad above the threshold)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = array_module(x)
        bx = x * x.dtype.type(beta)
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        # log1p(exp(-|bx|)) + max(bx, 0): never exponentiates a positive number
        soft = (xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, 0)) / x.dtype.type(beta)
        return select(bx > threshold, x, soft)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        return where(bx > ctx.threshold, grad, grad * sigmoid(bx)), None, None


# -- public functions ---------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise. ``inplace`` is accepted for PyTorch compatibility; the result is
    always a new tensor (safe for autograd)."""
    return Relu.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x, elementwise."""
    return LeakyRelu.apply(input, negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x) - 1), elementwise."""
    return Elu.apply(input, alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalizing constants (derived)."""
    return Elu.apply(input, _SELU_ALPHA) * _SELU_SCALE


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return Silu.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold."""
    return Softplus.apply(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), computed stably (derived)."""
    return -Softplus.apply(-input, 1.0, math.inf)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)) (derived)."""
    return input * tanh(Softplus.apply(input, 1.0, 20.0))


class Hardtanh(Op):
    """y = min(max(x, lo), hi);  dy/dx = grad where lo < x < hi, 0 at the bounds (PyTorch's
    convention, unlike clamp's, which passes the gradient at the bounds)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(~((x <= lo) | (x >= hi)))  # NaN passes, as in PyTorch
        return array_module(x).clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return masked_grad(grad, inside), None, None


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]."""
    return Hardtanh.apply(input, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return Hardtanh.apply(input, 0.0, 6.0)


def _softmax_dim(ndim: int) -> int:
    # PyTorch's legacy choice when dim is not given
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (cast to ``dtype`` first when given)."""
    if dtype is not None:
        input = input.to(dtype)
    return ops.softmax(input, _softmax_dim(input.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim``, computed stably."""
    if dtype is not None:
        input = input.to(dtype)
    return ops.log_softmax(input, _softmax_dim(input.ndim) if dim is None else dim)
