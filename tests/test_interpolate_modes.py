"""interpolate's 'trilinear' and 'area' modes (and 'nearest' on volumes) against PyTorch: values
and gradients with random upstream gradients, non-contiguous inputs, gradcheck, errors for the
wrong input rank, nn.Upsample, and the ONNX export of both modes."""

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

# (id, input shape, kwargs)
CASES = [
    ("trilinear_scale2", (2, 3, 3, 4, 5), {"scale_factor": 2, "mode": "trilinear"}),
    ("trilinear_frac", (2, 3, 3, 4, 5), {"scale_factor": (1.7, 0.6, 2.3), "mode": "trilinear"}),
    ("trilinear_down", (1, 2, 7, 9, 8), {"scale_factor": 0.45, "mode": "trilinear"}),
    ("trilinear_size", (2, 2, 3, 4, 5), {"size": (5, 3, 7), "mode": "trilinear"}),
    ("trilinear_align", (2, 2, 3, 4, 5),
     {"size": (6, 2, 9), "mode": "trilinear", "align_corners": True}),
    ("trilinear_align_scale", (1, 2, 4, 3, 5),
     {"scale_factor": 1.6, "mode": "trilinear", "align_corners": True}),
    ("trilinear_noalign", (1, 2, 4, 3, 5),
     {"size": (3, 8, 4), "mode": "trilinear", "align_corners": False}),
    ("trilinear_to_1", (1, 2, 3, 4, 2),
     {"size": (1, 3, 1), "mode": "trilinear", "align_corners": True}),
    ("trilinear_recompute", (1, 2, 4, 3, 5),
     {"scale_factor": 1.3, "mode": "trilinear", "recompute_scale_factor": True}),
    ("area_1d_size", (2, 3, 10), {"size": 4, "mode": "area"}),
    ("area_1d_scale_up", (2, 3, 4), {"scale_factor": 2.6, "mode": "area"}),
    ("area_2d_down", (2, 3, 9, 8), {"scale_factor": (0.5, 0.4), "mode": "area"}),
    ("area_2d_divides", (2, 3, 8, 6), {"size": (4, 3), "mode": "area"}),
    ("area_2d_up", (1, 2, 3, 4), {"size": (7, 5), "mode": "area"}),
    ("area_2d_recompute", (1, 2, 7, 5),
     {"scale_factor": 0.7, "mode": "area", "recompute_scale_factor": True}),
    ("area_3d_scale", (1, 2, 7, 5, 6), {"scale_factor": (0.6, 1.5, 0.5), "mode": "area"}),
    ("area_3d_size", (2, 2, 6, 5, 4), {"size": (4, 2, 3), "mode": "area"}),
    ("area_3d_to_1", (1, 3, 4, 5, 6), {"size": 1, "mode": "area"}),
    ("nearest_3d", (1, 2, 3, 4, 5), {"scale_factor": (1.5, 0.7, 2), "mode": "nearest"}),
    ("nearest_exact_3d", (1, 2, 3, 4, 5), {"size": (4, 7, 3), "mode": "nearest-exact"}),
]


def _inputs(rng, shape, dtype, contiguous: bool):
    """Equal nabla and torch leaves, and the views of them passed to interpolate (the last two
    dims swapped back from a transposed array when not contiguous)."""
    if contiguous:
        a = rng.standard_normal(shape).astype(dtype)
        nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        return nx, tx, nx, tx
    a = rng.standard_normal(shape[:-2] + (shape[-1], shape[-2])).astype(dtype)
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    nv, tv = nx.transpose(-1, -2), tx.transpose(-1, -2)
    assert not tv.is_contiguous()
    return nx, tx, nv, tv


@pytest.mark.parametrize("contiguous", [True, False], ids=["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, dtype, contiguous, rng):
    _, shape, kwargs = case
    nx, tx, nv, tv = _inputs(rng, shape, dtype, contiguous)
    ny, ty = F.interpolate(nv, **kwargs), TF.interpolate(tv, **kwargs)
    assert_close(ny, ty, what="output")
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="input grad")


@pytest.mark.parametrize("shape, kwargs", [
    ((1, 2, 2, 3, 3), {"scale_factor": 1.5, "mode": "trilinear"}),
    ((1, 1, 3, 2, 4), {"size": (2, 3, 3), "mode": "trilinear", "align_corners": True}),
    ((1, 2, 5), {"size": 3, "mode": "area"}),
    ((1, 2, 5, 4), {"size": (3, 6), "mode": "area"}),
    ((1, 1, 4, 3, 5), {"scale_factor": 0.7, "mode": "area"}),
], ids=["trilinear", "trilinear_align", "area_1d", "area_2d", "area_3d"])
def test_gradcheck(shape, kwargs, rng):
    x = nabla.tensor(rng.standard_normal(shape), requires_grad=True)
    fn = lambda t: F.interpolate(t, **kwargs)  # noqa: E731
    assert gradcheck(fn, (x,), **GRADCHECK_TOL)
    assert gradgradcheck(fn, (x,), **GRADCHECK_TOL)


@pytest.mark.parametrize("mode, shape", [
    ("trilinear", (1, 2, 3)), ("trilinear", (1, 2, 3, 3)), ("linear", (1, 2, 3, 3, 3)),
    ("bilinear", (1, 2, 3, 3, 3)), ("bicubic", (1, 2, 3, 3, 3)), ("bicubic", (1, 2, 3)),
    ("area", (2, 3)), ("area", (1, 1, 2, 2, 2, 2)), ("nearest", (4,)),
])
def test_wrong_rank_raises_as_torch(mode, shape):
    with pytest.raises(NotImplementedError) as want:
        TF.interpolate(torch.zeros(shape), scale_factor=2, mode=mode)
    with pytest.raises(NotImplementedError) as got:
        F.interpolate(nabla.zeros(*shape), scale_factor=2, mode=mode)
    # the same words, but for the list of modes (nabla has no 'lanczos')
    assert str(want.value).split(" for the modes")[0] in str(got.value)
    assert f"(got {mode})" in str(got.value) or f"{mode} mode needs" in str(got.value)
    assert str(shape) in str(got.value)


def test_option_errors():
    x = nabla.zeros(1, 2, 3, 3, 3)
    with pytest.raises(ValueError, match="align_corners option"):
        F.interpolate(x, scale_factor=2, mode="area", align_corners=False)
    with pytest.raises(ValueError, match="recompute_scale_factor"):
        F.interpolate(x, size=4, mode="trilinear", recompute_scale_factor=True)
    with pytest.raises(ValueError, match="3 entries"):
        F.interpolate(x, size=(4, 4), mode="area")


MODULES = [
    ("trilinear", lambda m: m.Upsample(scale_factor=1.5, mode="trilinear"), (2, 2, 3, 4, 3)),
    ("trilinear_align", lambda m: m.Upsample(size=(4, 5, 2), mode="trilinear",
                                             align_corners=True), (1, 2, 3, 4, 3)),
    ("area", lambda m: m.Upsample(size=(3, 2), mode="area"), (2, 3, 7, 5)),
    ("area_3d", lambda m: m.Upsample(scale_factor=0.5, mode="area"), (1, 2, 5, 4, 6)),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_upsample_matches_torch(case, rng):
    _, make, shape = case
    nmod, tmod = make(nn), make(tnn)
    assert repr(nmod) == repr(tmod)
    run_twins(nmod, tmod, [shape], torch.float32, rng)


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_onnx_export_matches_nabla(case, rng, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    _, make, shape = case
    model = make(nn)
    x = nabla.tensor(rng.standard_normal(shape).astype(np.float32))
    path = tmp_path / "upsample.onnx"
    nabla.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x2 = np.resize(x.numpy(), (shape[0] + 2,) + shape[1:])
    for xi in (x.numpy(), x2):
        with nabla.no_grad():
            want = model(nabla.tensor(xi)).numpy()
        (got,) = session.run(None, {"x": xi})
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
