"""``Parameter`` and ``Buffer``: the tensors a ``Module`` registers when they are assigned to its
attributes; ``UninitializedParameter`` / ``UninitializedBuffer``: the shapeless placeholders of
the lazy modules (``nn.LazyLinear``), materialized in place by their first forward."""

from nabla.backend import array_module, device_of
from nabla.creation import empty
from nabla.dtype import to_dtype
from nabla.tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered when assigned to a Module attribute.

    Shares memory with ``data``: ``Parameter(t)`` does not copy ``t``.

    Args:
        data: the initial values (a Tensor or anything ``nabla.tensor`` accepts); an empty
            tensor when None.
        requires_grad: whether the optimizer should see gradients for it (default True).
    """

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        super().__init__(empty(0) if data is None else data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        # copy.deepcopy and pickle: rebuild from a copy of the array, keep requires_grad
        return (_rebuild_parameter, (self._data, self._requires_grad, self.grad))


def _rebuild_parameter(data, requires_grad: bool, grad) -> Parameter:
    p = Parameter(Tensor._make(data), requires_grad)
    p.grad = grad
    return p


class Buffer(Tensor):
    """A tensor that registers itself as a buffer (not a parameter) when assigned to a Module
    attribute: ``self.running_mean = nn.Buffer(zeros(3))`` is ``register_buffer``.

    Shares memory (and the version counter) with ``data``, keeping its ``requires_grad``.

    Args:
        data: the values (a Tensor or anything ``nabla.tensor`` accepts); empty when None.
        persistent: whether the buffer goes into the module's ``state_dict`` (default True).
    """

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent: bool = True) -> None:
        source = data if isinstance(data, Tensor) else Tensor(empty(0) if data is None else data)
        super().__init__(source, source.requires_grad)
        self._version = source._version
        self.persistent = persistent


# The array slot of a Tensor: an uninitialized tensor keeps an empty placeholder there (it
# carries the dtype) and hides it behind a ``_data`` that raises, so that every op, optimizer
# and shape query reading it fails with one clear message.
_DATA_SLOT = Tensor.__dict__["_data"]


class UninitializedTensorMixin:
    """What UninitializedParameter and UninitializedBuffer share: no shape and no values until
    ``materialize(shape)``, which turns the object itself (in place, so modules and optimizers
    holding it see the change) into a ``cls_to_become``."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None) -> None:
        Tensor.__init__(self, empty(0, dtype=dtype))
        self.requires_grad = requires_grad

    @property
    def _data(self):
        raise RuntimeError(
            f"Attempted to use an uninitialized {self._kind()} (an {type(self).__name__}). "
            "This happens with a Lazy module (nn.LazyLinear, nn.LazyConv2d, ...) before its "
            "first call: run the module once on a batch (a dry run) to materialize its "
            "parameters, or load a state_dict into it, before using them")

    @_data.setter
    def _data(self, value) -> None:
        _DATA_SLOT.__set__(self, value)

    def _kind(self) -> str:
        return "parameter" if isinstance(self, Parameter) else "buffer"

    @property
    def shape(self):
        raise RuntimeError(
            f"Can't access the shape of an uninitialized parameter or buffer (an "
            f"{type(self).__name__}, of a Lazy module before its first call). This error "
            "usually happens in `load_state_dict` when trying to load an uninitialized "
            "parameter into an initialized one. Call `forward` once on a batch (a dry run) to "
            "initialize the parameters before accessing their attributes.")

    @property
    def dtype(self):
        return _DATA_SLOT.__get__(self).dtype

    @property
    def device(self):
        return device_of(_DATA_SLOT.__get__(self))

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.dtype.kind not in "fc":
            raise RuntimeError(f"requires_grad: only floating point tensors can require "
                               f"gradients, got {self.dtype}")
        self._requires_grad = bool(value)

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give this tensor ``shape`` (values unspecified, as ``empty``; zeros here) and the
        dtype it was created with (or ``dtype``), and make it a ``cls_to_become``, in place."""
        placeholder = _DATA_SLOT.__get__(self)
        dtype = placeholder.dtype if dtype is None else to_dtype(dtype)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if any(not isinstance(n, int) or n < 0 for n in shape):
            raise ValueError(f"materialize: the shape must be non-negative ints, got {shape}")
        _DATA_SLOT.__set__(self, array_module(placeholder).zeros(shape, dtype))
        self.__class__ = self.cls_to_become

    def _retype(self, dtype) -> None:
        """Module.to(dtype) before the first call: record the dtype it will be created with."""
        _DATA_SLOT.__set__(self, array_module(_DATA_SLOT.__get__(self)).zeros(0, dtype))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __reduce_ex__(self, protocol):
        # copy.deepcopy and pickle: another uninitialized tensor of the same dtype
        return (type(self), (self._requires_grad, None, self.dtype))


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (a lazy module's, before its first call).

    Any use other than registering it raises a clear error; ``materialize(shape)`` turns it
    into a ``Parameter`` in place.

    Args:
        requires_grad: as Parameter's (default True).
        device, dtype: where and of which dtype it will be created (default dtype if None).
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        super().__init__(requires_grad, device, dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (a lazy batch norm's running statistics).

    ``materialize(shape)`` turns it into a plain ``Tensor`` in place.

    Args:
        requires_grad: default False.
        device, dtype: where and of which dtype it will be created (default dtype if None).
    """

    __slots__ = ()
    cls_to_become = Tensor


def is_lazy(param) -> bool:
    """Whether ``param`` is an uninitialized parameter or buffer (shape not yet known)."""
    return isinstance(param, UninitializedTensorMixin)
