"""The named methods of Tensor. Each one is the function of the same name in ``nabla.ops``:
``x.exp()`` is ``nabla.ops.exp(x)``; look there for the op and its gradient rule. The shape and
indexing methods are in ``tensor_methods_shape.py``, rarer ones in ``tensor_methods_more.py``."""

import nabla  # resolved at call time: nabla.ops imports Tensor, so it cannot be imported here


class TensorMethods:
    __slots__ = ()

    # elementwise
    def add(self, other, alpha=1):
        return nabla.ops.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return nabla.ops.sub(self, other if alpha == 1 else other * alpha)

    def mul(self, other):
        return nabla.ops.mul(self, other)

    def div(self, other, *, rounding_mode=None):
        return nabla.ops.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        return nabla.ops.pow(self, exponent)

    def neg(self):
        return nabla.ops.neg(self)

    def exp(self):
        return nabla.ops.exp(self)

    def log(self):
        return nabla.ops.log(self)

    def log1p(self):
        return nabla.ops.log1p(self)

    def expm1(self):
        return nabla.ops.expm1(self)

    def sqrt(self):
        return nabla.ops.sqrt(self)

    def rsqrt(self):
        return nabla.ops.rsqrt(self)

    def square(self):
        return nabla.ops.square(self)

    def reciprocal(self):
        return nabla.ops.reciprocal(self)

    def abs(self):
        return nabla.ops.abs(self)

    def sign(self):
        return nabla.ops.sign(self)

    def sin(self):
        return nabla.ops.sin(self)

    def cos(self):
        return nabla.ops.cos(self)

    def tanh(self):
        return nabla.ops.tanh(self)

    def sigmoid(self):
        return nabla.ops.sigmoid(self)

    def relu(self):
        return nabla.ops.relu(self)

    def maximum(self, other):
        return nabla.ops.maximum(self, other)

    def minimum(self, other):
        return nabla.ops.minimum(self, other)

    def clamp(self, min=None, max=None):
        return nabla.ops.clamp(self, min, max)

    clip = clamp

    def masked_fill(self, mask, value):
        return nabla.ops.masked_fill(self, mask, value)

    def where(self, condition, other):
        return nabla.ops.where(condition, self, other)

    # reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        return nabla.ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False):
        return nabla.ops.mean(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return nabla.ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return nabla.ops.std(self, dim, unbiased, keepdim, correction=correction)

    def prod(self, dim=None, keepdim=False):
        return nabla.ops.prod(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return nabla.ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return nabla.ops.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return nabla.ops.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return nabla.ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return nabla.ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return nabla.ops.argmin(self, dim, keepdim)

    # sorting and sampling
    def sort(self, dim=-1, descending=False, stable=False):
        return nabla.ops.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return nabla.ops.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return nabla.ops.topk(self, k, dim, largest, sorted)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return nabla.ops.multinomial(self, num_samples, replacement, generator=generator)

    # rounding, logarithms, trigonometry (elementwise)
    def floor(self):
        return nabla.ops.floor(self)

    def ceil(self):
        return nabla.ops.ceil(self)

    def round(self, *, decimals=0):
        return nabla.ops.round(self, decimals=decimals)

    def trunc(self):
        return nabla.ops.trunc(self)

    def frac(self):
        return nabla.ops.frac(self)

    def log2(self):
        return nabla.ops.log2(self)

    def log10(self):
        return nabla.ops.log10(self)

    def exp2(self):
        return nabla.ops.exp2(self)

    def logit(self, eps=None):
        return nabla.ops.logit(self, eps)

    def xlogy(self, other):
        return nabla.ops.xlogy(self, other)

    def logaddexp(self, other):
        return nabla.ops.logaddexp(self, other)

    def lerp(self, end, weight):
        return nabla.ops.lerp(self, end, weight)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return nabla.ops.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return nabla.ops.addcdiv(self, tensor1, tensor2, value=value)

    def hypot(self, other):
        return nabla.ops.hypot(self, other)

    def erf(self):
        return nabla.ops.erf(self)

    def erfc(self):
        return nabla.ops.erfc(self)

    def tan(self):
        return nabla.ops.tan(self)

    def sinh(self):
        return nabla.ops.sinh(self)

    def cosh(self):
        return nabla.ops.cosh(self)

    def asin(self):
        return nabla.ops.asin(self)

    def acos(self):
        return nabla.ops.acos(self)

    def atan(self):
        return nabla.ops.atan(self)

    def atan2(self, other):
        return nabla.ops.atan2(self, other)

    def asinh(self):
        return nabla.ops.asinh(self)

    def acosh(self):
        return nabla.ops.acosh(self)

    def atanh(self):
        return nabla.ops.atanh(self)

    # statistics, counting, diagonals, softmax and norms
    def median(self, dim=None, keepdim=False):
        return nabla.ops.median(self, dim, keepdim)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return nabla.ops.kthvalue(self, k, dim, keepdim)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return nabla.ops.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return nabla.ops.unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength=0):
        return nabla.ops.bincount(self, weights, minlength)

    def nonzero(self, *, as_tuple=False):
        return nabla.ops.nonzero(self, as_tuple=as_tuple)

    def count_nonzero(self, dim=None):
        return nabla.ops.count_nonzero(self, dim)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return nabla.ops.diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal=0):
        return nabla.ops.diag(self, diagonal)

    def trace(self):
        return nabla.ops.trace(self)

    def logsumexp(self, dim, keepdim=False):
        return nabla.ops.logsumexp(self, dim, keepdim)

    def cumsum(self, dim, *, dtype=None):
        return nabla.ops.cumsum(self, dim, dtype=dtype)

    def softmax(self, dim):
        return nabla.ops.softmax(self, dim)

    def log_softmax(self, dim):
        return nabla.ops.log_softmax(self, dim)

    def norm(self, p=2, dim=None, keepdim=False):
        return nabla.ops.norm(self, p, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return nabla.ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return nabla.ops.any(self, dim, keepdim)

    # linear algebra
    def matmul(self, other):
        return nabla.ops.matmul(self, other)

    def mm(self, mat2):
        return nabla.ops.mm(self, mat2)

    def bmm(self, mat2):
        return nabla.ops.bmm(self, mat2)

    # comparison and logic (no gradient)
    def eq(self, other):
        return nabla.ops.eq(self, other)

    def ne(self, other):
        return nabla.ops.ne(self, other)

    def lt(self, other):
        return nabla.ops.lt(self, other)

    def le(self, other):
        return nabla.ops.le(self, other)

    def gt(self, other):
        return nabla.ops.gt(self, other)

    def ge(self, other):
        return nabla.ops.ge(self, other)

    def logical_not(self):
        return nabla.ops.logical_not(self)

    def logical_and(self, other):
        return nabla.ops.logical_and(self, other)

    def logical_or(self, other):
        return nabla.ops.logical_or(self, other)

    def isnan(self):
        return nabla.ops.isnan(self)

    def isinf(self):
        return nabla.ops.isinf(self)

    def isfinite(self):
        return nabla.ops.isfinite(self)

    # new tensors like this one
    # new tensors of this one's dtype (PyTorch's keywords: see creation.py's factories)
    def new_zeros(self, *size, dtype=None, **placement):
        return nabla.zeros(*size, dtype=dtype or self.dtype, **placement)

    def new_ones(self, *size, dtype=None, **placement):
        return nabla.ones(*size, dtype=dtype or self.dtype, **placement)

    def new_full(self, size, fill_value, dtype=None, **placement):
        return nabla.full(size, fill_value, dtype=dtype or self.dtype, **placement)

    def new_empty(self, *size, dtype=None, **placement):
        return nabla.empty(*size, dtype=dtype or self.dtype, **placement)

    def new_tensor(self, data, dtype=None, **placement):
        return nabla.tensor(data, dtype=dtype or self.dtype, **placement)
