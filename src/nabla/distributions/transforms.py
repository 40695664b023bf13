"""Transforms y = f(x) between constraint sets, as torch.distributions.transforms: ``__call__``,
``inv`` (the inverse transform), ``log_abs_det_jacobian(x, y)`` = log |det dy/dx| (summed over
the ``event_dim`` rightmost dimensions), ``domain`` and ``codomain`` (constraints.py) and
``sign``. Written with nabla ops, so log-det terms and draws pushed through a transform have
gradients in x and in the transform's parameters. The base, ComposeTransform and
IndependentTransform are in transform_base.py (re-exported here).
"""

import math

from nabla.backend import array_module
from nabla.creation import arange
from nabla.distributions import constraints
from nabla.distributions.base import _tensor
from nabla.distributions.transform_base import (
    ComposeTransform,
    IndependentTransform,
    Transform,
    identity_transform,
)
from nabla.nn.functional import logsigmoid, softplus
from nabla.ops import (
    abs,
    atanh,
    broadcast_shapes,
    clamp,
    cumprod,
    cumsum,
    diag_embed,
    exp,
    expm1,
    log,
    log1p,
    pad,
    sigmoid,
    sign,
    softmax,
    tanh,
    tril,
)
from nabla.tensor import Tensor

__all__ = ["Transform", "ComposeTransform", "IndependentTransform", "ExpTransform",
           "PowerTransform", "AffineTransform", "SigmoidTransform", "TanhTransform",
           "SoftplusTransform", "AbsTransform", "SoftmaxTransform", "StickBreakingTransform",
           "LowerCholeskyTransform", "identity_transform"]


class ExpTransform(Transform):
    """y = exp(x); log |det| = x."""

    domain, codomain, bijective = constraints.real, constraints.positive, True
    sign = 1

    def _call(self, x):
        return exp(x)

    def _inverse(self, y):
        return log(y)

    def log_abs_det_jacobian(self, x, y):
        return _tensor(x)


class PowerTransform(Transform):
    """y = x^exponent on x > 0; log |det| = log |exponent y / x|."""

    domain, codomain, bijective = constraints.positive, constraints.positive, True

    def __init__(self, exponent, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.exponent = exponent

    @property
    def sign(self):
        return sign(self.exponent) if isinstance(self.exponent, Tensor) else \
            (self.exponent > 0) - (self.exponent < 0)

    def _call(self, x):
        return x ** self.exponent

    def _inverse(self, y):
        return y ** (1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return log(abs(self.exponent * _tensor(y) / _tensor(x)))


class AffineTransform(Transform):
    """y = loc + scale x, elementwise over events of ``event_dim`` dimensions;
    log |det| = log |scale| summed over the event."""

    bijective = True

    def __init__(self, loc, scale, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, int(event_dim)

    @property
    def domain(self):
        n = self._event_dim
        return constraints.independent(constraints.real, n) if n else constraints.real

    codomain = domain

    @property
    def sign(self):
        s = self.scale
        return sign(s) if isinstance(s, Tensor) else (s > 0) - (s < 0)

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        x = _tensor(x)
        shape = tuple(x.shape)
        if isinstance(self.scale, Tensor):
            result = log(abs(self.scale))
        else:
            result = x * 0 + math.log(abs(self.scale))
        if self._event_dim:
            n = self._event_dim
            result = result.reshape(*result.shape[:result.dim() - n], -1).sum(-1)
            shape = shape[:len(shape) - n]
        return result.expand(*shape)

    def forward_shape(self, shape) -> tuple:
        shapes = [tuple(p.shape) for p in (self.loc, self.scale) if isinstance(p, Tensor)]
        return tuple(broadcast_shapes(tuple(shape), *shapes))

    inverse_shape = forward_shape


def _finfo(x: Tensor):
    return array_module(x._data).finfo(x._data.dtype)


def _clipped_sigmoid(x: Tensor) -> Tensor:
    """sigmoid(x) kept inside [tiny, 1 - eps], so its inverse and logs stay finite."""
    info = _finfo(x)
    return clamp(sigmoid(x), float(info.tiny), 1.0 - float(info.eps))


class SigmoidTransform(Transform):
    """y = sigmoid(x) (clipped to (tiny, 1 - eps)); log |det| = -softplus(-x) - softplus(x)."""

    domain, codomain, bijective = constraints.real, constraints.unit_interval, True
    sign = 1

    def _call(self, x):
        return _clipped_sigmoid(x)

    def _inverse(self, y):
        info = _finfo(y)
        y = clamp(y, float(info.tiny), 1.0 - float(info.eps))
        return log(y) - log1p(-y)

    def log_abs_det_jacobian(self, x, y):
        x = _tensor(x)
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh(x); log |det| = 2 (log 2 - x - softplus(-2 x)), stable for large |x|."""

    domain, codomain, bijective = constraints.real, constraints.interval(-1.0, 1.0), True
    sign = 1

    def _call(self, x):
        return tanh(x)

    def _inverse(self, y):
        return atanh(y)

    def log_abs_det_jacobian(self, x, y):
        x = _tensor(x)
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class SoftplusTransform(Transform):
    """y = log(1 + e^x); inverse x = y + log(-expm1(-y)); log |det| = -softplus(-x)."""

    domain, codomain, bijective = constraints.real, constraints.positive, True
    sign = 1

    def _call(self, x):
        return softplus(x)

    def _inverse(self, y):
        return log(-expm1(-y)) + y

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-_tensor(x))


class AbsTransform(Transform):
    """y = |x|; not injective: ``inv`` returns y (the positive preimage); no log-det."""

    domain, codomain = constraints.real, constraints.positive

    def _call(self, x):
        return abs(x)

    def _inverse(self, y):
        return y


class SoftmaxTransform(Transform):
    """y = softmax(x) over the last dimension; not injective (``inv`` gives log y, one
    preimage); no log-det."""

    domain, codomain = constraints.real_vector, constraints.simplex

    def _call(self, x):
        return softmax(x, -1)

    def _inverse(self, y):
        return log(y)


def _offsets(k: int, like: Tensor) -> Tensor:
    """log(k + 1 - j) for j = 1..k: the stick-breaking centering terms (x = 0 maps to the
    simplex's centre)."""
    return log(k + 1 - arange(1, k + 1, dtype=like.dtype))


class StickBreakingTransform(Transform):
    """R^{k} -> the simplex in R^{k+1}: z_i = sigmoid(x_i - log(k + 1 - i)), y_i = z_i
    prod_{j<i} (1 - z_j), y_{k+1} = prod (1 - z_j); log |det| = sum (-x'_i + logsigmoid(x'_i)
    + log y_i) with x'_i = x_i - log(k + 1 - i)."""

    domain, codomain, bijective = constraints.real_vector, constraints.simplex, True

    def _call(self, x):
        z = _clipped_sigmoid(x - _offsets(x.shape[-1], x))
        return pad(z, (0, 1), value=1.0) * pad(cumprod(1 - z, -1), (1, 0), value=1.0)

    def _inverse(self, y):
        crop = y[..., :-1]
        rest = clamp(1 - cumsum(crop, -1), min=float(_finfo(y).tiny))
        return log(crop) - log(rest) + _offsets(crop.shape[-1], y)

    def log_abs_det_jacobian(self, x, y):
        x, y = _tensor(x), _tensor(y)
        x = x - _offsets(x.shape[-1], x)
        return (-x + logsigmoid(x) + log(y[..., :-1])).sum(-1)

    def forward_shape(self, shape) -> tuple:
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape) -> tuple:
        return tuple(shape[:-1]) + (shape[-1] - 1,)


class LowerCholeskyTransform(Transform):
    """Square matrices -> lower-triangular with a positive diagonal: the strictly lower part
    kept, the diagonal exponentiated; no log-det (as torch)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return tril(x, -1) + diag_embed(exp(x.diagonal(dim1=-2, dim2=-1)))

    def _inverse(self, y):
        return tril(y, -1) + diag_embed(log(y.diagonal(dim1=-2, dim2=-1)))
