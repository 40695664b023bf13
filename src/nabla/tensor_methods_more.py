"""More named methods of Tensor, for what a ported PyTorch script calls beyond the core ones in
``tensor_methods.py``: cumulative and NaN-aware reductions, BLAS-style products, PyTorch's other
names for ops, rearrangements, statistics and matrix functions. Each is the function of the same
name in ``nabla.ops`` (or ``nabla.linalg``); look there for the op and its gradient rule."""

import nabla  # resolved at call time, as in tensor_methods.py


class MoreTensorMethods:
    __slots__ = ()

    # cumulative (ops/cumulative.py)
    def cumprod(self, dim, *, dtype=None):
        return nabla.ops.cumprod(self, dim, dtype=dtype)

    def cummax(self, dim):
        return nabla.ops.cummax(self, dim)

    def cummin(self, dim):
        return nabla.ops.cummin(self, dim)

    def logcumsumexp(self, dim):
        return nabla.ops.logcumsumexp(self, dim)

    # NaN-aware (ops/nan_ops.py), bucketing (ops/bucketize.py)
    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return nabla.ops.nan_to_num(self, nan, posinf, neginf)

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return nabla.ops.nansum(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return nabla.ops.nanmean(self, dim, keepdim, dtype=dtype)

    # products (ops/blas_ops.py)
    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return nabla.ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return nabla.ops.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return nabla.ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return nabla.ops.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        return nabla.ops.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def mv(self, vec):
        return nabla.ops.mv(self, vec)

    def inner(self, other):
        return nabla.ops.inner(self, other)

    def vdot(self, other):
        return nabla.ops.vdot(self, other)

    def dist(self, other, p=2):
        return nabla.ops.dist(self, other, p)

    # division remainders (ops/compare.py)
    def remainder(self, other):
        return nabla.ops.remainder(self, other)

    def fmod(self, other):
        return nabla.ops.fmod(self, other)

    def floor_divide(self, other):
        return nabla.ops.floor_divide(self, other)

    # aliases (ops/aliases.py)
    def absolute(self):
        return nabla.ops.absolute(self)

    def arccos(self):
        return nabla.ops.arccos(self)

    def arcsin(self):
        return nabla.ops.arcsin(self)

    def arctan(self):
        return nabla.ops.arctan(self)

    def arcsinh(self):
        return nabla.ops.arcsinh(self)

    def arccosh(self):
        return nabla.ops.arccosh(self)

    def arctanh(self):
        return nabla.ops.arctanh(self)

    def negative(self):
        return nabla.ops.negative(self)

    def positive(self):
        return nabla.ops.positive(self)

    def sgn(self):
        return nabla.ops.sgn(self)

    def fix(self):
        return nabla.ops.fix(self)

    def deg2rad(self):
        return nabla.ops.deg2rad(self)

    def rad2deg(self):
        return nabla.ops.rad2deg(self)

    def signbit(self):
        return nabla.ops.signbit(self)

    def sinc(self):
        return nabla.ops.sinc(self)

    def arctan2(self, other):
        return nabla.ops.arctan2(self, other)

    def multiply(self, other):
        return nabla.ops.multiply(self, other)

    def true_divide(self, other):
        return nabla.ops.true_divide(self, other)

    def greater(self, other):
        return nabla.ops.greater(self, other)

    def greater_equal(self, other):
        return nabla.ops.greater_equal(self, other)

    def less(self, other):
        return nabla.ops.less(self, other)

    def less_equal(self, other):
        return nabla.ops.less_equal(self, other)

    def not_equal(self, other):
        return nabla.ops.not_equal(self, other)

    def fmax(self, other):
        return nabla.ops.fmax(self, other)

    def fmin(self, other):
        return nabla.ops.fmin(self, other)

    def copysign(self, other):
        return nabla.ops.copysign(self, other)

    def logaddexp2(self, other):
        return nabla.ops.logaddexp2(self, other)

    def divide(self, other, *, rounding_mode=None):
        return nabla.ops.divide(self, other, rounding_mode=rounding_mode)

    def subtract(self, other, *, alpha=1):
        return nabla.ops.subtract(self, other, alpha=alpha)

    def clamp_min(self, min):
        return nabla.ops.clamp_min(self, min)

    def clamp_max(self, max):
        return nabla.ops.clamp_max(self, max)

    def heaviside(self, values):
        return nabla.ops.heaviside(self, values)

    def float_power(self, exponent):
        return nabla.ops.float_power(self, exponent)

    # arrangement (ops/arrangement.py; argwhere in ops/grids.py, aminmax/cov/corrcoef in
    # ops/statistics.py)
    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return nabla.ops.repeat_interleave(self, repeats, dim, output_size=output_size)

    def tensor_split(self, indices_or_sections, dim=0):
        return nabla.ops.tensor_split(self, indices_or_sections, dim)

    def hsplit(self, *indices_or_sections):  # x.hsplit(2), x.hsplit([1, 2]), x.hsplit(1, 2)
        s = indices_or_sections
        return nabla.ops.hsplit(self, s[0] if len(s) == 1 else s)

    def vsplit(self, *indices_or_sections):  # x.vsplit(2), x.vsplit([1, 2]), x.vsplit(1, 2)
        s = indices_or_sections
        return nabla.ops.vsplit(self, s[0] if len(s) == 1 else s)

    def dsplit(self, *indices_or_sections):  # x.dsplit(2), x.dsplit([1, 2]), x.dsplit(1, 2)
        s = indices_or_sections
        return nabla.ops.dsplit(self, s[0] if len(s) == 1 else s)

    def rot90(self, k=1, dims=(0, 1)):
        return nabla.ops.rot90(self, k, dims)

    def fliplr(self):
        return nabla.ops.fliplr(self)

    def flipud(self):
        return nabla.ops.flipud(self)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return nabla.ops.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset=0):
        return nabla.ops.diagflat(self, offset)

    def argwhere(self):
        return nabla.ops.argwhere(self)

    def aminmax(self, *, dim=None, keepdim=False):
        return nabla.ops.aminmax(self, dim=dim, keepdim=keepdim)

    def histc(self, bins=100, min=0, max=0):
        return nabla.ops.histc(self, bins, min, max)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        return nabla.ops.cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self):
        return nabla.ops.corrcoef(self)

    # matrix functions (nabla.linalg)
    def det(self):
        return nabla.linalg.det(self)

    def logdet(self):
        return nabla.logdet(self)

    def slogdet(self):
        return nabla.linalg.slogdet(self)

    def inverse(self):
        return nabla.linalg.inv(self)

    def pinverse(self, rcond=1e-15):
        return nabla.pinverse(self, rcond)

    def matrix_power(self, n):
        return nabla.linalg.matrix_power(self, n)
