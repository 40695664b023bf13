"""``orthogonal``, ``spectral_norm`` and ``weight_norm`` as ``torch.nn.utils.parametrizations``:
the same constraints as the hook-based ``nn.utils.weight_norm`` / ``spectral_norm``, written as
parametrizations (``nn.utils.parametrize``), so the learned tensors live under
``parametrizations.weight`` with PyTorch's state_dict keys (``original0`` / ``original1`` for
weight norm's g and v, ``original`` plus ``0._u`` / ``0._v`` for spectral norm).
"""

from nabla.autograd.grad_mode import no_grad
from nabla.creation import eye, randn, zeros
from nabla.dtype import finfo
from nabla.linalg import householder_product, qr, solve
from nabla.linalg.householder import geqrf
from nabla.nn.functional.distance import normalize
from nabla.nn.modules.module import Module
from nabla.nn.utils import parametrize
from nabla.nn.utils.weight_norms import _norm_except_dim
from nabla.ops import cat, dot, matrix_exp
from nabla.tensor import Tensor

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]

_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(q: Tensor) -> bool:
    n, k = q.shape[-2:]
    tol = 10.0 * n * finfo(q.dtype).eps
    return bool(((q.mT @ q - eye(k, dtype=q.dtype)).abs() <= tol).all())


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of a's QR decomposition, its columns' signs set so that R has a positive diagonal."""
    q, r = qr(a)
    return q * r.diagonal(dim1=-2, dim2=-1).sign().unsqueeze(-2)


class _Orthogonal(Module):
    """Q = base @ map(A), A skew-symmetric from X's lower triangle (matrix_exp: exp(A); cayley:
    (I - A/2)^-1 (I + A/2)), or a product of Householder reflectors from X's lower triangle;
    matrices wider than tall are handled transposed."""

    def __init__(self, weight: Tensor, orthogonal_map: str, use_trivialization: bool = True
                 ) -> None:
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x: Tensor) -> Tensor:
        n, k = x.shape[-2:]
        transposed = n < k
        if transposed:
            x, n, k = x.mT, k, n
        if self.orthogonal_map == "householder":
            a = x.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (a * a).sum(dim=-2))
            q = householder_product(a, tau)
            q = q * x.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        else:
            x = x.tril()
            if n != k:
                x = cat([x, zeros(*x.shape[:-2], n, n - k, dtype=x.dtype)], dim=-1)
            a = x - x.mT
            if self.orthogonal_map == "matrix_exp":
                q = matrix_exp(a)
            else:
                identity = eye(n, dtype=a.dtype)
                q = solve(identity - 0.5 * a, identity + 0.5 * a)
            if n != k:
                q = q[..., :k]
        if "base" in self._buffers:
            q = self.base @ q
        return q.mT if transposed else q

    def right_inverse(self, q: Tensor) -> Tensor:
        """An X whose forward is ``q`` (an orthogonal ``q``; any other is orthogonalized by QR)."""
        if tuple(q.shape) != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {tuple(q.shape)}.")
        with no_grad():
            return self._right_inverse(q)

    def _right_inverse(self, q: Tensor) -> Tensor:
        q_init = q
        n, k = q.shape[-2:]
        transposed = n < k
        if transposed:
            q, n, k = q.mT, k, n
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError("It is not possible to assign to the matrix exponential "
                                          "or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            return self._householder_inverse(q, transposed)
        if n == k:
            q = q.clone() if _is_orthogonal(q) else _make_orthogonal(q)
        else:  # complete the columns at random to a square orthogonal base
            extra = randn(*q.shape[:-2], n, n - k, dtype=q.dtype)
            q = _make_orthogonal(cat([q, extra], dim=-1))
        self.base = q
        return -eye(*q_init.shape[-2:], dtype=q_init.dtype).expand(*q_init.shape)

    @staticmethod
    def _householder_inverse(q: Tensor, transposed: bool) -> Tensor:
        """geqrf's reflectors with a diagonal of +-1 that forward reads as the columns' signs."""
        a, tau = geqrf(q)
        sign = a.diagonal(dim1=-2, dim2=-1).sign()
        sign = sign * (1 - 2 * (tau == 0).to(sign.dtype))
        on_diagonal = eye(*a.shape[-2:], dtype=a.dtype)
        a = a * (1 - on_diagonal) + on_diagonal * sign.unsqueeze(-2)
        return a.mT if transposed else a


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain ``module.<name>`` (a matrix or batch, n x k) to orthonormal columns (rows when
    k > n): Q^T Q = I.

    Args:
        module: the module holding the tensor.
        name: the tensor's name.
        orthogonal_map: "matrix_exp", "cayley" or "householder" (default: matrix_exp for square
            matrices, householder otherwise).
        use_trivialization: learn in the tangent space at a base kept in the buffer ``base``
            (assigning to the weight then works for every map).

    Returns:
        The module.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


class _WeightNorm(Module):
    """w = g v / ||v||, the norm over every dim but ``dim`` (all when dim is -1)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        dim = self.dim if self.dim == -1 else self.dim % weight_v.ndim
        return weight_v * (weight_g / _norm_except_dim(weight_v, dim))

    def right_inverse(self, weight: Tensor) -> tuple:
        dim = self.dim if self.dim == -1 else self.dim % weight.ndim
        return _norm_except_dim(weight, dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as g v / ||v|| (g: ``parametrizations.<name>.original0``,
    v: ``original1``), the norm over every dim but ``dim`` (None: over all). Returns the module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """w / sigma(w), sigma the largest singular value of w as a (size of dim, rest) matrix,
    estimated by power iteration in the buffers ``_u``, ``_v`` (a 1-d w is just normalized)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = self._matrix(weight)
            h, w = matrix.shape
            with no_grad():
                self.register_buffer("_u", normalize(randn(h, dtype=weight.dtype), dim=0,
                                                     eps=eps))
                self.register_buffer("_v", normalize(randn(w, dtype=weight.dtype), dim=0,
                                                     eps=eps))
            self._power_method(matrix, 15)

    def _matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, matrix: Tensor, n_power_iterations: int) -> None:
        """u <- W v / ||.||, v <- W^T u / ||.||, in the buffers (in place)."""
        with no_grad():
            matrix = matrix.detach()
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(matrix @ self._v, dim=0, eps=self.eps))
                self._v.copy_(normalize(matrix.T @ self._u, dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        matrix = self._matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        # clones: backward must read the vectors of this forward, not the next update's
        u, v = self._u.clone(), self._v.clone()
        return weight / dot(u, matrix @ v)

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its largest singular value, estimated with
    ``n_power_iterations`` steps of power iteration per training forward (15 at registration).
    ``dim``: the output dimension (default 0, 1 for transposed convolutions). Returns the
    module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
