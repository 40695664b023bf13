"""LP pooling, max unpooling and max_pool*d_with_indices vs PyTorch: forward and backward with
random upstream gradients in float32 and float64, gradcheck, layers and errors."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.autograd import gradcheck

DTYPES = [np.float32, np.float64]
TOL = {np.float32: 1e-4, np.float64: 1e-10}

LP_CASES = [
    ("lp2d_p2", "lp_pool2d", (2, 3, 7, 6), (2.0, 3, 2, False)),
    ("lp2d_p2_ceil", "lp_pool2d", (2, 3, 7, 6), (2.0, 3, 2, True)),
    ("lp2d_p3_rect", "lp_pool2d", (2, 2, 8, 7), (3.0, (2, 3), None, False)),
    ("lp2d_unbatched", "lp_pool2d", (3, 6, 6), (1.5, 2, None, True)),
    ("lp1d_p2", "lp_pool1d", (2, 3, 11), (2.0, 3, 2, True)),
    ("lp1d_p1", "lp_pool1d", (2, 3, 10), (1.0, 2, None, False)),
]


def _run(fn, x, g):
    y = fn(x)
    y.backward(g)
    return y, x.grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", LP_CASES, ids=[c[0] for c in LP_CASES])
def test_lp_pool_matches_torch(case, dtype):
    _, name, shape, args = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    if args[0] not in (2.0,):  # odd or fractional powers: PyTorch gives NaN for negative sums
        x = np.abs(x) + 0.1
    t = torch.tensor(x, requires_grad=True)
    yt = getattr(TF, name)(t, *args)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(g))
    n = nabla.tensor(x, requires_grad=True)
    yn, gn = _run(lambda v: getattr(F, name)(v, *args), n, nabla.tensor(g))
    assert yn.dtype == n.dtype
    np.testing.assert_allclose(yn.detach().numpy(), yt.detach().numpy(), rtol=TOL[dtype],
                               atol=TOL[dtype])
    np.testing.assert_allclose(gn.numpy(), t.grad.numpy(), rtol=TOL[dtype], atol=TOL[dtype])


def test_lp_pool_negative_sum_is_nan_like_torch():
    x = np.random.default_rng(1).standard_normal((1, 2, 6, 6))
    yt = TF.lp_pool2d(torch.tensor(x), 3.0, 2)
    yn = F.lp_pool2d(nabla.tensor(x), 3.0, 2)
    np.testing.assert_allclose(yn.numpy(), yt.numpy(), rtol=1e-10, equal_nan=True)


@pytest.mark.parametrize("name,shape", [("lp_pool2d", (1, 2, 5, 4)), ("lp_pool1d", (2, 2, 7))])
def test_lp_pool_gradcheck(name, shape):
    x = nabla.tensor(np.random.default_rng(2).uniform(0.5, 2, shape), requires_grad=True)
    assert gradcheck(lambda v: getattr(F, name)(v, 2.0, 2, 1, True), (x,), **GRADCHECK_TOL)


UNPOOL_CASES = [
    ("2d", (2, 3, 8, 6), {"kernel_size": 2}, None),
    ("2d_stride_pad", (2, 3, 7, 6), {"kernel_size": 3, "stride": 2, "padding": 1}, (7, 6)),
    ("2d_output_size", (2, 3, 7, 7), {"kernel_size": 2}, (7, 7)),
    ("2d_output_size_nc", (2, 3, 7, 7), {"kernel_size": 2}, (2, 3, 7, 7)),
    ("2d_unbatched", (3, 6, 6), {"kernel_size": 2}, None),
    ("1d", (2, 3, 10), {"kernel_size": 2}, None),
    ("1d_output_size", (2, 3, 11), {"kernel_size": 3, "stride": 2, "padding": 1}, (11,)),
    ("1d_unbatched", (3, 9), {"kernel_size": 3}, None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", UNPOOL_CASES, ids=[c[0] for c in UNPOOL_CASES])
def test_max_unpool_matches_torch(case, dtype):
    tag, shape, kw, output_size = case
    d = tag[:2]
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(dtype)
    yt, it = getattr(TF, f"max_pool{d}")(torch.tensor(x), return_indices=True, **kw)
    yn, i_n = getattr(F, f"max_pool{d}_with_indices")(nabla.tensor(x), **kw)
    np.testing.assert_array_equal(i_n.numpy(), it.numpy())
    t = yt.detach().clone().requires_grad_(True)
    ut = getattr(TF, f"max_unpool{d}")(t, it, output_size=output_size, **kw)
    g = rng.standard_normal(tuple(ut.shape)).astype(dtype)
    ut.backward(torch.tensor(g))
    n = nabla.tensor(yn.numpy(), requires_grad=True)
    un = getattr(F, f"max_unpool{d}")(n, i_n, output_size=output_size, **kw)
    un.backward(nabla.tensor(g))
    assert tuple(un.shape) == tuple(ut.shape)
    np.testing.assert_array_equal(un.detach().numpy(), ut.detach().numpy())
    np.testing.assert_allclose(n.grad.numpy(), t.grad.numpy())


def test_max_unpool_gradcheck():
    x = np.random.default_rng(4).standard_normal((1, 2, 6, 6))
    y, idx = F.max_pool2d(nabla.tensor(x), 2, return_indices=True)
    v = nabla.tensor(y.numpy(), requires_grad=True)
    assert gradcheck(lambda a: F.max_unpool2d(a, idx, 2), (v,), **GRADCHECK_TOL)


def test_max_unpool_errors():
    x = nabla.tensor(np.zeros((1, 1, 2, 2)))
    idx = nabla.tensor(np.zeros((1, 1, 2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="max_unpool2d"):
        F.max_unpool2d(x, idx, 2, output_size=(9, 9))
    with pytest.raises(RuntimeError, match="max_unpool2d"):
        F.max_unpool2d(x, nabla.tensor(np.full((1, 1, 2, 2), 99, dtype=np.int64)), 2)


def test_layers_match_torch():
    x = np.random.default_rng(5).standard_normal((2, 3, 8, 8))
    for ours, theirs in [(nn.LPPool2d(2, 3, 2), tnn.LPPool2d(2, 3, 2)),
                         (nn.LPPool1d(2, 3), tnn.LPPool1d(2, 3))]:
        xi = x if isinstance(ours, nn.LPPool2d) else x[:, :, 0]
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(nabla.tensor(xi)).numpy(),
                                   theirs(torch.tensor(xi)).numpy(), rtol=1e-10)
    for d, ours, theirs in [("2d", nn.MaxUnpool2d(2), tnn.MaxUnpool2d(2)),
                            ("1d", nn.MaxUnpool1d(2), tnn.MaxUnpool1d(2))]:
        assert repr(ours) == repr(theirs)
        xi = x if d == "2d" else x[:, :, 0]
        yt, it = getattr(TF, f"max_pool{d}")(torch.tensor(xi), 2, return_indices=True)
        yn, i_n = getattr(F, f"max_pool{d}")(nabla.tensor(xi), 2, return_indices=True)
        np.testing.assert_array_equal(ours(yn, i_n).numpy(), theirs(yt, it).numpy())
