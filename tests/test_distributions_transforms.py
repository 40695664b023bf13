"""nabla.distributions.constraints, value validation, transforms and TransformedDistribution
against torch.distributions: which values each constraint accepts, which values log_prob / cdf
refuse (and the unvalidated results), transforms' values, inverses and log-det Jacobians with
their gradients (float64 and float32, broadcast shapes)."""

import numpy as np
import pytest
import torch
import torch.distributions as TD
import torch.distributions.constraints as TC
from conftest import assert_close

import nabla
import nabla.distributions as D
import nabla.distributions.constraints as C

DTYPES = [np.float64, np.float32]


@pytest.fixture
def default_validation():
    """Restores both frameworks' default validation after a test that changes it."""
    yield
    D.Distribution.set_default_validate_args(True)
    TD.Distribution.set_default_validate_args(True)


def _mixed(rng, shape):
    """Values of every kind a constraint tells apart (negatives, 0, 1, fractions, inf, nan)."""
    pool = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 1.0, 2.0, 3.0, 7.5, np.inf, -np.inf, np.nan])
    return rng.choice(pool, shape)


SCALAR_CONSTRAINTS = {name: (getattr(C, name), getattr(TC, name)) for name in (
    "real", "positive", "nonnegative", "unit_interval", "boolean", "nonnegative_integer",
    "positive_integer", "real_vector", "simplex", "one_hot")}
SCALAR_CONSTRAINTS.update({
    "interval": (C.interval(-0.5, 2.0), TC.interval(-0.5, 2.0)),
    "half_open_interval": (C.half_open_interval(0.0, 2.0), TC.half_open_interval(0.0, 2.0)),
    "greater_than": (C.greater_than(0.3), TC.greater_than(0.3)),
    "greater_than_eq": (C.greater_than_eq(0.3), TC.greater_than_eq(0.3)),
    "less_than": (C.less_than(1.0), TC.less_than(1.0)),
    "integer_interval": (C.integer_interval(0, 3), TC.integer_interval(0, 3)),
    "independent": (C.independent(C.positive, 2), TC.independent(TC.positive, 2)),
    "multinomial": (C.multinomial(4), TC.multinomial(4))})


@pytest.mark.parametrize("name", SCALAR_CONSTRAINTS)
def test_constraints_accept_what_torch_accepts(name, rng):
    nc, tc = SCALAR_CONSTRAINTS[name]
    x = _mixed(rng, (50, 3, 2))
    if name in ("simplex", "one_hot"):  # also some members of the set
        x[:10] = rng.dirichlet(np.ones(2), (10, 3)) if name == "simplex" else np.eye(2)[
            rng.integers(0, 2, (10, 3))]
    if name == "independent":  # events of six positive numbers are rare in the pool
        x[:10] = rng.uniform(0.1, 2.0, (10, 3, 2))
    got, want = nc.check(nabla.tensor(x)), tc.check(torch.tensor(x))
    assert got.dtype == nabla.bool and tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert nc.event_dim == tc.event_dim and nc.is_discrete == tc.is_discrete
    assert 0 < want.sum() < want.numel() or name in ("one_hot",)  # the case tells apart


@pytest.mark.parametrize("name", ["lower_triangular", "lower_cholesky", "square", "symmetric",
                                  "positive_definite", "positive_semidefinite"])
def test_matrix_constraints_accept_what_torch_accepts(name, rng):
    a = rng.standard_normal((6, 3, 3))
    cases = np.stack([a, np.tril(a), np.tril(a) + 5 * np.eye(3), a @ a.swapaxes(-1, -2),
                      a @ a.swapaxes(-1, -2) + np.eye(3), -np.eye(3) * np.ones((6, 1, 1))])
    got = getattr(C, name).check(nabla.tensor(cases)).numpy()
    want = getattr(TC, name).check(torch.tensor(cases)).numpy()
    np.testing.assert_array_equal(got, want)
    assert getattr(C, name).event_dim == 2


def test_constraint_bounds_may_be_tensors_and_reprs_name_them():
    low, high = nabla.tensor([0.0, 1.0]), nabla.tensor([1.0, 3.0])
    got = C.interval(low, high).check(nabla.tensor([[0.5, 0.5], [1.0, 3.0]])).numpy()
    np.testing.assert_array_equal(got, [[True, False], [True, True]])
    assert repr(C.interval(0.0, 1.0)) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert repr(C.positive) == "GreaterThan(lower_bound=0.0)"
    assert C.is_dependent(D.Uniform.arg_constraints["low"]) and not C.is_dependent(C.real)
    with pytest.raises(ValueError, match="dependent"):
        C.dependent.check(nabla.tensor(1.0))


# family -> (arguments, a value inside the support, a value outside it)
VALIDATED = {
    "Normal": ({"loc": 0.0, "scale": 1.0}, 0.3, np.nan),
    "Uniform": ({"low": 0.0, "high": 2.0}, 0.5, 2.5),
    "Exponential": ({"rate": 2.0}, 0.5, -0.5),
    "Laplace": ({"loc": 0.0, "scale": 1.0}, -4.0, np.nan),
    "Gamma": ({"concentration": 2.0, "rate": 1.5}, 0.5, -1.0),
    "Beta": ({"concentration1": 2.0, "concentration0": 3.0}, 0.25, 1.5),
    "LogNormal": ({"loc": 0.0, "scale": 1.0}, 2.0, -1.0),
    "Cauchy": ({"loc": 0.0, "scale": 1.0}, 9.0, np.nan),
    "StudentT": ({"df": 3.0}, 1.0, np.nan),
    "Poisson": ({"rate": 2.0}, 3.0, 1.5),
    "Bernoulli": ({"probs": 0.3}, 1.0, 0.5),
    "Geometric": ({"probs": 0.3}, 2.0, -1.0),
    "Binomial": ({"total_count": 5.0, "probs": 0.3}, 5.0, 6.0),
    "Categorical": ({"probs": [0.2, 0.3, 0.5]}, 2.0, 3.0),
    "OneHotCategorical": ({"probs": [0.2, 0.8]}, [0.0, 1.0], [1.0, 1.0]),
    "Multinomial": ({"total_count": 3, "probs": [0.2, 0.8]}, [1.0, 2.0], [4.0, 0.0]),
    "Dirichlet": ({"concentration": [1.5, 2.0]}, [0.3, 0.7], [0.3, 0.3]),
    "MultivariateNormal": ({"loc": [0.0, 1.0], "covariance_matrix": [[2.0, 0.5], [0.5, 1.0]]},
                           [0.3, 0.7], [np.nan, 0.0]),
}


def _both(name, **extra):
    args, _, _ = VALIDATED[name]
    n = {k: v if isinstance(v, int) else nabla.tensor(np.asarray(v)) for k, v in args.items()}
    t = {k: v if isinstance(v, int) else torch.tensor(np.asarray(v)) for k, v in args.items()}
    return getattr(D, name)(**n, **extra), getattr(TD, name)(**t, **extra)


@pytest.mark.parametrize("name", VALIDATED)
def test_log_prob_refuses_values_outside_the_support_as_torch(name):
    (nd, td), (_, inside, outside) = _both(name), VALIDATED[name]
    assert type(nd.support).__name__ == type(td.support).__name__
    assert set(nd.arg_constraints) <= set(td.arg_constraints) | {"total_count"}
    assert_close(nd.log_prob(nabla.tensor(np.asarray(inside))),
                 td.log_prob(torch.tensor(np.asarray(inside))), what="inside")
    with pytest.raises(ValueError):
        td.log_prob(torch.tensor(np.asarray(outside)))
    with pytest.raises(ValueError, match=f"{name}: value .* must lie in the support .* "
                                         "validate_args=False"):
        nd.log_prob(nabla.tensor(np.asarray(outside)))
    if name in ("Categorical", "OneHotCategorical"):  # unvalidated: an index out of range
        return
    nd, td = _both(name, validate_args=False)
    got = nd.log_prob(nabla.tensor(np.asarray(outside)))
    if name == "Exponential":  # nabla keeps -inf below 0, torch extends the formula
        assert got.item() == -np.inf
        return
    assert_close(got, td.log_prob(torch.tensor(np.asarray(outside))), what="unvalidated")


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Exponential", "Laplace", "Gamma",
                                  "LogNormal", "Cauchy"])
def test_cdf_is_validated_too(name):
    (nd, td), outside = _both(name), VALIDATED[name][2]
    with pytest.raises(ValueError):
        td.cdf(torch.tensor(outside))
    with pytest.raises(ValueError, match=f"{name}: value"):
        nd.cdf(nabla.tensor(outside))


def test_default_validation_is_switched_for_later_instances(default_validation):
    d = D.Exponential(1.0)
    D.Distribution.set_default_validate_args(False)
    assert D.Exponential(1.0).log_prob(nabla.tensor(-1.0)).item() == -np.inf
    with pytest.raises(ValueError, match="Exponential"):  # made while validation was on
        d.log_prob(nabla.tensor(-1.0))
    with pytest.raises(ValueError, match="Exponential"):  # asked for per instance
        D.Exponential(1.0, validate_args=True).log_prob(nabla.tensor(-1.0))
    D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="Exponential"):
        D.Exponential(1.0).log_prob(nabla.tensor(-1.0))
    with pytest.raises(ValueError, match="True or False"):
        D.Distribution.set_default_validate_args(None)


def test_shape_validation_as_torch():
    with pytest.raises(ValueError, match="Dirichlet: the right-most size of value must match"):
        D.Dirichlet(nabla.tensor([1.0, 2.0])).log_prob(nabla.tensor([0.2, 0.3, 0.5]))
    with pytest.raises(ValueError, match="Normal: value is not broadcastable"):
        D.Normal(nabla.zeros(3), 1.0).log_prob(nabla.zeros(2))
    got = D.Normal(nabla.zeros(3), 1.0).log_prob(nabla.zeros(4, 1))
    assert tuple(got.shape) == (4, 3)


def _real(rng, shape):
    return rng.standard_normal(shape)


def _pos(rng, shape):
    return rng.uniform(0.3, 3.0, shape)


# name -> (nabla transform, torch transform, domain sampler, input shape); loc/scale/exponent
# tensors broadcast against the (4, 3) inputs
TRANSFORMS = {
    "Exp": (lambda p: D.ExpTransform(), lambda p: TD.ExpTransform(), _real, (4, 3)),
    "Affine": (lambda p: D.AffineTransform(p["loc"], p["scale"]),
               lambda p: TD.AffineTransform(p["loc"], p["scale"]), _real, (4, 3)),
    "Affine-event": (lambda p: D.AffineTransform(p["loc"], p["scale"], event_dim=1),
                     lambda p: TD.AffineTransform(p["loc"], p["scale"], event_dim=1), _real,
                     (4, 3)),
    "Affine-number": (lambda p: D.AffineTransform(0.5, -2.0),
                      lambda p: TD.AffineTransform(0.5, -2.0), _real, (4, 3)),
    "Sigmoid": (lambda p: D.SigmoidTransform(), lambda p: TD.SigmoidTransform(), _real, (4, 3)),
    "Tanh": (lambda p: D.TanhTransform(), lambda p: TD.TanhTransform(), _real, (4, 3)),
    "Softplus": (lambda p: D.SoftplusTransform(), lambda p: TD.SoftplusTransform(), _real,
                 (4, 3)),
    "Power": (lambda p: D.PowerTransform(p["exponent"]),
              lambda p: TD.PowerTransform(p["exponent"]), _pos, (4, 3)),
    "StickBreaking": (lambda p: D.StickBreakingTransform(),
                      lambda p: TD.StickBreakingTransform(), _real, (4, 3)),
    "Compose": (lambda p: D.ComposeTransform([D.AffineTransform(p["loc"], p["scale"]),
                                              D.ExpTransform(), D.PowerTransform(0.5)]),
                lambda p: TD.ComposeTransform([TD.AffineTransform(p["loc"], p["scale"]),
                                               TD.ExpTransform(), TD.PowerTransform(0.5)]),
                _real, (4, 3)),
    "Compose-event": (lambda p: D.ComposeTransform([D.ExpTransform(),
                                                    D.StickBreakingTransform().inv]),
                      lambda p: TD.ComposeTransform([TD.ExpTransform(),
                                                     TD.StickBreakingTransform().inv]),
                      lambda rng, s: rng.dirichlet(np.ones(s[-1]), s[:-1]), (4, 3)),
    "Inverse-sigmoid": (lambda p: D.SigmoidTransform().inv, lambda p: TD.SigmoidTransform().inv,
                        lambda rng, s: rng.uniform(0.05, 0.95, s), (4, 3)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", TRANSFORMS)
def test_transforms_match_torch(name, dtype, rng):
    make_n, make_t, sample, shape = TRANSFORMS[name]
    params = {"loc": rng.standard_normal((3,)), "scale": _pos(rng, (1, 3)) * [[1, -1, 1]],
              "exponent": _pos(rng, (3,))}
    n_p = {k: nabla.tensor(v.astype(dtype), requires_grad=True) for k, v in params.items()}
    t_p = {k: torch.tensor(v.astype(dtype), requires_grad=True) for k, v in params.items()}
    x = sample(rng, shape).astype(dtype)
    nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    nt, tt = make_n(n_p), make_t(t_p)
    ny, ty = nt(nx), tt(tx)
    assert_close(ny, ty, what="y")
    assert_close(nt.inv(ny.detach()), tt.inv(ty.detach()), what="inverse")
    n_ldj, t_ldj = nt.log_abs_det_jacobian(nx, ny), tt.log_abs_det_jacobian(tx, ty)
    assert_close(n_ldj, t_ldj, what="log_abs_det_jacobian")
    g, h = rng.standard_normal(tuple(ty.shape)), rng.standard_normal(tuple(t_ldj.shape))
    ((ny * nabla.tensor(g.astype(dtype))).sum() + (n_ldj * nabla.tensor(h.astype(dtype))).sum()
     ).backward()
    ((ty * torch.tensor(g.astype(dtype))).sum() + (t_ldj * torch.tensor(h.astype(dtype))).sum()
     ).backward()
    assert_close(nx.grad, tx.grad, what="grad x")
    for k in params:
        if t_p[k].grad is not None:
            assert_close(n_p[k].grad, t_p[k].grad, what=f"grad {k}")
    for side in ("domain", "codomain"):
        nc, tc = getattr(nt, side), getattr(tt, side)
        assert nc.event_dim == tc.event_dim, side
        np.testing.assert_array_equal(nc.check(ny if side == "codomain" else nx).numpy(),
                                      tc.check(ty if side == "codomain" else tx).numpy())
    assert nt.bijective == tt.bijective
    assert nt.forward_shape(shape) == tuple(tt.forward_shape(shape))
    if name in ("StickBreaking", "Compose-event"):
        return  # no sign: not a scalar map
    n_sign, t_sign = nt.sign, tt.sign
    n_sign = n_sign.detach().numpy() if isinstance(n_sign, nabla.Tensor) else n_sign
    t_sign = t_sign.detach().numpy() if isinstance(t_sign, torch.Tensor) else t_sign
    np.testing.assert_array_equal(n_sign, t_sign)


def test_transforms_without_log_det_or_inverse_as_torch(rng):
    x = rng.standard_normal((2, 3, 3))
    for nt, tt in ((D.AbsTransform(), TD.AbsTransform()),
                   (D.SoftmaxTransform(), TD.SoftmaxTransform()),
                   (D.LowerCholeskyTransform(), TD.LowerCholeskyTransform())):
        ny, ty = nt(nabla.tensor(x)), tt(torch.tensor(x))
        assert_close(ny, ty, what=type(nt).__name__)
        assert_close(nt.inv(ny), tt.inv(ty), what=f"{type(nt).__name__} inverse")
        assert nt.bijective is False and tt.bijective is False
        assert bool(nt.codomain.check(ny).numpy().all())
    with pytest.raises(NotImplementedError, match="AbsTransform has no log-det"):
        D.AbsTransform().log_abs_det_jacobian(nabla.tensor(1.0), nabla.tensor(1.0))
    with pytest.raises(NotImplementedError, match="StickBreakingTransform has no sign"):
        D.StickBreakingTransform().sign  # noqa: B018 (not a monotone scalar map)


def test_the_cache_returns_x_where_tanh_rounds_to_one():
    t = D.TanhTransform(cache_size=1)
    x = nabla.tensor(np.array([0.5, 25.0], np.float32))
    y = t(x)
    assert y.numpy()[1] == 1.0  # tanh(25) in float32
    np.testing.assert_array_equal(t.inv(y).numpy(), x.numpy())
    assert np.isinf(D.TanhTransform().inv(y).numpy()[1])  # without the cache: atanh(1)
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        D.TanhTransform(cache_size=2)


def _normal_twins(rng, dtype, shape=(2, 3)):
    loc, scale = rng.standard_normal(shape).astype(dtype), _pos(rng, shape).astype(dtype)
    n = [nabla.tensor(loc, requires_grad=True), nabla.tensor(scale, requires_grad=True)]
    t = [torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)]
    return n, t


# name -> (nabla transforms, torch transforms, values scored, whether cdf/icdf apply)
TRANSFORMED = {
    "exp": (lambda: [D.ExpTransform()], lambda: [TD.ExpTransform()], _pos, True),
    "affine-decreasing": (lambda: [D.AffineTransform(1.0, -2.0)],
                          lambda: [TD.AffineTransform(1.0, -2.0)], _real, True),
    "tanh-squashed": (lambda: [D.TanhTransform(cache_size=1)],
                      lambda: [TD.TanhTransform(cache_size=1)],
                      lambda rng, s: rng.uniform(-0.95, 0.95, s), True),
    "sigmoid-affine": (lambda: [D.SigmoidTransform(), D.AffineTransform(-1.0, 3.0)],
                       lambda: [TD.SigmoidTransform(), TD.AffineTransform(-1.0, 3.0)],
                       lambda rng, s: rng.uniform(-0.9, 1.9, s), True),
    "stick-breaking": (lambda: [D.StickBreakingTransform()],
                       lambda: [TD.StickBreakingTransform()],
                       lambda rng, s: rng.dirichlet(np.ones(4), s[:-1]), False),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", TRANSFORMED)
def test_transformed_distribution_matches_torch(name, dtype, rng):
    make_n, make_t, sample, monotone = TRANSFORMED[name]
    (nl, ns), (tl, ts) = _normal_twins(rng, dtype)
    nd = D.TransformedDistribution(D.Normal(nl, ns), make_n())
    td = TD.TransformedDistribution(TD.Normal(tl, ts), make_t())
    assert nd.batch_shape == tuple(td.batch_shape) and nd.event_shape == tuple(td.event_shape)
    assert type(nd.support).__name__ == type(td.support).__name__
    shape = (5,) + tuple(td.batch_shape) + tuple(td.event_shape)
    y = sample(rng, shape).astype(dtype)
    outs = [(nd.log_prob(nabla.tensor(y)), td.log_prob(torch.tensor(y)), "log_prob")]
    if monotone:
        u = rng.uniform(0.05, 0.95, shape).astype(dtype)
        outs += [(nd.cdf(nabla.tensor(y)), td.cdf(torch.tensor(y)), "cdf"),
                 (nd.icdf(nabla.tensor(u)), td.icdf(torch.tensor(u)), "icdf")]
    n_total, t_total = 0, 0
    for a, b, what in outs:
        assert_close(a, b, what=what)
        g = rng.standard_normal(tuple(b.shape)).astype(dtype)
        n_total, t_total = n_total + (a * nabla.tensor(g)).sum(), t_total + (b * torch.tensor(
            g)).sum()
    n_total.backward()
    t_total.backward()
    assert_close(nl.grad, tl.grad, what="grad loc")
    assert_close(ns.grad, ts.grad, what="grad scale")
    assert tuple(nd.sample((7,)).shape) == tuple(td.sample((7,)).shape)
    assert nd.has_rsample and bool(nd.support.check(nd.sample((7,))).numpy().all())


def test_squashed_gaussian_rsample_and_log_prob_as_sac():
    """SAC's policy: a = tanh(u), u ~ N(mu, sigma); log pi(a) = log N(u) - log(1 - tanh(u)^2),
    finite even where tanh(u) rounds to 1 (the cache returns u)."""
    nabla.manual_seed(0)
    mu = nabla.tensor(np.array([0.0, 30.0], np.float32), requires_grad=True)
    sigma = nabla.tensor(np.array([1.0, 0.1], np.float32), requires_grad=True)
    d = D.TransformedDistribution(D.Normal(mu, sigma), [D.TanhTransform(cache_size=1)])
    a = d.rsample((3,))
    log_pi = d.log_prob(a)
    assert np.isfinite(log_pi.detach().numpy()).all() and (a.detach().numpy()[:, 1] == 1).all()
    u = d.transforms[0]._cached[0].detach().numpy().astype(np.float64)  # the draws behind a
    want = torch.distributions.Normal(torch.tensor([0.0, 30.0], dtype=torch.float64),
                                      torch.tensor([1.0, 0.1], dtype=torch.float64))
    want = want.log_prob(torch.tensor(u)) - 2 * (np.log(2) - torch.tensor(u) - torch.nn.functional
                                                 .softplus(-2 * torch.tensor(u)))
    np.testing.assert_allclose(log_pi.detach().numpy(), want.numpy(), rtol=1e-4, atol=1e-4)
    (a.sum() + log_pi.sum()).backward()
    assert np.isfinite(mu.grad.numpy()).all() and np.isfinite(sigma.grad.numpy()).all()
    with pytest.raises(ValueError, match="TransformedDistribution: value .* support"):
        d.log_prob(nabla.tensor(np.float32(1.5)))


def test_constraint_registry_takes_new_constraints():
    (registry := D.ConstraintRegistry()).register(C.positive, lambda c: D.SoftplusTransform())
    assert isinstance(registry(C.greater_than(2.0)), D.SoftplusTransform)  # by type
    with pytest.raises(NotImplementedError, match="Cannot transform Simplex constraints"):
        registry(C.simplex)


def test_transformed_distribution_errors_and_event_dims():
    base = D.Normal(nabla.zeros(2, 3), 1.0)
    d = D.TransformedDistribution(base, D.StickBreakingTransform())
    assert d.batch_shape == (2,) and d.event_shape == (4,)
    assert isinstance(d.base_dist, D.Independent)
    with pytest.raises(ValueError, match="transforms must be a Transform or a list"):
        D.TransformedDistribution(base, "exp")
    with pytest.raises(ValueError, match="needs at least 1 dimensions"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), D.StickBreakingTransform())


@pytest.mark.parametrize("name", ["real", "positive", "nonnegative", "unit_interval",
                                  "greater_than", "less_than", "interval", "simplex",
                                  "real_vector", "lower_cholesky", "independent"])
def test_biject_to_and_transform_to_as_torch(name, rng):
    pairs = {"greater_than": (C.greater_than(1.5), TC.greater_than(1.5)),
             "less_than": (C.less_than(-1.0), TC.less_than(-1.0)),
             "interval": (C.interval(-2.0, 3.0), TC.interval(-2.0, 3.0)),
             "independent": (C.independent(C.positive, 1), TC.independent(TC.positive, 1))}
    nc, tc = pairs.get(name, (getattr(C, name), getattr(TC, name)))
    x = rng.standard_normal((4, 3, 3)) * 3
    for n_reg, t_reg in ((D.transform_to, TD.transform_to), (D.biject_to, TD.biject_to)):
        if name == "lower_cholesky" and n_reg is D.biject_to:
            with pytest.raises(NotImplementedError, match="Cannot transform LowerCholesky"):
                n_reg(nc)
            continue
        nt, tt = n_reg(nc), t_reg(tc)
        ny, ty = nt(nabla.tensor(x)), tt(torch.tensor(x))
        assert_close(ny, ty, what=name)
        assert bool(nc.check(ny).numpy().all())
        if nt.bijective:
            assert_close(nt.inv(ny), tt.inv(ty), what="inverse")
            assert_close(nt.log_abs_det_jacobian(nabla.tensor(x), ny),
                         tt.log_abs_det_jacobian(torch.tensor(x), ty), what="log-det")
