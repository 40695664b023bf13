"""nn.utils.parametrize against torch.nn.utils.parametrize (the parametrizations tutorial's
Symmetric, Skew and matrix exponential, a right inverse with several tensors): state_dict keys,
outputs and gradients of the originals, assignment through right_inverse, cached(), removal,
load_state_dict across the two, and training steps from copied weights."""

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations as TPZ
import torch.nn.utils.parametrize as TP
from conftest import GRADCHECK_TOL, assert_close, run_twins

import nabla
import nabla.nn as nn
import nabla.nn.utils.parametrize as P


def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    return Symmetric()


def _skew(lib):
    class Skew(lib.nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.transpose(-1, -2)

    return Skew()


def _matrix_exponential(lib):
    class MatrixExponential(lib.nn.Module):
        def forward(self, X):
            return lib.matrix_exp(X)

    return MatrixExponential()


def _rank_one(lib):
    class RankOne(lib.nn.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, Z):
            return Z[:, 0], Z[0, :]

    return RankOne()


def _twins(dtype, make=lambda lib: lib.nn.Linear(4, 4)):
    """A torch layer with random weights and its nabla copy."""
    t = make(torch).to(getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn_like(p))
    n = make(nabla).to(dtype)
    n.load_state_dict({k: nabla.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return n, t


def _register(n, t, *makers, name="weight", **kwargs):
    for make in makers:
        P.register_parametrization(n, name, make(nabla), **kwargs)
        TP.register_parametrization(t, name, make(torch), **kwargs)


CHAINS = {
    "symmetric": (_symmetric,),
    "skew": (_skew,),
    "skew then matrix_exp": (_skew, _matrix_exponential),
    "rank one": (_rank_one,),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chain", CHAINS)
def test_parametrized_layer_matches_torch(chain, dtype, rng):
    n, t = _twins(dtype)
    _register(n, t, *CHAINS[chain])
    assert list(n.state_dict()) == list(t.state_dict())
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    for key, value in t.state_dict().items():
        assert_close(n.state_dict()[key], value, what=key)
    assert_close(n.weight, t.weight, what="parametrized weight")
    run_twins(n, t, [(3, 4)], t.weight.dtype, rng, steps=2)


@pytest.mark.parametrize("chain", ["symmetric", "rank one"])
def test_assignment_goes_through_right_inverse(chain, rng):
    n, t = _twins(np.float64)
    _register(n, t, *CHAINS[chain])
    value = rng.standard_normal((4, 4))
    value = value + value.T if chain == "symmetric" else np.outer(value[:, 0], value[0])
    n.weight = nabla.tensor(value)
    t.weight = torch.tensor(value)
    for key, expected in t.state_dict().items():
        assert_close(n.state_dict()[key], expected, what=key)
    assert_close(n.weight, t.weight)


def test_original_keeps_its_identity_and_trains():
    """The optimizer built before registering still updates the (same) Parameter object."""
    n, t = _twins(np.float64)
    n_opt = nabla.optim.SGD(n.parameters(), lr=0.1)
    t_opt = torch.optim.SGD(t.parameters(), lr=0.1)
    weight = n.weight
    _register(n, t, _symmetric)
    assert n.parametrizations.weight.original is weight
    x = np.random.default_rng(1).standard_normal((5, 4))
    for _ in range(3):
        n_opt.zero_grad()
        t_opt.zero_grad()
        (n(nabla.tensor(x)) ** 2).sum().backward()
        (t(torch.tensor(x)) ** 2).sum().backward()
        n_opt.step()
        t_opt.step()
    for key, expected in t.state_dict().items():
        assert_close(n.state_dict()[key], expected, what=key)


def test_training_steps_with_adam_match_torch(rng):
    n, t = _twins(np.float32)
    _register(n, t, _skew, _matrix_exponential)
    n_opt = nabla.optim.Adam(n.parameters(), lr=0.01)
    t_opt = torch.optim.Adam(t.parameters(), lr=0.01)
    for _ in range(5):
        x = rng.standard_normal((8, 4)).astype(np.float32)
        n_opt.zero_grad()
        t_opt.zero_grad()
        n(nabla.tensor(x)).tanh().sum().backward()
        t(torch.tensor(x)).tanh().sum().backward()
        n_opt.step()
        t_opt.step()
    for key, expected in t.state_dict().items():
        assert_close(n.state_dict()[key], expected, what=key)
    q = n.weight.detach().numpy()  # still orthogonal: exp of a skew-symmetric matrix
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)


def test_load_state_dict_across():
    n, t = _twins(np.float64)
    _register(n, t, _symmetric)
    t2 = TP.register_parametrization(torch.nn.Linear(4, 4).double(), "weight",
                                     _symmetric(torch))
    t2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in n.state_dict().items()})
    assert_close(n.weight, t2.weight)
    n2 = P.register_parametrization(nn.Linear(4, 4).double(), "weight", _symmetric(nabla))
    n2.load_state_dict(t.state_dict())
    assert_close(n2.weight, t.weight)


def test_parametrized_buffer():
    n, t = _twins(np.float64, lambda lib: lib.nn.BatchNorm1d(3))
    _register(n, t, lambda lib: lib.nn.Softplus(), name="running_var")
    assert list(n.state_dict()) == list(t.state_dict())
    assert [k for k, _ in n.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert_close(n.running_var, t.running_var)


def test_cached_computes_once():
    calls = []

    class Counted(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 2

    layer = P.register_parametrization(nn.Linear(3, 3), "weight", Counted())
    calls.clear()
    with P.cached():
        first = layer.weight
        with P.cached():  # nested: still the same value
            assert layer.weight is first
        assert layer.weight is first
    assert len(calls) == 1
    assert layer.weight is not first  # out of the block: computed anew
    assert len(calls) == 2


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_parametrizations_matches_torch(leave_parametrized):
    n, t = _twins(np.float64)
    _register(n, t, _symmetric, _skew)
    original = n.parametrizations.weight.original
    assert P.is_parametrized(n) and P.is_parametrized(n, "weight")
    assert not P.is_parametrized(n, "bias")
    P.remove_parametrizations(n, "weight", leave_parametrized=leave_parametrized)
    TP.remove_parametrizations(t, "weight", leave_parametrized=leave_parametrized)
    assert not P.is_parametrized(n)
    assert n.weight is original and isinstance(n.weight, nn.Parameter)
    assert list(n.state_dict()) == list(t.state_dict())
    assert_close(n.weight, t.weight)
    assert P.type_before_parametrizations(n) is nn.Linear


def test_remove_with_several_originals():
    n, t = _twins(np.float64)
    _register(n, t, _rank_one)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(n, "weight", leave_parametrized=False)
    P.remove_parametrizations(n, "weight")
    TP.remove_parametrizations(t, "weight")
    assert list(n.state_dict()) == list(t.state_dict())
    assert_close(n.weight, t.weight)


def test_gradcheck_through_a_chain(rng):
    layer = nn.Linear(3, 3).double()
    P.register_parametrization(layer, "weight", _skew(nabla))
    P.register_parametrization(layer, "weight", _matrix_exponential(nabla))
    original = layer.parametrizations.weight.original
    x = nabla.tensor(rng.standard_normal((2, 3)))

    def f(w):
        original.data = w.detach()
        return layer.parametrizations.weight[1](layer.parametrizations.weight[0](w)) @ x.T

    w = nabla.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    assert nabla.autograd.gradcheck(f, (w,), **GRADCHECK_TOL)


def test_errors():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized"):
        P.register_parametrization(layer, "missing", _skew(nabla))

    class Widen(nn.Module):
        def forward(self, X):
            return nabla.cat([X, X])

    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(layer, "weight", Widen())
    assert "weight" in layer._parameters  # a failed registration leaves the layer as it was
    P.register_parametrization(layer, "weight", Widen(), unsafe=True)
    assert tuple(layer.weight.shape) == (4, 3)
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        P.remove_parametrizations(layer, "bias")
    with pytest.raises(RuntimeError, match="Widen does not implement right_inverse"):
        layer.weight = nabla.zeros(4, 3)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        layer.weight = nn.Parameter(nabla.zeros(4, 3))


# -- nn.utils.parametrizations: weight_norm, spectral_norm, orthogonal --------------------------

LAYERS = {
    "Linear": (lambda lib: lib.nn.Linear(4, 3), (5, 4)),
    "Conv2d": (lambda lib: lib.nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
    "ConvTranspose2d": (lambda lib: lib.nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_weight_norm_parametrization_matches_torch(kind, dim, dtype, rng):
    make, shape = LAYERS[kind]
    n, t = _twins(dtype, make)
    nn.utils.parametrizations.weight_norm(n, dim=dim)
    TPZ.weight_norm(t, dim=dim)
    assert list(n.state_dict()) == list(t.state_dict())
    for key, expected in t.state_dict().items():
        assert_close(n.state_dict()[key], expected, what=key)
    run_twins(n, t, [shape], t.weight.dtype, rng, steps=2)


@pytest.mark.parametrize("kind", LAYERS)
def test_spectral_norm_parametrization_matches_torch(kind, rng):
    make, shape = LAYERS[kind]
    n, t = _twins(np.float64, make)
    nn.utils.parametrizations.spectral_norm(n, n_power_iterations=2)
    TPZ.spectral_norm(t, n_power_iterations=2)
    assert list(n.state_dict()) == list(t.state_dict())
    n.load_state_dict(t.state_dict())  # the same starting vectors u, v
    run_twins(n, t, [shape], torch.float64, rng, steps=3)  # compares the buffers _u, _v too
    n.eval()
    t.eval()
    u = n.parametrizations.weight[0]._u.numpy().copy()
    assert_close(n.weight, t.weight)
    np.testing.assert_array_equal(n.parametrizations.weight[0]._u.numpy(), u)


def test_spectral_norm_parametrization_of_a_vector_and_the_largest_singular_value():
    layer = nn.utils.parametrizations.spectral_norm(nn.Linear(20, 10), n_power_iterations=30)
    layer(nabla.randn(2, 20))
    top = np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)[0]
    assert abs(top - 1.0) < 1e-4
    n, t = _twins(np.float64)
    nn.utils.parametrizations.spectral_norm(n, "bias")
    TPZ.spectral_norm(t, "bias")
    assert list(n.state_dict()) == list(t.state_dict())
    assert_close(n.bias, t.bias)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3)])
def test_orthogonal_square_matches_torch(orthogonal_map, shape, rng):
    value = rng.standard_normal(shape)

    def make(lib):
        module = lib.nn.Module()
        module.weight = lib.nn.Parameter(lib.tensor(value))
        return module

    n, t = make(nabla), make(torch)
    nn.utils.parametrizations.orthogonal(n, orthogonal_map=orthogonal_map)
    TPZ.orthogonal(t, orthogonal_map=orthogonal_map)
    assert list(n.state_dict()) == list(t.state_dict())
    assert_close(n.weight, t.weight)
    g = rng.standard_normal(shape)
    (n.weight * nabla.tensor(g)).sum().backward()
    (t.weight * torch.tensor(g)).sum().backward()
    original, expected = n.parametrizations.weight.original, t.parametrizations.weight.original
    assert_close(original.grad, expected.grad)
    target = np.linalg.qr(rng.standard_normal(shape))[0]  # assigning an orthogonal matrix
    n.weight = nabla.tensor(target)
    t.weight = torch.tensor(target)
    assert_close(n.weight, t.weight)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_rectangular(orthogonal_map, shape, use_trivialization):
    """Columns (rows, when wider) orthonormal; without trivialization as torch's exactly."""
    n, t = _twins(np.float64, lambda lib: lib.nn.Linear(shape[1], shape[0]))
    nn.utils.parametrizations.orthogonal(n, orthogonal_map=orthogonal_map,
                                         use_trivialization=use_trivialization)
    TPZ.orthogonal(t, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    assert list(n.state_dict()) == list(t.state_dict())
    q = n.weight.detach().numpy()
    gram = q.T @ q if shape[0] > shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-10)
    if not use_trivialization:
        assert_close(n.weight, t.weight)
        n.load_state_dict(t.state_dict())
        assert_close(n.weight, t.weight)


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        nn.utils.parametrizations.orthogonal(nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp"'):
        nn.utils.parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="svd")
    layer = nn.utils.parametrizations.orthogonal(nn.Linear(3, 3), use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        layer.weight = nabla.eye(3)
