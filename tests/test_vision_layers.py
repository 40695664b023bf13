"""Vision layers vs PyTorch: interpolate / Upsample (nearest, bilinear, linear, align_corners),
pixel_shuffle / PixelShuffle, BatchNorm2d and Dropout2d in a CNN, and a LeNet-5 training step
compared step by step."""

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

# (id, function name, input shape, kwargs)
CASES = [
    ("nearest_scale2", "interpolate", (2, 3, 5, 4), {"scale_factor": 2}),
    ("nearest_size", "interpolate", (2, 3, 5, 4), {"size": (7, 3)}),
    ("nearest_scale_frac", "interpolate", (2, 3, 5, 4), {"scale_factor": (1.5, 0.7)}),
    ("nearest_exact", "interpolate", (2, 3, 5, 4), {"size": (7, 9), "mode": "nearest-exact"}),
    ("nearest_1d", "interpolate", (2, 3, 5), {"scale_factor": 1.5}),
    ("bilinear_scale", "interpolate", (2, 3, 5, 4), {"scale_factor": 1.7, "mode": "bilinear"}),
    ("bilinear_align", "interpolate", (2, 3, 5, 4),
     {"size": (8, 3), "mode": "bilinear", "align_corners": True}),
    ("bilinear_noalign", "interpolate", (2, 3, 5, 4),
     {"size": (8, 3), "mode": "bilinear", "align_corners": False}),
    ("bilinear_to_1", "interpolate", (1, 2, 4, 4),
     {"size": (1, 3), "mode": "bilinear", "align_corners": True}),
    ("linear_recompute", "interpolate", (2, 3, 5),
     {"scale_factor": 2.5, "mode": "linear", "recompute_scale_factor": True}),
    ("linear_align", "interpolate", (2, 3, 5), {"size": 9, "mode": "linear",
                                                "align_corners": True}),
    ("bicubic_scale", "interpolate", (2, 3, 5, 4), {"scale_factor": 2, "mode": "bicubic"}),
    ("bicubic_down", "interpolate", (2, 3, 9, 8),
     {"scale_factor": (0.6, 0.45), "mode": "bicubic"}),
    ("bicubic_align", "interpolate", (2, 3, 5, 4),
     {"size": (8, 3), "mode": "bicubic", "align_corners": True}),
    ("bicubic_noalign", "interpolate", (2, 3, 5, 4),
     {"size": (11, 7), "mode": "bicubic", "align_corners": False}),
    ("bicubic_tiny", "interpolate", (1, 2, 1, 2), {"size": (3, 5), "mode": "bicubic"}),
    ("bicubic_recompute", "interpolate", (1, 2, 4, 6),
     {"scale_factor": 1.3, "mode": "bicubic", "recompute_scale_factor": True}),
    ("pixel_shuffle", "pixel_shuffle", (2, 12, 3, 4), {"upscale_factor": 2}),
    ("pixel_shuffle_5d", "pixel_shuffle", (2, 2, 18, 2, 3), {"upscale_factor": 3}),
    ("pixel_unshuffle", "pixel_unshuffle", (2, 3, 6, 4), {"downscale_factor": 2}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, dtype, rng):
    _, name, shape, kwargs = case
    a = rng.standard_normal(shape).astype(dtype)
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ny, ty = getattr(F, name)(nx, **kwargs), getattr(TF, name)(tx, **kwargs)
    assert_close(ny, ty, what="output")
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="input grad")


@pytest.mark.parametrize("kwargs", [{"scale_factor": 2, "mode": "bilinear"},
                                    {"size": (5, 3), "mode": "bicubic"},
                                    {"size": (3, 5), "mode": "nearest"}])
def test_interpolate_gradcheck(kwargs, rng):
    x = nabla.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    fn = lambda t: F.interpolate(t, **kwargs)  # noqa: E731
    assert gradcheck(fn, (x,), **GRADCHECK_TOL)
    assert gradgradcheck(fn, (x,), **GRADCHECK_TOL)


def test_interpolate_errors():
    x = nabla.zeros(1, 2, 3, 3)
    with pytest.raises(ValueError, match="size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="lanczos"):
        F.interpolate(x, scale_factor=2, mode="lanczos")
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(x, scale_factor=0.5, mode="bicubic", antialias=True)
    with pytest.raises(NotImplementedError, match="got bicubic"):
        F.interpolate(nabla.zeros(1, 2, 3), scale_factor=2, mode="bicubic")
    with pytest.raises(RuntimeError, match="divisible"):
        F.pixel_shuffle(x, 2)


MODULES = [
    ("upsample_nearest", lambda m: m.Upsample(scale_factor=2), (2, 3, 4, 5)),
    ("upsample_bilinear", lambda m: m.Upsample(size=(5, 7), mode="bilinear",
                                               align_corners=False), (2, 3, 4, 5)),
    ("upsampling_bilinear2d", lambda m: m.UpsamplingBilinear2d(scale_factor=2), (1, 2, 3, 3)),
    ("upsampling_nearest2d", lambda m: m.UpsamplingNearest2d(size=5), (1, 2, 3, 3)),
    ("pixel_shuffle", lambda m: m.PixelShuffle(2), (2, 8, 3, 3)),
    ("pixel_unshuffle", lambda m: m.PixelUnshuffle(2), (2, 2, 4, 6)),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_modules_match_torch(case, rng):
    _, make, shape = case
    nmod, tmod = make(nn), make(tnn)
    assert repr(nmod) == repr(tmod)
    run_twins(nmod, tmod, [shape], torch.float32, rng)


def _cnn(m):
    return m.Sequential(
        m.Conv2d(3, 8, 3, padding=1), m.BatchNorm2d(8), m.ReLU(), m.Dropout2d(0.5),
        m.MaxPool2d(2), m.Conv2d(8, 4, 3, groups=2), m.BatchNorm2d(4, momentum=0.3), m.ReLU(),
        m.AdaptiveAvgPool2d(1), m.Flatten(), m.Linear(4, 3))


def test_cnn_with_batchnorm2d_train_eval_matches_torch(rng):
    """BatchNorm2d (running stats, momentum, eval) and Dropout2d inside a CNN, state copied from
    PyTorch; Dropout2d is compared in eval mode (the masks come from different generators)."""
    tmod, nmod = _cnn(tnn), _cnn(nn)
    assert list(nmod.state_dict()) == list(tmod.state_dict())
    nmod.load_state_dict(tmod.state_dict())
    for m in (tmod, nmod):
        m.train()
        m[3].eval()  # Dropout2d off, the rest training
    for step in range(3):
        a = rng.standard_normal((4, 3, 8, 8)).astype(np.float32) * 2 + 1
        nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        ny, ty = nmod(nx), tmod(tx)
        assert_close(ny, ty, what=f"output at step {step}")
        g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
        nmod.zero_grad()
        tmod.zero_grad()
        ny.backward(nabla.tensor(g))
        ty.backward(torch.tensor(g))
        assert_close(nx.grad, tx.grad, what="input grad")
        for (name, tp), (_, np_) in zip(tmod.named_parameters(), nmod.named_parameters()):
            assert_close(np_.grad, tp.grad, what=f"grad of {name}")
    for (name, tb), (_, nb) in zip(tmod.named_buffers(), nmod.named_buffers(), strict=True):
        assert_close(nb, tb, what=f"buffer {name}")
    tmod.eval()
    nmod.eval()
    a = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    assert_close(nmod(nabla.tensor(a)), tmod(torch.tensor(a)), what="eval output")


def test_dropout2d_zeroes_whole_channels(rng):
    x = nabla.tensor(rng.standard_normal((8, 16, 5, 5)).astype(np.float32) + 10)
    y = nn.Dropout2d(0.5)(x).numpy()
    per_channel = (y == 0).reshape(8, 16, -1)
    assert (per_channel.all(-1) | ~per_channel.any(-1)).all()  # all or nothing per channel
    assert 0.2 < per_channel.all(-1).mean() < 0.8
    kept = y[~per_channel.all(-1)]
    np.testing.assert_allclose(kept, x.numpy()[~per_channel.all(-1)] * 2, rtol=1e-6)


def _lenet(m):
    return m.Sequential(
        m.Conv2d(1, 6, 5, padding=2), m.ReLU(), m.MaxPool2d(2), m.Conv2d(6, 16, 5), m.ReLU(),
        m.AvgPool2d(2), m.Flatten(), m.Linear(400, 120), m.ReLU(), m.Linear(120, 84), m.ReLU(),
        m.Linear(84, 10))


def test_lenet5_sgd_steps_match_torch(rng):
    import nabla.optim

    tmod, nmod = _lenet(tnn), _lenet(nn)
    nmod.load_state_dict(tmod.state_dict())
    topt = torch.optim.SGD(tmod.parameters(), lr=0.05, momentum=0.9)
    nopt = nabla.optim.SGD(nmod.parameters(), lr=0.05, momentum=0.9)
    for _ in range(3):
        a = rng.standard_normal((8, 1, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, 8)
        nloss = F.cross_entropy(nmod(nabla.tensor(a)), nabla.tensor(y))
        tloss = TF.cross_entropy(tmod(torch.tensor(a)), torch.tensor(y))
        assert_close(nloss, tloss, what="loss")
        for opt, loss in ((nopt, nloss), (topt, tloss)):
            opt.zero_grad()
            loss.backward()
            opt.step()
    for (name, tp), (_, np_) in zip(tmod.named_parameters(), nmod.named_parameters()):
        np.testing.assert_allclose(np_.detach().numpy(), tp.detach().numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=name)
