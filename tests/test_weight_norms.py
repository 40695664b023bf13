"""weight_norm and spectral_norm against torch.nn.utils: state_dict keys, outputs, gradients of
the new parameters, the power-iteration buffers, train/eval, and removing them again."""

import warnings

import numpy as np
import pytest
import torch

import nabla
import nabla.nn as nn

LAYERS = {
    "Linear": (lambda lib: lib.nn.Linear(4, 3), (5, 4)),
    "Conv2d": (lambda lib: lib.nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
    "ConvTranspose2d": (lambda lib: lib.nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4)),
}


def _twins(kind):
    make, shape = LAYERS[kind]
    t = make(torch).double()
    n = make(nabla).double()
    n.load_state_dict({k: nabla.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).normal(size=shape)
    return n, t, x


def _same(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(kind, dim):
    n, t, x = _twins(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch recommends its parametrizations version
        torch.nn.utils.weight_norm(t, dim=dim)
    nn.utils.weight_norm(n, dim=dim)
    assert sorted(n.state_dict()) == sorted(t.state_dict())
    yn, yt = n(nabla.tensor(x)), t(torch.tensor(x))
    _same(yn, yt)
    (yn * yn).sum().backward()
    (yt * yt).sum().backward()
    _same(n.weight_g.grad, t.weight_g.grad)
    _same(n.weight_v.grad, t.weight_v.grad)
    nn.utils.remove_weight_norm(n)
    torch.nn.utils.remove_weight_norm(t)
    assert sorted(n.state_dict()) == sorted(t.state_dict())
    _same(n.weight, t.weight)


@pytest.mark.parametrize("kind", LAYERS)
def test_spectral_norm_matches_torch(kind):
    n, t, x = _twins(kind)
    torch.nn.utils.spectral_norm(t, n_power_iterations=2)
    nn.utils.spectral_norm(n, n_power_iterations=2)
    assert sorted(n.state_dict()) == sorted(t.state_dict())
    for key in ("weight_u", "weight_v"):  # start both from the same random vectors
        getattr(n, key).copy_(nabla.tensor(getattr(t, key).numpy()))
    for _ in range(2):  # training forwards: power iteration updates u and v
        yn, yt = n(nabla.tensor(x)), t(torch.tensor(x))
        _same(yn, yt)
        _same(n.weight_u, t.weight_u)
        _same(n.weight_v, t.weight_v)
    yn.sum().backward()
    yt.sum().backward()
    _same(n.weight_orig.grad, t.weight_orig.grad)
    n.eval()
    t.eval()
    u = n.weight_u.numpy().copy()
    _same(n(nabla.tensor(x)), t(torch.tensor(x)))
    np.testing.assert_array_equal(n.weight_u.numpy(), u)  # no power iteration in eval
    nn.utils.remove_spectral_norm(n)
    torch.nn.utils.remove_spectral_norm(t)
    assert sorted(n.state_dict()) == sorted(t.state_dict())
    _same(n.weight, t.weight)


def test_spectral_norm_makes_the_largest_singular_value_one():
    nabla.manual_seed(0)
    layer = nn.utils.spectral_norm(nn.Linear(20, 10), n_power_iterations=30)
    layer(nabla.randn(2, 20))
    top = np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)[0]
    assert abs(top - 1.0) < 1e-4


def test_errors():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="remove_weight_norm: weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(layer)
    with pytest.raises(ValueError, match="spectral_norm: n_power_iterations must be positive"):
        nn.utils.spectral_norm(layer, n_power_iterations=0)
