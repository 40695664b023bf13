"""The base of the transforms (transforms.py): Transform with its inverse and its cache, and the
ones built from others, ComposeTransform (f_n o ... o f_1) and IndependentTransform (more event
dimensions), as torch.distributions.transforms.

A transform maps ``domain`` to ``codomain`` (constraints.py); ``log_abs_det_jacobian(x, y)`` is
log |det dy/dx| over events of ``event_dim`` dimensions; ``sign`` is that of a monotone scalar
map. ``cache_size=1`` remembers the last pair (x, y), so ``inv(y)`` of a just-computed y returns
x exactly: TanhTransform(cache_size=1) in SAC's squashed Gaussian, where atanh(tanh(x)) is
inf once tanh(x) rounds to +-1.
"""

from nabla.distributions import constraints
from nabla.distributions.base import _sum_rightmost, _tensor
from nabla.tensor import Tensor

__all__ = ["Transform", "ComposeTransform", "IndependentTransform", "identity_transform"]


class Transform:
    """Base: subclasses give ``_call`` (x -> y), ``_inverse`` (y -> x) and
    ``log_abs_det_jacobian``; ``bijective`` says whether ``inv`` is a true inverse."""

    domain = constraints.real
    codomain = constraints.real
    bijective = False

    @property
    def sign(self):
        """+1 or -1 (or a tensor of them): whether a monotone scalar map increases."""
        raise NotImplementedError(f"{type(self).__name__} has no sign (not a monotone scalar "
                                  "map)")

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError(f"{type(self).__name__}: cache_size must be 0 or 1, got "
                             f"{cache_size!r}")
        self._cache_size, self._cached = cache_size, None

    @property
    def event_dim(self) -> int:
        if self.domain.event_dim != self.codomain.event_dim:
            raise ValueError(f"{type(self).__name__}: domain and codomain differ in event_dim; "
                             "read domain.event_dim or codomain.event_dim")
        return self.domain.event_dim

    @property
    def inv(self) -> "Transform":
        return _InverseTransform(self)

    def __call__(self, x) -> Tensor:
        x = _tensor(x)
        y = self._call(x)
        if self._cache_size:
            self._cached = (x, y)
        return y

    def _inv_call(self, y) -> Tensor:
        y = _tensor(y)
        if self._cached is not None and self._cached[1] is y:
            return self._cached[0]
        x = self._inverse(y)
        if self._cache_size:
            self._cached = (x, y)
        return x

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no inverse")

    def log_abs_det_jacobian(self, x, y) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no log-det Jacobian")

    def forward_shape(self, shape) -> tuple:
        return tuple(shape)

    def inverse_shape(self, shape) -> tuple:
        return tuple(shape)

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


class _InverseTransform(Transform):
    """f^{-1}: calls f's inverse; log |det| = -f's at (y, x)."""

    def __init__(self, transform: Transform) -> None:
        super().__init__()
        self._inv = transform

    domain = property(lambda self: self._inv.codomain)
    codomain = property(lambda self: self._inv.domain)
    bijective = property(lambda self: self._inv.bijective)
    sign = property(lambda self: self._inv.sign)

    @property
    def inv(self) -> Transform:
        return self._inv

    def __call__(self, x) -> Tensor:
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape) -> tuple:
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape) -> tuple:
        return self._inv.forward_shape(shape)

    def __repr__(self) -> str:
        return f"_InverseTransform({self._inv!r})"


class ComposeTransform(Transform):
    """parts applied in order, f_n(...f_1(x)); log |det| is the sum of the parts', each summed
    over the event dimensions it does not already cover. No parts: the identity."""

    def __init__(self, parts: list, cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.parts = list(parts)

    @property
    def domain(self):
        if not self.parts:
            return constraints.real
        domain, event_dim = self.parts[0].domain, self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim += part.domain.event_dim - part.codomain.event_dim
            event_dim = max(event_dim, part.domain.event_dim)
        extra = event_dim - domain.event_dim
        return constraints.independent(domain, extra) if extra > 0 else domain

    @property
    def codomain(self):
        if not self.parts:
            return constraints.real
        codomain, event_dim = self.parts[-1].codomain, self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim += part.codomain.event_dim - part.domain.event_dim
            event_dim = max(event_dim, part.codomain.event_dim)
        extra = event_dim - codomain.event_dim
        return constraints.independent(codomain, extra) if extra > 0 else codomain

    @property
    def bijective(self) -> bool:
        return all(p.bijective for p in self.parts)

    @property
    def sign(self):
        result = 1
        for part in self.parts:
            result = result * part.sign
        return result

    def _call(self, x: Tensor) -> Tensor:
        for part in self.parts:
            x = part(x)
        return x

    def _inverse(self, y: Tensor) -> Tensor:
        for part in reversed(self.parts):
            y = part.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y) -> Tensor:
        x, y = _tensor(x), _tensor(y)
        if not self.parts:
            return x * 0
        xs = [x]
        for part in self.parts[:-1]:
            xs.append(part(xs[-1]))
        xs.append(y)
        total, event_dim = 0, self.domain.event_dim
        for part, a, b in zip(self.parts, xs[:-1], xs[1:], strict=True):
            term = part.log_abs_det_jacobian(a, b)
            total = total + _sum_rightmost(term, event_dim - part.domain.event_dim)
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return total

    def forward_shape(self, shape) -> tuple:
        for part in self.parts:
            shape = part.forward_shape(shape)
        return tuple(shape)

    def inverse_shape(self, shape) -> tuple:
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return tuple(shape)

    def __repr__(self) -> str:
        return f"ComposeTransform({self.parts!r})"


identity_transform = ComposeTransform([])


class IndependentTransform(Transform):
    """base_transform with ``reinterpreted_batch_ndims`` more event dimensions: the same map,
    its log |det| summed over them."""

    def __init__(self, base_transform: Transform, reinterpreted_batch_ndims: int,
                 cache_size: int = 0) -> None:
        super().__init__(cache_size)
        self.base_transform, self.reinterpreted_batch_ndims = base_transform, \
            int(reinterpreted_batch_ndims)

    domain = property(lambda self: constraints.independent(self.base_transform.domain,
                                                           self.reinterpreted_batch_ndims))
    codomain = property(lambda self: constraints.independent(self.base_transform.codomain,
                                                             self.reinterpreted_batch_ndims))
    bijective = property(lambda self: self.base_transform.bijective)
    sign = property(lambda self: self.base_transform.sign)

    def _call(self, x: Tensor) -> Tensor:
        return self.base_transform(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y) -> Tensor:
        return _sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y),
                              self.reinterpreted_batch_ndims)
