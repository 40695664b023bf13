"""Distributions over vectors (``event_shape`` (k,)): MultivariateNormal and Dirichlet (both
reparameterized); Independent, which turns batch dimensions of any distribution into
event dimensions. Written with nabla ops (cholesky, solve_triangular, lgamma, digamma), so
log-probabilities, entropies and KL terms have gradients with respect to loc, the matrix and the
concentration."""

import math

from nabla.backend import array_module
from nabla.creation import eye, randn
from nabla.distributions import constraints
from nabla.distributions.base import (
    Distribution,
    _positive,
    _sum_rightmost,
    _tensor,
)
from nabla.distributions.gamma_draws import standard_gamma
from nabla.linalg import LinAlgError, cholesky, solve_triangular
from nabla.linalg.triangular import cholesky_inverse
from nabla.nn.functional import one_hot
from nabla.ops import broadcast_shapes, clamp, digamma, flip, lgamma, log, where, xlogy
from nabla.ops.reduce import _quiet
from nabla.tensor import Tensor

__all__ = ["MultivariateNormal", "Independent", "Dirichlet"]


def _factor(matrix: Tensor, what: str) -> Tensor:
    """The Cholesky factor of a symmetric positive-definite ``what`` matrix, or a ValueError."""
    data = matrix._data
    if not (abs(data - data.swapaxes(-1, -2)) <= 1e-6 * (1 + abs(data))).all():
        raise ValueError(f"MultivariateNormal: {what} must be symmetric, got a matrix that "
                         "differs from its transpose; pass (A + A.mT) / 2")
    try:
        return cholesky(matrix)
    except LinAlgError:
        raise ValueError(f"MultivariateNormal: {what} must be positive-definite (its Cholesky "
                         "factorisation failed); add a multiple of the identity "
                         "(A + eps * I), or pass scale_tril") from None


def _mahalanobis(L: Tensor, diff: Tensor) -> Tensor:
    """|L^{-1} diff|^2 over the last dimension, with L (..., k, k) and diff (..., k)."""
    shape = tuple(broadcast_shapes(L.shape[:-2], diff.shape[:-1]))
    k = diff.shape[-1]
    z = solve_triangular(L.expand(*shape, k, k), diff.expand(*shape, k)[..., None], upper=False)
    return (z[..., 0] ** 2).sum(-1)


def _simplex_mode(concentration: Tensor) -> Tensor:
    """torch's Dirichlet mode: (a - 1)+ / sum (a - 1)+, and where every a_i < 1 the one-hot
    vector of the first largest entry of that ratio (0 / 0 = nan everywhere: the first)."""
    am1 = clamp(concentration - 1, min=0)
    every_below = Tensor((concentration._data < 1).all(-1, keepdims=True))
    total = am1.sum(-1, keepdim=True)
    xp = array_module(total._data)
    with _quiet(xp, invalid="ignore"):  # 0 / 0 where no a_i exceeds 1: nan, as torch
        # the corners' 0 / 0 is replaced below: a safe denominator keeps nan out of the gradient
        mode = am1 / where(every_below, 1.0, total)
        data = (am1 / total).detach()._data
    first = xp.argmax(xp.where(xp.isnan(data), xp.inf, data), -1)  # nan counts as the largest
    corner = one_hot(Tensor(first), data.shape[-1]).to(mode.dtype)
    return where(every_below, corner, mode)


class MultivariateNormal(Distribution):
    """N(loc, Sigma) with Sigma = L L^T (L = scale_tril): log p(x) = -|L^{-1}(x - loc)|^2 / 2
    - sum log diag L - k log(2 pi) / 2; entropy k (1 + log 2 pi) / 2 + sum log diag L;
    rsample = loc + L eps with eps ~ N(0, I).

    Give exactly one of covariance_matrix (Sigma), precision_matrix (Sigma^{-1}) or scale_tril
    (lower triangular with a positive diagonal); each is (*, k, k) and loc is (*, k).
    """

    has_rsample = True
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    _shared = ("_unbroadcasted_scale_tril", "_given")  # broadcast against batch_shape on use

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None) -> None:
        self._validation(validate_args)
        given = {"covariance_matrix": covariance_matrix, "precision_matrix": precision_matrix,
                 "scale_tril": scale_tril}
        named = [name for name, m in given.items() if m is not None]
        if len(named) != 1:
            raise ValueError("MultivariateNormal: pass exactly one of covariance_matrix, "
                             f"precision_matrix or scale_tril, got {named or 'none'}")
        loc = _tensor(loc)
        if loc.dim() < 1:
            raise ValueError("MultivariateNormal: loc must be at least one-dimensional (*, k), "
                             "got a scalar; use Normal for one variable")
        name = named[0]
        matrix = _tensor(given[name], loc)
        k = loc.shape[-1]
        if matrix.dim() < 2 or tuple(matrix.shape[-2:]) != (k, k):
            raise ValueError(f"MultivariateNormal: {name} must be (*, {k}, {k}) to match loc "
                             f"(*, {k}), got shape {tuple(matrix.shape)}")
        if name == "scale_tril":
            xp, data = array_module(matrix._data), matrix._data
            if (xp.diagonal(data, 0, -2, -1) <= 0).any() or (xp.triu(data, 1) != 0).any():
                raise ValueError("MultivariateNormal: scale_tril must be lower triangular with a "
                                 "positive diagonal; pass linalg.cholesky(covariance_matrix)")
            L = matrix
        elif name == "covariance_matrix":
            L = _factor(matrix, name)
        else:  # L = (flip(cholesky(flip(P)))^T)^{-1}: P's factor without inverting P itself
            Lf = _factor(flip(matrix, (-2, -1)), name)
            L_inv = flip(Lf, (-2, -1)).mT
            L = solve_triangular(L_inv, eye(k, dtype=loc.dtype), upper=False)
        self.batch_shape = tuple(broadcast_shapes(matrix.shape[:-2], loc.shape[:-1]))
        self.event_shape = (k,)
        self.loc = loc.expand(*self.batch_shape, k)
        self._unbroadcasted_scale_tril = L
        self._given = (name, matrix)

    def _expand(self, m: Tensor) -> Tensor:
        return m.expand(*self.batch_shape, *self.event_shape, *self.event_shape)

    @property
    def scale_tril(self) -> Tensor:
        return self._expand(self._unbroadcasted_scale_tril)

    @property
    def covariance_matrix(self) -> Tensor:
        name, matrix = self._given
        L = self._unbroadcasted_scale_tril
        return self._expand(matrix if name == "covariance_matrix" else L @ L.mT)

    @property
    def precision_matrix(self) -> Tensor:
        name, matrix = self._given
        if name == "precision_matrix":
            return self._expand(matrix)
        return self._expand(cholesky_inverse(self._unbroadcasted_scale_tril))

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """diag(Sigma) = the row sums of L^2."""
        L = self._unbroadcasted_scale_tril
        return (L * L).sum(-1).expand(*self.batch_shape, *self.event_shape)

    def _half_log_det(self) -> Tensor:
        return log(self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1)).sum(-1)

    def rsample(self, sample_shape=()) -> Tensor:
        eps = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps[..., None])[..., 0]

    def log_prob(self, value) -> Tensor:
        diff = self._checked(value, self.loc) - self.loc
        m = _mahalanobis(self._unbroadcasted_scale_tril, diff)
        k = self.event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self) -> Tensor:
        k = self.event_shape[0]
        h = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(*self.batch_shape)


class Independent(Distribution):
    """The base distribution with its rightmost ``reinterpreted_batch_ndims`` batch dimensions
    read as event dimensions: log_prob and entropy are the base's summed over them."""

    arg_constraints: dict = {}

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int,
                 validate_args=None) -> None:
        self._validation(validate_args)
        n = int(reinterpreted_batch_ndims)
        batch = tuple(base_distribution.batch_shape)
        if not 0 <= n <= len(batch):
            raise ValueError(f"Independent: reinterpreted_batch_ndims must be between 0 and the "
                             f"base's {len(batch)} batch dimensions (batch_shape {batch}), "
                             f"got {n}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        self.batch_shape = batch[:len(batch) - n]
        self.event_shape = batch[len(batch) - n:] + tuple(base_distribution.event_shape)

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def support(self):
        support, n = self.base_dist.support, self.reinterpreted_batch_ndims
        return constraints.independent(support, n) if n else support

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def sample(self, sample_shape=()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value) -> Tensor:
        return _sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self) -> Tensor:
        return _sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)


class Dirichlet(Distribution):
    """Dirichlet(a) on the simplex, a = concentration (*, k): log p(x) = sum (a_i - 1) log x_i
    + lgamma(a_0) - sum lgamma(a_i) with a_0 = sum a_i; entropy sum lgamma(a_i) - lgamma(a_0)
    - (k - a_0) digamma(a_0) - sum (a_i - 1) digamma(a_i); rsample G / sum G with
    G_i ~ Gamma(a_i, 1) reparameterized (gamma_draws.py; torch differentiates the marginal Beta
    CDF instead: another unbiased pathwise gradient, with the same expectation)."""

    has_rsample = True
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex

    def __init__(self, concentration, validate_args=None) -> None:
        self._validation(validate_args)
        concentration = _tensor(concentration)
        if concentration.dim() < 1:
            raise ValueError("Dirichlet: concentration must be at least one-dimensional (*, k), "
                             "got a scalar; use Beta for two categories")
        _positive("Dirichlet", "concentration", concentration)
        self.concentration = concentration
        self.batch_shape = tuple(concentration.shape[:-1])
        self.event_shape = tuple(concentration.shape[-1:])

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        """(a_i - 1)+ / sum_j (a_j - 1)+; where every a_i < 1, torch's one-hot corner (the
        first); nan where no a_i exceeds 1 but not all are below it."""
        return _simplex_mode(self.concentration)

    @property
    def variance(self) -> Tensor:
        a = self.concentration
        a0 = a.sum(-1, keepdim=True)
        return a * (a0 - a) / (a0 ** 2 * (a0 + 1))

    def rsample(self, sample_shape=()) -> Tensor:
        g = standard_gamma(self.concentration.expand(*self._extended_shape(sample_shape)))
        return g / g.sum(-1, keepdim=True)

    def log_prob(self, value) -> Tensor:
        a = self.concentration
        value = self._checked(value, a)
        return xlogy(a - 1, value).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1)

    def entropy(self) -> Tensor:
        a = self.concentration
        k, a0 = a.shape[-1], a.sum(-1)
        return lgamma(a).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) - \
            ((a - 1) * digamma(a)).sum(-1)
