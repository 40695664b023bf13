"""fractional_max_pool2d/3d (and their _with_indices forms and modules) vs PyTorch: with the
same _random_samples the outputs and indices are PyTorch's exactly (the window starts are
computed in the input's dtype, as PyTorch does) and so are the gradients; without them the
samples come from nabla's generator (seeded by nabla.manual_seed). Also ties, NaN, unbatched
and empty inputs, gradcheck and the errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.nn import FractionalMaxPool2d, FractionalMaxPool3d
from nabla.nn.functional import (
    fractional_max_pool2d,
    fractional_max_pool2d_with_indices,
    fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
)

DTYPES = [np.float32, np.float64]
OURS = {2: fractional_max_pool2d, 3: fractional_max_pool3d}
THEIRS = {2: TF.fractional_max_pool2d, 3: TF.fractional_max_pool3d}


def _compare(x, u, dims, g=None, **kwargs):
    """Output, indices and input gradient of ours and torch's on x with samples u."""
    nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ny, ni = OURS[dims](nx, return_indices=True, _random_samples=nabla.tensor(u), **kwargs)
    ty, ti = THEIRS[dims](tx, return_indices=True, _random_samples=torch.tensor(u), **kwargs)
    assert ny.shape == tuple(ty.shape) and ny.dtype == x.dtype and ni.dtype == np.int64
    np.testing.assert_array_equal(ni.numpy(), ti.numpy())
    np.testing.assert_array_equal(ny.detach().numpy(), ty.detach().numpy())
    g = np.random.default_rng(0).standard_normal(ty.shape).astype(x.dtype) if g is None else g
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="grad")
    return ny, ni


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel, kwargs", [
    (3, {"output_size": (6, 5)}),
    ((2, 3), {"output_size": 4}),
    (2, {"output_ratio": (0.5, 0.7)}),
    (2, {"output_ratio": 0.6}),
    ((1, 4), {"output_size": (11, 6)}),  # the largest height: Ho + kH - 1 = H
    (3, {"output_size": (1, 1)}),
])
def test_fractional_max_pool2d_matches_torch(rng, dtype, kernel, kwargs):
    x = rng.standard_normal((2, 3, 11, 9)).astype(dtype)
    u = rng.random((2, 3, 2)).astype(dtype)
    if kwargs.get("output_ratio") == 0.6:  # torch's functional wants a tuple here
        kwargs = {"output_ratio": (0.6, 0.6)}
    _compare(x, u, 2, kernel_size=kernel, **kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel, kwargs", [
    (2, {"output_size": 3}),
    ((1, 2, 3), {"output_size": (5, 4, 3)}),
    (2, {"output_ratio": (0.5, 0.6, 0.7)}),
])
def test_fractional_max_pool3d_matches_torch(rng, dtype, kernel, kwargs):
    x = rng.standard_normal((2, 2, 6, 7, 8)).astype(dtype)
    u = rng.random((2, 2, 3)).astype(dtype)
    _compare(x, u, 3, kernel_size=kernel, **kwargs)


def test_fractional_window_starts_use_the_input_dtype(rng):
    # for these sizes and this sample, float32 and float64 arithmetic give different windows:
    # PyTorch computes in the input's dtype, and so must we
    x = rng.standard_normal((1, 1, 4, 121)).astype(np.float32)
    u = np.array([[[0.6186431050300598, 0.5]]], np.float32)
    _compare(x, u, 2, kernel_size=(1, 3), output_size=(4, 84))
    _compare(x.astype(np.float64), u.astype(np.float64), 2, kernel_size=(1, 3),
             output_size=(4, 84))


def test_fractional_max_pool_ties_nan_and_overlap(rng):
    # few distinct values (ties: the first maximum), NaNs (a NaN wins, the last one), and
    # overlapping windows (an input is the maximum of several: its gradients add up)
    x = rng.integers(0, 3, (2, 2, 9, 10)).astype(np.float64)
    x[0, 0, 2:4, 3:5] = np.nan
    x[1, 1, 5, 5] = np.nan
    u = rng.random((2, 2, 2))
    nx = nabla.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ny, ni = fractional_max_pool2d(nx, 3, output_size=(6, 7), return_indices=True,
                                   _random_samples=nabla.tensor(u))
    ty, ti = TF.fractional_max_pool2d(tx, 3, output_size=(6, 7), return_indices=True,
                                      _random_samples=torch.tensor(u))
    np.testing.assert_array_equal(ni.numpy(), ti.numpy())
    np.testing.assert_array_equal(ny.detach().numpy(), ty.detach().numpy())
    ny.sum().backward()
    ty.sum().backward()
    assert_close(nx.grad, tx.grad)
    assert nx.grad.numpy().max() > 1  # some input won several windows


@pytest.mark.parametrize("dims", [2, 3])
def test_fractional_max_pool_unbatched_noncontiguous_and_larger_sample_batch(rng, dims):
    shape = (3, 7, 8) if dims == 2 else (2, 5, 6, 7)
    x = np.ascontiguousarray(rng.standard_normal(shape[::-1]).T)  # a transposed layout
    x = np.asfortranarray(x)
    u = rng.random((1, shape[0], dims))
    _compare(x, u, dims, kernel_size=2, output_size=3)
    xb = rng.standard_normal((2,) + shape)
    _compare(xb, rng.random((5, shape[0], dims)), dims, kernel_size=2, output_size=3)


@pytest.mark.parametrize("dims", [2, 3])
def test_fractional_max_pool_random_samples_from_nabla_generator(rng, dims):
    shape = (2, 3) + (9, 10, 11)[:dims]
    x = nabla.tensor(rng.standard_normal(shape))
    f = OURS[dims]
    nabla.manual_seed(7)
    y1, i1 = f(x, 2, output_size=4, return_indices=True)
    nabla.manual_seed(7)
    y2, i2 = f(x, 2, output_size=4, return_indices=True)
    y3, i3 = f(x, 2, output_size=4, return_indices=True)
    np.testing.assert_array_equal(i1.numpy(), i2.numpy())
    assert not np.array_equal(i1.numpy(), i3.numpy())
    flat = x.numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(y1.numpy(), np.take_along_axis(
        flat, i1.numpy().reshape(2, 3, -1), 2).reshape(y1.shape))
    # the same samples, drawn again and given explicitly, give the same result
    nabla.manual_seed(7)
    u = nabla.random.numpy_generator().random((2, 3, dims))
    y4 = f(x, 2, output_size=4, _random_samples=nabla.tensor(u))
    np.testing.assert_array_equal(y4.numpy(), y1.numpy())


@pytest.mark.parametrize("dims", [2, 3])
def test_fractional_max_pool_gradcheck(rng, dims):
    shape = (1, 2) + (6, 7, 5)[:dims]
    x = nabla.tensor(rng.standard_normal(shape), requires_grad=True)
    u = nabla.tensor(rng.random((1, 2, dims)))
    f = OURS[dims]
    assert nabla.autograd.gradcheck(
        lambda z: f(z, 2, output_size=3, _random_samples=u), (x,), **GRADCHECK_TOL)
    assert nabla.autograd.gradgradcheck(
        lambda z: f(z, 2, output_size=3, _random_samples=u), (x,), **GRADCHECK_TOL)


def test_fractional_max_pool_with_indices_forms(rng):
    x = nabla.tensor(rng.standard_normal((2, 3, 8, 8)))
    u = nabla.tensor(rng.random((2, 3, 2)))
    y, i = fractional_max_pool2d_with_indices(x, 2, output_size=5, _random_samples=u)
    np.testing.assert_array_equal(
        y.numpy(), fractional_max_pool2d(x, 2, output_size=5, _random_samples=u).numpy())
    assert i.shape == (2, 3, 5, 5)
    x3 = nabla.tensor(rng.standard_normal((2, 3, 6, 6, 6)))
    u3 = nabla.tensor(rng.random((2, 3, 3)))
    y3, i3 = fractional_max_pool3d_with_indices(x3, 2, output_size=3, _random_samples=u3)
    ty3, ti3 = TF.fractional_max_pool3d_with_indices(
        torch.tensor(x3.numpy()), 2, output_size=3, _random_samples=torch.tensor(u3.numpy()))
    np.testing.assert_array_equal(i3.numpy(), ti3.numpy())
    np.testing.assert_array_equal(y3.numpy(), ty3.numpy())


def test_fractional_max_pool_empty_batch():
    y, i = fractional_max_pool2d(nabla.zeros(0, 3, 8, 8), 2, output_size=4,
                                 return_indices=True)
    ty = TF.fractional_max_pool2d(torch.zeros(0, 3, 8, 8), 2, output_size=4)
    assert y.shape == tuple(ty.shape) == i.shape


@pytest.mark.parametrize("dtype", DTYPES)
def test_fractional_max_pool_modules_match_torch(rng, dtype):
    x = rng.standard_normal((2, 3, 10, 9)).astype(dtype)
    u = rng.random((2, 3, 2)).astype(dtype)
    ours = FractionalMaxPool2d(3, output_ratio=(0.5, 0.6), _random_samples=nabla.tensor(u))
    theirs = torch.nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.6),
                                          _random_samples=torch.tensor(u))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
    assert (ours.kernel_size, ours.output_size, ours.output_ratio) == \
        (theirs.kernel_size, theirs.output_size, theirs.output_ratio)
    nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ny, ty = ours(nx), theirs(tx)
    np.testing.assert_array_equal(ny.detach().numpy(), ty.detach().numpy())
    ny.sum().backward()
    ty.sum().backward()
    assert_close(nx.grad, tx.grad)
    x3 = rng.standard_normal((2, 3, 6, 7, 8)).astype(dtype)
    u3 = rng.random((2, 3, 3)).astype(dtype)
    ours3 = FractionalMaxPool3d(2, output_size=(3, 4, 5), return_indices=True,
                                _random_samples=nabla.tensor(u3))
    theirs3 = torch.nn.FractionalMaxPool3d(2, output_size=(3, 4, 5), return_indices=True,
                                           _random_samples=torch.tensor(u3))
    (ny3, ni3), (ty3, ti3) = ours3(nabla.tensor(x3)), theirs3(torch.tensor(x3))
    np.testing.assert_array_equal(ni3.numpy(), ti3.numpy())
    np.testing.assert_array_equal(ny3.numpy(), ty3.numpy())
    drawn = FractionalMaxPool2d(2, output_size=4)
    assert drawn.state_dict() == {} and drawn(nabla.tensor(x)).shape == (2, 3, 4, 4)


@pytest.mark.parametrize("cls, args, kwargs, match", [
    (FractionalMaxPool2d, (3,), {}, "requires specifying either an output size"),
    (FractionalMaxPool2d, (3,), {"output_size": 4, "output_ratio": 0.5}, "only one of"),
    (FractionalMaxPool2d, (3,), {"output_ratio": 1.0}, "output_ratio must be between 0 and 1"),
    (FractionalMaxPool3d, (3,), {"output_ratio": (0.5, 0.5, 1.5)}, "between 0 and 1"),
    (FractionalMaxPool3d, (0,), {"output_size": 2}, "kernel_size must be greater than 0"),
])
def test_fractional_max_pool_module_errors(cls, args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(*args, **kwargs)


def _x(*shape, dtype=np.float32):
    return nabla.tensor(np.zeros(shape, dtype))


@pytest.mark.parametrize("f, args, kwargs, error, match", [
    (fractional_max_pool2d, (_x(2, 3, 10, 9), 3), {}, ValueError,
     "fractional_max_pool2d requires specifying either an output_size or an output_ratio"),
    (fractional_max_pool2d, (_x(2, 3, 10, 9), 3), {"output_size": (9, 7)}, RuntimeError,
     "pool height 3 too large relative to input height 10"),
    (fractional_max_pool2d, (_x(2, 3, 10, 9), 3), {"output_size": (8, 8)}, RuntimeError,
     "pool width 3 too large relative to input width 9"),
    (fractional_max_pool3d, (_x(2, 3, 6, 7, 8), 2), {"output_size": (5, 5, 5)}, RuntimeError,
     "pool time 2 too large relative to input time 6"),
    (fractional_max_pool2d, (_x(2, 3, 10, 9), 0), {"output_size": 3}, RuntimeError,
     "kernel_size must be positive"),
    (fractional_max_pool2d, (_x(10, 9), 3), {"output_size": 3}, RuntimeError,
     r"expected 3D \(unbatched\) or 4D \(batched\) input"),
    (fractional_max_pool2d, (_x(2, 0, 10, 9), 3), {"output_size": 3}, RuntimeError,
     "non-zero sizes"),
    (fractional_max_pool2d, (nabla.zeros(2, 3, 10, 9, dtype=nabla.int64), 3),
     {"output_size": 3}, TypeError, "floating point"),
    (fractional_max_pool2d, (_x(2, 3, 10, 9), 3),
     {"output_size": 3, "_random_samples": _x(2, 3, 3)}, RuntimeError,
     r"_random_samples must have shape \(N >= 2, 3, 2\)"),
    (fractional_max_pool2d, (_x(2, 3, 10, 9), 3),
     {"output_size": 3, "_random_samples": _x(1, 3, 2)}, RuntimeError, "N >= 2"),
    (fractional_max_pool2d, (_x(2, 3, 10, 9), 3),
     {"output_size": 3, "_random_samples": _x(2, 3, 2, dtype=np.float64)}, RuntimeError,
     "must have the input's dtype float32"),
    (fractional_max_pool2d, (_x(2, 3, 10, 9), 3),
     {"output_size": 3, "_random_samples": nabla.full((2, 3, 2), -0.5)}, RuntimeError,
     r"must lie in \[0, 1\]"),
    (fractional_max_pool3d, (_x(2, 3, 6, 7, 8), 2), {"output_ratio": (0.5, 0.5)}, ValueError,
     "output_ratio must be a number or a tuple of 3 numbers"),
])
def test_fractional_max_pool_errors(f, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        f(*args, **kwargs)
