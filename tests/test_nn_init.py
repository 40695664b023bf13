"""nn.init and the layers' default initialization: the same distributions as PyTorch (bounds
and standard deviations, not values), in place, under no_grad, reproducible from the seed."""

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn

import nabla
import nabla.nn as nn
from nabla.nn import init


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                        ("tanh", None), ("relu", None), ("leaky_relu", None),
                                        ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(tnn.init.calculate_gain(name, param))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(30, 20), (16, 8, 3, 3), (5, 4, 7)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(nabla.zeros(*shape)) == \
        tnn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


def _bound_and_std(t: nabla.Tensor) -> tuple[float, float]:
    a = t._data.astype(np.float64)
    return float(np.abs(a).max()), float(a.std())


UNIFORM = [
    ("xavier_uniform", lambda t: init.xavier_uniform_(t, gain=2.0),
     lambda t: tnn.init.xavier_uniform_(t, gain=2.0)),
    ("kaiming_uniform", lambda t: init.kaiming_uniform_(t, a=0.1, nonlinearity="leaky_relu"),
     lambda t: tnn.init.kaiming_uniform_(t, a=0.1, nonlinearity="leaky_relu")),
    ("kaiming_uniform_fan_out", lambda t: init.kaiming_uniform_(t, mode="fan_out",
                                                               nonlinearity="relu"),
     lambda t: tnn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")),
    ("uniform", lambda t: init.uniform_(t, -0.3, 0.7), lambda t: tnn.init.uniform_(t, -0.3, 0.7)),
]
NORMAL = [
    ("xavier_normal", lambda t: init.xavier_normal_(t), lambda t: tnn.init.xavier_normal_(t)),
    ("kaiming_normal", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     lambda t: tnn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")),
    ("normal", lambda t: init.normal_(t, 0.5, 0.2), lambda t: tnn.init.normal_(t, 0.5, 0.2)),
    ("trunc_normal", lambda t: init.trunc_normal_(t, 0.0, 1.0, -1.0, 1.5),
     lambda t: tnn.init.trunc_normal_(t, 0.0, 1.0, -1.0, 1.5)),
]


@pytest.mark.parametrize("case", UNIFORM, ids=[c[0] for c in UNIFORM])
def test_uniform_inits_match_torch_bounds(case):
    _, nf, tf = case
    n, t = nabla.empty(200, 150), torch.empty(200, 150)
    assert nf(n) is n
    tf(t)
    lo_n, hi_n = n._data.min(), n._data.max()
    lo_t, hi_t = t.min().item(), t.max().item()
    width = hi_t - lo_t
    assert abs(lo_n - lo_t) < 0.01 * width and abs(hi_n - hi_t) < 0.01 * width
    assert _bound_and_std(n)[1] == pytest.approx(t.std().item(), rel=0.02)


@pytest.mark.parametrize("case", NORMAL, ids=[c[0] for c in NORMAL])
def test_normal_inits_match_torch_statistics(case):
    _, nf, tf = case
    n, t = nabla.empty(300, 200), torch.empty(300, 200)
    nf(n)
    tf(t)
    assert n._data.mean() == pytest.approx(t.mean().item(), abs=0.01)
    assert _bound_and_std(n)[1] == pytest.approx(t.std().item(), rel=0.02)
    if case[0] == "trunc_normal":
        assert n._data.min() >= -1.0 and n._data.max() <= 1.5


def test_constant_zeros_ones_eye_dirac():
    t = nabla.empty(3, 4)
    assert np.all(init.constant_(t, 2.5)._data == 2.5)
    assert np.all(init.zeros_(t)._data == 0) and np.all(init.ones_(t)._data == 1)
    np.testing.assert_array_equal(init.eye_(t)._data, np.eye(3, 4))
    w, tw = nabla.empty(4, 2, 3, 3), torch.empty(4, 2, 3, 3)
    np.testing.assert_array_equal(init.dirac_(w, groups=2)._data,
                                  tnn.init.dirac_(tw, groups=2).numpy())


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    t = init.orthogonal_(nabla.empty(*shape), gain=2.0)
    flat = t._data.reshape(shape[0], -1).astype(np.float64) / 2.0
    if flat.shape[0] <= flat.shape[1]:
        np.testing.assert_allclose(flat @ flat.T, np.eye(flat.shape[0]), atol=1e-5)
    else:
        np.testing.assert_allclose(flat.T @ flat, np.eye(flat.shape[1]), atol=1e-5)


def test_init_runs_in_place_on_parameters_without_recording():
    p = nn.Parameter(nabla.zeros(5, 5))
    data = p._data
    version = p._version[0]
    init.kaiming_uniform_(p)
    assert p._data is data and p._version[0] > version
    assert p.grad_fn is None and p.requires_grad


def test_init_reproducible_from_seed_and_generator():
    nabla.manual_seed(3)
    a = init.normal_(nabla.empty(4, 4))._data.copy()
    nabla.manual_seed(3)
    b = init.normal_(nabla.empty(4, 4))._data.copy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = nabla.Generator(5), nabla.Generator(5)
    np.testing.assert_array_equal(init.uniform_(nabla.empty(3), generator=g1)._data,
                                  init.uniform_(nabla.empty(3), generator=g2)._data)


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(nabla.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(nabla.empty(3, 3), mode="fan_avg")


# -- the layers' default initialization --------------------------------------------------------
LAYER_INITS = [
    ("linear", lambda: nn.Linear(60, 500), lambda: tnn.Linear(60, 500)),
    ("bilinear", lambda: nn.Bilinear(40, 3, 250), lambda: tnn.Bilinear(40, 3, 250)),
    ("embedding", lambda: nn.Embedding(300, 200), lambda: tnn.Embedding(300, 200)),
    ("batchnorm", lambda: nn.BatchNorm1d(10), lambda: tnn.BatchNorm1d(10)),
    ("layernorm", lambda: nn.LayerNorm(10), lambda: tnn.LayerNorm(10)),
]
# Each random tensor is compared over at least this many draws (from several layers): the stds
# of two samples of 10,000 normal draws differ by about 1% (one standard error), so rel=0.05 is
# five standard errors, while a bias of 100 or 300 draws misses by 5% for many seeds.
MIN_DRAWS = 10_000


def _pooled_state(make, lib) -> dict[str, np.ndarray]:
    """The layer's state_dict as float64 arrays, each concatenated over enough fresh layers that
    its smallest random tensor has MIN_DRAWS values."""
    def state():
        items = make().state_dict().items()
        return {k: (v._data if lib is nabla else v.numpy()).astype(np.float64) for k, v in items}

    first = state()
    sizes = [a.size for a in first.values() if a.std() > 0]
    builds = math.ceil(MIN_DRAWS / min(sizes)) if sizes else 1
    states = [first] + [state() for _ in range(builds - 1)]
    return {k: np.concatenate([s[k].reshape(-1) for s in states]) for k in first}


@pytest.mark.parametrize("case", LAYER_INITS, ids=[c[0] for c in LAYER_INITS])
def test_layer_default_init_matches_torch(case):
    _, nf, tf = case
    kinds = [(k, v._data.dtype.kind) for k, v in nf().state_dict().items()]
    assert kinds == [(k, v.numpy().dtype.kind) for k, v in tf().state_dict().items()]
    n, t = _pooled_state(nf, nabla), _pooled_state(tf, torch)
    for name, a in n.items():
        b = t[name]
        assert a.shape == b.shape, name
        if b.std() == 0:
            np.testing.assert_array_equal(a, b, err_msg=name)
            continue
        # The 99th percentile of |x| rather than the maximum: it pins a uniform's bound as well,
        # and a normal's maximum swings by 10% from seed to seed.
        q_a, q_b = np.quantile(np.abs(a), 0.99), np.quantile(np.abs(b), 0.99)
        assert q_a == pytest.approx(q_b, rel=0.05), name
        assert a.std() == pytest.approx(b.std(), rel=0.05), name
        assert abs(a.mean()) < 5 * b.std() / math.sqrt(b.size) + 1e-3, name


def test_layers_respect_dtype_argument():
    assert nn.Linear(2, 3, dtype=nabla.float64).weight.dtype == nabla.float64
    assert nn.Embedding(3, 2, dtype=nabla.float64).weight.dtype == nabla.float64
    assert nn.BatchNorm1d(3, dtype=nabla.float64).running_mean.dtype == nabla.float64
