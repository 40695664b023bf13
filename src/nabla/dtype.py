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


def _dtype_arg(where: str, value) -> numpy.dtype:
    try:
        if value is None:  # NumPy reads None as float64; PyTorch refuses it
            raise TypeError
        return numpy.dtype(value)
    except TypeError:
        raise TypeError(f"{where}: expected a dtype such as nabla.float32, got {value!r}") from None


def promote_types(type1, type2) -> numpy.dtype:
    """The smallest dtype both can be converted to without leaving their categories: the
    higher category wins (bool < integer < float, so int64 with float16 is float16); within
    one category the wider type (uint8 with int8 is int16).

    Args:
        type1, type2: dtypes.
    Returns:
        The promoted dtype.
    """
    a, b = _dtype_arg("promote_types", type1), _dtype_arg("promote_types", type2)
    if _category(a) != _category(b):
        return a if _category(a) > _category(b) else b
    return numpy.promote_types(a, b)


def can_cast(from_, to) -> builtins.bool:
    """Whether PyTorch's casting rules allow converting ``from_`` to ``to`` in an op's output:
    any conversion that does not lower the category (float to integer, integer to bool) is
    allowed, narrowing ones included (float64 to float32, int64 to uint8)."""
    return _category(_dtype_arg("can_cast", from_)) <= _category(_dtype_arg("can_cast", to))


class finfo:
    """Machine limits of a floating dtype, as ``torch.finfo``: ``bits``, ``eps`` (the gap
    between 1 and the next value), ``max``, ``min`` (= -max), ``tiny`` = ``smallest_normal``
    (the smallest positive normal number), ``resolution`` (10 ** -decimal digits) and ``dtype``
    (its name). ``finfo()`` describes the default dtype."""

    def __init__(self, type=None) -> None:  # noqa: A002 - PyTorch's parameter name
        dtype = get_default_dtype() if type is None else _dtype_arg("finfo", type)
        if dtype.kind != "f":
            raise TypeError(f"finfo: expected a floating dtype, got {dtype}; use nabla.iinfo "
                            "for integer dtypes")
        info = numpy.finfo(dtype)
        self.bits = info.bits
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision  # exactly, not NumPy's rounded value
        self.dtype = dtype.name

    def __eq__(self, other) -> builtins.bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self) -> builtins.int:
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min`` and ``dtype``
    (its name)."""

    def __init__(self, type) -> None:  # noqa: A002 - PyTorch's parameter name
        dtype = _dtype_arg("iinfo", type)
        if dtype.kind not in "iu":
            kind = "bool is not supported" if dtype.kind == "b" else "expected an integer dtype"
            raise TypeError(f"iinfo: {kind}, got {dtype}; use nabla.finfo for floating dtypes")
        info = numpy.iinfo(dtype)
        self.bits = info.bits
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = dtype.name

    def __eq__(self, other) -> builtins.bool:
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self) -> builtins.int:
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
