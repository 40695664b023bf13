"""Arithmetic: +, -, *, /, **, maximum and minimum, with broadcasting and PyTorch's type
promotion. Each node's forward (on arrays) and its gradient rule sit together; the engine sums a
broadcast gradient back to each input's shape, so no rule here deals with broadcasting."""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.dtype import get_default_dtype, result_type
from nabla.ops.casts import as_tensor_like
from nabla.ops.compare import _check_integer_divisor
from nabla.ops.elementwise import log, masked_grad, where, zeros_like_grad
from nabla.ops.out_arg import write_out
from nabla.ops.reduce import _quiet, _raw
from nabla.tensor import Tensor

__all__ = ["add", "sub", "rsub", "mul", "div", "rdiv", "neg", "pow", "rpow", "square", "reciprocal",
           "maximum", "minimum", "lerp", "addcmul", "addcdiv", "hypot"]


def _like_torch(out, x, y, true_division: bool = False):
    """Give ``out`` PyTorch's result dtype where NumPy's promotion differs: NumPy turns an int
    mixed with a float (or a 0-d float64 mixed with float32) into float64, PyTorch keeps the
    float operand's dtype (the default dtype for a Python float). Only float64 results can differ,
    so float32 work pays one dtype check."""
    if out.dtype.char != "d":
        return out
    target = result_type(x, y)
    if true_division and target.kind in "biu":
        target = get_default_dtype()
    return out if target == out.dtype else out.astype(target)


class Add(Op):
    """z = x + y;  dz/dx = grad, dz/dy = grad."""

    array_backward = True
    numbers_are_tensors = True  # next_functions lists a number operand (x * 2), as PyTorch

    @staticmethod
    def forward(ctx, x, y):
        return _like_torch(x + y, x, y)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Op):
    """z = x - y;  dz/dx = grad, dz/dy = -grad."""

    array_backward = True
    numbers_are_tensors = True  # next_functions lists a number operand (x * 2), as PyTorch

    @staticmethod
    def forward(ctx, x, y):
        return _like_torch(x - y, x, y)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Op):
    """z = x * y;  dz/dx = grad * y, dz/dy = grad * x."""

    array_backward = True
    numbers_are_tensors = True  # next_functions lists a number operand (x * 2), as PyTorch

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _like_torch(x * y, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad * y if need_x else None), (grad * x if need_y else None)


class Div(Op):
    """z = x / y;  dz/dx = grad / y, dz/dy = -grad * z / y."""

    array_backward = True
    numbers_are_tensors = True  # next_functions lists a number operand (x * 2), as PyTorch

    @staticmethod
    def forward(ctx, x, y):
        z = _like_torch(x / y, x, y, true_division=True)
        ctx.save_for_backward(y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        y, z = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = grad / y
        return (gx if need_x else None), (-gx * z if need_y else None)


class Neg(Op):
    """z = -x;  dz/dx = -grad."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Op):
    """z = x ** p;  dz/dx = grad * p * x ** (p - 1) (0 where p = 0, even at x = 0, as PyTorch),
    dz/dp = grad * z * log(x)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, p):
        z = _like_torch(x**p, x, p)
        ctx.save_for_backward(x, p, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, p, z = ctx.saved_tensors
        need_x, need_p = ctx.needs_input_grad
        # x ** 0 is 1 everywhere: no gradient there, where 0 * 0 ** -1 would be NaN
        if not need_x:
            gx = None
        elif hasattr(p, "shape"):  # a tensor exponent: 0 where it is 0
            gx = masked_grad(grad * x ** (p - 1), p)
        elif p == 0:
            gx = zeros_like_grad(grad)
        else:
            gx = grad * p * x ** (p - 1)
        gp = None
        if need_p:  # at x = 0: 0 for p >= 0 (as PyTorch), else z log x (-inf or NaN, as PyTorch)
            base = x if hasattr(x, "shape") else array_module(_raw(z)).asarray(x, z.dtype)
            gp = where((base == 0) & (p >= 0), 0.0, grad * z * log(base))
        return gx, gp


class Maximum(Op):
    """z = max(x, y);  the gradient goes to the larger input (split evenly on ties)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _like_torch(array_module(x).maximum(x, y), x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        half = where(x == y, 0.5, 1.0)  # as PyTorch: a NaN operand gets the whole gradient
        return (masked_grad(grad, where(x < y, 0.0, half)),
                masked_grad(grad, where(x > y, 0.0, half)))


class Minimum(Op):
    """z = min(x, y);  the gradient goes to the smaller input (split evenly on ties)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _like_torch(array_module(x).minimum(x, y), x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        half = where(x == y, 0.5, 1.0)  # as PyTorch: a NaN operand gets the whole gradient
        return (masked_grad(grad, where(x > y, 0.0, half)),
                masked_grad(grad, where(x < y, 0.0, half)))


# -- public functions ---------------------------------------------------------------------------
def add(input, other, *, alpha=1, out=None) -> Tensor:
    """input + alpha * other, broadcasting (written into ``out``, if given)."""
    result = Add.apply(input, other if alpha == 1 else other * alpha)
    return result if out is None else write_out("add", result, out)


def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """input - alpha * other, broadcasting (written into ``out``, if given)."""
    result = Sub.apply(input, other if alpha == 1 else other * alpha)
    return result if out is None else write_out("sub", result, out)


def rsub(input, other) -> Tensor:
    """other - input."""
    return Sub.apply(other, input)


def mul(input, other, *, out=None) -> Tensor:
    """input * other, broadcasting (written into ``out``, if given)."""
    result = Mul.apply(input, other)
    return result if out is None else write_out("mul", result, out)


def _xp(x, y):
    """The array module of two operands, one of which may be a Python number."""
    return array_module(y if isinstance(x, (int, float)) else x)


def _int_kind(v) -> bool:
    return isinstance(v, int) or getattr(v, "dtype", None) is not None and v.dtype.kind in "biu"


class DivideRounded(Op):
    """z = trunc(x / y) ('trunc') or floor(x / y) ('floor', Python's //);
    dz/dx = dz/dy = 0 (a step function: PyTorch's gradient is zero too)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y, mode):
        xp = _xp(x, y)
        with _quiet(xp, divide="ignore", invalid="ignore"):  # x / 0.0: inf or nan, silently
            if mode == "floor":
                z = xp.floor_divide(x, y)
            elif _int_kind(x) and _int_kind(y):  # exact integer division, toward zero
                inexact = (xp.remainder(x, y) != 0) & ((xp.asarray(x) < 0) != (xp.asarray(y) < 0))
                z = xp.floor_divide(x, y) + inexact
            else:
                z = xp.trunc(xp.true_divide(x, y))
        return _like_torch(xp.asarray(z), x, y)

    @staticmethod
    def backward(ctx, grad):
        need_x, need_y = ctx.needs_input_grad[:2]
        zero = zeros_like_grad(grad)
        return (zero if need_x else None), (zero if need_y else None), None


def div(input, other, *, rounding_mode: str | None = None, out=None) -> Tensor:
    """input / other, broadcasting; rounded toward zero ('trunc') or down ('floor').

    Args:
        input: tensor (or number, if ``other`` is a tensor).
        other: tensor or number broadcastable with ``input``.
        rounding_mode: None (true division), 'trunc' or 'floor'. A rounded quotient
            has a zero gradient and keeps an integer dtype for integer operands.
        out: a tensor to write the result into (see ops/out_arg.py).

    Returns:
        The broadcast shape.
    """
    if rounding_mode is None:
        result = Div.apply(input, other)
    elif rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}"
        )
    else:
        _check_integer_divisor("div", input, other)
        result = DivideRounded.apply(input, other, rounding_mode)
    return result if out is None else write_out("div", result, out)


def rdiv(input, other) -> Tensor:
    """other / input."""
    return Div.apply(other, input)


def neg(input) -> Tensor:
    return Neg.apply(input)


def pow(input, exponent) -> Tensor:
    """input ** exponent; the exponent may be a number or a tensor."""
    return Pow.apply(input, exponent)


def rpow(input, base) -> Tensor:
    """base ** input, for a number base."""
    return Pow.apply(as_tensor_like(base, input), input)


def square(input) -> Tensor:
    """input ** 2 (derived: no rule of its own)."""
    return Mul.apply(input, input)


def reciprocal(input) -> Tensor:
    """1 / input (derived)."""
    return Div.apply(1.0, input)


def maximum(input, other) -> Tensor:
    return Maximum.apply(input, other)


def minimum(input, other) -> Tensor:
    return Minimum.apply(input, other)


# -- derived (no rules of their own) -------------------------------------------------------------
def lerp(input, end, weight) -> Tensor:
    """input + weight * (end - input): linear interpolation, elementwise, broadcasting."""
    return input + weight * (end - input)


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """input + value * tensor1 * tensor2 (optimizer updates), broadcasting."""
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """input + value * tensor1 / tensor2 (optimizer updates), broadcasting."""
    return input + value * tensor1 / tensor2


class Hypot(Op):
    """z = sqrt(x^2 + y^2) without overflow or underflow in the squares;  dz/dx = grad x / z,
    dz/dy = grad y / z (NaN at the origin, as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        z = _like_torch(array_module(x).hypot(x, y), x, y, true_division=True)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y, z = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad * x / z if need_x else None), (grad * y / z if need_y else None)


def hypot(input, other) -> Tensor:
    """sqrt(input^2 + other^2), the length of the vector (input, other), broadcasting."""
    return Hypot.apply(input, other)
