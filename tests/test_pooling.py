"""Pooling vs PyTorch: max/avg pooling 1d/2d (stride, padding, dilation, ceil_mode,
return_indices, count_include_pad, divisor_override), adaptive pooling; forward and backward
with random upstream gradients in float32 and float64, finite differences and double backward
(1-D, 2-D and 3-D), and the layers."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL, assert_close, run_twins

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.autograd import gradcheck, gradgradcheck

DTYPES = [np.float32, np.float64]

# (id, function name, input shape, kwargs)
CASES = [
    ("max2d_2x2", "max_pool2d", (2, 3, 8, 6), {"kernel_size": 2}),
    ("max2d_odd_ceil", "max_pool2d", (2, 3, 7, 6),
     {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("max2d_dilation", "max_pool2d", (2, 2, 9, 8),
     {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0), "dilation": (2, 3)}),
    ("max2d_overlap", "max_pool2d", (1, 2, 6, 7), {"kernel_size": 3, "stride": 1}),
    ("max2d_gaps", "max_pool2d", (2, 3, 8, 7), {"kernel_size": 2, "stride": 3}),
    ("max2d_tiles_pad", "max_pool2d", (2, 3, 8, 7),
     {"kernel_size": 3, "padding": 1, "ceil_mode": True}),
    ("max2d_unbatched", "max_pool2d", (3, 5, 5), {"kernel_size": 2, "ceil_mode": True}),
    ("max1d", "max_pool1d", (2, 3, 11),
     {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("max1d_dilation", "max_pool1d", (2, 3, 12), {"kernel_size": 2, "dilation": 3}),
    ("avg2d", "avg_pool2d", (2, 3, 8, 6), {"kernel_size": 2}),
    ("avg2d_gaps_pad", "avg_pool2d", (2, 3, 8, 7), {"kernel_size": 2, "stride": 3, "padding": 1}),
    ("avg2d_pad_ceil", "avg_pool2d", (2, 3, 7, 6),
     {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("avg2d_exclude_pad", "avg_pool2d", (2, 3, 7, 6),
     {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
      "count_include_pad": False}),
    ("avg2d_divisor", "avg_pool2d", (2, 3, 7, 6),
     {"kernel_size": (3, 2), "stride": (2, 3), "padding": 1, "divisor_override": 5}),
    ("avg1d", "avg_pool1d", (2, 3, 11),
     {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True,
      "count_include_pad": False}),
    ("adaptive_avg2d", "adaptive_avg_pool2d", (2, 3, 7, 6), {"output_size": (3, 4)}),
    ("adaptive_avg2d_divisible", "adaptive_avg_pool2d", (2, 3, 8, 6),
     {"output_size": (4, None)}),
    ("adaptive_avg2d_global", "adaptive_avg_pool2d", (2, 3, 5, 4), {"output_size": 1}),
    ("adaptive_avg2d_up", "adaptive_avg_pool2d", (1, 2, 3, 3), {"output_size": 5}),
    ("adaptive_avg1d", "adaptive_avg_pool1d", (2, 3, 7), {"output_size": 3}),
    ("adaptive_max2d", "adaptive_max_pool2d", (2, 3, 7, 6), {"output_size": (3, 4)}),
    ("adaptive_max2d_divisible", "adaptive_max_pool2d", (2, 3, 8, 6), {"output_size": 2}),
    ("adaptive_max1d", "adaptive_max_pool1d", (2, 3, 7), {"output_size": 3}),
]
WITH_INDICES = {"max_pool2d", "max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool1d"}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_pool_matches_torch(case, dtype, rng):
    _, name, shape, kwargs = case
    a = rng.standard_normal(shape).astype(dtype)
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ny, ty = getattr(F, name)(nx, **kwargs), getattr(TF, name)(tx, **kwargs)
    assert_close(ny, ty, what="output")
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="input grad")
    if name in WITH_INDICES:
        (ny2, ni), (ty2, ti) = (getattr(F, name)(nx, **kwargs, return_indices=True),
                                getattr(TF, name)(tx, **kwargs, return_indices=True))
        assert_close(ny2, ty2, what="output with indices")
        assert_close(ni, ti, what="indices")


def test_max_pool_ties_and_nan_like_torch():
    a = np.array([[[[1.0, 1.0, 0.0, np.nan], [1.0, 0.5, 2.0, 3.0]]]], np.float32)
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (ny, ni), (ty, ti) = (F.max_pool2d(nx, 2, return_indices=True),
                          TF.max_pool2d(tx, 2, return_indices=True))
    assert_close(ny, ty)
    assert_close(ni, ti)
    ny.sum().backward()
    ty.sum().backward()
    assert_close(nx.grad, tx.grad)


GRADCHECK_CASES = [
    ("max_pool2d", (1, 2, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1,
                                  "ceil_mode": True}),
    ("avg_pool2d", (1, 2, 5, 4), {"kernel_size": 3, "stride": 2, "padding": 1,
                                  "ceil_mode": True, "count_include_pad": False}),
    ("adaptive_avg_pool2d", (1, 2, 5, 4), {"output_size": (3, 3)}),
    ("adaptive_max_pool2d", (1, 2, 5, 4), {"output_size": (3, 3)}),
    ("max_pool1d", (2, 2, 7), {"kernel_size": 2, "stride": 1}),
    ("avg_pool1d", (2, 2, 7), {"kernel_size": 3, "padding": 1}),
    ("max_pool3d", (1, 2, 4, 5, 3), {"kernel_size": (3, 2, 2), "stride": 2, "padding": 1,
                                     "ceil_mode": True}),
    ("avg_pool3d", (1, 2, 4, 3, 4), {"kernel_size": 3, "stride": (2, 1, 2), "padding": 1,
                                     "ceil_mode": True, "count_include_pad": False}),
    ("adaptive_avg_pool3d", (1, 2, 5, 4, 3), {"output_size": (3, 3, 2)}),
    ("adaptive_max_pool3d", (1, 2, 5, 4, 3), {"output_size": (3, 3, 2)}),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck_and_gradgradcheck(case, rng):
    name, shape, kwargs = case
    # distinct values far apart: finite differences never swap a window's maximum
    a = rng.permutation(np.prod(shape)).reshape(shape) * 0.1 + rng.standard_normal(shape) * 0.01
    x = nabla.tensor(a, requires_grad=True)
    fn = lambda t: getattr(F, name)(t, **kwargs)  # noqa: E731
    assert gradcheck(fn, (x,), **GRADCHECK_TOL)
    assert gradgradcheck(fn, (x,), **GRADCHECK_TOL)


@pytest.mark.parametrize("call, match", [
    (lambda x: F.max_pool2d(x, 2, padding=2), "half"),
    (lambda x: F.avg_pool2d(x, 7), "too small"),
    (lambda x: F.max_pool2d(x[0, 0, 0], 2), "input"),
])
def test_errors_are_clear(call, match):
    with pytest.raises(RuntimeError, match=match):
        call(nabla.zeros(1, 2, 5, 5))


MODULES = [
    ("maxpool1d", lambda m: m.MaxPool1d(3, 2, 1), (2, 3, 9)),
    ("maxpool2d", lambda m: m.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 3, 7, 7)),
    ("avgpool1d", lambda m: m.AvgPool1d(2), (2, 3, 9)),
    ("avgpool2d", lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 7, 6)),
    ("adaptiveavg1d", lambda m: m.AdaptiveAvgPool1d(4), (2, 3, 9)),
    ("adaptiveavg2d", lambda m: m.AdaptiveAvgPool2d((2, 3)), (2, 3, 7, 6)),
    ("adaptivemax1d", lambda m: m.AdaptiveMaxPool1d(4), (2, 3, 9)),
    ("adaptivemax2d", lambda m: m.AdaptiveMaxPool2d((2, 3)), (2, 3, 7, 6)),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_modules_match_torch(case, rng):
    _, make, shape = case
    nmod, tmod = make(nn), make(tnn)
    assert repr(nmod) == repr(tmod)
    assert list(nmod.state_dict()) == list(tmod.state_dict()) == []
    run_twins(nmod, tmod, [shape], torch.float32, rng)


def test_maxpool_module_return_indices(rng):
    a = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    (ny, ni), (ty, ti) = nn.MaxPool2d(2, return_indices=True)(nabla.tensor(a)), \
        tnn.MaxPool2d(2, return_indices=True)(torch.tensor(a))
    assert_close(ny, ty)
    assert_close(ni, ti)
