"""The families beyond the first ten (LogNormal, Cauchy, StudentT, MultivariateNormal, Dirichlet,
Independent, Binomial, Geometric, Multinomial, OneHotCategorical), cdf / icdf / mode of the first
ones, against torch.distributions: values and parameter gradients in float64 and float32 with
broadcast batch shapes, event and sample shapes, and the errors. Draws: test_distributions_rsample;
KL: test_distributions_kl."""

import numpy as np
import pytest
import torch
import torch.distributions as TD
from conftest import assert_close

import nabla
import nabla.distributions as D

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
    nd, td = D.Uniform(**n_params, validate_args=False), TD.Uniform(**t_params,
                                                                     validate_args=False)
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
