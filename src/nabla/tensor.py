"""Tensor: an array plus what autograd needs (``requires_grad``, ``grad``, ``grad_fn``).

Operators delegate to the functions in ``nabla.ops``, where each op's forward and gradient rule
sit side by side; so do the named methods (``x.exp()``), listed in ``tensor_methods.py``
(shape and indexing ones in ``tensor_methods_shape.py``, rarer ones in ``tensor_methods_more.py``);
in-place writes (``x.add_(y)``, ``x[i] = v``) are in ``tensor_inplace.py``. This file holds the
tensor's own state: its array, its autograd fields, conversion and the Python operators.
"""

import weakref

from nabla import dtype as _dt
from nabla import memory_layout as _memory_layout
from nabla import printing as _printing
from nabla.autograd.grad_mode import _trace
from nabla.backend import as_array, device_of, ndarray
from nabla.tensor_conversion import ConversionMethods
from nabla.tensor_inplace import InPlaceMethods
from nabla.tensor_methods import TensorMethods
from nabla.tensor_methods_compat import CompatTensorMethods
from nabla.tensor_methods_index import IndexTensorMethods
from nabla.tensor_methods_more import MoreTensorMethods
from nabla.tensor_methods_numeric import NumericTensorMethods
from nabla.tensor_methods_shape import ShapeTensorMethods

_new = object.__new__


class Tensor(InPlaceMethods, TensorMethods, ShapeTensorMethods, ConversionMethods,
             MoreTensorMethods, CompatTensorMethods, IndexTensorMethods, NumericTensorMethods):
    """A multi-dimensional array that can record the ops applied to it for backpropagation.

    Attributes:
        grad: the accumulated gradient (a Tensor of the same shape) after ``backward()``.
        grad_fn: the graph node that produced this tensor (None for leaves).
    """

    __slots__ = ("_data", "_grad", "_requires_grad", "grad_fn", "_output_nr", "_version",
                 "_hooks", "__weakref__")
    __array_ufunc__ = None  # ndarray <op> Tensor defers to the Tensor's reflected operator
    __hash__ = object.__hash__

    def __init__(self, data, requires_grad: bool = False) -> None:
        from_list = isinstance(data, (list, tuple))
        data = data._data if isinstance(data, Tensor) else as_array(data)
        if from_list and data.dtype.kind in "biuf":  # as torch.Tensor([0]): the default float
            data = data.astype(_dt.get_default_dtype())
        elif data.dtype.kind == "f" or data.dtype == object:
            data = data.astype(_dt.get_default_dtype() if data.dtype == object else data.dtype,
                               copy=False)
        self._data = data
        self._grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version = [0]
        self._hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _make(data, requires_grad=False, grad_fn=None, output_nr=0, version=None) -> "Tensor":
        """Fast internal constructor: wrap an array without checks."""
        t = _new(Tensor)
        t._data = data if type(data) is ndarray else as_array(data)
        t._grad = None
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._version = [0] if version is None else version
        t._hooks = None
        return t

    # -- autograd state --------------------------------------------------------------------------
    @property
    def grad(self) -> "Tensor | None":
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        """As PyTorch: a Tensor of this tensor's shape and dtype, or None."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: assigned grad must be a Tensor or None, got "
                                f"{type(value).__name__}; wrap it with nabla.tensor(...)")
            if value._data.shape != self._data.shape or value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"grad: assigned grad of shape {tuple(value.shape)} and dtype "
                    f"{value._data.dtype} does not match the tensor's shape {tuple(self.shape)} "
                    f"and dtype {self._data.dtype}"
                )
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "requires_grad: you can only change requires_grad of leaf tensors; "
                "use y = x.detach() to get a tensor that does not require grad"
            )
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"requires_grad: only floating point tensors can require gradients, got "
                f"{self._data.dtype}; convert first with .float() or .double()"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def data(self) -> "Tensor":
        """This tensor's values, detached from the graph (shares memory)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else as_array(value)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Backpropagate from this tensor: accumulate d(self)/d(leaf) into each leaf's ``grad``."""
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing this one's memory (and version counter) but cut off from the graph."""
        return Tensor._make(self._data, version=self._version)

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is not None and self._retain_hook() is None:
            self.grad_fn.register_prehook(self._output_nr, _RetainGrad(self))

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf."""
        return self._retain_hook() is not None

    def _retain_hook(self) -> "_RetainGrad | None":
        """The hook ``retain_grad()`` put on this tensor's node, if any."""
        hooks = self.grad_fn._pre_hooks if self.grad_fn is not None else None
        for hook in (hooks or {}).get(self._output_nr, ()):
            if type(hook) is _RetainGrad and hook.ref() is self:
                return hook
        return None

    def register_hook(self, hook) -> "_HookHandle":
        """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None return value
        replaces the gradient."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't "
                               "require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            self.grad_fn.register_prehook(self._output_nr, hook)
            hooks = self.grad_fn._pre_hooks[self._output_nr]
        hooks.append(hook) if hook not in hooks else None
        return _HookHandle(hooks, hook)

    # -- array facts -----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return device_of(self._data)

    def size(self, dim: int | None = None):
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether the elements lie row-major in memory without gaps (or in the order of
        ``memory_format``: ``nabla.channels_last`` ...; see memory_layout.py)."""
        if memory_format is None:
            return self._data.flags.c_contiguous
        return _memory_layout.is_in_format(self._data, memory_format)

    def contiguous(self, memory_format=None) -> "Tensor":
        """This tensor if its memory is row-major already (or laid out as ``memory_format``),
        else such a copy (as clone())."""
        if memory_format is None or memory_format is _memory_layout.contiguous_format:
            return self if self._data.flags.c_contiguous else _ops.clone(self)
        if memory_format is _memory_layout.preserve_format:
            raise RuntimeError("contiguous: preserve_format is not a layout to copy into; use "
                               "contiguous_format, channels_last or channels_last_3d")
        if _memory_layout.is_in_format(self._data, memory_format):
            return self
        return _ops.clone(self, memory_format=memory_format)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self._data.size} elements is "
                "ambiguous; use .any() or .all()"
            )
        if _trace.tracer is not None:
            _trace.tracer.leak("bool()")
        return bool(self._data)

    def __repr__(self) -> str:
        return _printing.tensor_repr(self)

    def clone(self, *, memory_format=None) -> "Tensor":
        return _ops.clone(self, memory_format=memory_format)

    # -- Python operators ------------------------------------------------------------------------
    def __add__(self, other):
        return _Add.apply(self, other)

    def __radd__(self, other):
        return _Add.apply(self, other)

    def __sub__(self, other):
        return _Sub.apply(self, other)

    def __rsub__(self, other):
        return _ops.rsub(self, other)

    def __mul__(self, other):
        return _Mul.apply(self, other)

    def __rmul__(self, other):
        return _Mul.apply(self, other)

    def __truediv__(self, other):
        return _Div.apply(self, other)

    def __rtruediv__(self, other):
        return _ops.rdiv(self, other)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.rpow(self, other)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(_ops.as_tensor_like(other, self), self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(_ops.as_tensor_like(other, self), self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(_ops.as_tensor_like(other, self), self)

    def __getitem__(self, key):
        return _ops.getitem(self, key)

    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __invert__(self):
        return _ops.logical_not(self) if self.dtype == _dt.bool else _ops.bitwise_not(self)

    # &, |, ^ are logical on bool tensors and bitwise on integers, as in PyTorch
    def __and__(self, other):
        return _ops.bitwise_and(self, other)

    __rand__ = __and__

    def __or__(self, other):
        return _ops.bitwise_or(self, other)

    __ror__ = __or__

    def __xor__(self, other):
        return _ops.bitwise_xor(self, other)

    __rxor__ = __xor__

    @property
    def T(self) -> "Tensor":
        return _ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> "Tensor":
        return _ops.transpose(self, -2, -1)


class _RetainGrad:
    """The hook ``retain_grad()`` puts on a tensor's node: adds the gradient into its ``.grad``
    (a weak reference, so the hook does not keep the tensor alive)."""

    __slots__ = ("ref",)

    def __init__(self, tensor: Tensor) -> None:
        self.ref = weakref.ref(tensor)

    def __call__(self, grad: Tensor) -> None:
        t = self.ref()
        if t is not None:
            g = grad if grad._requires_grad else Tensor._make(grad._data.copy())
            t.grad = g if t.grad is None else t.grad + g


class _HookHandle:
    def __init__(self, hooks: list, hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


from nabla import ops as _ops  # noqa: E402  (ops need Tensor: imported once it exists)
from nabla.autograd import engine as _engine  # noqa: E402
from nabla.ops.arithmetic import Add as _Add  # noqa: E402  (operators call their op directly)
from nabla.ops.arithmetic import Div as _Div  # noqa: E402
from nabla.ops.arithmetic import Mul as _Mul  # noqa: E402
from nabla.ops.arithmetic import Sub as _Sub  # noqa: E402
