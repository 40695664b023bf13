"""Casting a module: ``to``, ``float``, ``double``, ``half``, ``cpu``, ``cuda``.

Parameters and buffers are cast in place (the objects stay, so an optimizer built before the
cast keeps working); an uninitialized parameter of a lazy module only records the dtype it will
be created with, as in PyTorch.
"""

from nabla.dtype import to_dtype
from nabla.nn.parameter import is_lazy
from nabla.tensor import Tensor


class DtypeMixin:
    """The dtype and device methods of ``Module`` (uses its ``modules()``, ``_parameters`` and
    ``_buffers``)."""

    def _cast(self, dtype):
        """Cast floating parameters (and their grads) and buffers in place: the Parameter objects
        stay the same, so an optimizer built before the cast keeps working."""
        for mod in self.modules():
            for t in list(mod._parameters.values()) + list(mod._buffers.values()):
                if t is None or t.dtype.kind != "f" or t.dtype == dtype:
                    continue
                if is_lazy(t):  # uninitialized: no array yet
                    t._retype(dtype)
                    continue
                t._data = t._data.astype(dtype)
                if t.grad is not None:  # after the data: the grad's dtype must match it
                    t.grad = Tensor._make(t.grad._data.astype(dtype))
        return self

    def to(self, *args, dtype=None, device=None, **kwargs):
        """``to(dtype)``, ``to('cpu')`` or ``to(tensor)``: cast floating state in place."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str):
                device = a
            elif a is not None:
                dtype = a
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"to: device {device!r} is not available; nabla runs on 'cpu'")
        if dtype is not None:
            dtype = to_dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"nn.Module.to only accepts floating dtypes, but got {dtype}")
            self._cast(dtype)
        return self

    def float(self):
        return self._cast(to_dtype("float32"))

    def double(self):
        return self._cast(to_dtype("float64"))

    def half(self):
        return self._cast(to_dtype("float16"))

    def cpu(self):
        return self

    def cuda(self, device=None):
        raise RuntimeError("cuda: nabla has no GPU backend yet (nabla.cuda.is_available() is "
                           "False); keep modules on 'cpu'")
