"""Tensor conversions: to Python numbers and NumPy (``item()``, ``tolist()``, ``numpy()``,
``float(t)``, ``int(t)``, ``operator.index(t)``), and to other dtypes: ``to(dtype)``
(differentiable; device strings: 'cpu' only for now), the casts named after their dtype
(``float()``, ``long()``, ``byte()``, ...), ``type_as``, ``type``. The cast op and its gradient
rule are ``to_dtype`` in ops/casts.py."""

import nabla  # resolved at call time, as in tensor_methods.py
from nabla import dtype as _dt
from nabla.autograd.grad_mode import _trace
from nabla.memory_layout import check_placement, preserve_format


class ConversionMethods:
    __slots__ = ()

    # -- to Python numbers and NumPy (a trace cannot replay the value: it is told) ----------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"item: a tensor with {self._data.size} elements cannot be converted to a Python "
                "number; index or reduce it first"
            )
        if _trace.tracer is not None:
            _trace.tracer.leak("item()")
        return self._data.item()

    def tolist(self):
        if _trace.tracer is not None:
            _trace.tracer.leak("tolist()")
        return self._data.tolist()

    def numpy(self):
        """The underlying array (shared memory), as ``torch.Tensor.numpy``."""
        if self._requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        if _trace.tracer is not None:
            _trace.tracer.leak("numpy()")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._data)

    # -- to other dtypes ---------------------------------------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking: bool = False, copy: bool = False,
           memory_format=None) -> "nabla.Tensor":
        """Cast to a dtype (differentiable); ``device`` (or a device string) must be the CPU.
        This tensor itself when nothing changes, unless ``copy``; ``memory_format`` lays the
        result out as ``contiguous`` does (see memory_layout.py)."""
        flags = [a for a in args if isinstance(a, bool)]  # to(dtype, non_blocking, copy)
        copy = flags[1] if len(flags) > 1 else copy
        for a in args:
            if isinstance(a, nabla.Tensor):
                dtype = a.dtype
            elif isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps"):
                if a != "cpu" and self.device != a.split(":")[0]:
                    raise RuntimeError(f"to: device {a!r} is not available; nabla runs on 'cpu'")
            elif a is not None and not isinstance(a, bool):
                dtype = a
        check_placement("to", device)
        out = self
        if dtype is not None and _dt.to_dtype(dtype) != self._data.dtype:
            out = nabla.ops.to_dtype(self, _dt.to_dtype(dtype))
        if memory_format is not None and memory_format is not preserve_format:
            out = out.contiguous(memory_format=memory_format)
        if copy and out is self:
            out = nabla.ops.clone(self, memory_format=preserve_format)
        return out

    def cpu(self) -> "nabla.Tensor":
        return self

    def cuda(self, device=None) -> "nabla.Tensor":
        raise RuntimeError("cuda: nabla has no GPU backend yet (nabla.cuda.is_available() is "
                           "False); keep tensors on 'cpu'")

    def float(self) -> "nabla.Tensor":
        return self.to(_dt.float32)

    def double(self) -> "nabla.Tensor":
        return self.to(_dt.float64)

    def half(self) -> "nabla.Tensor":
        return self.to(_dt.float16)

    def long(self) -> "nabla.Tensor":
        return self.to(_dt.int64)

    def int(self) -> "nabla.Tensor":
        return self.to(_dt.int32)

    def bool(self) -> "nabla.Tensor":
        return self.to(_dt.bool)

    def type_as(self, other: "nabla.Tensor") -> "nabla.Tensor":
        return self.to(other.dtype)

    def type(self, dtype=None):
        """Without an argument the type's name, 'nabla.FloatTensor' as torch's
        'torch.FloatTensor'; else this tensor converted to ``dtype``: a dtype, a typed class
        (``nabla.DoubleTensor``) or its name ('torch.LongTensor' and 'nabla.LongTensor' alike)."""
        if dtype is None:
            return nabla.typename(self)
        return self.to(nabla.legacy.dtype_of_type(dtype))

    def byte(self) -> "nabla.Tensor":
        return self.to(_dt.uint8)

    def char(self) -> "nabla.Tensor":
        return self.to(_dt.int8)

    def short(self) -> "nabla.Tensor":
        return self.to(_dt.int16)
