"""More in-place ``op_`` methods of Tensor, for what a ported PyTorch script calls: the rest of the
elementwise functions (``x.acos_()``, ``x.xlogy_(y)``, ``x.lgamma_()``), PyTorch's other names
(``x.arccos_()``, ``x.multiply_(y)``), the comparisons written as 1 / 0 in the tensor's own dtype
(``x.lt_(y)``), the bitwise and logical ones, the BLAS-style ones (``x.addmm_(a, b)``), and the
ones that change the shape in place (``x.squeeze_()``, ``x.t_()``).

The value-changing ones go through ``InPlaceMethods._apply_`` (tensor_inplace.py): the same
semantics as ``x.exp_()`` there (recorded as PyTorch records it when a gradient is involved,
refused on a leaf that requires grad). The shape-changing ones go through ``_restride_`` below:
the tensor keeps its memory and gets a view of it with the new shape (in the graph, a copy).
"""

import nabla  # resolved at call time, as in tensor_methods.py
from nabla.autograd.grad_mode import _mode, _trace


def _polygamma(input, n):
    """polygamma with the tensor first, as ``_apply_`` calls its op."""
    return nabla.ops.polygamma(n, input)


def _compared(input, compare, other):
    """``compare(input, other)`` as 1 / 0 in the dtype of ``input``. As in PyTorch the result
    stays in the graph where a floating operand requires grad, with a zero gradient: each such
    operand joins as ``masked_fill(operand, True, 0)`` (zeros whose gradient is zero, even where
    the operand is inf or NaN, unlike ``operand * 0``)."""
    out = nabla.ops.to_dtype(compare(input, other), input.dtype)
    if input.dtype.kind == "f":
        for operand in (input, other):
            if getattr(operand, "_requires_grad", False):
                out = out + nabla.ops.to_dtype(nabla.ops.masked_fill(operand, True, 0),
                                               input.dtype)
    return out


class CompatInPlaceMethods:
    __slots__ = ()

    # -- elementwise functions of one tensor -----------------------------------------------------
    def absolute_(self):
        return self._apply_("absolute_", nabla.ops.absolute)

    def acos_(self):
        return self._apply_("acos_", nabla.ops.acos)

    def acosh_(self):
        return self._apply_("acosh_", nabla.ops.acosh)

    def asin_(self):
        return self._apply_("asin_", nabla.ops.asin)

    def asinh_(self):
        return self._apply_("asinh_", nabla.ops.asinh)

    def atan_(self):
        return self._apply_("atan_", nabla.ops.atan)

    def atanh_(self):
        return self._apply_("atanh_", nabla.ops.atanh)

    arccos_, arccosh_, arcsin_, arcsinh_ = acos_, acosh_, asin_, asinh_
    arctan_, arctanh_ = atan_, atanh_

    def cosh_(self):
        return self._apply_("cosh_", nabla.ops.cosh)

    def sinh_(self):
        return self._apply_("sinh_", nabla.ops.sinh)

    def tan_(self):
        return self._apply_("tan_", nabla.ops.tan)

    def log10_(self):
        return self._apply_("log10_", nabla.ops.log10)

    def deg2rad_(self):
        return self._apply_("deg2rad_", nabla.ops.deg2rad)

    def rad2deg_(self):
        return self._apply_("rad2deg_", nabla.ops.rad2deg)

    def erfc_(self):
        return self._apply_("erfc_", nabla.ops.erfc)

    def fix_(self):
        return self._apply_("fix_", nabla.ops.fix)

    def sgn_(self):
        return self._apply_("sgn_", nabla.ops.sgn)

    def sinc_(self):
        return self._apply_("sinc_", nabla.ops.sinc)

    def logit_(self, eps=None):
        return self._apply_("logit_", nabla.ops.logit, eps)

    def lgamma_(self):
        return self._apply_("lgamma_", nabla.ops.lgamma)

    def digamma_(self):
        return self._apply_("digamma_", nabla.ops.digamma)

    def polygamma_(self, n):
        return self._apply_("polygamma_", _polygamma, n)

    def mvlgamma_(self, p):
        return self._apply_("mvlgamma_", nabla.ops.mvlgamma, p)

    # -- elementwise functions of two tensors ----------------------------------------------------
    def atan2_(self, other):
        return self._apply_("atan2_", nabla.ops.atan2, other)

    arctan2_ = atan2_

    def xlogy_(self, other):
        return self._apply_("xlogy_", nabla.ops.xlogy, other)

    def hypot_(self, other):
        return self._apply_("hypot_", nabla.ops.hypot, other)

    def copysign_(self, other):
        return self._apply_("copysign_", nabla.ops.copysign, other)

    def heaviside_(self, values):
        return self._apply_("heaviside_", nabla.ops.heaviside, values)

    def float_power_(self, exponent):
        """In place only on a float64 tensor: float_power computes in float64, and PyTorch
        refuses to round its result into a narrower tensor."""
        if self.dtype != nabla.float64:
            raise RuntimeError(f"float_power_: the base has dtype {self.dtype} but the "
                               "operation's result requires dtype float64; use .double() first, "
                               "or the out-of-place float_power()")
        return self._apply_("float_power_", nabla.ops.float_power, exponent)

    def floor_divide_(self, other):
        return self._apply_("floor_divide_", nabla.ops.floor_divide, other)

    def divide_(self, other, *, rounding_mode=None):
        return self._apply_("divide_", nabla.ops.divide, other, rounding_mode=rounding_mode)

    def true_divide_(self, other):
        return self._apply_("true_divide_", nabla.ops.true_divide, other)

    def multiply_(self, other):
        return self._apply_("multiply_", nabla.ops.multiply, other)

    def subtract_(self, other, *, alpha=1):
        return self._apply_("subtract_", nabla.ops.subtract, other, alpha=alpha)

    # -- bitwise and logical (integers and bools; logical ones write 1 / 0 in any dtype) ---------
    def bitwise_and_(self, other):
        return self._apply_("bitwise_and_", nabla.ops.bitwise_and, other)

    def bitwise_or_(self, other):
        return self._apply_("bitwise_or_", nabla.ops.bitwise_or, other)

    def bitwise_xor_(self, other):
        return self._apply_("bitwise_xor_", nabla.ops.bitwise_xor, other)

    def bitwise_not_(self):
        return self._apply_("bitwise_not_", nabla.ops.bitwise_not)

    def logical_and_(self, other):
        return self._apply_("logical_and_", _compared, nabla.ops.logical_and, other)

    def logical_or_(self, other):
        return self._apply_("logical_or_", _compared, nabla.ops.logical_or, other)

    def logical_xor_(self, other):
        return self._apply_("logical_xor_", _compared, nabla.ops.logical_xor, other)

    def logical_not_(self):
        return self._apply_("logical_not_", _compared, _logical_not, None)

    # -- comparisons, written as 1 / 0 in the tensor's dtype -------------------------------------
    def eq_(self, other):
        return self._apply_("eq_", _compared, nabla.ops.eq, other)

    def ne_(self, other):
        return self._apply_("ne_", _compared, nabla.ops.ne, other)

    def lt_(self, other):
        return self._apply_("lt_", _compared, nabla.ops.lt, other)

    def le_(self, other):
        return self._apply_("le_", _compared, nabla.ops.le, other)

    def gt_(self, other):
        return self._apply_("gt_", _compared, nabla.ops.gt, other)

    def ge_(self, other):
        return self._apply_("ge_", _compared, nabla.ops.ge, other)

    not_equal_, less_, less_equal_, greater_, greater_equal_ = ne_, lt_, le_, gt_, ge_

    # -- products added to the tensor (ops/blas_ops.py) ------------------------------------------
    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return self._apply_("addmm_", nabla.ops.addmm, mat1, mat2, beta=beta, alpha=alpha)

    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return self._apply_("addbmm_", nabla.ops.addbmm, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return self._apply_("baddbmm_", nabla.ops.baddbmm, batch1, batch2, beta=beta,
                            alpha=alpha)

    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        return self._apply_("addmv_", nabla.ops.addmv, mat, vec, beta=beta, alpha=alpha)

    def addr_(self, vec1, vec2, *, beta=1, alpha=1):
        return self._apply_("addr_", nabla.ops.addr, vec1, vec2, beta=beta, alpha=alpha)

    # -- shape changes in place: the same memory, seen with a new shape --------------------------
    def squeeze_(self, dim=None):
        return self._restride_("squeeze_", nabla.ops.squeeze, dim)

    def unsqueeze_(self, dim):
        return self._restride_("unsqueeze_", nabla.ops.unsqueeze, dim)

    def t_(self):
        return self._restride_("t_", nabla.ops.t)

    def transpose_(self, dim0, dim1):
        return self._restride_("transpose_", nabla.ops.transpose, dim0, dim1)

    def swapaxes_(self, axis0, axis1):
        return self._restride_("swapaxes_", nabla.ops.transpose, axis0, axis1)

    def swapdims_(self, dim0, dim1):
        return self._restride_("swapdims_", nabla.ops.transpose, dim0, dim1)

    def _restride_(self, where: str, view_op, *args) -> "nabla.Tensor":
        """Make this tensor ``view_op(self, *args)``, its version bumped (nodes that saved it
        refuse to backward, as in PyTorch). Its array becomes a view of its own memory with the
        new shape, except in the graph (below). In grad mode a non-leaf becomes the view op's
        output, so its gradient flows back through the shape change; a leaf that requires grad
        is refused, as in PyTorch. Under no_grad a non-leaf keeps its grad_fn, as in PyTorch (a
        later backward then names the shape mismatch). A ``retain_grad()`` moves to the new
        node, as ``_rebase`` moves it, so ``.grad`` has the tensor's new shape (PyTorch 2.13
        leaves it on the old node and stores a gradient of the old shape)."""
        if _trace.tracer is not None:
            _trace.tracer.refuse(f"the in-place shape change {where}")
        graph = self._requires_grad and _mode.enabled
        if graph and self.grad_fn is None:
            raise RuntimeError(
                f"{where}: in-place operation on a leaf tensor that requires grad (shape "
                f"{tuple(self.shape)}). Use the out-of-place {where.rstrip('_')}(), or do it "
                "under `with nabla.no_grad():`."
            )
        self._version[0] += 1  # first: the new node must not see its own change as a later one
        if not graph:
            with nabla.no_grad():
                self._data = view_op(self.detach(), *args)._data
            return self
        retained = self._retain_hook()
        if retained is not None:
            self.grad_fn._pre_hooks[self._output_nr].remove(retained)
        old = nabla.Tensor._make(self._data, True, self.grad_fn, self._output_nr, self._version)
        out = view_op(old, *args)
        # A tensor owning its memory gets a copy in the same layout (same strides), not a NumPy
        # view: in-place ops that need a gradient refuse views (see _rebase), and this tensor is
        # no view of another. Views made of it before no longer share its memory.
        owner = self._data.base is None
        self._data = out._data.copy(order="K") if owner else out._data
        self.grad_fn, self._output_nr = out.grad_fn, out._output_nr
        if retained is not None:
            self.retain_grad()
        return self


def _logical_not(input, _):
    """logical_not taking (and ignoring) an ``other``, to share ``_compared`` with the others."""
    return nabla.ops.logical_not(input)
