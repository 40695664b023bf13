"""affine_grid and grid_sample against PyTorch: values, gradients, gradcheck and errors."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL, assert_close, to_torch

import nabla
import nabla.nn.functional as F
from nabla.autograd import gradcheck, gradgradcheck

MODES = ["bilinear", "nearest"]
PADDING = ["zeros", "border", "reflection"]
DTYPES = [np.float32, np.float64]


def _grid(rng, n, h, w, dtype) -> np.ndarray:
    """Points inside, on the border of and outside [-1, 1] (several folds for reflection)."""
    g = rng.uniform(-1.3, 1.3, (n, h, w, 2))
    special = np.array([-1.0, 1.0, 0.0, -1.5, 1.5, 2.7, -3.4, 0.25])
    flat = g.reshape(-1, 2)
    k = min(len(special), len(flat))
    flat[:k, 0] = special[:k]
    flat[:k, 1] = special[::-1][:k]
    return g.astype(dtype)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_affine_grid_matches_torch(align_corners, dtype, rng):
    theta = nabla.tensor(rng.standard_normal((3, 2, 3)).astype(dtype), requires_grad=True)
    size = (3, 2, 4, 5)
    out = F.affine_grid(theta, size, align_corners=align_corners)
    theta_t = to_torch(theta)
    ref = TF.affine_grid(theta_t, size, align_corners=align_corners)
    assert_close(out, ref, what="affine_grid")
    up = rng.standard_normal(ref.shape).astype(dtype)
    out.backward(nabla.tensor(up))
    ref.backward(torch.from_numpy(up))
    assert_close(theta.grad, theta_t.grad, what="affine_grid theta grad")


@pytest.mark.parametrize("size", [(1, 1, 1, 1), (2, 1, 1, 3)])
def test_affine_grid_size_one(size):
    theta = nabla.tensor(np.tile(np.eye(2, 3), (size[0], 1, 1)))
    for ac in (False, True):
        ref = TF.affine_grid(to_torch(theta), size, align_corners=ac)
        assert_close(F.affine_grid(theta, size, align_corners=ac), ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode,padding_mode", list(itertools.product(MODES, PADDING)))
def test_grid_sample_matches_torch(mode, padding_mode, align_corners, dtype, rng):
    x = nabla.tensor(rng.standard_normal((2, 3, 4, 5)).astype(dtype), requires_grad=True)
    grid = nabla.tensor(_grid(rng, 2, 3, 6, dtype), requires_grad=True)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    out = F.grid_sample(x, grid, **kw)
    x_t, grid_t = to_torch(x), to_torch(grid)
    ref = TF.grid_sample(x_t, grid_t, **kw)
    assert_close(out, ref, what="grid_sample")
    up = rng.standard_normal(ref.shape).astype(dtype)
    out.backward(nabla.tensor(up))
    ref.backward(torch.from_numpy(up))
    assert_close(x.grad, x_t.grad, what="grad input")
    assert_close(grid.grad, grid_t.grad, what="grad grid")


def test_grid_sample_defaults_and_no_grad_grid(rng):
    x = nabla.tensor(rng.standard_normal((1, 2, 3, 3)))
    grid = nabla.tensor(_grid(rng, 1, 2, 2, np.float64))
    for mode in MODES:
        ref = TF.grid_sample(to_torch(x), to_torch(grid), mode=mode, align_corners=False)
        assert_close(F.grid_sample(x, grid, mode=mode), ref)


@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_gradcheck(padding_mode, align_corners, rng):
    x = nabla.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    # points strictly inside pixel cells (and away from the borders and reflection folds),
    # where sampling is differentiable in the grid
    h, w = 3, 4
    cx = rng.integers(0, w - 1, (1, 2, 3)) + rng.uniform(0.2, 0.8, (1, 2, 3))
    cy = rng.integers(0, h - 1, (1, 2, 3)) + rng.uniform(0.2, 0.8, (1, 2, 3))
    if align_corners:
        gx, gy = cx / (w - 1) * 2 - 1, cy / (h - 1) * 2 - 1
    else:
        gx, gy = (2 * cx + 1) / w - 1, (2 * cy + 1) / h - 1
    grid = nabla.tensor(np.stack([gx, gy], -1), requires_grad=True)

    def fn(x, grid):
        return F.grid_sample(x, grid, padding_mode=padding_mode, align_corners=align_corners)

    assert gradcheck(fn, (x, grid), **GRADCHECK_TOL)
    # derived from differentiable ops, so second derivatives come for free
    assert gradgradcheck(fn, (x, grid), **GRADCHECK_TOL)


@pytest.mark.parametrize("align_corners", [False, True])
def test_spatial_transformer_identity(align_corners, rng):
    x = nabla.tensor(rng.standard_normal((2, 3, 5, 4)), requires_grad=True)
    theta = nabla.tensor(np.tile(np.eye(2, 3), (2, 1, 1)), requires_grad=True)
    grid = F.affine_grid(theta, x.shape, align_corners=align_corners)
    out = F.grid_sample(x, grid, align_corners=align_corners)
    # the identity map samples every pixel at its own position, for both conventions
    np.testing.assert_allclose(out._data, x._data, rtol=1e-12, atol=1e-12)
    x_t, theta_t = to_torch(x), to_torch(theta)
    ref = TF.grid_sample(x_t, TF.affine_grid(theta_t, x_t.shape, align_corners=align_corners),
                         align_corners=align_corners)
    assert_close(out, ref)
    up = rng.standard_normal(ref.shape)
    out.backward(nabla.tensor(up))
    ref.backward(torch.from_numpy(up))
    assert_close(x.grad, x_t.grad, what="grad input")
    assert_close(theta.grad, theta_t.grad, what="grad theta")


@pytest.mark.parametrize("input_shape,grid_shape,kw,match", [
    ((2, 3, 4), (2, 3, 3, 2), {}, "only 2-D"),
    ((2, 3, 4, 4), (2, 3, 3), {}, "only 2-D"),
    ((2, 3, 4, 4), (3, 3, 3, 2), {}, "batch sizes"),
    ((2, 3, 4, 4), (2, 3, 3, 3), {}, "last dim must be 2"),
    ((2, 3, 4, 4), (2, 3, 3, 2), {"mode": "bicubic"}, "mode must be one of"),
    ((2, 3, 4, 4), (2, 3, 3, 2), {"padding_mode": "wrap"}, "padding_mode must be one of"),
])
def test_grid_sample_errors(input_shape, grid_shape, kw, match):
    x, grid = nabla.zeros(input_shape), nabla.zeros(grid_shape)
    with pytest.raises(ValueError, match=f"grid_sample: .*{match}"):
        F.grid_sample(x, grid, **kw)


def test_grid_sample_dtype_mismatch():
    x = nabla.zeros((1, 1, 2, 2), dtype=nabla.float64)
    with pytest.raises(TypeError, match="grid_sample: .*same floating dtype"):
        F.grid_sample(x, nabla.zeros((1, 2, 2, 2), dtype=nabla.float32))


@pytest.mark.parametrize("theta_shape,size,match", [
    ((2, 2, 3), (2, 3, 4, 4, 4), "only 2-D"),
    ((2, 3, 3), (2, 3, 4, 4), r"\(N, 2, 3\)"),
    ((3, 2, 3), (2, 3, 4, 4), "batch size"),
])
def test_affine_grid_errors(theta_shape, size, match):
    with pytest.raises(ValueError, match=f"affine_grid: .*{match}"):
        F.affine_grid(nabla.zeros(theta_shape), size)
