"""In-place writes: ``x.add_(y)``, ``x.zero_()``, ``x[i] = v``, ``x += y``; ``x.exp_()``,
``x.lerp_(y, w)``, ``x.index_add_(...)`` and the other ``op_`` methods (the op of the same name,
written back); random fills (``normal_``, ``bernoulli_``, ...).

Without a gradient involved (no_grad, as optimizers and ``nn.init`` write, or plain tensors) the
values are written into the tensor's memory and its version counter is bumped. In grad mode, when
the tensor or an argument requires grad, the op is recorded as PyTorch records it: on a snapshot
of the old value, after which the tensor is the op's output in the graph (``_rebase``). A node
that saved the old memory sees the version bump and refuses to backward instead of computing a
wrong gradient. Refused, as in PyTorch: a leaf that requires grad; and, unlike PyTorch, a view
whose base would have to record the write (clone it first).
"""

import operator

import nabla  # resolved at call time, as in tensor_methods.py
from nabla.autograd.grad_mode import _mode, _trace
from nabla.backend import array_module, select


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
        _store(self._data, values, where)
        self._version[0] += 1
        return self

    def _in_graph(self, *args) -> bool:
        """Whether an in-place op on this tensor must be recorded: grad mode is on and this
        tensor or an argument requires grad."""
        return _mode.enabled and (self._requires_grad or any(
            getattr(a, "_requires_grad", False) for a in args))

    def _rebase(self, where: str, op, *args, **kwargs) -> "nabla.Tensor":
        """PyTorch's in-place semantics in the graph: ``op`` is recorded on a snapshot of the old
        value (which keeps this tensor's place in the graph), its result is written into this
        tensor's memory, and this tensor becomes that result's node. Nodes that saved the old
        value see the version bump and refuse to backward, as in PyTorch."""
        if _trace.tracer is not None:
            _trace.tracer.refuse(f"the in-place write {where}")
        if self._requires_grad and self.grad_fn is None:
            self._write(None, where)  # raises: a leaf that requires grad (as PyTorch)
        if self._data.base is not None:  # may share memory with another tensor
            raise RuntimeError(
                f"{where}: in-place operation that needs a gradient on a view or slice (shape "
                f"{tuple(self.shape)}): its base would not record it. Use the out-of-place "
                "version and rebind the name, or clone() the view first."
            )
        retained = self._retain_hook()
        if retained is not None:  # retain_grad() moves to the new node below, as in PyTorch
            self.grad_fn._pre_hooks[self._output_nr].remove(retained)
        old = nabla.Tensor._make(self._data.copy(), self._requires_grad, self.grad_fn,
                                 self._output_nr)
        out = op(old, *args, **kwargs)
        if out.grad_fn is None and out._requires_grad:  # an argument itself: copy it, so that
            out = nabla.ops.clone(out)  # this tensor gets a node, never a leaf's place
        _check_cast(where, out._data.dtype, self._data.dtype)
        _store(self._data, out._data, where)
        self._version[0] += 1
        self.grad_fn, self._output_nr = out.grad_fn, out._output_nr
        self._requires_grad = out._requires_grad
        if retained is not None:
            self.retain_grad()
        return self

    def __setitem__(self, key, value) -> None:
        if self._in_graph(value):
            self._rebase("__setitem__", nabla.ops.index.assign, key, value)
            return
        if _trace.tracer is not None:
            _trace.tracer.refuse("the in-place write __setitem__")
        if not self._data.flags.writeable:
            raise RuntimeError(_READ_ONLY.format(where="__setitem__"))
        nabla.ops.index.setitem(self._data, key, value._data if hasattr(value, "_data") else value)
        self._version[0] += 1

    def copy_(self, src) -> "nabla.Tensor":
        if self._in_graph(src):  # the copy's gradient flows to src (self's old value gets none)
            return self._rebase("copy_", _copied, src)
        return self._write(src, "copy_")

    def zero_(self) -> "nabla.Tensor":
        return self._write(0, "zero_")

    def fill_(self, value) -> "nabla.Tensor":
        return self._write(value, "fill_")

    def add_(self, other, alpha=1) -> "nabla.Tensor":
        if self._in_graph(other):
            return self._rebase("add_", nabla.ops.add, other if alpha == 1 else other * alpha)
        o = other._data if hasattr(other, "_data") else other
        return self._write(self._data + (o if alpha == 1 else alpha * o), "add_")

    def sub_(self, other, alpha=1) -> "nabla.Tensor":
        if self._in_graph(other):
            return self._rebase("sub_", nabla.ops.sub, other if alpha == 1 else other * alpha)
        o = other._data if hasattr(other, "_data") else other
        return self._write(self._data - (o if alpha == 1 else alpha * o), "sub_")

    def mul_(self, other) -> "nabla.Tensor":
        if self._in_graph(other):
            return self._rebase("mul_", nabla.ops.mul, other)
        return self._write(self._data * (other._data if hasattr(other, "_data") else other),
                           "mul_")

    def div_(self, other) -> "nabla.Tensor":
        if self._in_graph(other):
            return self._rebase("div_", nabla.ops.div, other)
        return self._write(self._data / (other._data if hasattr(other, "_data") else other),
                           "div_")

    def clamp_(self, min=None, max=None) -> "nabla.Tensor":
        if self._in_graph(min, max):
            return self._rebase("clamp_", nabla.ops.clamp, min, max)
        return self._write(array_module(self._data).clip(self._data, min, max), "clamp_")

    def masked_fill_(self, mask, value) -> "nabla.Tensor":
        if self._in_graph(value):
            return self._rebase("masked_fill_", nabla.ops.masked_fill, mask, value)
        m = mask._data if hasattr(mask, "_data") else mask
        return self._write(select(m, value, self._data), "masked_fill_")

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> "nabla.Tensor":
        from nabla.random import numpy_generator

        return self._write(numpy_generator(generator).uniform(a, b, self.shape), "uniform_")

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> "nabla.Tensor":
        from nabla.random import numpy_generator

        return self._write(numpy_generator(generator).normal(mean, std, self.shape), "normal_")

    # -- the op of the same name, written back: x.exp_() is x.copy_(nabla.exp(x)) --------------
    def _apply_(self, where: str, op, *args, **kwargs) -> "nabla.Tensor":
        """Write ``op(self, *args)`` into this tensor (recorded when a gradient is needed)."""
        if self._in_graph(*args, *kwargs.values()):
            return self._rebase(where, op, *args, **kwargs)
        with nabla.no_grad():
            out = op(self.detach(), *args, **kwargs)
        _check_cast(where, out.dtype, self._data.dtype)
        return self._write(out, where)

    def exp_(self):
        return self._apply_("exp_", nabla.ops.exp)

    def exp2_(self):
        return self._apply_("exp2_", nabla.ops.exp2)

    def expm1_(self):
        return self._apply_("expm1_", nabla.ops.expm1)

    def log_(self):
        return self._apply_("log_", nabla.ops.log)

    def log2_(self):
        return self._apply_("log2_", nabla.ops.log2)

    def log1p_(self):
        return self._apply_("log1p_", nabla.ops.log1p)

    def sqrt_(self):
        return self._apply_("sqrt_", nabla.ops.sqrt)

    def rsqrt_(self):
        return self._apply_("rsqrt_", nabla.ops.rsqrt)

    def square_(self):
        return self._apply_("square_", nabla.ops.square)

    def reciprocal_(self):
        return self._apply_("reciprocal_", nabla.ops.reciprocal)

    def pow_(self, exponent):
        return self._apply_("pow_", nabla.ops.pow, exponent)

    def abs_(self):
        return self._apply_("abs_", nabla.ops.abs)

    def neg_(self):
        return self._apply_("neg_", nabla.ops.neg)

    negative_ = neg_

    def sign_(self):
        return self._apply_("sign_", nabla.ops.sign)

    def floor_(self):
        return self._apply_("floor_", nabla.ops.floor)

    def ceil_(self):
        return self._apply_("ceil_", nabla.ops.ceil)

    def round_(self, decimals: int = 0):
        return self._apply_("round_", nabla.ops.round, decimals=decimals)

    def trunc_(self):
        return self._apply_("trunc_", nabla.ops.trunc)

    def frac_(self):
        return self._apply_("frac_", nabla.ops.frac)

    def sin_(self):
        return self._apply_("sin_", nabla.ops.sin)

    def cos_(self):
        return self._apply_("cos_", nabla.ops.cos)

    def tanh_(self):
        return self._apply_("tanh_", nabla.ops.tanh)

    def sigmoid_(self):
        return self._apply_("sigmoid_", nabla.ops.sigmoid)

    def relu_(self):
        return self._apply_("relu_", nabla.ops.relu)

    def erf_(self):
        return self._apply_("erf_", nabla.ops.erf)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return self._apply_("nan_to_num_", nabla.ops.nan_to_num, nan, posinf, neginf)

    def clamp_min_(self, min):
        return self._apply_("clamp_min_", nabla.ops.clamp_min, min)

    def clamp_max_(self, max):
        return self._apply_("clamp_max_", nabla.ops.clamp_max, max)

    def clip_(self, min=None, max=None):
        return self.clamp_(min, max)

    def lerp_(self, end, weight):
        return self._apply_("lerp_", nabla.ops.lerp, end, weight)

    def addcmul_(self, tensor1, tensor2, value=1):
        return self._apply_("addcmul_", nabla.ops.addcmul, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1, tensor2, value=1):
        return self._apply_("addcdiv_", nabla.ops.addcdiv, tensor1, tensor2, value=value)

    def fmod_(self, other):
        return self._apply_("fmod_", nabla.ops.fmod, other)

    def remainder_(self, other):
        return self._apply_("remainder_", nabla.ops.remainder, other)

    def tril_(self, diagonal: int = 0):
        return self._apply_("tril_", nabla.ops.tril, diagonal)

    def triu_(self, diagonal: int = 0):
        return self._apply_("triu_", nabla.ops.triu, diagonal)

    def cumsum_(self, dim: int):
        return self._apply_("cumsum_", nabla.ops.cumsum, dim)

    def cumprod_(self, dim: int):
        return self._apply_("cumprod_", nabla.ops.cumprod, dim)

    def index_add_(self, dim: int, index, source, *, alpha=1):
        return self._apply_("index_add_", nabla.ops.index_add, dim, index,
                            source if alpha == 1 else source * alpha)

    def scatter_add_(self, dim: int, index, src):
        return self._apply_("scatter_add_", nabla.ops.scatter_add, dim, index, src)

    def scatter_(self, dim: int, index, src=None, *, value=None):
        return self._apply_("scatter_", nabla.ops.scatter, dim, index, src, value=value)

    def fill_diagonal_(self, fill_value, wrap: bool = False):
        """Fill the main diagonal (of a 2-D tensor, or of an n-D one with all dims equal)."""
        values = self._data.copy()
        array_module(values).fill_diagonal(values, fill_value, wrap=wrap)
        return self._write(values, "fill_diagonal_")

    # -- random fills (the global generator unless one is given) -------------------------------
    def bernoulli_(self, p=0.5, *, generator=None):
        from nabla.random import numpy_generator

        prob = p._data if hasattr(p, "_data") else p
        draw = numpy_generator(generator).random(self.shape) < prob
        return self._write(draw, "bernoulli_")

    def exponential_(self, lambd: float = 1.0, *, generator=None):
        from nabla.random import numpy_generator

        return self._write(numpy_generator(generator).exponential(1.0 / lambd, self.shape),
                           "exponential_")

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator=None):
        from nabla.random import numpy_generator

        return self._write(numpy_generator(generator).lognormal(mean, std, self.shape),
                           "log_normal_")

    def random_(self, from_: int = 0, to: int | None = None, *, generator=None):
        """Integers drawn uniformly from [from_, to - 1] (one argument: [0, from_ - 1])."""
        from nabla.random import numpy_generator

        low, high = (0, from_) if to is None and from_ else (from_, to)
        if high is None:  # no bound: as PyTorch, up to the mantissa of a float dtype
            kind = self._data.dtype
            high = 2 ** (array_module(self._data).finfo(kind).nmant + 1) if kind.kind == "f" \
                else array_module(self._data).iinfo(kind).max
        return self._write(numpy_generator(generator).integers(low, high, self.shape),
                           "random_")

    def __iadd__(self, other):
        return _augmented(self, other, self.add_, operator.add)

    def __isub__(self, other):
        return _augmented(self, other, self.sub_, operator.sub)

    def __imul__(self, other):
        return _augmented(self, other, self.mul_, operator.mul)

    def __itruediv__(self, other):
        return _augmented(self, other, self.div_, operator.truediv)


def _check_cast(where: str, result, dtype) -> None:
    """A result that the tensor's dtype cannot hold (a float into an integer tensor) is refused,
    as in PyTorch."""
    if not array_module(None).can_cast(result, dtype, "same_kind"):
        raise RuntimeError(f"{where}: the result type {result} can't be cast to this tensor's "
                           f"dtype {dtype}; use the out-of-place {where.strip('_')}() or convert "
                           "the tensor first (.float())")


def _store(data, values, where: str) -> None:
    """``data[...] = values``; a result that does not fit the tensor is refused as PyTorch
    refuses it (an in-place op cannot grow its tensor by broadcasting)."""
    shape = tuple(getattr(values, "shape", ()))
    if len(shape) > data.ndim or any(n not in (1, m) for n, m in zip(shape[::-1],
                                                                       data.shape[::-1])):
        raise RuntimeError(f"{where}: the result has shape {shape}, which does not fit this "
                           f"tensor's shape {tuple(data.shape)} (an in-place op cannot broadcast "
                           "its tensor); use the out-of-place version")
    if not data.flags.writeable:
        raise RuntimeError(_READ_ONLY.format(where=where))
    data[...] = values


# A write into read-only memory: an expand()ed (or overlapping unfold / as_strided) view, whose
# elements share memory locations (NumPy keeps such views read-only), or a read-only NumPy array.
_READ_ONLY = ("{where}: this tensor's memory is read-only: an expand() / broadcast_to() view or an "
              "overlapping unfold() / as_strided() view (more than one element refers to a single "
              "memory location), or a read-only NumPy array given to from_numpy; clone() the "
              "tensor before writing into it")


def _unshared(t):
    """``t``, or a copy of it if it is a view: ``out[i] *= w`` saves its left operand for the
    gradient, and the store back into ``out`` would overwrite a view's memory."""
    return nabla.ops.clone(t) if t._data.base is not None else t


def _copied(old, src):
    """``src`` as a new tensor of ``old``'s shape and dtype (copy_ in the graph)."""
    return nabla.ops.clone(nabla.ops.broadcast_to(nabla.ops.to_dtype(src, old.dtype), old.shape))


def _augmented(t, other, in_place, out_of_place):
    """``x op= y``: in place (recorded when a gradient is involved), except where x needs its old
    value for a graph (then x is rebound to ``x op y``), and where x is a view that a gradient
    would have to reach through: then the view's memory gets the new values as in PyTorch, and
    x is rebound to the recorded result, so that ``out[i] += v`` (which stores x back with
    ``__setitem__``) records the gradient."""
    if not _mode.enabled:
        return in_place(other)
    if t._requires_grad:
        if t.grad_fn is None:
            t._write(None, "in-place operator")  # raises: PyTorch forbids this on leaves too
        return out_of_place(_unshared(t), other)
    if getattr(other, "_requires_grad", False) and t._data.base is not None:
        result = out_of_place(_unshared(t), other)
        t._write(result, "in-place operator")
        return result
    return in_place(other)
