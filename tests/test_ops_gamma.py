"""lgamma, digamma, polygamma against PyTorch over a wide range: negative non-integers (the
reflection formulas), tiny and huge arguments, the poles; the torch.special names. Forward and
backward on ordinary inputs are in the op table (tests/op_db.py)."""

import numpy as np
import pytest
import torch

import nabla

X = np.concatenate([np.linspace(-10.25, 40.0, 2001), [1e-8, 1e-3, 0.5, 1.0, 2.0, 3.0, 100.0,
                                                     1e5, 1e10, -0.5, -1e-6, -2.5, -7.3]])


def _close(out, ref, rtol):
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name, n", [("lgamma", None), ("digamma", None), ("polygamma", 1),
                                     ("polygamma", 2), ("polygamma", 3)])
def test_wide_range_float64(name, n):
    args = lambda lib: (lib.tensor(X),) if n is None else (n, lib.tensor(X))  # noqa: E731
    out, ref = getattr(nabla, name)(*args(nabla)), getattr(torch, name)(*args(torch))
    scale = np.maximum(1.0, np.abs(ref.numpy()))
    err = np.abs(out.numpy() - ref.numpy()) / scale
    assert err.max() < 1e-9, f"{name}: worst relative error {err.max():.2e} at x={X[err.argmax()]}"


def test_float32_is_computed_in_float64_and_rounded():
    x = np.linspace(0.1, 20.0, 50, dtype=np.float32)
    for name in ("lgamma", "digamma"):
        out = getattr(nabla, name)(nabla.tensor(x))
        assert out.dtype == nabla.float32
        _close(out, getattr(torch, name)(torch.tensor(x)), 1e-5)


def test_poles_and_special_points_like_torch():
    x = nabla.tensor([0.0, -1.0, -2.0, float("inf")])
    assert nabla.lgamma(x).tolist() == torch.lgamma(torch.tensor(x.numpy())).tolist()
    d = nabla.digamma(nabla.tensor([0.0, -1.0, -2.0])).tolist()
    assert d[0] == -np.inf and np.isnan(d[1]) and np.isnan(d[2])


def test_third_derivative_of_lgamma_through_the_family():
    x = nabla.tensor([0.7, 2.5], dtype=nabla.float64, requires_grad=True)
    (g,) = nabla.autograd.grad(nabla.lgamma(x).sum(), x, create_graph=True)
    (h,) = nabla.autograd.grad(g.sum(), x, create_graph=True)
    (k,) = nabla.autograd.grad(h.sum(), x)
    ref = torch.polygamma(2, torch.tensor([0.7, 2.5], dtype=torch.float64))
    np.testing.assert_allclose(k.numpy(), ref.numpy(),
                               rtol=1e-10)


def test_special_names_and_errors():
    x = nabla.tensor([1.5, 4.0])
    t = torch.tensor([1.5, 4.0])
    _close(nabla.special.gammaln(x), torch.special.gammaln(t), 1e-6)
    _close(nabla.special.psi(x), torch.special.psi(t), 1e-6)
    _close(nabla.special.polygamma(0, x), torch.special.polygamma(0, t), 1e-6)
    _close(nabla.special.multigammaln(x, 2), torch.special.multigammaln(t, 2), 1e-6)
    with pytest.raises(ValueError, match="polygamma: n must be a non-negative int"):
        nabla.polygamma(-1, x)
    with pytest.raises(ValueError, match=r"mvlgamma: all elements must be greater than"):
        nabla.mvlgamma(nabla.tensor([0.2]), 3)
