"""Tensor methods a ported PyTorch script calls whose function nabla already has: ``x.dot(y)``,
``x.kron(y)``, ``x.lgamma()``, ``x.bitwise_and(y)``, ``x.hardshrink()``, ...; each is the
function of the same name (``nabla.ops``, ``nabla.nn.functional``), called with the argument
order and keywords of PyTorch's method. Also the memory facts (``stride()``,
``storage_offset()``, ``nbytes``), ``output_nr``, ``get_device()``, and the conjugate-transpose
names (``H``, ``mH``, ``adjoint``) for real tensors. The
in-place ``op_`` variants of this batch are in ``tensor_inplace_compat.py`` (mixed in here)."""

import nabla  # resolved at call time, as in tensor_methods.py
from nabla.backend import ndarray
from nabla.tensor_inplace_compat import CompatInPlaceMethods
from nabla.tensor_methods_elementwise import ElementwiseTensorMethods
from nabla.tensor_methods_linalg import LinalgTensorMethods
from nabla.tensor_methods_lowlevel import LowLevelTensorMethods
from nabla.tensor_queries import QueryTensorMethods


def _dim(where: str, dim: int, ndim: int) -> int:
    """``dim`` in [-ndim, ndim - 1] as a non-negative index."""
    if ndim == 0:
        raise IndexError(f"{where}: dimension specified as {dim} but tensor has no dimensions "
                         "(it is 0-d)")
    if not -ndim <= dim < ndim:
        raise IndexError(f"{where}: dimension out of range (expected to be in range of "
                         f"[{-ndim}, {ndim - 1}], but got {dim})")
    return dim % ndim


def _real(where: str, t) -> None:
    """Refuse a complex tensor: nabla's ops have no complex conjugate."""
    if t.dtype.kind == "c":
        raise RuntimeError(f"{where}: complex tensors are not supported (nabla's ops are real; "
                           f"got {t.dtype}); use the real and imaginary parts as real tensors")


def _conj_transpose(where: str, t):
    """The last two dims swapped (a 0-d tensor is returned as it is, as PyTorch does)."""
    _real(where, t)
    if t.ndim == 1:
        raise RuntimeError(f"{where}: only supported on matrices or batches of matrices, got a "
                           f"1-D tensor of shape {tuple(t.shape)}; unsqueeze it first")
    return t if t.ndim == 0 else nabla.ops.transpose(t, -2, -1)


class CompatTensorMethods(CompatInPlaceMethods, LinalgTensorMethods, QueryTensorMethods,
                          LowLevelTensorMethods, ElementwiseTensorMethods):
    __slots__ = ()

    # comparisons of whole tensors (ops/compare.py)
    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return nabla.ops.allclose(self, other, rtol, atol, equal_nan)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return nabla.ops.isclose(self, other, rtol, atol, equal_nan)

    def equal(self, other):
        return nabla.ops.equal(self, other)

    # products (ops/linalg.py, ops/matrix.py)
    def dot(self, tensor):
        return nabla.ops.dot(self, tensor)

    def outer(self, vec2):
        return nabla.ops.outer(self, vec2)

    ger = outer  # PyTorch's older name of outer

    def kron(self, other):
        return nabla.ops.kron(self, other)

    # rearrangement and selection (ops/shape.py, ops/scatter.py, ops/join.py, ops/matrix.py)
    def ravel(self):
        return nabla.ops.ravel(self)

    def tile(self, *sizes, dims=None):  # x.tile(2, 3), x.tile((2, 3)) or x.tile(dims=(2, 3))
        if dims is None:
            dims = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
                else sizes
        return nabla.ops.tile(self, dims)

    def take(self, index):
        return nabla.ops.take(self, index)

    def select(self, dim, index):
        return nabla.ops.select(self, dim, index)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        """Differences along ``dim``, after joining ``prepend`` and ``append`` to it there."""
        parts = [self]
        for name, extra in (("prepend", prepend), ("append", append)):
            if extra is None:
                continue
            if not isinstance(extra, nabla.Tensor) or extra.ndim != self.ndim:
                got = f"a {extra.ndim}-D tensor" if isinstance(extra, nabla.Tensor) else \
                    type(extra).__name__
                raise TypeError(f"diff: {name} must be a tensor with as many dims as the input "
                                f"({self.ndim}), got {got}; reshape it to match")
            parts.insert(0 if name == "prepend" else len(parts), extra)
        joined = self if len(parts) == 1 else nabla.ops.cat(parts, dim)
        return nabla.ops.diff(joined, n, dim)

    # special functions (ops/gamma.py)
    def lgamma(self):
        return nabla.ops.lgamma(self)

    def digamma(self):
        return nabla.ops.digamma(self)

    def polygamma(self, n):  # the method takes n first after self, as PyTorch's
        return nabla.ops.polygamma(n, self)

    def mvlgamma(self, p):
        return nabla.ops.mvlgamma(self, p)

    # bitwise and logical (ops/compare.py)
    def bitwise_and(self, other):
        return nabla.ops.bitwise_and(self, other)

    def bitwise_or(self, other):
        return nabla.ops.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return nabla.ops.bitwise_xor(self, other)

    def bitwise_not(self):
        return nabla.ops.bitwise_not(self)

    def logical_xor(self, other):
        return nabla.ops.logical_xor(self, other)

    # sampling (creation.py) and activations (nn/functional/activation_more.py)
    def bernoulli(self, p=None, *, generator=None):
        """Draws of 1 with probability ``self`` (each element), or with ``p`` when given."""
        if p is None:
            return nabla.bernoulli(self, generator)
        return nabla.empty_like(self).bernoulli_(p, generator=generator)

    def hardshrink(self, lambd=0.5):
        return nabla.nn.functional.hardshrink(self, lambd)

    def prelu(self, weight):
        return nabla.nn.functional.prelu(self, weight)

    # conjugation: the identity on real tensors (PyTorch returns self too)
    def conj(self):
        _real("conj", self)
        return self

    def conj_physical(self):
        _real("conj_physical", self)
        return self

    def resolve_conj(self):  # nabla never sets a lazy conjugate bit: nothing to resolve
        return self

    def resolve_neg(self):  # nor a lazy negative bit
        return self

    def adjoint(self):
        return _conj_transpose("adjoint", self)

    @property
    def mH(self):
        return _conj_transpose("mH", self)

    @property
    def H(self):
        """The transpose of a matrix (the conjugate transpose, for real tensors)."""
        if self.ndim not in (0, 2):
            raise RuntimeError(f"H: only supported on matrices (2-D tensors), got a "
                               f"{self.ndim}-D tensor of shape {tuple(self.shape)}; for batches "
                               "of matrices use mH")
        return _conj_transpose("H", self)

    # -- memory and autograd facts ----------------------------------------------------------------
    def ndimension(self) -> int:
        return self._data.ndim

    def stride(self, dim=None):
        """Steps, in elements, between neighbours along each dim: NumPy's byte strides divided by
        the item size (0 along a broadcast dim; a size-1 dim's step is arbitrary and may differ
        from PyTorch's)."""
        size = self._data.itemsize
        strides = tuple(s // size for s in self._data.strides)
        return strides if dim is None else strides[_dim("stride", dim, len(strides))]

    def storage_offset(self) -> int:
        """Elements between the start of the memory this tensor views (the outermost NumPy array
        of its ``base`` chain) and its first element; 0 for a tensor owning its memory. A tensor
        made by ``from_numpy`` of a sliced array counts from the start of the unsliced one."""
        root, owner = self._data, self._data.base
        while owner is not None:  # through the wrapper that strided views (as_strided) hold
            root = owner if isinstance(owner, ndarray) else root
            owner = getattr(owner, "base", None)
        start = self._data.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        return start // self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.size * self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def output_nr(self) -> int:
        """Which output of its grad_fn this tensor is (0 for leaves)."""
        return self._output_nr

    def get_device(self) -> int:
        """-1 on the CPU, else the GPU's index."""
        return -1 if self.device.type == "cpu" else (self.device.index or 0)

