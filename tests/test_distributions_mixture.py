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


def _gmm(rng, dtype, lib, arrays, event):
    """A mixture of k = 3 Normals (event: Independent over d = 2) with batch_shape (2,)."""
    mod = D if lib is nabla else TD
    logits, loc, scale = (lib.tensor(arrays[k].astype(dtype), requires_grad=True)
                          for k in ("logits", "loc", "scale"))
    comp = mod.Normal(loc, scale)
    if event:
        comp = mod.Independent(comp, 1)
    return mod.MixtureSameFamily(mod.Categorical(logits=logits), comp), (logits, loc, scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("event", [False, True])
def test_gaussian_mixture_matches_torch(event, dtype, rng):
    tail = (2,) if event else ()
    arrays = {"logits": rng.standard_normal((2, 3)), "loc": rng.standard_normal((2, 3) + tail),
              "scale": rng.uniform(0.5, 2.0, (2, 3) + tail)}
    nd, n_params = _gmm(rng, dtype, nabla, arrays, event)
    td, t_params = _gmm(rng, dtype, torch, arrays, event)
    assert nd.batch_shape == tuple(td.batch_shape) == (2,)
    assert nd.event_shape == tuple(td.event_shape) == tail
    x = rng.standard_normal((5, 2) + tail).astype(dtype) * 2
    outs = {"log_prob": (nd.log_prob(nabla.tensor(x)), td.log_prob(torch.tensor(x))),
            "mean": (nd.mean, td.mean), "variance": (nd.variance, td.variance),
            "stddev": (nd.stddev, td.stddev)}
    if not event:
        outs["cdf"] = (nd.cdf(nabla.tensor(x)), td.cdf(torch.tensor(x)))
    n_total, t_total = 0, 0
    for what, (a, b) in outs.items():
        assert_close(a, b, what=what)
        g = rng.standard_normal(tuple(b.shape)).astype(dtype)
        n_total = n_total + (a * nabla.tensor(g)).sum()
        t_total = t_total + (b * torch.tensor(g)).sum()
    n_total.backward()
    t_total.backward()
    for a, b, what in zip(n_params, t_params, ("logits", "loc", "scale"), strict=True):
        assert_close(a.grad, b.grad, what=f"grad {what}")


def test_mixture_draws_have_the_mixture_moments():
    """10,000 draws: mean within 6 standard errors, variance within 6 of its own (by the fourth
    central moment, computed from the draws)."""
    nabla.manual_seed(0)
    mix = D.Categorical(probs=nabla.tensor([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]]))
    comp = D.Normal(nabla.tensor([[-3.0, 0.0, 4.0], [1.0, 2.0, -5.0]]),
                    nabla.tensor([[0.5, 1.0, 2.0], [1.0, 0.3, 0.7]]))
    d = D.MixtureSameFamily(mix, comp)
    n = 10_000
    x = d.sample((n,)).numpy()
    assert x.shape == (n, 2) and not d.sample().requires_grad
    mean, var = d.mean.numpy(), d.variance.numpy()
    assert (np.abs(x.mean(0) - mean) < 6 * np.sqrt(var / n)).all()
    m4 = ((x - mean) ** 4).mean(0)
    assert (np.abs(x.var(0) - var) < 6 * np.sqrt((m4 - var ** 2) / n)).all()
    # each component's share: the draws nearest -5 (component 2 of the second batch element)
    share = (x[:, 1] < -3.5).mean()
    assert abs(share - 0.1 * 0.98) < 6 * np.sqrt(0.1 * 0.9 / n)
    mvn = D.MixtureSameFamily(D.Categorical(logits=nabla.zeros(3)),
                              D.Independent(D.Normal(nabla.zeros(3, 2), 1.0), 1))
    assert tuple(mvn.sample((4, 5)).shape) == (4, 5, 2)


def test_mixture_errors_validation_and_expand():
    comp = D.Normal(nabla.zeros(2, 3), 1.0)
    with pytest.raises(ValueError, match="mixture has 4 components but component_distribution"
                                         " has 3"):
        D.MixtureSameFamily(D.Categorical(logits=nabla.zeros(4)), comp)
    with pytest.raises(ValueError, match="must be a Categorical"):
        D.MixtureSameFamily(D.Bernoulli(probs=nabla.tensor(0.5)), comp)
    with pytest.raises(ValueError, match="does not broadcast"):
        D.MixtureSameFamily(D.Categorical(logits=nabla.zeros(5, 3)), comp)
    d = D.MixtureSameFamily(D.Categorical(logits=nabla.zeros(3)),
                            D.Gamma(nabla.ones(3), nabla.ones(3)))
    with pytest.raises(ValueError, match="MixtureSameFamily: value .* support"):
        d.log_prob(nabla.tensor(-1.0))
    e = d.expand((4,))
    assert e.batch_shape == (4,) and tuple(e.log_prob(nabla.ones(4)).shape) == (4,)
    t = TD.MixtureSameFamily(TD.Categorical(logits=torch.zeros(3)),
                             TD.Gamma(torch.ones(3), torch.ones(3)))
    assert_close(e.log_prob(nabla.ones(4)), t.expand((4,)).log_prob(torch.ones(4)),
                 what="expanded")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("given", ["logits", "probs"])
def test_relaxed_bernoulli_matches_torch(given, dtype, rng):
    p = rng.uniform(0.1, 0.9, (2, 3)) if given == "probs" else rng.standard_normal((2, 3))
    temp = rng.uniform(0.3, 2.0, (3,))
    n_p, t_p = nabla.tensor(p.astype(dtype), requires_grad=True), torch.tensor(
        p.astype(dtype), requires_grad=True)
    n_t, t_t = nabla.tensor(temp.astype(dtype), requires_grad=True), torch.tensor(
        temp.astype(dtype), requires_grad=True)
    nd, td = D.RelaxedBernoulli(n_t, **{given: n_p}), TD.RelaxedBernoulli(t_t, **{given: t_p})
    x = rng.uniform(0.02, 0.98, (4, 2, 3)).astype(dtype)
    a, b = nd.log_prob(nabla.tensor(x)), td.log_prob(torch.tensor(x))
    assert_close(a, b, what="log_prob")
    g = rng.standard_normal(b.shape).astype(dtype)
    (a * nabla.tensor(g)).sum().backward()
    (b * torch.tensor(g)).sum().backward()
    assert_close(n_p.grad, t_p.grad, what=f"grad {given}")
    assert_close(n_t.grad, t_t.grad, what="grad temperature")
    assert nd.batch_shape == (2, 3) and nd.support is D.constraints.unit_interval


def test_relaxed_bernoulli_draws_and_their_gradient():
    """P(x > 1/2) = p for any temperature (logit(x) > 0 iff logit(u) > -logits), within 6
    standard errors of 10,000 draws; dx/dlogits = x (1 - x) / t through rsample."""
    nabla.manual_seed(0)
    logits = nabla.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    d = D.RelaxedBernoulli(nabla.tensor(0.5), logits=logits)
    n = 10_000
    x = d.rsample((n,))
    p = 1 / (1 + np.exp(-logits.detach().numpy()))
    assert (np.abs((x.detach().numpy() > 0.5).mean(0) - p) < 6 * np.sqrt(p * (1 - p) / n)).all()
    x.sum().backward()
    xs = x.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(logits.grad.numpy(), (xs * (1 - xs) / 0.5).sum(0), rtol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relaxed_one_hot_categorical_matches_torch(dtype, rng):
    logits = rng.standard_normal((2, 4))
    n_l, t_l = nabla.tensor(logits.astype(dtype), requires_grad=True), torch.tensor(
        logits.astype(dtype), requires_grad=True)
    nd = D.RelaxedOneHotCategorical(nabla.tensor(np.array(0.7, dtype)), logits=n_l)
    td = TD.RelaxedOneHotCategorical(torch.tensor(np.array(0.7, dtype)), logits=t_l)
    assert nd.batch_shape == (2,) and nd.event_shape == (4,)
    x = rng.dirichlet(np.ones(4), (5, 2)).astype(dtype)
    a, b = nd.log_prob(nabla.tensor(x)), td.log_prob(torch.tensor(x))
    assert_close(a, b, what="log_prob")
    g = rng.standard_normal(b.shape).astype(dtype)
    (a * nabla.tensor(g)).sum().backward()
    (b * torch.tensor(g)).sum().backward()
    assert_close(n_l.grad, t_l.grad, what="grad logits")
    with pytest.raises(ValueError, match="RelaxedOneHotCategorical: value .* support"):
        nd.log_prob(nabla.tensor(np.full((2, 4), 0.5, dtype)))


def test_gumbel_softmax_draws_pick_each_category_with_its_probability():
    """argmax of a Gumbel-softmax draw is a draw of the Categorical (the Gumbel-max trick):
    frequencies within 6 standard errors of 10,000 draws; each draw on the simplex."""
    nabla.manual_seed(0)
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    logits = nabla.tensor(np.log(probs), requires_grad=True)
    d = D.RelaxedOneHotCategorical(nabla.tensor(0.3), logits=logits)
    n = 10_000
    x = d.rsample((n,))
    counts = np.bincount(x.detach().numpy().argmax(-1), minlength=4) / n
    assert (np.abs(counts - probs) < 6 * np.sqrt(probs * (1 - probs) / n)).all()
    assert bool(D.constraints.simplex.check(x).numpy().all())
    (x[:, 0]).sum().backward()
    assert logits.grad.numpy()[0] > 0 and (logits.grad.numpy()[1:] < 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("given", ["probs", "logits"])
def test_continuous_bernoulli_matches_torch(given, dtype, rng):
    """Parameters on both sides of the Taylor window around p = 1/2 (and inside it)."""
    p = np.array([[0.05, 0.3, 0.4995, 0.5005, 0.7, 0.97]])
    p = p if given == "probs" else np.log(p / (1 - p))
    n_p, t_p = nabla.tensor(p.astype(dtype), requires_grad=True), torch.tensor(
        p.astype(dtype), requires_grad=True)
    nd, td = D.ContinuousBernoulli(**{given: n_p}), TD.ContinuousBernoulli(**{given: t_p})
    x = rng.uniform(0.01, 0.99, (4, 6)).astype(dtype)
    u = rng.uniform(0.05, 0.95, (4, 6)).astype(dtype)
    outs = {"log_prob": (nd.log_prob(nabla.tensor(x)), td.log_prob(torch.tensor(x))),
            "cdf": (nd.cdf(nabla.tensor(x)), td.cdf(torch.tensor(x))),
            "icdf": (nd.icdf(nabla.tensor(u)), td.icdf(torch.tensor(u))),
            "mean": (nd.mean, td.mean), "variance": (nd.variance, td.variance),
            "entropy": (nd.entropy(), td.entropy())}
    n_total, t_total = 0, 0
    for what, (a, b) in outs.items():
        assert_close(a, b, what=what)
        g = rng.standard_normal(tuple(b.shape)).astype(dtype)
        n_total = n_total + (a * nabla.tensor(g)).sum()
        t_total = t_total + (b * torch.tensor(g)).sum()
    n_total.backward()
    t_total.backward()
    assert_close(n_p.grad, t_p.grad, what="grad")
    with pytest.raises(ValueError, match="ContinuousBernoulli: value .* support"):
        nd.log_prob(nabla.tensor(np.array(1.5, dtype)))


def test_continuous_bernoulli_draws_have_its_mean_and_variance():
    nabla.manual_seed(0)
    d = D.ContinuousBernoulli(probs=nabla.tensor([0.1, 0.5, 0.8], dtype=nabla.float64))
    n = 10_000
    x = d.rsample((n,)).numpy()
    assert ((x >= 0) & (x <= 1)).all()
    mean, var = d.mean.numpy(), d.variance.numpy()
    assert (np.abs(x.mean(0) - mean) < 6 * np.sqrt(var / n)).all()
    m4 = ((x - mean) ** 4).mean(0)
    assert (np.abs(x.var(0) - var) < 6 * np.sqrt((m4 - var ** 2) / n)).all()


def test_missing_members_raise_and_repr_names_the_parameters():
    d = D.TransformedDistribution(D.Normal(0.0, 1.0), D.ExpTransform())
    for what, named in (("mean", "mean"), ("variance", "variance"), ("mode", "mode"),
                        ("stddev", "variance")):
        with pytest.raises(NotImplementedError, match=f"TransformedDistribution has no {named}"):
            getattr(d, what)
    with pytest.raises(NotImplementedError, match="has no entropy"):
        d.entropy()
    assert repr(D.Normal(nabla.zeros(3), 2.0)) == "Normal(loc: (3,), scale: (3,))"
    assert repr(D.Gamma(2.0, 3.0)) == repr(TD.Gamma(2.0, 3.0)).replace("tensor(", "").replace(
        ")", "") + ")"
