"""The factory functions' placement keywords (device, layout, pin_memory) and memory formats
(contiguous_format, channels_last, channels_last_3d, preserve_format) against PyTorch: the
same strides, values and gradients; clear errors for what nabla cannot place."""

import numpy as np
import pytest
import torch

import nabla
from nabla import nn

FORMATS = ["contiguous_format", "channels_last", "preserve_format"]


def _pair(shape, seed=0, layout=None):
    """The same values in nabla and torch; layout "t": a transposed (non-contiguous) view,
    "cl": channels-last memory, "expand": dimension 0 repeated through a 0 stride, "slice":
    every other element of the last dimension."""
    x = np.random.default_rng(seed).normal(size=shape)
    n, t = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if layout == "expand":
        return n[:1].expand(*shape), t[:1].expand(*shape)
    if layout == "slice":
        return n[..., ::2], t[..., ::2]
    if layout == "t":
        return n.transpose(1, 2), t.transpose(1, 2)
    if layout == "cl":
        return (n.contiguous(memory_format=nabla.channels_last),
                t.contiguous(memory_format=torch.channels_last))
    return n, t


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_placement_keywords(name):
    out = getattr(nabla, name)(2, 3, device="cpu", layout=nabla.strided, pin_memory=False,
                              requires_grad=True)
    assert out.shape == (2, 3) and out.requires_grad and out.is_contiguous()
    assert getattr(nabla, name)((2,), device=nabla.device("cpu")).shape == (2,)
    for kwargs, match in [(dict(device="cuda"), "device 'cuda' is not available"),
                          (dict(device="cuda:1"), "device 'cuda:1' is not available"),
                          (dict(pin_memory=True), "pin_memory=True"),
                          (dict(layout="sparse"), "layout 'sparse' is not supported")]:
        with pytest.raises(RuntimeError, match=match):
            getattr(nabla, name)(2, **kwargs)


def test_other_factories_take_placement_keywords():
    cpu = dict(device="cpu", layout=nabla.strided, pin_memory=False)
    assert nabla.full((2,), 3.0, **cpu).tolist() == [3.0, 3.0]
    assert nabla.arange(3, **cpu).tolist() == [0, 1, 2]
    assert nabla.linspace(0, 1, 3, **cpu).tolist() == [0.0, 0.5, 1.0]
    assert nabla.eye(2, **cpu).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert nabla.randint(0, 5, (4,), **cpu).shape == (4,)
    assert sorted(nabla.randperm(4, **cpu).tolist()) == [0, 1, 2, 3]
    assert nabla.tensor([1.0], device="cpu", pin_memory=False).tolist() == [1.0]
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        nabla.tensor([1.0], device="cuda")
    with pytest.raises(RuntimeError, match="device 'mps' is not available"):
        nabla.as_tensor([1.0], device="mps")


@pytest.mark.parametrize("layout", [None, "t", "cl", "expand", "slice"])
@pytest.mark.parametrize("fmt", FORMATS + [None])
@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "full_like",
                                  "rand_like", "randn_like", "randint_like"])
def test_like_functions_lay_out_as_torch(name, fmt, layout):
    shape = (2, 3, 4, 5)
    n, t = _pair(shape, layout=layout)
    args = {"full_like": (7.0,), "randint_like": (0, 9)}.get(name, ())
    n_kw = {} if fmt is None else {"memory_format": getattr(nabla, fmt)}
    t_kw = {} if fmt is None else {"memory_format": getattr(torch, fmt)}
    got = getattr(nabla, name)(n, *args, device="cpu", **n_kw)
    want = getattr(torch, name)(t, *args, device="cpu", **t_kw)
    assert got.stride() == want.stride() and got.shape == tuple(want.shape)
    assert got.dtype == nabla.float64 and not got.requires_grad
    if name in ("zeros_like", "ones_like", "full_like"):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_like_functions_take_dtype_and_requires_grad():
    x = nabla.ones(2, 3, dtype=nabla.float64)
    out = nabla.zeros_like(x, dtype=nabla.float32, requires_grad=True, device="cpu",
                           layout=nabla.strided)
    assert out.dtype == nabla.float32 and out.requires_grad and out.is_leaf
    assert nabla.randn_like(x, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="not available"):
        nabla.ones_like(x, device="cuda")


@pytest.mark.parametrize("fmt", ["channels_last", "contiguous_format"])
@pytest.mark.parametrize("layout", [None, "t", "cl"])
def test_contiguous_and_clone_in_a_format_match_torch_with_gradients(fmt, layout):
    n, t = _pair((2, 3, 4, 5), seed=1, layout=layout)
    got, want = n.contiguous(memory_format=getattr(nabla, fmt)), \
        t.contiguous(memory_format=getattr(torch, fmt))
    assert got.stride() == want.stride()
    assert (got is n) == (want is t)  # itself when already laid out so
    for f in FORMATS[:2]:
        assert got.is_contiguous(memory_format=getattr(nabla, f)) == \
            want.is_contiguous(memory_format=getattr(torch, f))
    clone_n = n.clone(memory_format=getattr(nabla, fmt))
    clone_t = t.clone(memory_format=getattr(torch, fmt))
    assert clone_n.stride() == clone_t.stride()
    g = np.random.default_rng(2).normal(size=tuple(got.shape))
    got_grad = nabla.autograd.grad((got * clone_n * nabla.tensor(g)).sum(), n)[0]
    want_grad = torch.autograd.grad((want * clone_t * torch.tensor(g)).sum(), t)[0]
    np.testing.assert_allclose(got_grad.numpy(), want_grad.numpy(), rtol=1e-12)


def test_clone_preserve_format_keeps_the_strides_and_the_default_copies_row_major():
    n, t = _pair((2, 3, 4), layout="t")
    assert n.clone(memory_format=nabla.preserve_format).stride() == \
        t.clone(memory_format=torch.preserve_format).stride()
    assert n.clone().is_contiguous()  # nabla's default: row-major (documented difference)


def test_channels_last_3d_and_rank_errors():
    n, t = _pair((2, 3, 2, 4, 5))
    assert n.contiguous(memory_format=nabla.channels_last_3d).stride() == \
        t.contiguous(memory_format=torch.channels_last_3d).stride()
    x = nabla.ones(2, 3, 4)
    assert not x.is_contiguous(memory_format=nabla.channels_last)  # False for a 3-D, as torch
    with pytest.raises(RuntimeError, match="channels_last needs a 4-D tensor, got 3-D"):
        x.contiguous(memory_format=nabla.channels_last)
    with pytest.raises(RuntimeError, match="preserve_format is not a layout"):
        x.contiguous(memory_format=nabla.preserve_format)
    with pytest.raises(TypeError, match="memory_format must be"):
        nabla.empty(2, memory_format="channels_last")
    assert nabla.empty(2, 3, 4, 5, memory_format=nabla.channels_last).stride() == \
        torch.empty(2, 3, 4, 5, memory_format=torch.channels_last).stride()
    assert repr(nabla.channels_last) == "nabla.channels_last"
    assert isinstance(nabla.contiguous_format, nabla.memory_format)


def test_tensor_to_takes_copy_non_blocking_and_memory_format_as_torch():
    n, t = _pair((2, 3, 4, 5))
    for kwargs in [{}, {"copy": True}, {"non_blocking": True}, {"device": "cpu"}]:
        assert (n.to(**kwargs) is n) == (t.to(**kwargs) is t), kwargs
    assert (n.to(nabla.float64, False, True) is n) == (t.to(torch.float64, False, True) is t)
    got = n.to(nabla.float32, memory_format=nabla.channels_last)
    want = t.to(torch.float32, memory_format=torch.channels_last)
    assert got.stride() == want.stride() and got.dtype == nabla.float32
    assert n.to(memory_format=nabla.preserve_format) is n
    with pytest.raises(RuntimeError, match="not available"):
        n.to(device="cuda")


def test_new_factories_take_placement_keywords():
    x = nabla.ones(2, dtype=nabla.float64)
    z = x.new_zeros((3,), device="cpu", requires_grad=True)
    assert z.dtype == nabla.float64 and z.requires_grad
    assert x.new_ones(2, device="cpu").tolist() == [1.0, 1.0]
    assert x.new_full((2,), 5.0, device="cpu").tolist() == [5.0, 5.0]
    assert x.new_empty((2, 2), device="cpu", pin_memory=False).shape == (2, 2)
    assert x.new_tensor([1, 2], device="cpu").dtype == nabla.float64
    with pytest.raises(RuntimeError, match="not available"):
        x.new_zeros(2, device="cuda")


def test_module_to_channels_last_lays_out_conv_weights_and_computes_the_same():
    t_model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(),
                                  torch.nn.Linear(4 * 6 * 6, 2)).double()
    n_model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)).double()
    n_model.load_state_dict({k: nabla.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    assert n_model.to(memory_format=nabla.channels_last) is n_model
    t_model.to(memory_format=torch.channels_last)
    for (name, a), b in zip(n_model.named_parameters(), t_model.parameters()):
        assert a.stride() == b.stride(), name
    x = np.random.default_rng(3).normal(size=(2, 3, 8, 8))
    got = n_model(nabla.tensor(x).to(memory_format=nabla.channels_last))
    want = t_model(torch.tensor(x).to(memory_format=torch.channels_last))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10)
    n_model.to(memory_format=nabla.contiguous_format)
    assert n_model[0].weight.is_contiguous()


def test_pin_memory_raises_as_torch_without_an_accelerator():
    x = nabla.ones(2)
    assert not x.is_pinned()
    with pytest.raises(RuntimeError, match="pinned memory is for copies to a GPU"):
        x.pin_memory()
    with pytest.raises(RuntimeError):  # the oracle, on the same machine
        torch.ones(2).pin_memory()


@pytest.mark.parametrize("name", ["detach", "conj", "conj_physical", "resolve_conj",
                                  "resolve_neg", "adjoint"])
def test_torchs_functions_of_tensor_methods(name):
    n, t = _pair((2, 3, 4))
    got, want = getattr(nabla, name)(n), getattr(torch, name)(t)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    assert got.stride() == want.stride() and got.requires_grad == want.requires_grad
    assert nabla.short is nabla.int16 and nabla.ones(1, dtype=nabla.short).dtype == nabla.int16
