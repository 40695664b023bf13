"""Creating tensors: from data, filled, ranges, and random (from the global generator)."""

import operator

import numpy

from nabla import dtype as _dt
from nabla import ops as _ops
from nabla.random import numpy_generator
from nabla.tensor import Tensor


def _size(size, where: str) -> tuple:
    """Accept ``zeros(2, 3)`` and ``zeros((2, 3))``; refuse sizes that are not ints."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        return tuple(operator.index(n) for n in size)
    except TypeError:
        raise TypeError(f"{where}: the size must be ints, as {where}(2, 3) or {where}((2, 3)), "
                        f"got {tuple(size)!r}") from None


def _float(dtype):
    return _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)


def _infer(data, dtype):
    """Array for ``tensor(data)``: Python floats become the default dtype, ints int64."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return numpy.asarray(data, dtype=_dt.to_dtype(dtype))
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        data = [d._data if isinstance(d, Tensor) else d for d in data]
    try:
        arr = numpy.asarray(data)
    except ValueError:
        raise ValueError("tensor: the nested lists are ragged; every list at one depth must have "
                         "the same length (pad the shorter ones, or use "
                         "nn.utils.rnn.pad_sequence for sequences)") from None
    if arr.dtype.kind == "f" and not isinstance(data, numpy.ndarray | numpy.generic):
        arr = arr.astype(_dt.get_default_dtype())
    elif arr.dtype.kind in "iu" and not isinstance(data, numpy.ndarray | numpy.generic):
        arr = arr.astype(_dt.int64)
    if arr.dtype == object:
        raise TypeError("tensor: could not infer a dtype from data of mixed or ragged types")
    return arr


def tensor(data, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (list, number, array or tensor)."""
    arr = _infer(data, dtype)
    return Tensor(arr.copy(), requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with an array of the same dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _dt.to_dtype(dtype)):
        return data
    return Tensor(_infer(data, dtype))


def asarray(obj, *, dtype=None, device=None, copy: bool | None = None,
            requires_grad: bool | None = None) -> Tensor:
    """``obj`` as a tensor, sharing memory where it can (PyTorch's rules).

    A Tensor is returned itself, and a NumPy array is wrapped without a copy, when the dtype
    already matches and ``copy`` is not True; otherwise (another dtype, ``copy=True``, or a
    list or number) the values are copied, and a Tensor's copy stays in the graph. ``copy=False``
    refuses to copy: it raises where sharing is impossible.

    Args:
        obj: a Tensor, NumPy array, number or (nested) sequence.
        dtype: the result dtype (default: obj's; Python floats give the default float dtype).
        copy: True always copies, False never does, None copies only when needed.
        requires_grad: None keeps a Tensor's setting (False for new tensors); True marks the
            result; False detaches a graph tensor, or clears the flag of a leaf, which for an
            aliased leaf is ``obj`` itself, as in PyTorch.
    Returns:
        Tensor.
    """
    dtype = _dt.to_dtype(dtype)
    other_dtype = dtype is not None and dtype != getattr(obj, "dtype", dtype)
    if copy is False and (other_dtype or not isinstance(obj, Tensor | numpy.ndarray)):
        what = f"dtype {obj.dtype} into {dtype}" if other_dtype else type(obj).__name__
        raise ValueError(f"asarray: can't share memory with (alias) {what} when copy=False; "
                         "pass copy=None to copy where needed")
    if isinstance(obj, Tensor):
        out = obj
        if other_dtype:
            out = _ops.to_dtype(obj, dtype)  # a new array already (and recorded)
        elif copy:
            out = _ops.clone(obj)
    elif isinstance(obj, numpy.ndarray):
        out = Tensor._make(obj.astype(dtype or obj.dtype, copy=bool(copy)))
    else:
        out = Tensor(_infer(obj, dtype))
    if requires_grad is not None:
        if not requires_grad and out.grad_fn is not None:
            out = out.detach()
        else:
            out.requires_grad_(requires_grad)
    return out


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number ``s``, of the default float dtype unless ``dtype`` is
    given (``scalar_tensor(3)`` is 3.0, as in PyTorch).

    Args:
        s: a number (or a one-element tensor).
        dtype: the result dtype.
        requires_grad: whether the returned leaf requires grad.
    Returns:
        Tensor of shape ().
    """
    value = numpy.asarray(s._data if isinstance(s, Tensor) else s)
    if value.size != 1 or value.dtype.kind not in "biuf":
        raise TypeError(f"scalar_tensor: expected a number, got {type(s).__name__} "
                        f"{tuple(value.shape) if value.ndim else ''}; use nabla.tensor for "
                        "arrays")
    return Tensor(value.reshape(()).astype(_float(dtype)), requires_grad)


def from_numpy(array: numpy.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``."""
    return Tensor._make(array)


def zeros(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return Tensor(numpy.zeros(_size(size, "zeros"), _float(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return Tensor(numpy.ones(_size(size, "ones"), _float(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return Tensor(numpy.empty(_size(size, "empty"), _float(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    if dtype is None:
        dtype = _infer(fill_value, None).dtype
    return Tensor(numpy.full(tuple(size), fill_value, _dt.to_dtype(dtype)), requires_grad)


def zeros_like(input, dtype=None, requires_grad=False) -> Tensor:
    return zeros(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def ones_like(input, dtype=None, requires_grad=False) -> Tensor:
    return ones(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def empty_like(input, dtype=None, requires_grad=False) -> Tensor:
    return empty(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False) -> Tensor:
    return full(input.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Values from ``start`` (default 0) up to, not including, ``end``."""
    if end is None:
        start, end = 0, start
    if step == 0 or (end - start) * step < 0:
        raise ValueError(f"arange: cannot go from {start} to {end} in steps of {step}: the step "
                         "must be nonzero and point from start towards end")
    arr = numpy.arange(start, end, step)
    if dtype is None:
        integral = all(isinstance(v, int) for v in (start, end, step))
        dtype = _dt.int64 if integral else _dt.get_default_dtype()
    return Tensor(arr.astype(_dt.to_dtype(dtype)), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad=False, device=None) -> Tensor:
    return Tensor(numpy.linspace(start, end, steps).astype(_float(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad=False, device=None) -> Tensor:
    return Tensor(numpy.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Uniform samples on [0, 1)."""
    dt = _float(dtype)
    if dt.kind != "f":
        raise RuntimeError(f"rand: uniform samples on [0, 1) need a floating dtype, got {dt}; "
                           "use randint for integers")
    arr = numpy_generator(generator).random(_size(size, "rand")).astype(dt)
    # float64 draws just below 1 round to 1.0 in a narrower dtype: keep [0, 1) open at 1
    return Tensor(numpy.minimum(arr, numpy.nextafter(dt.type(1), dt.type(0))), requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Standard normal samples."""
    arr = numpy_generator(generator).standard_normal(_size(size, "randn"))
    return Tensor(arr.astype(_float(dtype)), requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` as in PyTorch when high is omitted)."""
    if isinstance(high, (tuple, list)):  # randint(high, size): PyTorch's positional short form
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if low >= high:
        raise ValueError(f"randint: the range [low, high) = [{low}, {high}) is empty; "
                         "high must be greater than low")
    arr = numpy_generator(generator).integers(low, high, tuple(size))
    return Tensor(numpy.asarray(arr, dtype=_dt.to_dtype(dtype or _dt.int64)))


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1."""
    arr = numpy_generator(generator).permutation(n)
    return Tensor(arr.astype(_dt.to_dtype(dtype or _dt.int64)))


def rand_like(input, dtype=None) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype)


def randn_like(input, dtype=None) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype)


def randint_like(input, low, high=None, dtype=None) -> Tensor:
    return randint(low, high, input.shape, dtype=dtype or input.dtype)


def normal(mean, std, size, generator=None, dtype=None) -> Tensor:
    arr = numpy_generator(generator).normal(mean, std, tuple(size))
    return Tensor(arr.astype(_float(dtype)))


def bernoulli(input, generator=None) -> Tensor:
    """Samples 1 with probability ``input`` (elementwise), else 0."""
    p = input._data
    return Tensor((numpy_generator(generator).random(p.shape) < p).astype(p.dtype))
