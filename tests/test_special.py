"""nabla.special against torch.special: the aliases are the ops (tested in the op table), and
entr's edge values (0 at 0, -inf below, nan kept) with its gradient on positive inputs."""

import numpy as np
import torch
from conftest import assert_close

import nabla
from nabla import special


def test_aliases_are_the_ops():
    assert special.expit is nabla.sigmoid and special.erf is nabla.erf
    x = np.linspace(-3, 3, 7)
    assert_close(special.expit(nabla.tensor(x)), torch.special.expit(torch.tensor(x)))
    assert_close(special.erfc(nabla.tensor(x)), torch.special.erfc(torch.tensor(x)))


def test_entr_matches_torch(rng):
    edge = np.array([-1.0, 0.0, np.nan], np.float32)
    assert_close(special.entr(nabla.tensor(edge)), torch.special.entr(torch.tensor(edge)))
    a = rng.uniform(0.1, 2.0, (3, 4))
    n, t = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ny, ty = special.entr(n), torch.special.entr(t)
    assert_close(ny, ty)
    g = rng.standard_normal(a.shape)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(n.grad, t.grad)
