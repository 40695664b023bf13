"""Tensor methods for the numeric helpers: ``x.gcd(y)``, ``x.frexp()``, ``x.i0()``,
``x.erfinv()``, ``x.cross(y)``, ``x.matrix_exp()``, ... and their in-place forms (``x.gcd_(y)``,
``x.erfinv_()``, written back through ``_apply_`` of tensor_inplace.py). Each is the function of
the same name in ``nabla.ops`` (ops/numeric.py and the modules it re-exports: bessel.py,
erfinv.py, matrix_exp.py); look there for the op and its gradient rule."""

import nabla  # resolved at call time, as in tensor_methods.py


class NumericTensorMethods:
    __slots__ = ()

    # integers (no gradient)
    def gcd(self, other):
        return nabla.ops.gcd(self, other)

    def lcm(self, other):
        return nabla.ops.lcm(self, other)

    def gcd_(self, other):
        return self._apply_("gcd_", nabla.ops.gcd, other)

    def lcm_(self, other):
        return self._apply_("lcm_", nabla.ops.lcm, other)

    # floating-point representation
    def frexp(self):
        return nabla.ops.frexp(self)

    def ldexp(self, other):
        return nabla.ops.ldexp(self, other)

    def ldexp_(self, other):
        return self._apply_("ldexp_", nabla.ops.ldexp, other)

    def nextafter(self, other):
        return nabla.ops.nextafter(self, other)

    def nextafter_(self, other):
        return self._apply_("nextafter_", nabla.ops.nextafter, other)

    def isposinf(self):
        return nabla.ops.isposinf(self)

    def isneginf(self):
        return nabla.ops.isneginf(self)

    def isreal(self):
        return nabla.ops.isreal(self)

    # special functions
    def i0(self):
        return nabla.ops.i0(self)

    def i0_(self):
        return self._apply_("i0_", nabla.ops.i0)

    def erfinv(self):
        return nabla.ops.erfinv(self)

    def erfinv_(self):
        return self._apply_("erfinv_", nabla.ops.erfinv)

    # vectors and matrices
    def cross(self, other, dim=None):
        return nabla.ops.cross(self, other, dim)

    def matrix_exp(self):
        return nabla.ops.matrix_exp(self)
