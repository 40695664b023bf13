"""Creating tensors: from data, filled, ranges, and random (from the global generator)."""

import operator

import numpy

from nabla import dtype as _dt
from nabla import ops as _ops
from nabla.memory_layout import check_placement, empty_in_format
from nabla.memory_layout import preserve_format as _preserve
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


def tensor(data, dtype=None, requires_grad: bool = False, device=None,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (list, number, array or tensor)."""
    check_placement("tensor", device, None, pin_memory)
    arr = _infer(data, dtype)
    return Tensor(arr.copy(), requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with an array of the same dtype."""
    check_placement("as_tensor", device)
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


# The factories take PyTorch's placement keywords: device (the CPU), layout (nabla.strided),
# pin_memory (False) and, for empty and the *_like functions, memory_format (memory_layout.py).
def zeros(*size, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False) -> Tensor:
    check_placement("zeros", device, layout, pin_memory)
    return Tensor(numpy.zeros(_size(size, "zeros"), _float(dtype)), requires_grad)


def ones(*size, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    check_placement("ones", device, layout, pin_memory)
    return Tensor(numpy.ones(_size(size, "ones"), _float(dtype)), requires_grad)


def empty(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None) -> Tensor:
    check_placement("empty", device, layout, pin_memory)
    shape = _size(size, "empty")
    return Tensor(empty_in_format(numpy, shape, _float(dtype), memory_format, "empty"),
                  requires_grad)


def full(size, fill_value, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    check_placement("full", device, layout, pin_memory)
    if dtype is None:
        dtype = _infer(fill_value, None).dtype
    return Tensor(numpy.full(tuple(size), fill_value, _dt.to_dtype(dtype)), requires_grad)


def _like(name: str, input, dtype, layout, device, memory_format):
    """An uninitialised array shaped as ``input``, in ``dtype`` (default: input's), laid out as
    ``memory_format`` (default: as input, PyTorch's preserve_format)."""
    check_placement(name, device, layout)
    fmt = _preserve if memory_format is None else memory_format
    return empty_in_format(numpy, tuple(input.shape), _dt.to_dtype(dtype or input.dtype), fmt,
                           name, like=input._data if isinstance(input, Tensor) else None)


def zeros_like(input, dtype=None, requires_grad=False, *, layout=None, device=None,
               memory_format=None) -> Tensor:
    out = _like("zeros_like", input, dtype, layout, device, memory_format)
    out[...] = 0
    return Tensor(out, requires_grad)


def ones_like(input, dtype=None, requires_grad=False, *, layout=None, device=None,
              memory_format=None) -> Tensor:
    out = _like("ones_like", input, dtype, layout, device, memory_format)
    out[...] = 1
    return Tensor(out, requires_grad)


def empty_like(input, dtype=None, requires_grad=False, *, layout=None, device=None,
               memory_format=None) -> Tensor:
    return Tensor(_like("empty_like", input, dtype, layout, device, memory_format),
                  requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False, *, layout=None, device=None,
              memory_format=None) -> Tensor:
    out = _like("full_like", input, dtype, layout, device, memory_format)
    out[...] = fill_value
    return Tensor(out, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None, *,
           layout=None, pin_memory=False) -> Tensor:
    """Values from ``start`` (default 0) up to, not including, ``end``."""
    check_placement("arange", device, layout, pin_memory)
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


def linspace(start, end, steps: int, dtype=None, requires_grad=False, device=None, *,
             layout=None, pin_memory=False) -> Tensor:
    check_placement("linspace", device, layout, pin_memory)
    return Tensor(numpy.linspace(start, end, steps).astype(_float(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad=False, device=None, *,
        layout=None, pin_memory=False) -> Tensor:
    check_placement("eye", device, layout, pin_memory)
    return Tensor(numpy.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False, device=None, layout=None,
         pin_memory=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    check_placement("rand", device, layout, pin_memory)
    dt = _float(dtype)
    if dt.kind != "f":
        raise RuntimeError(f"rand: uniform samples on [0, 1) need a floating dtype, got {dt}; "
                           "use randint for integers")
    arr = numpy_generator(generator).random(_size(size, "rand")).astype(dt)
    # float64 draws just below 1 round to 1.0 in a narrower dtype: keep [0, 1) open at 1
    return Tensor(numpy.minimum(arr, numpy.nextafter(dt.type(1), dt.type(0))), requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False, device=None, layout=None,
          pin_memory=False) -> Tensor:
    """Standard normal samples."""
    check_placement("randn", device, layout, pin_memory)
    arr = numpy_generator(generator).standard_normal(_size(size, "randn"))
    return Tensor(arr.astype(_float(dtype)), requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None, *, layout=None,
            requires_grad=False, pin_memory=False) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` as in PyTorch when high is omitted)."""
    check_placement("randint", device, layout, pin_memory)
    if isinstance(high, (tuple, list)):  # randint(high, size): PyTorch's positional short form
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if low >= high:
        raise ValueError(f"randint: the range [low, high) = [{low}, {high}) is empty; "
                         "high must be greater than low")
    arr = numpy_generator(generator).integers(low, high, tuple(size))
    return Tensor(numpy.asarray(arr, dtype=_dt.to_dtype(dtype or _dt.int64)), requires_grad)


def randperm(n: int, generator=None, dtype=None, device=None, *, layout=None,
             requires_grad=False, pin_memory=False) -> Tensor:
    """A random permutation of 0..n-1."""
    check_placement("randperm", device, layout, pin_memory)
    arr = numpy_generator(generator).permutation(n)
    return Tensor(arr.astype(_dt.to_dtype(dtype or _dt.int64)), requires_grad)


def _laid_like(name: str, values: Tensor, input, layout, device, memory_format) -> Tensor:
    """``values`` (row-major) laid out as ``_like`` lays out a copy of ``input``."""
    out = _like(name, input, values.dtype, layout, device, memory_format)
    if out.flags.c_contiguous:
        return values
    out[...] = values._data
    return Tensor(out, values.requires_grad)


def rand_like(input, dtype=None, *, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    values = rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)
    return _laid_like("rand_like", values, input, layout, device, memory_format)


def randn_like(input, dtype=None, *, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    values = randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)
    return _laid_like("randn_like", values, input, layout, device, memory_format)


def randint_like(input, low, high=None, dtype=None, *, layout=None, device=None,
                 requires_grad=False, memory_format=None) -> Tensor:
    values = randint(low, high, input.shape, dtype=dtype or input.dtype,
                     requires_grad=requires_grad)
    return _laid_like("randint_like", values, input, layout, device, memory_format)


def normal(mean, std, size, generator=None, dtype=None) -> Tensor:
    arr = numpy_generator(generator).normal(mean, std, tuple(size))
    return Tensor(arr.astype(_float(dtype)))


def bernoulli(input, generator=None) -> Tensor:
    """Samples 1 with probability ``input`` (elementwise), else 0."""
    p = input._data
    return Tensor((numpy_generator(generator).random(p.shape) < p).astype(p.dtype))
