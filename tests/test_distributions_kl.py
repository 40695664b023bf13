"""kl_divergence of the new families' pairs against torch.distributions: values for broadcast
batch shapes and the gradients of both distributions' parameters (float64 and float32), zero for
a distribution against itself, and the cases without a finite or closed form."""

import numpy as np
import pytest
import torch
import torch.distributions as TD
from test_distributions_families import DTYPES, _compare, _spd

import nabla
import nabla.distributions as D


# -- kl_divergence ------------------------------------------------------------------------------
def _kl_pair(lib, name, first, second):
    D_ = lib.distributions
    if name == "MultivariateNormal":
        return D_.MultivariateNormal(first[0], first[1]), D_.MultivariateNormal(second[0],
                                                                                scale_tril=second[1])
    if name == "Independent":
        return (D_.Independent(D_.Normal(*first), 1), D_.Independent(D_.Normal(*second), 1))
    if name in ("Geometric", "OneHotCategorical"):
        return getattr(D_, name)(logits=first[0]), getattr(D_, name)(probs=second[0])
    if name == "Binomial":
        return D_.Binomial(5, probs=first[0]), D_.Binomial(5, logits=second[0])
    family = getattr(D_, name)
    return family(*first), family(*second)


def _kl_arrays(rng, name):
    """(p's parameters, q's parameters): p's batch (2, 1), q's (3,) where the family allows."""
    if name == "MultivariateNormal":
        return ((rng.standard_normal((2, 1, 3)), _spd(rng, (2, 1), 3)),
                (rng.standard_normal(3), np.linalg.cholesky(_spd(rng, (3,), 3))))
    if name == "Independent":
        return ((rng.standard_normal((2, 1, 4)), rng.uniform(0.5, 2, (2, 1, 4))),
                (rng.standard_normal((3, 4)), rng.uniform(0.5, 2, (3, 4))))
    if name == "Dirichlet":
        return (rng.uniform(0.5, 3, (2, 1, 4)),), (rng.uniform(0.5, 3, (3, 4)),)
    if name == "OneHotCategorical":
        return (rng.standard_normal((2, 1, 4)),), (rng.uniform(0.1, 1, (3, 4)),)
    if name in ("Geometric", "Binomial"):
        first = rng.standard_normal((2, 1)) if name == "Geometric" else rng.uniform(.1, .9, (2, 1))
        return (first,), (rng.uniform(0.1, 0.9, (3,)) if name == "Geometric"
                          else rng.standard_normal(3),)
    return ((rng.standard_normal((2, 1)), rng.uniform(0.5, 2, (2, 1))),
            (rng.standard_normal(3), rng.uniform(0.5, 2, (3,))))


KL_FAMILIES = ["MultivariateNormal", "Independent", "Dirichlet", "LogNormal", "Cauchy",
               "Geometric", "Binomial", "OneHotCategorical"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", KL_FAMILIES)
def test_kl_divergence_matches_torch(name, dtype, rng):
    """Values (batch (2, 1) against (3,): broadcast to (2, 3)) and the gradients of both
    distributions' parameters."""
    first, second = _kl_arrays(rng, name)
    n_p = [nabla.tensor(a.astype(dtype), requires_grad=True) for a in first + second]
    t_p = [torch.tensor(a.astype(dtype), requires_grad=True) for a in first + second]
    k = len(first)
    n_kl = D.kl_divergence(*_kl_pair(nabla, name, n_p[:k], n_p[k:]))
    t_kl = TD.kl_divergence(*_kl_pair(torch, name, t_p[:k], t_p[k:]))
    assert tuple(t_kl.shape) == (2, 3)
    _compare({"kl": n_kl}, {"kl": t_kl}, dict(enumerate(n_p)), dict(enumerate(t_p)), rng, dtype)


def test_kl_of_a_distribution_with_itself_is_zero(rng):
    cov = nabla.tensor(_spd(rng, (2,), 3))
    mvn = D.MultivariateNormal(nabla.tensor(rng.standard_normal(3)), cov)
    dirichlet = D.Dirichlet(nabla.tensor(rng.uniform(0.5, 3, (2, 4))))
    for d in (mvn, dirichlet):
        np.testing.assert_allclose(D.kl_divergence(d, d).numpy(), 0.0, atol=1e-12)


def test_kl_of_binomials_with_different_counts():
    p = D.Binomial(nabla.tensor([5.0, 6.0]), probs=nabla.tensor([0.3, 0.3]))
    q = D.Binomial(nabla.tensor([5.0, 5.0]), probs=nabla.tensor([0.6, 0.6]))
    kl = D.kl_divergence(p, q).numpy()
    assert np.isfinite(kl[0]) and kl[1] == np.inf
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(q, p)
    with pytest.raises(NotImplementedError, match="different reinterpreted_batch_ndims"):
        base = D.Normal(nabla.zeros(2, 3), 1.0)
        D.kl_divergence(D.Independent(base, 1), D.Independent(base, 2))
