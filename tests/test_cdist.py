"""cdist against PyTorch: every p (0, 1, fractional, 2, 3, inf), broadcast batch dims, forward
and (but for p = 0, a count) backward with random upstream gradients in float32 and float64,
zero distances (gradient 0, as PyTorch), float64 gradcheck, a clear error for bad shapes."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.autograd import gradcheck

P_VALUES = [0.0, 1.0, 0.5, 2.0, 3.0, float("inf")]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_matches_torch(p, dtype, rng):
    a = rng.standard_normal((2, 4, 3)).astype(dtype)
    b = rng.standard_normal((5, 3)).astype(dtype)
    b[0] = a[0, 1]  # one zero distance: its gradient is 0 in both
    n = [nabla.tensor(v, requires_grad=True) for v in (a, b)]
    t = [torch.tensor(v, requires_grad=True) for v in (a, b)]
    ny = nabla.cdist(*n, p=p)
    ty = torch.cdist(*t, p=p, compute_mode="donot_use_mm_for_euclid_dist")
    assert_close(ny, ty, what="distances")
    if p == 0:
        return  # a count of differing coordinates: no gradient
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    for x, y in zip(n, t):
        assert_close(x.grad, y.grad, what="grad")


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_cdist_gradcheck(p, rng):
    a = nabla.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b = nabla.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert gradcheck(lambda x, y: nabla.cdist(x, y, p), (a, b), **GRADCHECK_TOL)


def test_cdist_shape_error():
    with pytest.raises(RuntimeError, match="cdist: expected .* the same M"):
        nabla.cdist(nabla.zeros(3, 2), nabla.zeros(4, 5))
