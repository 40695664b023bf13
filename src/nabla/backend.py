"""The array module behind a tensor: NumPy on the CPU; CuPy slots in here for a GPU.

Ops never import NumPy themselves. They ask `array_module(x)` for the module that owns their
input arrays, so the same op code runs on either backend.

On Linux with glibc, importing nabla also sets how malloc keeps freed memory (``tune_malloc``):
training frees and reallocates the same large arrays at every step, and glibc's defaults hand
much of that memory back to the system each time and fault it in again, page by page.

Importing nabla also silences NumPy's floating-point warnings ("divide by zero encountered in
log") raised inside nabla's ops (``quiet_float_warnings``): like PyTorch, log(0) is -inf without
a word; ``nabla.autograd.detect_anomaly()`` is the tool that finds where a NaN or Inf came from.
"""

import contextlib
import ctypes
import math
import os
import sys
import warnings

import numpy

ndarray = numpy.ndarray


def array_module(array):
    """Return the array module (``numpy`` or ``cupy``) that owns ``array``."""
    if type(array) is ndarray:
        return numpy
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return numpy


def quiet(xp, **which):
    """Silence NumPy's floating-point warnings where PyTorch is silent (CuPy never warns)."""
    errstate = getattr(xp, "errstate", None)
    return contextlib.nullcontext() if errstate is None else errstate(**which)


_ZEROS: dict = {}  # (array type, dtype) -> flat zeros, see zeros_operand


def zeros_operand(like):
    """Zeros shaped like ``like``, to be read only: a view of one cached flat array per array
    type and dtype, grown to the largest size asked for.

    NumPy 2.4 runs ``maximum(x, 0)`` in a loop without SIMD (the scalar operand's path), so
    ``maximum(x, zeros)`` is ~1.4x faster on 32x100 and ~3x on activation maps. Large arrays
    of zeros are pages the kernel maps lazily to its zero page: reading them costs no memory.
    """
    key = (type(like), like.dtype)
    flat = _ZEROS.get(key)
    if flat is None or flat.size < like.size:
        flat = array_module(like).zeros(like.size, like.dtype)
        if type(flat) is ndarray:
            flat.flags.writeable = False
        _ZEROS[key] = flat
    return flat[:like.size].reshape(like.shape)


_UINT = {4: numpy.uint32, 8: numpy.uint64}  # the unsigned integer of each float's width


def select(cond, x, y):
    """``where(cond, x, y)`` on arrays. From 4096 elements on, float operands of one dtype (or
    one of them a Python number) are blended bit by bit: ``x & m | y & ~m`` with ``m`` all ones
    where ``cond`` holds, the very values ``where`` picks (NaN payloads and zeros' signs too).
    NumPy 2.4's ``where`` branches on each element, 5-20x slower on a data-dependent mask."""
    xp = array_module(cond)
    big = getattr(cond, "size", 0) >= 4096 or getattr(x, "size", 0) >= 4096
    if not big or xp is not numpy or getattr(cond, "dtype", None) != numpy.bool_:
        return xp.where(cond, x, y)
    like = x if type(x) is ndarray else y
    if type(like) is not ndarray or like.dtype.kind != "f" or like.dtype.itemsize not in _UINT:
        return xp.where(cond, x, y)
    dtype = like.dtype
    x, y = (v if type(v) is ndarray else _weak(v, dtype) for v in (x, y))
    if x is None or y is None or x.dtype != dtype or y.dtype != dtype:
        return xp.where(cond, x, y)
    unsigned = _UINT[dtype.itemsize]
    cond, x, y = numpy.broadcast_arrays(cond, x, y)
    mask = cond.astype(unsigned)
    numpy.negative(mask, out=mask)  # 1 -> all ones
    out = numpy.bitwise_and(x.view(unsigned), mask)
    numpy.invert(mask, out=mask)
    mask &= y.view(unsigned)
    out |= mask
    return out.view(dtype)


def all_finite(array) -> bool:
    """Whether no element of ``array`` is infinite or NaN. For float32 and float64 arrays this
    is one BLAS dot product of the array with itself, infinite or NaN exactly when an element
    is, or when the squares overflow (above about 1e19 in float32): a false alarm, so use it to
    skip an exact but slower path, never to decide a result."""
    xp = array_module(array)
    if array.dtype.char in "fd":
        return math.isfinite(xp.vdot(array, array))
    return bool(xp.isfinite(array).all())


def _weak(value, dtype):
    """A Python number as a 0-d array of ``dtype`` (NumPy's weak-scalar rule), a NumPy scalar
    of ``dtype`` as a 0-d array; else None."""
    if type(value) in (float, int):
        with numpy.errstate(over="ignore"):
            return numpy.asarray(value, dtype=dtype)
    if isinstance(value, numpy.generic) and value.dtype == dtype:
        return numpy.asarray(value)
    return None


def as_array(data, dtype=None):
    """Return ``data`` as an array of the module that owns it (a 0-d array for a scalar)."""
    xp = array_module(data)
    return xp.asarray(data, dtype=dtype)


class device(str):
    """A device name, as ``torch.device``: ``device('cpu')``, ``device('cuda', 0)`` ==
    'cuda:0'. A str, so it goes wherever a device string does (``.to(device)``)."""

    def __new__(cls, type, index: int | None = None):
        name = str(type) if index is None else f"{type}:{index}"
        kind, _, number = name.partition(":")
        if kind not in ("cpu", "cuda", "mps") or (number and not number.isdigit()):
            raise RuntimeError(f"device: expected 'cpu', 'cuda' or 'mps', optionally with "
                               f"':index', got {name!r}")
        return super().__new__(cls, name)

    @property
    def type(self) -> str:
        return self.partition(":")[0]

    @property
    def index(self) -> int | None:
        number = self.partition(":")[2]
        return int(number) if number else None

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


def device_of(array) -> device:
    """device('cpu') for NumPy arrays, device('cuda') for CuPy arrays."""
    return device("cpu" if array_module(array) is numpy else "cuda")


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def _glibc():
    """The C library when it is glibc on Linux, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return None
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
        return libc
    except (ValueError, OSError, AttributeError):  # no such confstr name, or no mallopt
        return None


def tune_malloc() -> bool:
    """Keep freed memory in the process for reuse instead of returning it to the system at once.

    glibc serves large arrays with mmap above a threshold that it raises as it sees larger
    arrays freed (up to 32 MiB), and it trims the heap whenever more than twice that threshold
    lies free at its top. A training step allocates many arrays of a few MiB and frees most of
    them at its end, so the heap is trimmed and regrown at every step and arrays over 32 MiB are
    mapped anew: each 4 KiB page faults in again (measured: about 1,500 page faults and 30% of a
    LeNet-5 step; 12,000 per ResNet-20 step at batch 64; 3,200 and 5% for a small VGG at batch
    128, whose first activations are 33 MiB). This serves arrays up to 256 MiB from the heap and
    keeps up to 1 GiB of free heap for the next step; ``release_memory()`` hands it back.

    Called when nabla is imported, unless the environment sets NABLA_TUNE_MALLOC=0 or sets
    malloc's thresholds itself (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or a
    glibc.malloc tunable: those settings win). Returns whether the settings were applied (False
    on other systems and C libraries).
    """
    env = os.environ
    if env.get("NABLA_TUNE_MALLOC", "1") == "0" or "MALLOC_MMAP_THRESHOLD_" in env or \
            "MALLOC_TRIM_THRESHOLD_" in env or "glibc.malloc" in env.get("GLIBC_TUNABLES", ""):
        return False
    libc = _glibc()
    if libc is None:
        return False
    mmap_ok = libc.mallopt(_M_MMAP_THRESHOLD, 256 << 20)
    return bool(mmap_ok) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30))


def release_memory() -> bool:
    """Give the memory that freed arrays left in the process back to the system (glibc's
    malloc_trim), as ``torch.cuda.empty_cache()`` does for PyTorch's GPU cache: after training,
    before other work. Returns whether any memory was released (False off glibc)."""
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(0))


def quiet_float_warnings() -> None:
    """Ignore NumPy's RuntimeWarnings about division by zero, invalid values, overflow and
    underflow when a nabla module made the call; the user's own NumPy code still warns."""
    warnings.filterwarnings(
        "ignore", r"(divide by zero|invalid value|overflow|underflow) encountered",
        RuntimeWarning, r"nabla(\.|$)")


malloc_tuned = tune_malloc()
quiet_float_warnings()
