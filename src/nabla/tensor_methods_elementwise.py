"""Elementwise Tensor methods a ported script may still miss: the bit shifts (``x << n``,
``x.bitwise_left_shift(n)`` and their in-place forms), the regularised incomplete gamma
functions (``a.igamma(x)``, ``a.igammac(x)``, in place too), ``conj_physical_`` (the identity on
real tensors), and the random fills ``cauchy_`` and ``geometric_`` (from nabla's generator, or
the one given)."""

import math

import nabla  # resolved at call time, as in tensor_methods.py
from nabla.backend import array_module


class ElementwiseTensorMethods:
    __slots__ = ()

    # -- bit shifts (ops/bitshift.py) -------------------------------------------------------------
    def bitwise_left_shift(self, other):
        return nabla.ops.bitshift.bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other):
        return nabla.ops.bitshift.bitwise_right_shift(self, other)

    def bitwise_left_shift_(self, other):
        return self._apply_("bitwise_left_shift_", nabla.ops.bitshift.bitwise_left_shift, other)

    def bitwise_right_shift_(self, other):
        return self._apply_("bitwise_right_shift_", nabla.ops.bitshift.bitwise_right_shift,
                            other)

    def __lshift__(self, other):
        return nabla.ops.bitshift.bitwise_left_shift(self, other)

    def __rshift__(self, other):
        return nabla.ops.bitshift.bitwise_right_shift(self, other)

    def __rlshift__(self, other):
        return nabla.ops.bitshift.bitwise_left_shift(other, self)

    def __rrshift__(self, other):
        return nabla.ops.bitshift.bitwise_right_shift(other, self)

    def __ilshift__(self, other):
        return self.bitwise_left_shift_(other)

    def __irshift__(self, other):
        return self.bitwise_right_shift_(other)

    # -- incomplete gamma (ops/incomplete_gamma.py) ----------------------------------------------
    def igamma(self, other):
        return nabla.ops.incomplete_gamma.igamma(self, other)

    def igammac(self, other):
        return nabla.ops.incomplete_gamma.igammac(self, other)

    def igamma_(self, other):
        return self._apply_("igamma_", nabla.ops.incomplete_gamma.igamma, other)

    def igammac_(self, other):
        return self._apply_("igammac_", nabla.ops.incomplete_gamma.igammac, other)

    def conj_physical_(self):
        """The identity on a real tensor, as PyTorch's (complex tensors are refused)."""
        return self.conj_physical()

    # -- random fills ------------------------------------------------------------------------------
    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Fill with draws from the Cauchy distribution: median + sigma tan(pi (U - 1/2))."""
        if self._data.dtype.kind != "f":
            raise RuntimeError(f"cauchy_: expected a floating point tensor, got {self.dtype}")
        from nabla.random import numpy_generator

        u = numpy_generator(generator).random(self.shape)
        return self._write(median + sigma * array_module(u).tan(math.pi * (u - 0.5)), "cauchy_")

    def geometric_(self, p, *, generator=None):
        """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
        if not 0 < p <= 1:
            raise RuntimeError(f"geometric_: p must be in (0, 1], got {p}")
        from nabla.random import numpy_generator

        return self._write(numpy_generator(generator).geometric(p, self.shape), "geometric_")
