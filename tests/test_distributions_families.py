"""The families beyond the first ten (LogNormal, Cauchy, StudentT, MultivariateNormal, Dirichlet,
Independent, Binomial, Geometric, Multinomial, OneHotCategorical) and cdf / icdf of the scalar
ones, against torch.distributions: values and parameter gradients in float64 and float32 with
broadcast batch shapes, KL pairs, reparameterized draws (same standard draws as torch's formula,
or the pathwise gradient), sampling statistics (6 standard errors), shapes and errors."""

import math

import numpy as np
import pytest
import torch
import torch.distributions as TD
from conftest import GRADCHECK_TOL, assert_close

import nabla
import nabla.distributions as D
from nabla.autograd import gradcheck

DTYPES = [np.float64, np.float32]


def _values(rng, kind, shape):
    """Random parameters or values of one kind (domains chosen so every formula is defined)."""
    if kind == "real":
        return rng.standard_normal(shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "prob":
        return rng.uniform(0.1, 0.9, shape)
    if kind == "df":
        return rng.uniform(2.5, 6.0, shape)  # variance finite
    if kind == "count":
        return rng.integers(1, 8, shape).astype(np.float64)
    raise AssertionError(kind)


# name -> (family, {argument: kind}, kind of the scored values, methods compared)
SCALAR = {
    "LogNormal": ("LogNormal", {"loc": "real", "scale": "pos"}, "pos",
                  ("log_prob", "cdf", "icdf", "entropy", "mean", "variance", "mode", "stddev")),
    "Cauchy": ("Cauchy", {"loc": "real", "scale": "pos"}, "real",
               ("log_prob", "cdf", "icdf", "entropy", "mode")),
    "StudentT": ("StudentT", {"df": "df", "loc": "real", "scale": "pos"}, "real",
                 ("log_prob", "entropy", "mean", "variance", "mode")),
    "Normal": ("Normal", {"loc": "real", "scale": "pos"}, "real", ("cdf", "icdf")),
    "Exponential": ("Exponential", {"rate": "pos"}, "pos", ("cdf", "icdf")),
    "Laplace": ("Laplace", {"loc": "real", "scale": "pos"}, "real", ("cdf", "icdf")),
    "Binomial": ("Binomial", {"total_count": "count", "probs": "prob"}, "binomial",
                 ("log_prob", "mean", "variance", "mode")),
    "Binomial-logits": ("Binomial", {"total_count": "count", "logits": "real"}, "binomial",
                        ("log_prob", "mean", "variance")),
    "Geometric": ("Geometric", {"probs": "prob"}, "counts", ("log_prob", "entropy", "mean",
                                                              "variance", "mode")),
    "Geometric-logits": ("Geometric", {"logits": "real"}, "counts",
                         ("log_prob", "entropy", "mean", "variance")),
}


def _twins(arrays, dtype, grad):
    n = {k: nabla.tensor(a.astype(dtype), requires_grad=grad(k)) for k, a in arrays.items()}
    t = {k: torch.tensor(a.astype(dtype), requires_grad=grad(k)) for k, a in arrays.items()}
    return n, t


def _compare(n_outs, t_outs, n_params, t_params, rng, dtype, values_only=()):
    """Each output equal to torch's; then the gradients of sum(g_i * out_i), g random, over the
    outputs not in ``values_only``."""
    n_total, t_total = 0, 0
    for what, a, b in zip(n_outs, n_outs.values(), t_outs.values(), strict=True):
        assert_close(a, b, what=what)
        if what in values_only:
            continue
        if a.requires_grad and np.isfinite(a.detach().numpy()).all():
            g = rng.standard_normal(tuple(b.shape)).astype(dtype)
            n_total = n_total + (a * nabla.tensor(g)).sum()
            t_total = t_total + (b * torch.tensor(g)).sum()
    n_total.backward()
    t_total.backward()
    for k, tp in t_params.items():
        if tp.requires_grad:
            assert_close(n_params[k].grad, tp.grad, what=f"grad of {k}")


def _scored(rng, kind, shape, params):
    if kind == "binomial":  # k in 0..n for each element's n
        n = params["total_count"].min()  # (k <= every n, as the value broadcasts)
        return np.floor(rng.uniform(0, 1, shape) * (n + 1))
    if kind == "counts":
        return rng.integers(0, 6, shape).astype(np.float64)
    return _values(rng, kind, shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SCALAR)
def test_scalar_families_match_torch(case, dtype, rng):
    family, kinds, value_kind, methods = SCALAR[case]
    # the first parameter (2, 1), the others (3,): batch_shape (2, 3) by broadcasting
    arrays = {k: _values(rng, kind, (2, 1) if i == 0 else (3,))
              for i, (k, kind) in enumerate(kinds.items())}
    n_params, t_params = _twins(arrays, dtype, lambda k: k != "total_count")
    nd, td = getattr(D, family)(**n_params), getattr(TD, family)(**t_params)
    batch = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    assert nd.batch_shape == tuple(td.batch_shape) == batch
    assert nd.event_shape == tuple(td.event_shape) == ()
    x = _scored(rng, value_kind, (4, 1) + batch[1:], arrays).astype(dtype)  # broadcast too
    u = rng.uniform(0.05, 0.95, (4,) + batch).astype(dtype)
    n_outs, t_outs = {}, {}
    for m in methods:
        arg = u if m == "icdf" else x
        if m in ("log_prob", "cdf", "icdf"):
            n_outs[m] = getattr(nd, m)(nabla.tensor(arg))
            t_outs[m] = getattr(td, m)(torch.tensor(arg))
        else:
            n_outs[m] = nd.entropy() if m == "entropy" else getattr(nd, m)
            t_outs[m] = td.entropy() if m == "entropy" else getattr(td, m)
    _compare(n_outs, t_outs, n_params, t_params, rng, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform_cdf_icdf_match_torch(dtype, rng):
    low = rng.standard_normal((2, 1))
    arrays = {"low": low, "high": low + rng.uniform(0.5, 2.0, (3,))}
    n_params, t_params = _twins(arrays, dtype, lambda k: True)
    nd, td = D.Uniform(**n_params), TD.Uniform(**t_params, validate_args=False)
    x = (rng.standard_normal((4, 2, 3)) * 2).astype(dtype)  # some outside: cdf clamped to 0, 1
    u = rng.uniform(0.05, 0.95, (4, 2, 3)).astype(dtype)
    _compare({"cdf": nd.cdf(nabla.tensor(x)), "icdf": nd.icdf(nabla.tensor(u))},
             {"cdf": td.cdf(torch.tensor(x)), "icdf": td.icdf(torch.tensor(u))},
             n_params, t_params, rng, dtype)


def test_cauchy_mean_and_variance_are_undefined():
    d = D.Cauchy(nabla.tensor([0.0, 1.0]), 2.0)
    assert np.isnan(d.mean.numpy()).all() and np.isposinf(d.variance.numpy()).all()


def test_student_t_moments_follow_df_as_torch():
    df = [0.5, 1.0, 1.5, 2.0, 3.0]
    nd, td = D.StudentT(nabla.tensor(df), 1.0, 2.0), TD.StudentT(torch.tensor(df), 1.0, 2.0)
    np.testing.assert_array_equal(nd.mean.numpy(), td.mean.numpy())  # nan where df <= 1
    np.testing.assert_array_equal(nd.variance.numpy(), td.variance.numpy())  # nan, inf, finite
    assert np.isnan(nd.mean.numpy()[:2]).all() and np.isinf(nd.variance.numpy()[2:4]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_binomial_entropy_matches_torch(dtype, rng):
    p = rng.uniform(0.1, 0.9, (2, 3)).astype(dtype)
    n_p, t_p = nabla.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    _compare({"entropy": D.Binomial(6, probs=n_p).entropy()},
             {"entropy": TD.Binomial(6, probs=t_p).entropy()}, {"p": n_p}, {"p": t_p}, rng, dtype)
    with pytest.raises(NotImplementedError, match="total_count must be the same"):
        D.Binomial(nabla.tensor([2.0, 3.0]), probs=nabla.tensor([0.5, 0.5])).entropy()


def _spd(rng, shape, k):
    """Random symmetric positive-definite matrices (shape + (k, k)), well conditioned."""
    a = rng.standard_normal(shape + (k, k))
    return a @ np.swapaxes(a, -1, -2) / k + np.eye(k)


def _mvn_arrays(rng, form):
    """loc (4, 1, 3) and a (2, 3, 3) matrix: batch_shape (4, 2), event_shape (3,)."""
    cov = _spd(rng, (2,), 3)
    matrix = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov),
              "scale_tril": np.linalg.cholesky(cov)}[form]
    return {"loc": rng.standard_normal((4, 1, 3)), form: matrix}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("form", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_matches_torch(form, dtype, rng):
    arrays = _mvn_arrays(rng, form)
    n_params, t_params = _twins(arrays, dtype, lambda k: True)
    nd, td = D.MultivariateNormal(**n_params), TD.MultivariateNormal(**t_params)
    assert nd.batch_shape == tuple(td.batch_shape) == (4, 2)
    assert nd.event_shape == tuple(td.event_shape) == (3,)
    x = rng.standard_normal((5, 1, 2, 3)).astype(dtype)
    names = ("mean", "mode", "variance", "stddev", "scale_tril", "covariance_matrix",
             "precision_matrix")
    n_outs = {"log_prob": nd.log_prob(nabla.tensor(x)), "entropy": nd.entropy()}
    t_outs = {"log_prob": td.log_prob(torch.tensor(x)), "entropy": td.entropy()}
    n_outs.update({m: getattr(nd, m) for m in names})
    t_outs.update({m: getattr(td, m) for m in names})
    # torch.cholesky_inverse gives the (structurally zero) upper triangle of scale_tril a
    # gradient, nabla's reads only the lower triangle: that part is compared apart, below
    skip = ("precision_matrix",) if form == "scale_tril" else ()
    _compare(n_outs, t_outs, n_params, t_params, rng, dtype, values_only=skip)
    if skip:
        L = n_params["scale_tril"].detach().requires_grad_()
        tL = t_params["scale_tril"].detach().requires_grad_()
        g = rng.standard_normal((2, 3, 3)).astype(dtype)
        (D.MultivariateNormal(n_params["loc"].detach(), scale_tril=L).precision_matrix
         * nabla.tensor(g)).sum().backward()
        (TD.MultivariateNormal(t_params["loc"].detach(), scale_tril=tL).precision_matrix
         * torch.tensor(g)).sum().backward()
        assert_close(nabla.tril(L.grad), torch.tril(tL.grad), what="precision_matrix grad")


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


@pytest.mark.parametrize("dtype", DTYPES)
def test_dirichlet_matches_torch(dtype, rng):
    arrays = {"concentration": rng.uniform(0.5, 3.0, (2, 4))}
    n_params, t_params = _twins(arrays, dtype, lambda k: True)
    nd, td = D.Dirichlet(**n_params), TD.Dirichlet(**t_params)
    assert (nd.batch_shape, nd.event_shape) == (tuple(td.batch_shape), tuple(td.event_shape))
    x = rng.dirichlet(np.ones(4), (3, 1)).astype(dtype)
    _compare({"log_prob": nd.log_prob(nabla.tensor(x)), "entropy": nd.entropy(),
              "mean": nd.mean, "variance": nd.variance},
             {"log_prob": td.log_prob(torch.tensor(x)), "entropy": td.entropy(),
              "mean": td.mean, "variance": td.variance}, n_params, t_params, rng, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("given", ["probs", "logits"])
def test_multinomial_and_one_hot_categorical_match_torch(given, dtype, rng):
    arrays = {given: rng.uniform(0.1, 1.0, (2, 4)) if given == "probs"
              else rng.standard_normal((2, 4))}
    n_params, t_params = _twins(arrays, dtype, lambda k: True)
    nd, td = D.Multinomial(5, **n_params), TD.Multinomial(5, **t_params)
    assert (nd.batch_shape, nd.event_shape) == (tuple(td.batch_shape), tuple(td.event_shape))
    counts = rng.multinomial(5, np.ones(4) / 4, (3, 2)).astype(dtype)
    _compare({"log_prob": nd.log_prob(nabla.tensor(counts)), "mean": nd.mean,
              "variance": nd.variance},
             {"log_prob": td.log_prob(torch.tensor(counts)), "mean": td.mean,
              "variance": td.variance}, n_params, t_params, rng, dtype)
    oh = np.eye(4, dtype=dtype)[rng.integers(0, 4, (3, 2))]
    nd, td = D.OneHotCategorical(**n_params), TD.OneHotCategorical(**t_params)
    assert (nd.batch_shape, nd.event_shape) == (tuple(td.batch_shape), tuple(td.event_shape))
    for p in (*n_params.values(), *t_params.values()):
        p.grad = None
    _compare({"log_prob": nd.log_prob(nabla.tensor(oh)), "entropy": nd.entropy(),
              "mean": nd.mean, "variance": nd.variance, "mode": nd.mode},
             {"log_prob": td.log_prob(torch.tensor(oh)), "entropy": td.entropy(),
              "mean": td.mean, "variance": td.variance, "mode": td.mode},
             n_params, t_params, rng, dtype)


def test_multinomial_entropy_is_the_sum_over_its_support(rng):
    """Exact against -sum p log p over all count vectors (torch's own value rounds its
    lgamma(n + 1) term through float32, 6e-8 off, so it is compared more loosely)."""
    p = rng.uniform(0.1, 1.0, (2, 3))
    n_p, t_p = nabla.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    support = np.array([(a, b, 4 - a - b) for a in range(5) for b in range(5 - a)], float)
    log_p = D.Multinomial(4, probs=n_p).log_prob(nabla.tensor(support[:, None, :]))
    log_p = log_p.detach().numpy()
    exact = -(np.exp(log_p) * log_p).sum(0)
    h = D.Multinomial(4, probs=n_p).entropy()
    np.testing.assert_allclose(h.detach().numpy(), exact, rtol=1e-12)
    t_h = TD.Multinomial(4, probs=t_p).entropy()
    np.testing.assert_allclose(h.detach().numpy(), t_h.detach().numpy(), rtol=1e-6)
    g = rng.standard_normal(2)
    (h * nabla.tensor(g)).sum().backward()
    (t_h * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(n_p.grad.numpy(), t_p.grad.numpy(), rtol=1e-6)


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


# -- shapes -------------------------------------------------------------------------------------
SHAPES = {  # name -> (nabla distribution, torch twin): batch_shape (2,) everywhere
    "MultivariateNormal": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2, 3), scale_tril=lib.eye(3)),
    "Independent": lambda lib: lib.distributions.Independent(
        lib.distributions.Normal(lib.zeros(2, 4, 5), lib.ones(2, 4, 5)), 2),
    "LogNormal": lambda lib: lib.distributions.LogNormal(lib.zeros(2), 1.0),
    "Cauchy": lambda lib: lib.distributions.Cauchy(lib.zeros(2), 1.0),
    "StudentT": lambda lib: lib.distributions.StudentT(lib.ones(2) * 3),
    "Dirichlet": lambda lib: lib.distributions.Dirichlet(lib.ones(2, 3)),
    "Binomial": lambda lib: lib.distributions.Binomial(4, probs=lib.ones(2) / 2),
    "Geometric": lambda lib: lib.distributions.Geometric(probs=lib.ones(2) / 2),
    "Multinomial": lambda lib: lib.distributions.Multinomial(4, probs=lib.ones(2, 3)),
    "OneHotCategorical": lambda lib: lib.distributions.OneHotCategorical(probs=lib.ones(2, 3)),
}


@pytest.mark.parametrize("name", SHAPES)
def test_sample_shape_is_sample_batch_event(name):
    nd, td = SHAPES[name](nabla), SHAPES[name](torch)
    assert nd.batch_shape == tuple(td.batch_shape) == (2,)
    assert nd.event_shape == tuple(td.event_shape)
    want = (2, 3) + nd.batch_shape + nd.event_shape
    assert nd.sample((2, 3)).shape == want == tuple(td.sample((2, 3)).shape)
    assert nd.sample().shape == tuple(td.sample().shape)
    if td.has_rsample and nd.has_rsample:
        assert nd.rsample((2, 3)).shape == want


@pytest.mark.parametrize("dtype", DTYPES)
def test_independent_sums_the_reinterpreted_dimensions(dtype, rng):
    arrays = {"loc": rng.standard_normal((3, 1, 4)), "scale": rng.uniform(0.5, 2.0, (2, 4))}
    n_params, t_params = _twins(arrays, dtype, lambda k: True)
    nd = D.Independent(D.Normal(**n_params), 2)
    td = TD.Independent(TD.Normal(**t_params), 2)
    assert (nd.batch_shape, nd.event_shape) == ((3,), (2, 4))
    x = rng.standard_normal((5, 1, 2, 4)).astype(dtype)
    _compare({"log_prob": nd.log_prob(nabla.tensor(x)), "entropy": nd.entropy(),
              "mean": nd.mean, "variance": nd.variance},
             {"log_prob": td.log_prob(torch.tensor(x)), "entropy": td.entropy(),
              "mean": td.mean, "variance": td.variance}, n_params, t_params, rng, dtype)
    assert D.Independent(D.Normal(**n_params), 0).log_prob(nabla.tensor(x)).shape == (5, 3, 2, 4)


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


# -- errors -------------------------------------------------------------------------------------
def _bad(build, *patterns):
    with pytest.raises(ValueError) as info:
        build()
    for p in patterns:
        assert p in str(info.value), (p, str(info.value))


def test_errors_name_the_distribution_the_value_and_the_fix():
    loc, eye = nabla.zeros(2), nabla.eye(2)
    _bad(lambda: D.MultivariateNormal(loc), "MultivariateNormal: pass exactly one of",
         "got none")
    _bad(lambda: D.MultivariateNormal(loc, eye, scale_tril=eye),
         "['covariance_matrix', 'scale_tril']")
    _bad(lambda: D.MultivariateNormal(loc, nabla.tensor([[1.0, 2.0], [2.0, 1.0]])),
         "covariance_matrix must be positive-definite", "A + eps * I")
    _bad(lambda: D.MultivariateNormal(loc, precision_matrix=-eye),
         "precision_matrix must be positive-definite")
    _bad(lambda: D.MultivariateNormal(loc, nabla.tensor([[1.0, 0.5], [0.0, 1.0]])),
         "covariance_matrix must be symmetric", "(A + A.mT) / 2")
    _bad(lambda: D.MultivariateNormal(loc, scale_tril=nabla.tensor([[1.0, 0.5], [0.0, 1.0]])),
         "scale_tril must be lower triangular with a positive diagonal")
    _bad(lambda: D.MultivariateNormal(loc, scale_tril=-eye), "positive diagonal")
    _bad(lambda: D.MultivariateNormal(loc, nabla.eye(3)), "(*, 2, 2)", "(3, 3)")
    _bad(lambda: D.MultivariateNormal(nabla.tensor(0.0), nabla.eye(1)), "use Normal")
    _bad(lambda: D.LogNormal(0.0, nabla.tensor([1.0, -2.0])),
         "LogNormal: scale must be positive, got a minimum of -2.0")
    _bad(lambda: D.Cauchy(0.0, 0.0), "Cauchy: scale must be positive")
    _bad(lambda: D.StudentT(nabla.tensor(-1.0)), "StudentT: df must be positive")
    _bad(lambda: D.Dirichlet(nabla.tensor([1.0, 0.0])), "Dirichlet: concentration must be "
         "positive")
    _bad(lambda: D.Dirichlet(nabla.tensor(1.0)), "use Beta")
    _bad(lambda: D.Binomial(3, probs=nabla.tensor(0.5), logits=nabla.tensor(0.0)),
         "Binomial: pass exactly one of probs or logits, got both")
    _bad(lambda: D.Binomial(3, probs=nabla.tensor([0.5, 1.5])), "Binomial: probs must be in "
         "[0, 1], got values in [0.5, 1.5]", "pass logits")
    _bad(lambda: D.Binomial(nabla.tensor([2.0, 2.5]), probs=nabla.tensor(0.5)),
         "Binomial: total_count must be a non-negative integer, got 2.5")
    _bad(lambda: D.Geometric(), "Geometric: pass exactly one of probs or logits, got neither")
    _bad(lambda: D.Geometric(probs=nabla.tensor(0.0)), "Geometric: probs must be in (0, 1]")
    _bad(lambda: D.Multinomial(2.5, probs=nabla.ones(2)), "Multinomial: total_count must be "
         "a non-negative int, got 2.5")
    _bad(lambda: D.OneHotCategorical(), "OneHotCategorical: pass exactly one of probs or logits")
    _bad(lambda: D.Independent(D.Normal(nabla.zeros(2), 1.0), 2),
         "Independent: reinterpreted_batch_ndims must be between 0 and the base's 1 batch "
         "dimensions (batch_shape (2,)), got 2")


def test_base_distribution_has_scalar_events():
    assert D.Normal(0.0, 1.0).event_shape == () and D.Poisson(1.0).event_shape == ()
    assert D.Categorical(logits=nabla.zeros(2, 3)).event_shape == ()
    np.testing.assert_allclose(D.Gamma(4.0, 2.0).stddev.item(), 1.0)  # sqrt(variance)


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


# -- additions to the first families: mode, Gamma.cdf ------------------------------------------
MODES = {  # name -> arguments (a batch of 3 where the mode differs from element to element)
    "Normal": ([0.5, -1.0, 2.0], 1.5), "Laplace": ([0.5, -1.0, 2.0], 1.5),
    "Exponential": ([0.5, 1.0, 2.0],), "Gamma": ([0.5, 1.5, 4.0], [2.0, 1.0, 0.5]),
    "Poisson": ([0.5, 2.0, 3.7],), "Uniform": ([0.0, 1.0, 2.0], 3.0),
}


@pytest.mark.parametrize("name", MODES)
def test_mode_of_the_first_families_matches_torch(name):
    args = MODES[name]
    n = getattr(D, name)(*[nabla.tensor(a, dtype=nabla.float64) for a in args]).mode
    t = getattr(TD, name)(*[torch.tensor(a, dtype=torch.float64) for a in args]).mode
    assert_close(n, t, what=f"{name}.mode")


def test_mode_of_bernoulli_and_categorical_matches_torch():
    p = [0.2, 0.5, 0.7]
    assert_close(D.Bernoulli(probs=nabla.tensor(p)).mode, TD.Bernoulli(probs=torch.tensor(p)).mode)
    logits = [[0.2, 0.5, 0.1], [2.0, -1.0, 0.0]]
    assert D.Categorical(logits=nabla.tensor(logits)).mode.tolist() == [1, 0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_gamma_cdf_matches_torch(dtype, rng):
    """Differentiable in the rate and the value; not in the concentration (as PyTorch)."""
    a = rng.uniform(0.5, 3.0, (2, 1)).astype(dtype)
    arrays = {"rate": rng.uniform(0.5, 2.0, (3,))}
    n_params, t_params = _twins(arrays, dtype, lambda k: True)
    x = rng.uniform(0.1, 4.0, (4, 2, 3)).astype(dtype)
    _compare({"cdf": D.Gamma(nabla.tensor(a), **n_params).cdf(nabla.tensor(x))},
             {"cdf": TD.Gamma(torch.tensor(a), **t_params).cdf(torch.tensor(x))},
             n_params, t_params, rng, dtype)
