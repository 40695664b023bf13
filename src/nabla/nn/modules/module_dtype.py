"""Casting a module: ``to``, ``float``, ``double``, ``half``, ``cpu``, ``cuda``.

Parameters and buffers are cast in place (the objects stay, so an optimizer built before the
cast keeps working); an uninitialized parameter of a lazy module only records the dtype it will
be created with, as in PyTorch. ``to(memory_format=nabla.channels_last)`` lays out the 4-D
floating parameters and buffers (conv weights) that way, in place too.
"""

from nabla.dtype import to_dtype
from nabla.memory_layout import channels_last_3d, copy_in_format, is_in_format, preserve_format
from nabla.nn.parameter import is_lazy
from nabla.tensor import Tensor


class DtypeMixin:
    """The dtype and device methods of ``Module`` (uses its ``modules()``, ``_parameters`` and
    ``_buffers``)."""

    def _floating_state(self):
        """The floating parameters and buffers of this module and all below it."""
        for mod in self.modules():
            for t in list(mod._parameters.values()) + list(mod._buffers.values()):
                if t is not None and t.dtype.kind == "f":
                    yield t

    def _cast(self, dtype):
        """Cast floating parameters (and their grads) and buffers in place: the Parameter objects
        stay the same, so an optimizer built before the cast keeps working."""
        for t in self._floating_state():
            if t.dtype == dtype:
                continue
            if is_lazy(t):  # uninitialized: no array yet
                t._retype(dtype)
                continue
            t._data = t._data.astype(dtype)
            if t.grad is not None:  # after the data: the grad's dtype must match it
                t.grad = Tensor._make(t.grad._data.astype(dtype))
        return self

    def to(self, *args, dtype=None, device=None, non_blocking=False, memory_format=None):
        """``to(dtype)``, ``to('cpu')`` or ``to(tensor)``: cast floating state in place (and lay
        it out as ``memory_format``)."""
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
        if memory_format is not None and memory_format is not preserve_format:
            self._lay_out(memory_format)
        return self

    def _lay_out(self, memory_format) -> None:
        """Lay out the floating parameters and buffers of the format's rank (4-D, or 5-D for
        channels_last_3d) as ``memory_format``, in place; the others stay as they are."""
        rank = 5 if memory_format is channels_last_3d else 4
        for t in self._floating_state():
            if not is_lazy(t) and t.ndim == rank \
                    and not is_in_format(t._data, memory_format, "Module.to"):
                t._data = copy_in_format(t._data, memory_format, "Module.to")

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
