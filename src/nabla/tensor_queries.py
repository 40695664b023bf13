"""Questions a ported script asks a tensor, answered with PyTorch's meaning for a dense tensor:
``is_complex()``, ``is_signed()``, ``is_nonzero()``, ``is_same_size(other)``, the ``is_cpu`` /
``is_cuda`` properties (from the device of the tensor's array, as ``Tensor.device``), the
layout and memory questions (``layout`` is ``nabla.strided``; nothing is sparse, quantized,
meta, nested or pinned; shared only after ``share_memory_()``), and ``data_ptr()``, the address
of the first element.

nabla keeps no lazy conjugate / negative bits and does not mark tensors made under
inference_mode, so ``is_conj()``, ``is_neg()`` and ``is_inference()`` are always False.
"""

import mmap


class layout:
    """A memory layout, as ``torch.layout``; nabla has one: ``nabla.strided`` (dense arrays
    with strides)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"nabla.{self.name}"


strided = layout("strided")


def is_complex(input) -> bool:
    return input.is_complex()


def is_signed(input) -> bool:
    return input.is_signed()


def is_same_size(input, other) -> bool:
    return input.is_same_size(other)


def is_inference(input) -> bool:
    return input.is_inference()


def is_conj(input) -> bool:
    return input.is_conj()


def is_neg(input) -> bool:
    return input.is_neg()


def is_nonzero(t) -> bool:
    """The truth of a one-element tensor; an error for any other number of elements."""
    size = t._data.size
    if size != 1:
        what = "no values" if size == 0 else "more than one value"
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with {what} is ambiguous (it has "
                           f"shape {tuple(t.shape)}); use .any() or .all()")
    return bool(t._data.reshape(()))


class QueryTensorMethods:
    __slots__ = ()

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        """True for floating and signed integer dtypes; False for uint8 and bool."""
        return self._data.dtype.kind in "fic"

    def is_nonzero(self) -> bool:
        return is_nonzero(self)

    def is_same_size(self, other) -> bool:
        return self._data.shape == other._data.shape

    def is_inference(self) -> bool:
        """False: nabla does not mark tensors created under inference_mode."""
        return False

    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    @property
    def is_cuda(self) -> bool:
        """Whether the array lives on a GPU (a CuPy array); False with NumPy."""
        return self.device.type == "cuda"

    @property
    def is_sparse(self) -> bool:
        return False

    @property
    def is_sparse_csr(self) -> bool:
        return False

    @property
    def is_quantized(self) -> bool:
        return False

    @property
    def is_meta(self) -> bool:
        return False

    @property
    def is_mkldnn(self) -> bool:
        return False

    @property
    def is_nested(self) -> bool:
        return False

    def is_pinned(self, device=None) -> bool:
        return False

    def pin_memory(self, device=None):
        """Pinned memory speeds up copies to a GPU; nabla runs on the CPU, so this raises, as
        PyTorch's does on a machine without an accelerator."""
        raise RuntimeError("pin_memory: pinned memory is for copies to a GPU, and nabla runs on "
                           "the CPU (PyTorch raises here too without an accelerator); drop the "
                           "call, or guard it with nabla.cuda.is_available()")

    def is_shared(self) -> bool:
        """Whether ``share_memory_()`` moved this tensor's memory to a shared mapping."""
        owner = self._data.base
        while owner is not None:
            if isinstance(owner, memoryview):  # NumPy's frombuffer holds the mapping so
                return isinstance(owner.obj, mmap.mmap)
            owner = getattr(owner, "base", None)
        return False

    @property
    def layout(self) -> layout:
        return strided

    def data_ptr(self) -> int:
        """The address of the first element in memory (0 for an empty tensor, as PyTorch's
        unallocated storage)."""
        data = self._data
        if data.size == 0:
            return 0
        interface = getattr(data, "__cuda_array_interface__", None) or data.__array_interface__
        return interface["data"][0]

