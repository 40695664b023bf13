"""nabla.autograd.functional (jacobian, hessian, vjp, jvp, vhp, hvp) against
torch.autograd.functional: values, output structure, create_graph, strict, errors."""

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import nabla
from nabla.autograd import functional as NF

rng = np.random.default_rng(0)
X, W, V3, V23, U2 = (rng.normal(size=s) for s in [(3,), (2, 3), (3,), (2, 3), (2,)])


def vector_fn(lib):  # (x (3,), w (2, 3)) -> (2,)
    return lambda x, w: (lib.tanh(w @ x) * x[:2]).exp()


def two_outputs(lib):  # x -> ((2,), ())
    return lambda x: (x[:2] * x[1:], (x ** 2).sum())


def scalar_fn(lib):  # (x, w) -> ()
    return lambda x, w: (lib.tanh(w @ x) ** 2).sum() + (x ** 3).sum() * w.sum()


def _both(*arrays):
    return tuple(nabla.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays)


def _same(a, b):
    """Nested tuples of tensors, the same structure and values."""
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("case", ["one in, one out", "tuple in", "tuple out"])
def test_jacobian(case):
    if case == "one in, one out":
        (n,), (t,) = _both(X)
        _same(NF.jacobian(lambda x: x.sin() * x.sum(), n),
              TF.jacobian(lambda x: x.sin() * x.sum(), t))
    elif case == "tuple in":
        n, t = _both(X, W)
        _same(NF.jacobian(vector_fn(nabla), n), TF.jacobian(vector_fn(torch), t))
    else:
        (n,), (t,) = _both(X)
        _same(NF.jacobian(two_outputs(nabla), n), TF.jacobian(two_outputs(torch), t))


def test_hessian_one_and_several_inputs():
    (n,), (t,) = _both(X)
    _same(NF.hessian(lambda x: (x ** 3).sum() * x.sum(), n),
          TF.hessian(lambda x: (x ** 3).sum() * x.sum(), t))
    n, t = _both(X, W)
    _same(NF.hessian(scalar_fn(nabla), n), TF.hessian(scalar_fn(torch), t))


@pytest.mark.parametrize("name", ["vhp", "hvp"])
def test_hessian_vector_products(name):
    n, t = _both(X, W)
    nv, tv = _both(V3, V23)
    _same(getattr(NF, name)(scalar_fn(nabla), n, nv), getattr(TF, name)(scalar_fn(torch), t, tv))


def test_vjp_and_jvp():
    n, t = _both(X, W)
    (nu,), (tu,) = _both(U2)
    _same(NF.vjp(vector_fn(nabla), n, nu), TF.vjp(vector_fn(torch), t, tu))
    nv, tv = _both(V3, V23)
    _same(NF.jvp(vector_fn(nabla), n, nv), TF.jvp(vector_fn(torch), t, tv))
    (n1,), (t1,) = _both(X)  # a scalar output needs no v
    _same(NF.vjp(lambda x: (x * x).sum(), n1), TF.vjp(lambda x: (x * x).sum(), t1))


def test_create_graph_gives_differentiable_results():
    """d/dx of the Jacobian's trace, through create_graph=True, equals PyTorch's."""
    results = []
    for lib, fn in ((nabla, NF), (torch, TF)):
        x = lib.tensor(X, requires_grad=True)
        jac = fn.jacobian(lambda z: z.sin() * z.sum(), x, create_graph=True)
        jac.diagonal().sum().backward()
        results.append(x.grad)
    _same(results[0], results[1])


def test_unused_input_gives_zeros_or_an_error_with_strict():
    n, t = _both(X, W)
    _same(NF.jacobian(lambda x, w: x * 2, n), TF.jacobian(lambda x, w: x * 2, t))
    with pytest.raises(RuntimeError, match="jacobian: the output does not depend on input 1"):
        NF.jacobian(lambda x, w: x * 2, n, strict=True)


def test_errors_name_the_function():
    (n,), _ = _both(X)
    with pytest.raises(RuntimeError, match="hessian: func must return a single-element"):
        NF.hessian(lambda x: x * 2, n)
    with pytest.raises(RuntimeError, match="vjp: v may be omitted only"):
        NF.vjp(lambda x: x * 2, n)
    with pytest.raises(RuntimeError, match="jvp: v has shapes"):
        NF.jvp(lambda x: x * 2, n, nabla.ones(2))
    with pytest.raises(TypeError, match="jacobian: the inputs must be Tensors"):
        NF.jacobian(lambda x: x, [1.0])
