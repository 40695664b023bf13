"""nabla.amp against torch.amp on the CPU: GradScaler's scale trajectory, skipped steps, unscaled
gradients, errors and state_dict; the disabled scaler and autocast of a device nabla lacks."""

import warnings

import numpy as np
import pytest
import torch

import nabla
from nabla import nn, optim


def _models(seed: int):
    t_model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    n_model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    rng = np.random.default_rng(seed)
    for p in t_model.parameters():
        p.data = torch.tensor(rng.normal(size=tuple(p.shape)).astype(np.float32))
    n_model.load_state_dict({k: nabla.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    return t_model, n_model, rng


def _train(lib, model, scaler, data, clip=None):
    """Scaled SGD steps with the usual loop; returns each step's (scale, stepped, tracker)."""
    functional = torch.nn.functional if lib is torch else nn.functional
    opt = (torch.optim if lib is torch else optim).SGD(model.parameters(), lr=1e-4, momentum=0.9)
    record = []
    for x, y in data:
        opt.zero_grad()
        loss = functional.mse_loss(model(lib.tensor(x)), lib.tensor(y), reduction="sum")
        scaler.scale(loss).backward()
        if clip is not None:
            scaler.unscale_(opt)
            clip_ = torch.nn.utils.clip_grad_norm_ if lib is torch else nn.utils.clip_grad_norm_
            clip_(model.parameters(), clip)
        before = [p.detach().numpy().copy() for p in model.parameters()]
        scaler.step(opt)
        stepped = any((p.detach().numpy() != b).any() for p, b in zip(model.parameters(), before))
        scaler.update()
        record.append((scaler.get_scale(), stepped, scaler.state_dict()["_growth_tracker"]))
    return record


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's, on the overflowing steps
@pytest.mark.parametrize("clip", [None, 0.5])
def test_grad_scaler_backs_off_skips_and_grows_as_torch(clip):
    """Gradients of ~1e4 times a scale of 2**120 overflow float32: steps are skipped and the
    scale halves until they are finite, then it doubles after 3 clean steps, overflows again."""
    t_model, n_model, rng = _models(0)
    data = [(rng.normal(size=(16, 5)).astype(np.float32),
             1e3 * rng.normal(size=(16, 3)).astype(np.float32)) for _ in range(16)]
    kwargs = dict(init_scale=2.0**120, growth_interval=3)
    t_scaler = torch.amp.GradScaler("cpu", **kwargs)
    n_scaler = nabla.amp.GradScaler("cpu", **kwargs)
    want = _train(torch, t_model, t_scaler, data, clip)
    got = _train(nabla, n_model, n_scaler, data, clip)
    assert got == want  # scale, skipped or not, growth tracker: step by step
    stepped = [w[1] for w in want]
    assert not stepped[0] and stepped.count(True) >= 4 and stepped[4:].count(False) >= 1
    assert any(a[0] > b[0] for a, b in zip(want[1:], want))  # grew at least once
    assert n_scaler.state_dict() == t_scaler.state_dict()
    for (name, t), n in zip(t_model.state_dict().items(), n_model.state_dict().values()):
        np.testing.assert_allclose(n.numpy(), t.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def test_unscale_gives_the_true_gradients_and_step_returns_the_optimizers_result():
    t_model, n_model, rng = _models(1)
    x, y = rng.normal(size=(4, 5)).astype(np.float32), rng.integers(0, 3, 4)
    grads = []
    for lib, model in ((torch, t_model), (nabla, n_model)):
        functional = torch.nn.functional if lib is torch else nn.functional
        model.zero_grad()
        functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y)).backward()
        plain = [p.grad.numpy().copy() for p in model.parameters()]
        model.zero_grad()
        scaler = lib.amp.GradScaler("cpu", init_scale=1024.0)
        scaler.scale(functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))).backward()
        scaler.unscale_(model_opt := (torch.optim if lib is torch else optim).SGD(
            model.parameters(), lr=0.0))
        grads.append([p.grad.numpy() for p in model.parameters()])
        for a, b in zip(grads[-1], plain):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
        assert scaler.step(model_opt) is None  # SGD.step returns None (the loss of no closure)
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)


def test_scale_accepts_nested_tensors_and_keeps_the_dtype():
    scaler = nabla.amp.GradScaler("cpu", init_scale=8.0)
    a, b = nabla.tensor([1.0, 2.0], dtype=nabla.float16), nabla.tensor(3.0, dtype=nabla.float64)
    out = scaler.scale([a, (b,)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    assert out[0].dtype == nabla.float16 and out[1][0].dtype == nabla.float64
    np.testing.assert_array_equal(out[0].numpy(), [8.0, 16.0])
    assert out[1][0].item() == 24.0
    with pytest.raises(ValueError, match="must be a Tensor"):
        scaler.scale(3.0)


def _stepped_scaler(lib):
    model = (torch.nn if lib is torch else nn).Linear(2, 1)
    opt = (torch.optim if lib is torch else optim).SGD(model.parameters(), lr=0.1)
    scaler = lib.amp.GradScaler("cpu")
    scaler.scale(model(lib.ones(1, 2)).sum()).backward()
    return scaler, opt, model


@pytest.mark.parametrize("misuse, error, match", [
    (lambda s, o: (s.unscale_(o), s.unscale_(o)), RuntimeError, "already been called on this"),
    (lambda s, o: (s.step(o), s.unscale_(o)), RuntimeError, "called after step"),
    (lambda s, o: (s.step(o), s.step(o)), RuntimeError, "step\\(\\) has already been called"),
    (lambda s, o: s.step(o, closure=lambda: 0.0), RuntimeError, "Closure use"),
])
def test_grad_scaler_misuse_raises_as_torch(misuse, error, match):
    for lib in (torch, nabla):
        scaler, opt, _ = _stepped_scaler(lib)
        with pytest.raises(error, match=match):
            misuse(scaler, opt)


def test_update_or_step_without_gradients_raise_as_torch():
    for lib in (torch, nabla):
        scaler, opt, model = _stepped_scaler(lib)
        with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
            scaler.update()
        model.zero_grad(set_to_none=True)
        with pytest.raises(AssertionError, match="No inf checks were recorded for this"):
            scaler.step(opt)


def test_float16_gradients_are_refused_and_new_scale_is_taken():
    p = nabla.zeros(2, dtype=nabla.float16, requires_grad=True)
    p.grad = nabla.ones(2, dtype=nabla.float16)
    scaler = nabla.amp.GradScaler("cpu")
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.unscale_(optim.SGD([p], lr=0.1))
    scaler.update(new_scale=4.0)
    assert scaler.get_scale() == 4.0
    scaler.update(new_scale=nabla.tensor(2.0))
    assert scaler.get_scale() == 2.0


def test_state_dict_round_trip_resumes_the_scale_and_refuses_an_empty_dict(tmp_path):
    scaler = nabla.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=7)
    scaler.update(new_scale=512.0)
    scaler._growth_tracker = 5
    nabla.save({"scaler": scaler.state_dict()}, tmp_path / "ckpt.pt")
    other = nabla.amp.GradScaler("cpu")
    other.load_state_dict(nabla.load(tmp_path / "ckpt.pt")["scaler"])
    assert other.state_dict() == scaler.state_dict()
    assert other.get_scale() == 512.0 and other.get_growth_interval() == 7
    with pytest.raises(RuntimeError, match="state dict is empty"):
        other.load_state_dict({})
    other.set_growth_factor(4.0)
    other.set_backoff_factor(0.25)
    other.set_growth_interval(3)
    assert (other.get_growth_factor(), other.get_backoff_factor(),
            other.get_growth_interval()) == (4.0, 0.25, 3)


def test_bad_factors_raise():
    with pytest.raises(ValueError, match="growth_factor must be > 1.0"):
        nabla.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(ValueError, match="backoff_factor must be < 1.0"):
        nabla.amp.GradScaler("cpu", backoff_factor=1.0)


def test_a_cuda_scaler_warns_and_passes_through_as_torch_without_cuda():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.warns(UserWarning, match="nabla does not have"):
        scaler = nabla.amp.GradScaler()  # device "cuda", PyTorch's default
    loss = model(nabla.ones(1, 2)).sum()
    assert scaler.scale(loss) is loss and not scaler.is_enabled()
    loss.backward()
    before = model.weight.detach().numpy().copy()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(model.weight.detach().numpy(), before - 0.1, rtol=1e-6)
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    scaler.load_state_dict({})  # a disabled scaler ignores it, as PyTorch's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not nabla.amp.GradScaler(enabled=False).is_enabled()


def test_torch_cuda_amp_imports_port_unchanged():
    from nabla.cuda.amp import GradScaler, autocast

    with pytest.warns(FutureWarning, match="deprecated"), pytest.warns(UserWarning):
        scaler = GradScaler()
    assert not scaler.is_enabled() and isinstance(scaler, nabla.amp.GradScaler)
    with pytest.warns(FutureWarning, match="deprecated"):
        ctx = autocast(enabled=False)
    with ctx:
        assert not nabla.is_autocast_enabled()


def test_autocast_runs_in_full_precision_and_says_so():
    x = nabla.ones(2, 3)
    w = nabla.ones(3, 4)
    with pytest.warns(UserWarning, match="full precision"):
        with nabla.autocast(device_type="cpu", dtype=nabla.float16):
            y = x @ w
            assert not nabla.is_autocast_enabled("cpu")
    assert y.dtype == nabla.float32
    with pytest.warns(UserWarning, match="'cuda' is not available"):
        nabla.amp.autocast("cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        @nabla.autocast("cpu", enabled=False)
        def double(t):
            return t * 2

        assert double(nabla.ones(1)).item() == 2.0
        assert double.__name__ == "double"
    with pytest.raises(ValueError, match="device_type of type str"):
        nabla.autocast(0)
