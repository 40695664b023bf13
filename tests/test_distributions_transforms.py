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
    """Values of every kind a constraint tells apart: negatives, 0, 1, fractions, integers,
    above 1, inf and nan."""
    pool = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 1.0, 2.0, 3.0, 7.5, np.inf, -np.inf, np.nan])
    return rng.choice(pool, shape)


SCALAR_CONSTRAINTS = {
    "real": (C.real, TC.real), "positive": (C.positive, TC.positive),
    "nonnegative": (C.nonnegative, TC.nonnegative),
    "unit_interval": (C.unit_interval, TC.unit_interval), "boolean": (C.boolean, TC.boolean),
    "nonnegative_integer": (C.nonnegative_integer, TC.nonnegative_integer),
    "positive_integer": (C.positive_integer, TC.positive_integer),
    "interval": (C.interval(-0.5, 2.0), TC.interval(-0.5, 2.0)),
    "half_open_interval": (C.half_open_interval(0.0, 2.0), TC.half_open_interval(0.0, 2.0)),
    "greater_than": (C.greater_than(0.3), TC.greater_than(0.3)),
    "greater_than_eq": (C.greater_than_eq(0.3), TC.greater_than_eq(0.3)),
    "less_than": (C.less_than(1.0), TC.less_than(1.0)),
    "integer_interval": (C.integer_interval(0, 3), TC.integer_interval(0, 3)),
    "real_vector": (C.real_vector, TC.real_vector),
    "independent": (C.independent(C.positive, 2), TC.independent(TC.positive, 2)),
    "simplex": (C.simplex, TC.simplex), "one_hot": (C.one_hot, TC.one_hot),
    "multinomial": (C.multinomial(4), TC.multinomial(4)),
}


@pytest.mark.parametrize("name", SCALAR_CONSTRAINTS)
def test_constraints_accept_what_torch_accepts(name, rng):
    nc, tc = SCALAR_CONSTRAINTS[name]
    x = _mixed(rng, (50, 3, 2))
    if name in ("simplex", "one_hot"):  # also some members of the set
        x[:10] = rng.dirichlet(np.ones(2), (10, 3)) if name == "simplex" else np.eye(2)[
            rng.integers(0, 2, (10, 3))]
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
    nd, td = _both(name)
    _, inside, outside = VALIDATED[name]
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
    nd, td = _both(name)
    _, _, outside = VALIDATED[name]
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
    # a value of another shape that broadcasts passes, and the check is over all its elements
    got = D.Normal(nabla.zeros(3), 1.0).log_prob(nabla.zeros(4, 1))
    assert tuple(got.shape) == (4, 3)
