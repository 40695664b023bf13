"""Draws of the families of test_distributions_families: rsample against torch's formula on the
same standard draws, or its pathwise gradient by float64 gradcheck; the implicit gradient of Gamma
draws (Gamma, Beta, Dirichlet, StudentT) against differences of the incomplete gamma; per-draw
gradients and sample moments within 6 standard errors estimated from the draws (10,000 of them),
so no check fails by chance."""

import math

import numpy as np
import pytest
import torch
import torch.distributions as TD
from conftest import GRADCHECK_TOL
from test_distributions_families import _compare, _mvn_arrays, _twins

import nabla
import nabla.distributions as D
from nabla.autograd import gradcheck


def test_multivariate_normal_rsample_is_loc_plus_scale_tril_times_the_normal_draws(rng):
    """The same standard draws eps through torch's formula loc + L eps give the same sample
    and the same gradients of loc and the covariance."""
    arrays = _mvn_arrays(rng, "covariance_matrix")
    n_params, t_params = _twins(arrays, np.float64, lambda k: True)
    nabla.manual_seed(7)
    z = D.MultivariateNormal(**n_params).rsample((5,))
    assert z.shape == (5, 4, 2, 3) and z.requires_grad
    nabla.manual_seed(7)
    eps = torch.tensor(nabla.randn(5, 4, 2, 3, dtype=nabla.float64).numpy())
    td = TD.MultivariateNormal(**t_params)
    _compare({"rsample": z}, {"rsample": td.loc + (td.scale_tril @ eps[..., None])[..., 0]},
             n_params, t_params, rng, np.float64)
    assert not D.MultivariateNormal(**n_params).sample((2,)).requires_grad


def test_multivariate_normal_samples_have_its_mean_and_covariance():
    """10,000 draws: each mean and covariance entry within 6 standard errors (the errors
    estimated from the same draws), so the check cannot fail by chance."""
    loc = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])
    x = D.MultivariateNormal(nabla.tensor(loc), nabla.tensor(cov)).sample((10000,)).numpy()
    _within_6_se(x, loc)
    c = x - loc
    _within_6_se(c[:, :, None] * c[:, None, :], cov)


def _within_6_se(draws, expected):
    """The mean of the draws (over the first axis) within 6 standard errors of ``expected``."""
    se = draws.std(0) / math.sqrt(len(draws))
    assert (np.abs(draws.mean(0) - expected) <= 6 * se + 1e-12).all(), (draws.mean(0), expected)


# -- reparameterized draws ----------------------------------------------------------------------
def test_lognormal_rsample_is_exp_of_the_normal_draw(rng):
    loc, scale = rng.standard_normal((2, 3)), rng.uniform(0.5, 1.5, (3,))
    n_params, t_params = _twins({"loc": loc, "scale": scale}, np.float64, lambda k: True)
    nabla.manual_seed(3)
    z = D.LogNormal(**n_params).rsample((4,))
    nabla.manual_seed(3)
    eps = torch.tensor(nabla.randn(4, 2, 3, dtype=nabla.float64).numpy())
    _compare({"rsample": z}, {"rsample": torch.exp(t_params["loc"] + t_params["scale"] * eps)},
             n_params, t_params, rng, np.float64)


@pytest.mark.parametrize("family", ["LogNormal", "Cauchy", "Normal", "Laplace"])
def test_rsample_gradient_passes_gradcheck(family, rng):
    """The pathwise derivative of a fixed draw (same seed each call) in float64."""
    loc = nabla.tensor(rng.standard_normal(3), requires_grad=True)
    scale = nabla.tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True)

    def draw(loc, scale):
        nabla.manual_seed(11)
        return getattr(D, family)(loc, scale).rsample((2,))

    assert gradcheck(draw, (loc, scale), **GRADCHECK_TOL)


def test_cauchy_rsample_is_loc_plus_scale_times_a_standard_draw():
    loc = nabla.tensor([0.5, -1.0], dtype=nabla.float64, requires_grad=True)
    scale = nabla.tensor([2.0, 0.3], dtype=nabla.float64, requires_grad=True)
    z = D.Cauchy(loc, scale).rsample((6,))
    z.sum().backward()
    eps = (z.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(loc.grad.numpy(), [6.0, 6.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-12)


def test_families_without_rsample_say_so():
    for d in (D.Binomial(3, probs=nabla.tensor(0.5)), D.Geometric(probs=nabla.tensor(0.5)),
              D.Multinomial(3, probs=nabla.tensor([0.5, 0.5])),
              D.OneHotCategorical(probs=nabla.tensor([0.5, 0.5]))):
        assert not d.has_rsample
        with pytest.raises(NotImplementedError, match="has no reparameterized sampling"):
            d.rsample()
    assert D.Independent(D.Normal(nabla.zeros(2), 1.0), 1).has_rsample
    assert not D.Independent(D.Poisson(nabla.ones(2)), 1).has_rsample


# -- sampling statistics (10,000 draws, 6 standard errors estimated from the draws) -------------
STATS = {
    "LogNormal": lambda: D.LogNormal(nabla.tensor([0.3, -0.5]), nabla.tensor([0.4, 0.6])),
    "StudentT": lambda: D.StudentT(nabla.tensor([6.0, 9.0]), 1.5, nabla.tensor([0.5, 2.0])),
    "Dirichlet": lambda: D.Dirichlet(nabla.tensor([[0.5, 2.0, 3.0], [1.0, 1.0, 4.0]])),
    "Binomial": lambda: D.Binomial(nabla.tensor([3.0, 10.0]), probs=nabla.tensor([0.2, 0.7])),
    "Geometric": lambda: D.Geometric(probs=nabla.tensor([0.3, 0.8])),
    "Multinomial": lambda: D.Multinomial(7, probs=nabla.tensor([[0.2, 0.3, 0.5]])),
    "OneHotCategorical": lambda: D.OneHotCategorical(logits=nabla.tensor([0.1, -1.0, 2.0])),
}


@pytest.mark.parametrize("name", STATS)
def test_samples_have_the_right_mean_and_variance(name):
    dist = STATS[name]()
    x = dist.sample((10000,))
    assert x.shape == (10000,) + dist.batch_shape + dist.event_shape
    x, mean, var = x.numpy().astype(np.float64), dist.mean.numpy(), dist.variance.numpy()
    _within_6_se(x, mean)
    _within_6_se((x - mean) ** 2, var)


def test_cauchy_samples_have_its_quartiles():
    """Cauchy has no mean: the fraction of draws below each quartile (binomial error)."""
    dist = D.Cauchy(nabla.tensor([0.0, 3.0]), nabla.tensor([1.0, 0.5]))
    x = dist.sample((10000,))
    for q in (0.25, 0.5, 0.75):
        below = (x < dist.icdf(nabla.tensor(q))).numpy().mean(0)
        assert (np.abs(below - q) <= 6 * math.sqrt(q * (1 - q) / 10000)).all()
    assert D.Cauchy(0.0, 1.0).rsample((10000,)).numpy().std() > 10  # heavy tails


# -- reparameterized Gamma draws (Gamma, Beta, Dirichlet, StudentT rsample) ---------------------
@pytest.mark.parametrize("alpha", [0.05, 0.3, 1.0, 3.0, 8.0, 100.0, 1000.0])
def test_gamma_draw_gradient_is_the_implicit_one(alpha, rng):
    """dx/da at fixed quantile: -(dP/da) / p(x), with dP/da by central differences of torch's
    igamma (float64), and torch's own _standard_gamma_grad (an approximation good to ~1e-3)."""
    from nabla.distributions.gamma_draws import StandardGammaGrad

    x = np.maximum(rng.gamma(alpha, 1.0, 200), 1e-300)
    a = np.full_like(x, alpha)
    ours = StandardGammaGrad.apply(nabla.tensor(a), nabla.tensor(x)).numpy()
    torch_grad = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, torch_grad, rtol=2e-3, atol=1e-12)
    h = 1e-5 * alpha
    igamma = [torch.igamma(torch.tensor(a + s), torch.tensor(x)).numpy() for s in (h, -h)]
    log_pdf = (alpha - 1) * np.log(x) - x - math.lgamma(alpha)
    keep = log_pdf > -200  # where the density underflows, so does the difference quotient
    finite_difference = -(igamma[0] - igamma[1]) / (2 * h) / np.exp(log_pdf)
    np.testing.assert_allclose(ours[keep], finite_difference[keep], rtol=1e-6)


N = 10000


def _per_draw(value):
    return nabla.full((N,), value, dtype=nabla.float64, requires_grad=True)


def test_gamma_and_beta_rsample_gradients_are_unbiased():
    """Each of N draws has its own copy of the parameters, so .grad holds the N per-draw
    gradients: their mean is the gradient of the expectation, within 6 standard errors."""
    a, b = _per_draw(2.5), _per_draw(1.5)
    x = D.Gamma(a, b).rsample()
    (x * x).sum().backward()  # E[x^2] = a (a + 1) / b^2
    _within_6_se(a.grad.numpy(), (2 * 2.5 + 1) / 1.5 ** 2)
    _within_6_se(b.grad.numpy(), -2 * 2.5 * 3.5 / 1.5 ** 3)
    a, b = _per_draw(0.7), _per_draw(2.0)
    D.Beta(a, b).rsample().sum().backward()  # E[x] = a / (a + b)
    _within_6_se(a.grad.numpy(), 2.0 / 2.7 ** 2)
    _within_6_se(b.grad.numpy(), -0.7 / 2.7 ** 2)


def test_dirichlet_and_student_t_rsample_gradients_are_unbiased():
    c = np.array([0.5, 2.0, 1.5])
    conc = nabla.tensor(np.tile(c, (N, 1)), requires_grad=True)
    x = D.Dirichlet(conc).rsample()
    assert x.shape == (N, 3)
    np.testing.assert_allclose(x.detach().numpy().sum(-1), 1.0, rtol=1e-12)
    x[:, 0].sum().backward()  # E[x_0] = c_0 / c_sum
    _within_6_se(conc.grad.numpy(), (np.eye(3)[0] * c.sum() - c[0]) / c.sum() ** 2)
    df = _per_draw(12.0)
    x = D.StudentT(df, 0.5, 2.0).rsample()
    (x * x).sum().backward()  # E[x^2] = scale^2 df / (df - 2) + loc^2
    _within_6_se(df.grad.numpy(), -2 * 4.0 / 10.0 ** 2)


def test_student_t_rsample_gradient_in_loc_and_scale_passes_gradcheck(rng):
    loc = nabla.tensor(rng.standard_normal(3), requires_grad=True)
    scale = nabla.tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True)

    def draw(loc, scale):
        nabla.manual_seed(5)
        return D.StudentT(4.0, loc, scale).rsample((2,))

    assert gradcheck(draw, (loc, scale), **GRADCHECK_TOL)


def test_gamma_draws_have_no_second_derivative():
    a = nabla.tensor([2.0, 3.0], requires_grad=True)
    (g,) = nabla.autograd.grad(D.Gamma(a, 1.0).rsample().sum(), a, create_graph=True)
    with pytest.raises(NotImplementedError, match="second derivative of a reparameterized"):
        g.sum().backward()


def test_gamma_rsample_handles_tiny_concentrations():
    x = D.Dirichlet(nabla.tensor([1e-3, 1e-3, 1e-3])).rsample((100,)).numpy()
    assert np.isfinite(x).all() and np.allclose(x.sum(-1), 1.0)
    assert (D.Gamma(nabla.tensor(1e-4), 1.0).rsample((100,)).numpy() > 0).all()
