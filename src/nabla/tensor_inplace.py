"""In-place writes: ``x.add_(y)``, ``x.zero_()``, ``x[i] = v``, ``x += y``.

They are allowed on tensors that need no gradient, or under ``no_grad()`` (as optimizers and
``nn.init`` do), and each bumps the tensor's version counter, so a backward that needs the old
values raises instead of computing a wrong gradient. (Graph tensors are changed out of place.)
"""

import nabla  # resolved at call time, as in tensor_methods.py
from nabla.autograd.grad_mode import _mode, _trace
from nabla.backend import array_module


class InPlaceMethods:
    __slots__ = ()

    def _write(self, values, where: str) -> "nabla.Tensor":
        """Write ``values`` into this tensor's memory and bump its version counter."""
        if _trace.tracer is not None:
            _trace.tracer.refuse(f"the in-place write {where}")
        if self._requires_grad and _mode.enabled:
            kind = "a leaf tensor that requires grad" if self.grad_fn is None else \
                "a tensor that is part of the graph"
            raise RuntimeError(
                f"{where}: in-place operation on {kind} (shape {tuple(self.shape)}). Use the "
                "out-of-place version, or do it under `with nabla.no_grad():` (as optimizers do)."
            )
        if hasattr(values, "_data"):  # a Tensor
            values = values._data
        self._data[...] = values
        self._version[0] += 1
        return self

    def __setitem__(self, key, value) -> None:
        if _trace.tracer is not None:
            _trace.tracer.refuse("the in-place write __setitem__")
        if self._requires_grad and _mode.enabled:
            self._write(None, "__setitem__")
        nabla.ops.index.setitem(self._data, key, value._data if hasattr(value, "_data") else value)
        self._version[0] += 1

    def copy_(self, src) -> "nabla.Tensor":
        return self._write(src, "copy_")

    def zero_(self) -> "nabla.Tensor":
        return self._write(0, "zero_")

    def fill_(self, value) -> "nabla.Tensor":
        return self._write(value, "fill_")

    def add_(self, other, alpha=1) -> "nabla.Tensor":
        o = other._data if hasattr(other, "_data") else other
        return self._write(self._data + (o if alpha == 1 else alpha * o), "add_")

    def sub_(self, other, alpha=1) -> "nabla.Tensor":
        o = other._data if hasattr(other, "_data") else other
        return self._write(self._data - (o if alpha == 1 else alpha * o), "sub_")

    def mul_(self, other) -> "nabla.Tensor":
        return self._write(self._data * (other._data if hasattr(other, "_data") else other),
                           "mul_")

    def div_(self, other) -> "nabla.Tensor":
        return self._write(self._data / (other._data if hasattr(other, "_data") else other),
                           "div_")

    def clamp_(self, min=None, max=None) -> "nabla.Tensor":
        return self._write(array_module(self._data).clip(self._data, min, max), "clamp_")

    def masked_fill_(self, mask, value) -> "nabla.Tensor":
        xp = array_module(self._data)
        m = mask._data if hasattr(mask, "_data") else mask
        return self._write(xp.where(m, value, self._data), "masked_fill_")

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> "nabla.Tensor":
        from nabla.random import numpy_generator

        return self._write(numpy_generator(generator).uniform(a, b, self.shape), "uniform_")

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> "nabla.Tensor":
        from nabla.random import numpy_generator

        return self._write(numpy_generator(generator).normal(mean, std, self.shape), "normal_")

    def __iadd__(self, other):
        return self.add_(other) if _inplace_ok(self) else self + other

    def __isub__(self, other):
        return self.sub_(other) if _inplace_ok(self) else self - other

    def __imul__(self, other):
        return self.mul_(other) if _inplace_ok(self) else self * other

    def __itruediv__(self, other):
        return self.div_(other) if _inplace_ok(self) else self / other


def _inplace_ok(t) -> bool:
    """``x += y`` works in place unless x needs its old value for a graph (then it rebinds)."""
    if not t._requires_grad or not _mode.enabled:
        return True
    if t.grad_fn is None:
        t._write(None, "in-place operator")  # raises: PyTorch forbids this on leaves too
    return False
