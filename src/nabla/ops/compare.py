"""Comparisons, logical ops and tests (isnan, isclose): their results are bool (or integer) and
carry no gradient, so they are plain functions that wrap arrays with ``Tensor._make`` (and tell
``nabla.jit.trace``, when it is recording, which array function made the result).

The exception is ``remainder``, differentiable like PyTorch's: ``Remainder`` below.
"""

from functools import partial

from nabla.autograd.function import Op
from nabla.autograd.grad_mode import _trace
from nabla.backend import array_module
from nabla.ops.reduce import _plain, _quiet
from nabla.tensor import Tensor

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not",
           "logical_xor", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor", "isnan",
           "isinf", "isfinite", "floor_divide", "remainder", "fmod", "equal", "allclose", "isclose",
           "nonzero", "count_nonzero"]


def _raw(value):
    return value._data if isinstance(value, Tensor) else value


def _shape(value) -> tuple:
    return tuple(value.shape) if isinstance(value, Tensor) else ()


def _binary(name: str, fn, input, other) -> Tensor:
    """``fn`` applied to the arrays of ``input`` and ``other``, naming the op on a bad shape."""
    try:
        result = Tensor._make(fn(_raw(input), _raw(other)))
    except ValueError as err:
        raise ValueError(
            f"{name}: shapes {_shape(input)} and {_shape(other)} are not broadcastable: trailing "
            "dimensions must be equal or 1. Reshape or unsqueeze one operand."
        ) from err
    if _trace.tracer is not None:
        _trace.tracer.plain(fn, (input, other), result)
    return result


def _xp(input, other=None):
    return array_module(_raw(input) if isinstance(input, Tensor) else _raw(other))


def eq(input, other) -> Tensor:
    """input == other elementwise, broadcasting (bool). ``x == None`` is False, as in PyTorch."""
    if other is None:
        return False
    return _binary("eq", _xp(input, other).equal, input, other)


def ne(input, other) -> Tensor:
    """input != other elementwise, broadcasting (bool). ``x != None`` is True."""
    if other is None:
        return True
    return _binary("ne", _xp(input, other).not_equal, input, other)


def lt(input, other) -> Tensor:
    """input < other elementwise, broadcasting (bool)."""
    return _binary("lt", _xp(input, other).less, input, other)


def le(input, other) -> Tensor:
    """input <= other elementwise, broadcasting (bool)."""
    return _binary("le", _xp(input, other).less_equal, input, other)


def gt(input, other) -> Tensor:
    """input > other elementwise, broadcasting (bool)."""
    return _binary("gt", _xp(input, other).greater, input, other)


def ge(input, other) -> Tensor:
    """input >= other elementwise, broadcasting (bool)."""
    return _binary("ge", _xp(input, other).greater_equal, input, other)


def logical_and(input, other) -> Tensor:
    """Elementwise AND of the truth values (nonzero is True), broadcasting (bool)."""
    return _binary("logical_and", _xp(input, other).logical_and, input, other)


def logical_or(input, other) -> Tensor:
    """Elementwise OR of the truth values, broadcasting (bool)."""
    return _binary("logical_or", _xp(input, other).logical_or, input, other)


def logical_xor(input, other) -> Tensor:
    """Elementwise XOR of the truth values, broadcasting (bool)."""
    return _binary("logical_xor", _xp(input, other).logical_xor, input, other)


def logical_not(input: Tensor) -> Tensor:
    """Elementwise NOT of the truth values (bool)."""
    return _plain(_xp(input).logical_not, input)


def bitwise_not(input: Tensor) -> Tensor:
    """~x: bitwise NOT of an integer tensor, logical NOT of a bool tensor."""
    if input.dtype.kind == "f":
        raise TypeError(f"bitwise_not: expected an integer or bool tensor, got {input.dtype}")
    return _plain(_xp(input).invert, input)


def _bitwise(name: str, fn, input, other) -> Tensor:
    for v in (input, other):
        if isinstance(v, float) or (isinstance(v, Tensor) and v.dtype.kind not in "biu"):
            raise TypeError(f"{name}: expected integer or bool tensors, got a floating operand")
    return _binary(name, fn, input, other)


def bitwise_and(input, other) -> Tensor:
    """input & other: bitwise AND of integers, logical AND of bools (broadcasting)."""
    return _bitwise("bitwise_and", _xp(input, other).bitwise_and, input, other)


def bitwise_or(input, other) -> Tensor:
    """input | other: bitwise OR of integers, logical OR of bools (broadcasting)."""
    return _bitwise("bitwise_or", _xp(input, other).bitwise_or, input, other)


def bitwise_xor(input, other) -> Tensor:
    """input ^ other: bitwise XOR of integers, logical XOR of bools (broadcasting)."""
    return _bitwise("bitwise_xor", _xp(input, other).bitwise_xor, input, other)


def isnan(input: Tensor) -> Tensor:
    """True where the element is NaN (bool, same shape)."""
    return _plain(_xp(input).isnan, input)


def isinf(input: Tensor) -> Tensor:
    """True where the element is +inf or -inf (bool, same shape)."""
    return _plain(_xp(input).isinf, input)


def isfinite(input: Tensor) -> Tensor:
    """True where the element is neither inf nor NaN (bool, same shape)."""
    return _plain(_xp(input).isfinite, input)


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the nonzero elements (int64, no gradient): a (count, ndim) tensor, or with
    ``as_tuple`` one 1-D tensor per dimension (what ``x[nonzero(x, as_tuple=True)]`` needs)."""
    if input.ndim == 0 and as_tuple:
        input = input.reshape(1)
    found = _plain(_xp(input).argwhere, input)  # int64 (intp) on 64-bit platforms
    if not as_tuple:
        return found
    return tuple(found[:, d] for d in range(input.ndim))


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """The number of nonzero elements over ``dim`` (int64, no gradient)."""
    axis = dim if dim is None or isinstance(dim, int) else tuple(dim)
    return _plain(partial(_count_nonzero, axis=axis), input)


def _count_nonzero(a, axis):
    """count_nonzero on the array, as int64 (a partial of it shows onnx.export the axis)."""
    xp = array_module(a)
    return xp.asarray(xp.count_nonzero(a, axis=axis), "int64")


def floor_divide(input, other) -> Tensor:
    """floor(input / other) elementwise, broadcasting (no gradient, as in PyTorch)."""
    _check_integer_divisor("floor_divide", input, other)
    xp = _xp(input, other)
    with _quiet(xp, divide="ignore", invalid="ignore"):  # x // 0.0: inf or nan, silently
        return _binary("floor_divide", xp.floor_divide, input, other)


def _check_integer_divisor(name: str, input, other) -> None:
    """Integer division by zero raises, as in PyTorch (floats give inf or nan)."""
    if _integer(input) and _integer(other) and (_xp(input, other).asarray(_raw(other)) == 0).any():
        raise ZeroDivisionError(f"{name}: integer division by zero")


def _integer(value) -> bool:
    if isinstance(value, Tensor):
        return value.dtype.kind in "biu"
    return isinstance(value, int)


class Remainder(Op):
    """z = x - floor(x / y) * y (the sign of y, as Python's %);
    dz/dx = grad, dz/dy = -grad * floor(x / y)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        xp = array_module(y if isinstance(x, (int, float)) else x)
        with _quiet(xp, divide="ignore", invalid="ignore"):  # x % 0.0 is nan, silently
            return xp.remainder(x, y)

    @staticmethod
    def backward(ctx, grad):
        need_x, need_y = ctx.needs_input_grad
        if not need_y:
            return grad, None
        x, y = map(_raw, ctx.saved_tensors)
        return (grad if need_x else None), -grad * array_module(y).floor_divide(x, y)


def remainder(input, other) -> Tensor:
    """Python's modulus input % other elementwise (result has the sign of ``other``).

    Differentiable: d/dinput = 1, d/dother = -floor(input / other).

    Args:
        input: tensor (or number, if ``other`` is a tensor).
        other: tensor or number, broadcastable with ``input``.

    Returns:
        The broadcast shape.
    """
    _check_integer_divisor("remainder", input, other)
    return Remainder.apply(input, other)


class Fmod(Op):
    """z = x - trunc(x / y) * y (the sign of x, as C's fmod);
    dz/dx = grad, dz/dy = -grad * trunc(x / y)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        xp = array_module(y if isinstance(x, (int, float)) else x)
        with _quiet(xp, divide="ignore", invalid="ignore"):  # fmod(x, 0.0) is nan, silently
            return xp.fmod(x, y)

    @staticmethod
    def backward(ctx, grad):
        need_x, need_y = ctx.needs_input_grad
        if not need_y:
            return grad, None
        x, y = map(_raw, ctx.saved_tensors)
        xp = array_module(y)
        return (grad if need_x else None), -grad * xp.trunc(xp.true_divide(x, y))


def fmod(input, other) -> Tensor:
    """C's remainder of input / other elementwise (result has the sign of ``input``).

    Differentiable: d/dinput = 1, d/dother = -trunc(input / other).

    Args:
        input: tensor (or number, if ``other`` is a tensor).
        other: tensor or number, broadcastable with ``input``.

    Returns:
        The broadcast shape.
    """
    _check_integer_divisor("fmod", input, other)
    return Fmod.apply(input, other)


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape and the same elements (a Python bool)."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(_xp(input).array_equal(input._data, other._data))


def isclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise, broadcasting (bool)."""
    xp = _xp(input, other)
    return _binary("isclose", partial(xp.isclose, rtol=rtol, atol=atol, equal_nan=equal_nan),
                   input, other)


def allclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if ``isclose`` holds for every element (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())
