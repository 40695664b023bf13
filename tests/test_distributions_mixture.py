"""MixtureSameFamily, RelaxedBernoulli and RelaxedOneHotCategorical, and the methods every family
gained (expand, enumerate_support, Beta / Dirichlet modes, sample_n, perplexity), against
torch.distributions: values and parameter gradients (float64 and float32, broadcast batch
shapes), shapes, errors, and sample statistics (10,000 draws, 6 standard errors)."""

import warnings

import numpy as np
import pytest
import torch
import torch.distributions as TD
from conftest import assert_close

import nabla
import nabla.distributions as D

DTYPES = [np.float64, np.float32]

# family -> arguments with batch_shape (3,) (a tensor each, or an int)
FAMILIES = {
    "Normal": {"loc": [0.0, 1.0, -1.0], "scale": [1.0, 2.0, 0.5]},
    "Uniform": {"low": [0.0, 1.0, -1.0], "high": [1.0, 2.0, 0.5]},
    "Exponential": {"rate": [1.0, 2.0, 0.5]},
    "Laplace": {"loc": [0.0, 1.0, -1.0], "scale": [1.0, 2.0, 0.5]},
    "Gamma": {"concentration": [1.0, 2.0, 0.5], "rate": [1.0, 2.0, 0.5]},
    "Beta": {"concentration1": [1.0, 2.0, 0.5], "concentration0": [1.5, 2.0, 0.5]},
    "Poisson": {"rate": [1.0, 2.0, 0.5]},
    "LogNormal": {"loc": [0.0, 1.0, -1.0], "scale": [1.0, 2.0, 0.5]},
    "Cauchy": {"loc": [0.0, 1.0, -1.0], "scale": [1.0, 2.0, 0.5]},
    "StudentT": {"df": [3.0, 4.0, 5.0], "loc": [0.0, 1.0, -1.0]},
    "Bernoulli": {"probs": [0.2, 0.5, 0.9]},
    "Geometric": {"probs": [0.2, 0.5, 0.9]},
    "Binomial": {"total_count": [4.0, 4.0, 4.0], "probs": [0.2, 0.5, 0.9]},
    "Categorical": {"logits": [[0.0, 1.0], [2.0, 0.5], [1.0, 1.0]]},
    "OneHotCategorical": {"logits": [[0.0, 1.0], [2.0, 0.5], [1.0, 1.0]]},
    "Multinomial": {"total_count": 4, "logits": [[0.0, 1.0], [2.0, 0.5], [1.0, 1.0]]},
    "Dirichlet": {"concentration": [[1.0, 2.0], [2.0, 0.5], [1.5, 1.0]]},
    "MultivariateNormal": {"loc": [[0.0, 1.0], [2.0, 0.5], [1.0, 1.0]],
                           "scale_tril": [[1.0, 0.0], [0.5, 2.0]]},
}


def _family(name, dtype=np.float64, **extra):
    n = {k: v if isinstance(v, int) else nabla.tensor(np.asarray(v, dtype))
         for k, v in FAMILIES[name].items()}
    t = {k: v if isinstance(v, int) else torch.tensor(np.asarray(v, dtype))
         for k, v in FAMILIES[name].items()}
    return getattr(D, name)(**n, **extra), getattr(TD, name)(**t, **extra)


@pytest.mark.parametrize("name", FAMILIES)
def test_expand_broadcasts_the_parameters_as_torch(name, rng):
    nd, td = _family(name)
    ne, te = nd.expand((4, 3)), td.expand((4, 3))
    assert type(ne) is type(nd) and ne.batch_shape == tuple(te.batch_shape) == (4, 3)
    assert ne.event_shape == tuple(te.event_shape)
    assert nd.batch_shape == (3,)  # the original is untouched
    x = te.sample((2,))
    assert_close(ne.log_prob(nabla.tensor(x.numpy())), te.log_prob(x), what="log_prob")
    assert tuple(ne.sample((2,)).shape) == tuple(x.shape)
    if name not in ("Cauchy", "Uniform"):
        assert_close(ne.mean, te.mean, what="mean")
    with pytest.raises((ValueError, RuntimeError)):
        nd.expand((2,))  # 3 does not broadcast to 2


def test_expand_keeps_the_graph_to_the_parameters():
    loc = nabla.tensor([0.5, -1.0], requires_grad=True)
    tloc = torch.tensor([0.5, -1.0], requires_grad=True)
    x = np.array([[0.1, 0.2], [1.0, -2.0], [3.0, 0.0]])
    D.Normal(loc, 2.0).expand((3, 2)).log_prob(nabla.tensor(x)).sum().backward()
    TD.Normal(tloc, 2.0).expand((3, 2)).log_prob(torch.tensor(x)).sum().backward()
    assert_close(loc.grad, tloc.grad, what="grad")
    d = D.Independent(D.Normal(nabla.zeros(2, 3), 1.0), 1).expand((5, 2))
    assert d.batch_shape == (5, 2) and d.event_shape == (3,)
    assert d.base_dist.batch_shape == (5, 2, 3)


@pytest.mark.parametrize("name", ["Bernoulli", "Categorical", "OneHotCategorical", "Binomial"])
@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support_as_torch(name, expand):
    nd, td = _family(name)
    got, want = nd.enumerate_support(expand), td.enumerate_support(expand)
    assert_close(got, want, what="support")
    assert nd.has_enumerate_support and td.has_enumerate_support
    assert_close(nd.log_prob(got), td.log_prob(want), what="log_prob of the support")


def test_enumerate_support_refusals():
    with pytest.raises(NotImplementedError, match="Normal has no finite support"):
        D.Normal(0.0, 1.0).enumerate_support()
    with pytest.raises(NotImplementedError, match="total_count must be the same"):
        D.Binomial(nabla.tensor([2.0, 3.0]), probs=nabla.tensor([0.5, 0.5])).enumerate_support()
    assert not D.Normal(0.0, 1.0).has_enumerate_support


@pytest.mark.parametrize("dtype", DTYPES)
def test_beta_and_dirichlet_modes_as_torch_with_edge_cases(dtype, rng):
    # interior, both below 1, one below 1, both 1, one exactly 1
    a = np.array([2.5, 0.5, 2.0, 0.5, 1.0, 1.0, 3.0], dtype)
    b = np.array([1.5, 0.3, 0.5, 2.0, 1.0, 0.5, 1.0], dtype)
    na, nb = nabla.tensor(a, requires_grad=True), nabla.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    got, want = D.Beta(na, nb).mode, TD.Beta(ta, tb).mode
    assert_close(got, want, what="Beta mode")
    g = rng.standard_normal(7).astype(dtype) * np.isfinite(want.detach().numpy())
    (nabla.nan_to_num(got) * nabla.tensor(g)).sum().backward()
    (torch.nan_to_num(want) * torch.tensor(g)).sum().backward()
    finite = np.isfinite(want.detach().numpy())  # at a nan mode the gradients are nan or 0
    for n, t, what in ((na, ta, "grad a"), (nb, tb, "grad b")):
        np.testing.assert_allclose(n.grad.numpy()[finite], t.grad.numpy()[finite], rtol=1e-4,
                                   atol=1e-5, err_msg=what)
    c = np.array([[0.5, 0.3, 0.9], [0.5, 0.9, 0.9], [0.5, 0.5, 1.0], [2.0, 3.0, 0.5],
                  [1.5, 2.5, 4.0]], dtype)
    assert_close(D.Dirichlet(nabla.tensor(c)).mode, TD.Dirichlet(torch.tensor(c)).mode,
                 what="Dirichlet mode")
    c = rng.uniform(1.1, 4.0, (2, 3, 4)).astype(dtype)
    assert_close(D.Dirichlet(nabla.tensor(c)).mode, TD.Dirichlet(torch.tensor(c)).mode,
                 what="Dirichlet mode")


def test_perplexity_and_sample_n_as_torch():
    nd, td = _family("Categorical")
    assert_close(nd.perplexity(), td.perplexity(), what="perplexity")
    nd, td = _family("Normal")
    assert_close(nd.perplexity(), td.perplexity(), what="perplexity")
    with pytest.warns(FutureWarning, match="sample_n"):
        draws = nd.sample_n(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tuple(draws.shape) == tuple(td.sample_n(5).shape) == (5, 3)
