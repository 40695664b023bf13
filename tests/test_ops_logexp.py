"""Edge values of logit and xlogy against PyTorch (the op table in op_db.py covers the rest):
logit's eps clamp (gradient 0 where it cuts) and xlogy at x = 0 (0 log 0 = 0, and PyTorch's
gradients there: 0 for x where y <= 0, NaN for y at 0 / 0), forward and backward."""

import numpy as np
import torch
from conftest import assert_close

import nabla


def _both(values):
    a = np.array(values)
    return nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def test_logit_eps_clamps_and_stops_the_gradient():
    n, t = _both([0.01, 0.3, 0.99])
    ny, ty = nabla.logit(n, eps=0.05), torch.logit(t, eps=0.05)
    assert_close(ny, ty)
    ny.sum().backward()
    ty.sum().backward()
    assert_close(n.grad, t.grad)


def test_xlogy_is_zero_where_x_is_zero():
    (nx, tx), (ny, ty) = _both([0.0, 0.0, 2.0, 0.0]), _both([0.0, 3.0, 0.5, -1.0])
    nz, tz = nabla.xlogy(nx, ny), torch.xlogy(tx, ty)
    assert_close(nz, tz)
    nz.sum().backward()
    tz.sum().backward()
    assert_close(nx.grad, tx.grad)
    assert_close(ny.grad, ty.grad)
