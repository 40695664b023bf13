"""nn.utils vs PyTorch on the same gradients: clip_grad_norm_ (every norm type, nonfinite
handling, return value), clip_grad_value_, parameters_to_vector / vector_to_parameters."""

import math

import numpy as np
import pytest
import torch
from conftest import assert_close

import nabla
import nabla.nn as nn

SHAPES = [(3, 4), (5,), (2, 2, 2), ()]


def _twins(rng, dtype=np.float32, scale=1.0, with_none=True):
    """Parameters with identical values and gradients in nabla and torch (the last one has no
    gradient when ``with_none``)."""
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES):
        value = rng.standard_normal(shape).astype(dtype)
        p, q = nn.Parameter(nabla.tensor(value)), torch.nn.Parameter(torch.tensor(value))
        if not (with_none and i == len(SHAPES) - 1):
            g = (rng.standard_normal(shape) * scale).astype(dtype)
            p.grad, q.grad = nabla.tensor(g), torch.tensor(g)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_vs_torch(norm_type, max_norm, dtype, rng):
    ours, theirs = _twins(rng, dtype)
    norm_n = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    norm_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=float(norm_type))
    assert_close(norm_n, norm_t, what="total norm")
    for p, q in zip(ours, theirs, strict=True):
        if q.grad is None:
            assert p.grad is None
        else:
            assert_close(p.grad, q.grad, what="clipped gradient")


def test_clip_grad_norm_is_in_place_and_bumps_versions(rng):
    ours, _ = _twins(rng, scale=10.0)
    grads = [p.grad for p in ours if p.grad is not None]
    versions = [g._version[0] for g in grads]
    nn.utils.clip_grad_norm_(iter(ours), 1.0)  # a generator works as well as a list
    assert all(p.grad is g for p, g in zip(ours, grads, strict=False))
    assert all(g._version[0] > v for g, v in zip(grads, versions, strict=True))
    total = math.sqrt(sum(float((g._data.astype(np.float64) ** 2).sum()) for g in grads))
    assert total == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_single_tensor_and_no_grads(rng):
    value = rng.standard_normal(6)
    p, q = nabla.tensor(value, requires_grad=True), torch.tensor(value, requires_grad=True)
    p.grad, q.grad = nabla.tensor(value * 3), torch.tensor(value * 3)
    assert_close(nn.utils.clip_grad_norm_(p, 0.1), torch.nn.utils.clip_grad_norm_(q, 0.1))
    assert_close(p.grad, q.grad)
    empty_n = nn.utils.clip_grad_norm_([nabla.zeros(3, requires_grad=True)], 1.0)
    empty_t = torch.nn.utils.clip_grad_norm_([torch.zeros(3, requires_grad=True)], 1.0)
    assert_close(empty_n, empty_t)


def test_clip_grad_norm_nonfinite(rng):
    ours, theirs = _twins(rng)
    ours[0].grad._data[0, 0] = np.nan
    theirs[0].grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="non-finite.*error_if_nonfinite=False"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    norm_n = nn.utils.clip_grad_norm_(ours, 1.0)
    norm_t = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert np.isnan(norm_n.item()) and torch.isnan(norm_t)
    for p, q in zip(ours[:-1], theirs[:-1], strict=True):
        assert_close(p.grad, q.grad)


def test_get_total_norm_and_clip_grads_with_norm_vs_torch(rng):
    ours, theirs = _twins(rng, np.float64)
    grads_n = [p.grad for p in ours if p.grad is not None]
    grads_t = [q.grad for q in theirs if q.grad is not None]
    total_n = nn.utils.get_total_norm(grads_n, 3.0)
    total_t = torch.nn.utils.get_total_norm(grads_t, 3.0)
    assert_close(total_n, total_t)
    nn.utils.clip_grads_with_norm_(ours, 0.7, total_n)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.7, total_t)
    for g, h in zip(grads_n, grads_t, strict=True):
        assert_close(g, h)


@pytest.mark.parametrize("clip_value", [0.3, 5.0])
def test_clip_grad_value_vs_torch(clip_value, rng):
    ours, theirs = _twins(rng, scale=2.0)
    assert nn.utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, q in zip(ours[:-1], theirs[:-1], strict=True):
        assert_close(p.grad, q.grad)


def test_clip_inside_a_training_step_matches_torch(rng):
    """Gradients from a real backward pass, clipped, then an SGD step by hand."""
    x, t = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    w = rng.standard_normal((3, 5))
    wn, wt = nn.Parameter(nabla.tensor(w)), torch.nn.Parameter(torch.tensor(w))
    nn.functional.cross_entropy(nabla.tensor(x) @ wn.T, nabla.tensor(t)).backward()
    torch.nn.functional.cross_entropy(torch.tensor(x) @ wt.T, torch.tensor(t)).backward()
    assert_close(nn.utils.clip_grad_norm_([wn], 0.05), torch.nn.utils.clip_grad_norm_([wt], 0.05))
    assert_close(wn.grad, wt.grad)


def test_parameters_to_vector_vs_torch_and_differentiable(rng):
    ours, theirs = _twins(rng, np.float64, with_none=False)
    vec_n, vec_t = nn.utils.parameters_to_vector(ours), torch.nn.utils.parameters_to_vector(theirs)
    assert_close(vec_n, vec_t)
    u = rng.standard_normal(vec_t.shape)
    for p, q in zip(ours, theirs, strict=True):
        p.grad = q.grad = None
    (vec_n * nabla.tensor(u)).sum().backward()
    (vec_t * torch.tensor(u)).sum().backward()
    for p, q in zip(ours, theirs, strict=True):
        assert_close(p.grad, q.grad)


def test_vector_to_parameters_in_place(rng):
    ours, theirs = _twins(rng, np.float64, with_none=False)
    vec = rng.standard_normal(sum(q.numel() for q in theirs))
    arrays = [p._data for p in ours]
    versions = [p._version[0] for p in ours]
    nn.utils.vector_to_parameters(nabla.tensor(vec), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(vec), theirs)
    for p, q, a, v in zip(ours, theirs, arrays, versions, strict=True):
        assert_close(p, q.detach())
        assert p._data is a, "written in place, into the parameter's own memory"
        assert p._version[0] > v and p.requires_grad and p.grad_fn is None
    round_trip = nn.utils.parameters_to_vector(ours)
    np.testing.assert_array_equal(round_trip._data, vec)


def test_vector_to_parameters_errors():
    params = [nn.Parameter(nabla.zeros(2, 3))]
    with pytest.raises(TypeError, match="vector_to_parameters: expected a Tensor, but got: list"):
        nn.utils.vector_to_parameters([0.0] * 6, params)
    with pytest.raises(ValueError, match="vec has 5 elements but the parameters need 6"):
        nn.utils.vector_to_parameters(nabla.zeros(5), params)
