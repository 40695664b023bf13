"""Uniform, Exponential, Laplace, Gamma, Beta, Poisson against torch.distributions: log_prob,
entropy, mean, variance and their gradients in the parameters; sampling statistics; pathwise
(rsample) gradients; errors."""

import numpy as np
import pytest
import torch

import nabla
from nabla import distributions as D

rng = np.random.default_rng(0)
POS = rng.uniform(0.5, 3.0, size=(2, 3))
POS2 = rng.uniform(0.5, 3.0, size=(2, 3))
REAL = rng.normal(size=(2, 3))

CASES = {  # name -> (parameters, values to score)
    "Uniform": ((REAL, REAL + POS), REAL + 0.3 * POS),
    "Exponential": ((POS,), POS2),
    "Laplace": ((REAL, POS), REAL + POS2 - 1.5),
    "Gamma": ((POS, POS2), POS * 0.7),
    "Beta": ((POS, POS2), rng.uniform(0.05, 0.95, size=(2, 3))),
    "Poisson": ((POS * 3,), np.floor(POS2 * 2)),
}


def _build(lib, name):
    params = [lib.tensor(p, requires_grad=True) for p in CASES[name][0]]
    return params, getattr(lib.distributions, name)(*params)


@pytest.mark.parametrize("name", CASES)
def test_matches_torch_with_gradients(name):
    results = {}
    for lib in (nabla, torch):
        params, dist = _build(lib, name)
        value = lib.tensor(CASES[name][1])
        parts = [dist.log_prob(value), dist.mean, dist.variance]
        if name != "Poisson":  # PyTorch has no Poisson entropy
            parts.append(dist.entropy())
        sum(p.sum() for p in parts).backward()
        results[lib.__name__] = [p.detach().numpy() for p in parts] + \
            [p.grad.numpy() for p in params]
    for a, b in zip(results["nabla"], results["torch"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)  # polygamma differs ~1e-10


def test_outside_the_support_has_log_prob_minus_inf():
    with pytest.raises(ValueError, match="Uniform: value .* must lie in the support"):
        D.Uniform(0.0, 1.0).log_prob(nabla.tensor(1.5))
    d = D.Uniform(0.0, 1.0, validate_args=False)
    assert d.log_prob(nabla.tensor(1.5)).item() == -np.inf
    assert D.Exponential(2.0, validate_args=False).log_prob(nabla.tensor(-1.0)).item() == -np.inf
    with pytest.raises(ValueError, match="Exponential: .* found 1 outside it, the first -1.0"):
        D.Exponential(2.0).log_prob(nabla.tensor(-1.0))


@pytest.mark.parametrize("name, params", [
    ("Uniform", (-1.0, 3.0)), ("Exponential", (2.0,)), ("Laplace", (0.5, 1.5)),
    ("Gamma", (2.5, 1.5)), ("Beta", (2.0, 5.0)), ("Poisson", (4.0,)),
])
def test_samples_have_the_right_mean_and_variance(name, params):
    nabla.manual_seed(0)
    dist = getattr(D, name)(*[nabla.tensor(p, dtype=nabla.float64) for p in params])
    x = dist.sample((20000,)).numpy()
    assert x.shape == (20000,)
    np.testing.assert_allclose(x.mean(), dist.mean.item(), rtol=0.05, atol=0.02)
    np.testing.assert_allclose(x.var(), dist.variance.item(), rtol=0.08)


@pytest.mark.parametrize("name, params", [("Uniform", (-1.0, 3.0)), ("Exponential", (2.0,)),
                                          ("Laplace", (0.5, 1.5))])
def test_rsample_gradient_of_the_mean(name, params):
    """d E[x] / d params through the samples approaches d mean / d params."""
    nabla.manual_seed(1)
    ps = [nabla.tensor(p, dtype=nabla.float64, requires_grad=True) for p in params]
    getattr(D, name)(*ps).rsample((50000,)).mean().backward()
    sampled = [0.0 if p.grad is None else p.grad.item() for p in ps]
    qs = [nabla.tensor(p, dtype=nabla.float64, requires_grad=True) for p in params]
    getattr(D, name)(*qs).mean.backward()
    exact = [0.0 if q.grad is None else q.grad.item() for q in qs]
    np.testing.assert_allclose(sampled, exact, rtol=0.05, atol=0.02)


def test_errors_name_the_distribution():
    with pytest.raises(ValueError, match="Gamma: rate must be positive"):
        D.Gamma(1.0, -1.0)
    with pytest.raises(ValueError, match="Uniform: high - low must be positive"):
        D.Uniform(1.0, 1.0)
    with pytest.raises(NotImplementedError, match="Poisson has no reparameterized sampling"):
        D.Poisson(2.0).rsample()


KL_PAIRS = {  # name -> (p's parameters, q's parameters)
    "Uniform": ((REAL, REAL + POS), (REAL - 0.5, REAL + POS + 1.0)),
    "Exponential": ((POS,), (POS2,)),
    "Laplace": ((REAL, POS), (REAL * 0.5, POS2)),
    "Gamma": ((POS, POS2), (POS2, POS)),
    "Beta": ((POS, POS2), (POS2 * 1.5, POS)),
    "Poisson": ((POS,), (POS2,)),
}


@pytest.mark.parametrize("name", KL_PAIRS)
def test_kl_divergence_matches_torch_with_gradients(name):
    results = {}
    for lib in (nabla, torch):
        first = [lib.tensor(a, requires_grad=True) for a in KL_PAIRS[name][0]]
        second = [lib.tensor(a) for a in KL_PAIRS[name][1]]
        family = getattr(lib.distributions, name)
        kl = lib.distributions.kl_divergence(family(*first), family(*second))
        kl.sum().backward()
        results[lib.__name__] = [kl.detach().numpy()] + [p.grad.numpy() for p in first]
    for a, b in zip(results["nabla"], results["torch"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_kl_of_uniforms_is_inf_outside_the_support():
    kl = D.kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(0.5, 3.0))
    assert kl.item() == np.inf
