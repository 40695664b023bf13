"""Data types, named as in PyTorch. A nabla dtype is a NumPy dtype, so ``x.dtype == nabla.float32``
and ``x.numpy().dtype == x.dtype`` both hold."""

import builtins

import numpy

float16 = half = numpy.dtype("float16")
float32 = float = numpy.dtype("float32")
float64 = double = numpy.dtype("float64")
int8 = numpy.dtype("int8")
uint8 = numpy.dtype("uint8")
int16 = short = numpy.dtype("int16")
int32 = int = numpy.dtype("int32")
int64 = long = numpy.dtype("int64")
bool = numpy.dtype("bool")  # noqa: A001 - PyTorch's name

_default_dtype = [float32]


def get_default_dtype() -> numpy.dtype:
    """The dtype of floating tensors created from Python numbers (float32 unless changed)."""
    return _default_dtype[0]


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype (float32 or float64)."""
    dtype = numpy.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default_dtype[0] = dtype


def is_floating_point(dtype):
    return numpy.dtype(dtype).kind == "f"


def to_dtype(dtype):
    """Normalize a dtype given as a NumPy dtype, a type or a name to a NumPy dtype (None stays)."""
    return None if dtype is None else numpy.dtype(dtype)


def _category(dtype) -> int:
    """0 bool, 1 integer, 2 floating, 3 complex."""
    return {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}[dtype.kind]


def result_type(*operands):
    """PyTorch's type promotion: dimensioned tensors first; 0-d tensors and then Python numbers
    only count when they are of a higher category (bool < integer < float)."""
    result = None
    for zero_dim in (False, True):
        group = [o.dtype for o in operands
                 if hasattr(o, "dtype") and (getattr(o, "ndim", 0) == 0) == zero_dim]
        if group:
            top = max(map(_category, group))
            if result is None or top > _category(result):
                result = numpy.result_type(*[d for d in group if _category(d) == top])
    for o in operands:
        if not hasattr(o, "dtype"):
            cat = 0 if isinstance(o, builtins.bool) else 1 if isinstance(o, builtins.int) else 2
            if result is None or cat > _category(result):
                result = (bool, int64, get_default_dtype())[cat]
    return result
