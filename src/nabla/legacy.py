"""torch's older top-level API, as scripts written for it call it: the typed constructors
(``FloatTensor(2, 3)``, ``LongTensor([1, 2])``, ``isinstance(x, FloatTensor)``), ``Size``,
``range`` (the deprecated one with an inclusive end), ``typename``, the default-device and
matmul-precision settings, and anomaly mode's older switches.

Where PyTorch reads a ``torch.Size`` as sizes and any other sequence as data, nabla also reads a
plain tuple as sizes: its ``x.shape`` and ``x.size()`` are tuples, so ``FloatTensor(x.size())``
keeps working; a list is data.
"""

import builtins
import math
import numbers

from nabla import dtype as _dt
from nabla.autograd.anomaly import is_anomaly_enabled, set_detect_anomaly
from nabla.autograd.grad_mode import _anomaly
from nabla.backend import device
from nabla.creation import empty, tensor
from nabla.tensor import Tensor

__all__ = ["Size", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor", "range", "typename",
           "get_default_device", "set_default_device", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "is_anomaly_enabled", "set_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


class Size(tuple):
    """torch.Size: a tuple of dimension sizes with ``numel()``; slicing and ``+`` keep the type.
    (nabla's ``x.shape`` / ``x.size()`` are plain tuples, equal to a Size of the same sizes.)"""

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __repr__(self) -> str:
        return f"nabla.Size({list(self)})"


# -- typed constructors --------------------------------------------------------------------------
class _TensorType(type):
    """The metaclass of FloatTensor & co: ``isinstance(x, FloatTensor)`` asks x's dtype."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype


def _is_sizes(args) -> bool:
    if builtins.all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        return True
    return len(args) == 1 and isinstance(args[0], tuple)


class _LegacyTensor(metaclass=_TensorType):
    """Base of the typed constructors; ``cls(*sizes)``, ``cls(data)``, ``cls()``, ``cls(t)``."""

    dtype = None

    def __new__(cls, *args):
        name = cls.__name__
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype != cls.dtype:
                raise TypeError(f"{name}: expected a tensor of dtype {cls.dtype}, got "
                                f"{args[0].dtype}; convert it (t.to(...)) first")
            return args[0]
        if not args:
            return empty(0, dtype=cls.dtype)
        if _is_sizes(args):
            sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], tuple) else args
            return empty(*sizes, dtype=cls.dtype)
        if len(args) == 1 and not isinstance(args[0], numbers.Number):
            return tensor(args[0], dtype=cls.dtype)
        raise TypeError(f"{name}: expected sizes (ints, or a tuple), data (a list or an array) "
                        f"or a tensor, got {args!r}")


class FloatTensor(_LegacyTensor):
    dtype = _dt.float32


class DoubleTensor(_LegacyTensor):
    dtype = _dt.float64


class HalfTensor(_LegacyTensor):
    dtype = _dt.float16


class LongTensor(_LegacyTensor):
    dtype = _dt.int64


class IntTensor(_LegacyTensor):
    dtype = _dt.int32


class ShortTensor(_LegacyTensor):
    dtype = _dt.int16


class CharTensor(_LegacyTensor):
    dtype = _dt.int8


class ByteTensor(_LegacyTensor):
    dtype = _dt.uint8


class BoolTensor(_LegacyTensor):
    dtype = _dt.bool


_TYPE_NAMES = {cls.dtype: cls.__name__ for cls in (
    FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor,
    ByteTensor, BoolTensor)}


def dtype_of_type(kind):
    """The dtype a ``Tensor.type(kind)`` call asks for: a dtype, a typed class (FloatTensor) or
    its name with either prefix ('torch.FloatTensor', 'nabla.FloatTensor')."""
    if isinstance(kind, _TensorType):
        return kind.dtype
    if isinstance(kind, str):
        name = kind.rsplit(".", 1)[-1]
        for dtype, type_name in _TYPE_NAMES.items():
            if type_name == name:
                return dtype
        raise ValueError(f"type: unknown tensor type {kind!r}; expected one of "
                         f"{', '.join('nabla.' + n for n in _TYPE_NAMES.values())} or a dtype")
    return kind


def typename(obj) -> str:
    """'nabla.FloatTensor' (and so on) for a tensor, else the object's qualified type name."""
    if isinstance(obj, Tensor):
        return f"nabla.{_TYPE_NAMES.get(obj.dtype, 'Tensor')}"
    cls = type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in (None, "builtins") else f"{module}.{cls.__qualname__}"


def range(start, end=None, step=1, *, dtype=None, requires_grad: bool = False,
          device=None) -> Tensor:
    """torch.range (deprecated there for arange): start, start + step, ... up to and including
    ``end``; floating (the default dtype) unless ``dtype`` says otherwise.

    Returns:
        1-D, floor((end - start) / step) + 1 elements.
    """
    if end is None:
        raise TypeError("range() missing 1 required positional argument: 'end' (range(start, "
                        "end[, step]) includes end; arange(n) counts 0 ... n - 1)")
    if step == 0 or (end - start) * step < 0:
        raise RuntimeError(f"range: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    count = int(math.floor((end - start) / step)) + 1
    values = [start + i * step for i in builtins.range(count)]
    return tensor(values, dtype=dtype or _dt.get_default_dtype(), requires_grad=requires_grad)


# -- settings ------------------------------------------------------------------------------------
def get_default_device() -> device:
    """device('cpu'): nabla allocates on the CPU."""
    return device("cpu")


def set_default_device(device) -> None:
    """Accepts None or the CPU (the only device nabla allocates on); any other device is an
    error rather than a setting that would be ignored."""
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        raise RuntimeError(f"set_default_device: nabla allocates tensors on the CPU only, got "
                           f"{device!r}; pass 'cpu' (or leave the default)")


class _MatmulPrecision:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = "highest"


_matmul_precision = _MatmulPrecision()


def set_float32_matmul_precision(precision: str) -> None:
    """Record the float32 matmul precision ('highest', 'high' or 'medium'), as
    torch.set_float32_matmul_precision accepts it. It has no effect: NumPy's float32 matmul is
    always full float32 (no TF32 or bfloat16 passes)."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"set_float32_matmul_precision: precision must be 'highest', 'high' "
                           f"or 'medium', got {precision!r}")
    _matmul_precision.value = precision


def get_float32_matmul_precision() -> str:
    """The precision last set with set_float32_matmul_precision ('highest' by default)."""
    return _matmul_precision.value


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """torch.set_anomaly_enabled: autograd.set_detect_anomaly."""
    set_detect_anomaly(enabled, check_nan)


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode checks values for NaN / inf (False when off or check_nan=False)."""
    return _anomaly.mode == "check"

