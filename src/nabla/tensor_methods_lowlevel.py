"""The lower-level Tensor API of older scripts: ``x.new(...)`` (a tensor of x's dtype from sizes
or data), ``new_empty_strided`` (and torch.empty_strided), ``narrow_copy``, the Python-callable
fills ``apply_(fn)``, ``map_(other, fn)`` and ``map2_(x, y, fn)``, ``resize_`` / ``resize_as_`` /
``as_strided_`` (PyTorch's storage semantics), ``share_memory_`` and
``register_post_accumulate_grad_hook`` (hooks run by the engine after ``.grad`` is accumulated,
see autograd/post_accumulate.py).

apply_, map_, map2_ and resize_ change a tensor outside the graph, so, as in PyTorch, they refuse a
tensor that requires grad.
"""

import math
import mmap
import numbers

import nabla  # resolved at call time, as in tensor_methods.py
from nabla import dtype as _dt
from nabla.autograd import post_accumulate
from nabla.backend import array_module, ndarray


def _sizes(where: str, sizes) -> tuple:
    """x.f(2, 3) or x.f((2, 3)) -> (2, 3)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0
               for s in sizes):
        raise TypeError(f"{where}: sizes must be non-negative integers, got {sizes!r}")
    return tuple(int(s) for s in sizes)


def _no_grad_owner(where: str, t) -> None:
    if t._requires_grad:
        raise RuntimeError(f"{where}: can't change a tensor that requires grad in place outside "
                           f"the graph (shape {tuple(t.shape)}); use t.detach().{where}(...) on "
                           "a copy, or a differentiable op")


def _storage(data):
    """A flat view of the memory ``data`` starts in, from its first element on, in memory order
    (PyTorch's storage: resize_ reinterprets it as row-major, ignoring the strides); a row-major
    copy where the owner of the memory is not itself row-major."""
    root = data
    while isinstance(root.base, ndarray):
        root = root.base
    if root.flags.c_contiguous and root.dtype == data.dtype and data.size:
        start = data.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        return root.reshape(-1)[start // data.itemsize:]
    return data.reshape(-1)


def _root_memory(data):
    """The memory ``data`` views (the outermost array of its ``base`` chain, as
    ``storage_offset`` counts), flat; None where that is not row-major in ``data``'s dtype."""
    root, owner = data, data.base
    while owner is not None:  # through the wrapper that strided views (as_strided) hold
        root = owner if isinstance(owner, ndarray) else root
        owner = getattr(owner, "base", None)
    if not root.flags.c_contiguous or root.dtype != data.dtype:
        return None
    return root.reshape(-1)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False):
    """torch.empty_strided: an uninitialised tensor with these sizes and strides (elements)."""
    like = nabla.empty(0, dtype=dtype)
    return like.new_empty_strided(size, stride, requires_grad=requires_grad)


def narrow_copy(input, dim, start, length):
    """torch.narrow_copy: a copy of input.narrow(dim, start, length)."""
    return input.narrow_copy(dim, start, length)


class LowLevelTensorMethods:
    __slots__ = ()

    def new(self, *args):
        """A tensor of this one's dtype: ``x.new(2, 3)`` or ``x.new((2, 3))`` (sizes,
        uninitialised), ``x.new([1, 2])`` (data: a list or an array), ``x.new()`` (empty),
        ``x.new(t)`` (t itself, sharing memory; it must have this dtype). A tuple counts as
        sizes, since nabla's ``x.shape`` is a tuple (PyTorch reads its torch.Size so)."""
        dtype = self._data.dtype
        if len(args) == 1 and isinstance(args[0], nabla.Tensor):
            if args[0].dtype != dtype:
                raise TypeError(f"new: expected a tensor of dtype {dtype}, got {args[0].dtype}; "
                                "use x.new_tensor(t) to convert a copy")
            return nabla.Tensor._make(args[0]._data, version=args[0]._version)
        if len(args) == 1 and not isinstance(args[0], (numbers.Integral, tuple)):
            return nabla.tensor(args[0], dtype=dtype)
        return nabla.empty(_sizes("new", args) if args else (0,), dtype=dtype)

    def new_empty_strided(self, size, stride, *, dtype=None, device=None,
                          requires_grad=False):
        """An uninitialised tensor with the given sizes and strides (in elements)."""
        size, stride = tuple(size), tuple(stride)
        if len(size) != len(stride):
            raise RuntimeError(f"new_empty_strided: size {size} and stride {stride} must have the "
                               "same length")
        dtype = _dt.to_dtype(dtype) or self._data.dtype
        xp = array_module(self._data)
        extent = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
        buffer = xp.empty(extent, dtype)
        data = xp.lib.stride_tricks.as_strided(buffer, size,
                                               tuple(s * buffer.itemsize for s in stride))
        return nabla.Tensor(data, requires_grad)

    def narrow_copy(self, dim, start, length):
        """A copy of ``narrow(dim, start, length)`` (differentiable)."""
        return nabla.ops.clone(nabla.ops.narrow(self, dim, start, length))

    def apply_(self, callable):
        """Replace each element v by callable(v) (a Python number in, one out); CPU only."""
        _no_grad_owner("apply_", self)
        if array_module(self._data).__name__ != "numpy":
            raise RuntimeError("apply_: only implemented on CPU tensors; move it with .cpu()")
        values = [callable(v) for v in self._data.reshape(-1).tolist()]
        xp = array_module(self._data)
        return self._write(xp.asarray(values, self._data.dtype).reshape(self._data.shape),
                           "apply_")

    def map_(self, tensor, callable):
        """Replace each element a by callable(a, b), b the element of ``tensor`` (broadcast to
        this tensor's shape) at the same place; CPU only."""
        _no_grad_owner("map_", self)
        xp = array_module(self._data)
        other = tensor._data if isinstance(tensor, nabla.Tensor) else xp.asarray(tensor)
        try:
            other = xp.broadcast_to(other, self._data.shape)
        except ValueError:
            raise RuntimeError(f"map_: the tensor of shape {tuple(other.shape)} does not "
                               f"broadcast to this tensor's shape {tuple(self.shape)}") from None
        pairs = zip(self._data.reshape(-1).tolist(), other.reshape(-1).tolist())
        values = [callable(a, b) for a, b in pairs]
        return self._write(xp.asarray(values, self._data.dtype).reshape(self._data.shape),
                           "map_")

    def map2_(self, x, y, callable):
        """Replace each element a by callable(a, b, c), b and c the elements of ``x`` and ``y``
        (broadcast to this tensor's shape) at the same place; CPU only."""
        _no_grad_owner("map2_", self)
        xp = array_module(self._data)
        others = []
        for t in (x, y):
            other = t._data if isinstance(t, nabla.Tensor) else xp.asarray(t)
            try:
                others.append(xp.broadcast_to(other, self._data.shape).reshape(-1).tolist())
            except ValueError:
                raise RuntimeError(f"map2_: a tensor of shape {tuple(other.shape)} does not "
                                   f"broadcast to this tensor's shape {tuple(self.shape)}"
                                   ) from None
        values = [callable(a, b, c) for a, b, c in zip(self._data.reshape(-1).tolist(), *others)]
        return self._write(xp.asarray(values, self._data.dtype).reshape(self._data.shape),
                           "map2_")

    def resize_(self, *sizes, memory_format=None):
        """Give this tensor the shape ``sizes``, as PyTorch: the elements in memory from its first
        one on are read row-major (so a smaller size keeps a prefix and shares memory); a larger
        one gets new memory whose extra elements are uninitialised."""
        _no_grad_owner("resize_", self)
        shape = _sizes("resize_", sizes)
        data = self._data
        if shape == data.shape:
            return self
        n = math.prod(shape)
        flat = _storage(data)
        if n <= flat.size:
            self._data = flat[:n].reshape(shape)
        else:
            grown = array_module(data).empty(n, data.dtype)
            grown[:flat.size] = flat
            self._data = grown.reshape(shape)
        self._version[0] += 1
        return self

    def resize_as_(self, the_template, memory_format=None):
        """``resize_`` to ``the_template``'s shape."""
        return self.resize_(the_template.shape)

    def as_strided_(self, size, stride, storage_offset=None):
        """Make this tensor the view ``as_strided(size, stride, storage_offset)`` of the memory
        it lies in, in place: element i reads ``memory[offset + sum_j i_j * stride[j]]``, the
        offset counted from the start of that memory (default: this tensor's
        ``storage_offset()``), so the view may reach elements before or after this tensor's own.
        Like ``resize_`` it works outside the graph and refuses a tensor that requires grad."""
        _no_grad_owner("as_strided_", self)
        memory = _root_memory(self._data)
        if memory is None:
            raise RuntimeError(f"as_strided_: the memory of this tensor (shape {tuple(self.shape)}"
                               ") is not laid out row-major, so it has no storage to view; "
                               "call .contiguous() first")
        offset = self.storage_offset() if storage_offset is None else storage_offset
        view = nabla.ops.as_strided(nabla.Tensor._make(memory), size, stride, offset)
        self._data = view._data
        return self

    def share_memory_(self):
        """Move the values into an anonymous shared memory mapping (CPU; a no-op once shared):
        a process forked afterwards (``multiprocessing`` with the 'fork' start method, as
        DataLoader workers and Hogwild training use) reads and writes the same memory. Views
        taken before keep the old memory. A tensor pickled to a spawned process is still
        copied: nabla has no shared-memory pickling as torch.multiprocessing has."""
        if self.is_shared() or array_module(self._data).__name__ != "numpy":
            return self
        data = self._data
        buffer = mmap.mmap(-1, max(data.nbytes, 1))
        shared = array_module(data).frombuffer(buffer, data.dtype, data.size)
        shared = shared.reshape(data.shape)
        shared[...] = data
        self._data = shared
        return self

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after each backward() that accumulated into ``self.grad``: the
        hook of an "optimizer in backward" steps this parameter and may free its grad there.

        Returns:
            A handle whose ``remove()`` takes the hook off.
        """
        if not self._requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a "
                               "tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks "
                               "cannot be registered on non-leaf tensors (their .grad is not "
                               "accumulated); use register_hook on them")
        return post_accumulate.register(self, hook)
