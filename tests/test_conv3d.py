"""3-D convolution and pooling (volumes) vs PyTorch: conv3d, conv_transpose3d, max/avg/adaptive
pooling 3d and max_unpool3d (forward, backward with random upstream gradients, float32 and
float64), float64 finite differences and double backward of the convolutions (the 3-D
pooling's are in test_pooling.py's table), clear errors, the layers after copying a PyTorch
layer's state_dict, and nabla.summary on a 3-D model."""

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL, assert_close, check_against_torch, run_twins, twin_inputs

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.autograd import gradcheck, gradgradcheck
from nabla.nn.utils.conv_utils import conv_output_size

DTYPES = [np.float32, np.float64]

# (id, function name, input shapes (input, weight[, bias]), kwargs)
CONV_CASES = [
    ("basic", "conv3d", [(2, 3, 5, 6, 4), (4, 3, 3, 3, 3), (4,)], {}),
    ("stride_pad_dil", "conv3d", [(2, 4, 7, 6, 8), (6, 4, 3, 2, 1), (6,)],
     {"stride": (2, 1, 3), "padding": (1, 0, 2), "dilation": (1, 2, 1)}),
    ("groups", "conv3d", [(2, 6, 5, 5, 5), (4, 3, 3, 1, 2), (4,)], {"groups": 2, "padding": 1}),
    ("depthwise", "conv3d", [(1, 4, 5, 6, 5), (8, 1, 2, 2, 2)], {"groups": 4, "stride": 2}),
    ("same_even_kernel", "conv3d", [(1, 2, 5, 4, 6), (3, 2, 4, 3, 2), (3,)],
     {"padding": "same", "dilation": (1, 2, 1)}),
    ("valid_1x1x1", "conv3d", [(3, 5, 2, 3, 2), (2, 5, 1, 1, 1)], {"padding": "valid"}),
    ("unbatched", "conv3d", [(3, 4, 5, 4), (2, 3, 2, 3, 2), (2,)], {"padding": 1}),
    ("one_output_voxel", "conv3d", [(2, 2, 3, 3, 3), (3, 2, 3, 3, 3), (3,)], {}),
    ("empty_batch", "conv3d", [(0, 2, 4, 4, 4), (3, 2, 2, 2, 2), (3,)], {}),
    ("t_basic", "conv_transpose3d", [(2, 4, 3, 2, 3), (4, 3, 3, 3, 2), (3,)], {}),
    ("t_stride_outpad", "conv_transpose3d", [(2, 4, 3, 2, 3), (4, 3, 3, 2, 3), (3,)],
     {"stride": (2, 3, 1), "padding": (1, 0, 1), "output_padding": (1, 2, 0)}),
    ("t_groups_dil", "conv_transpose3d", [(2, 6, 3, 3, 2), (6, 2, 2, 3, 2), (6,)],
     {"groups": 3, "dilation": 2, "stride": 2, "output_padding": 1}),
    ("t_outpad_over_stride", "conv_transpose3d", [(1, 2, 4, 3, 3), (2, 3, 3, 2, 2)],
     {"dilation": 2, "output_padding": 1}),
    ("t_unbatched", "conv_transpose3d", [(4, 2, 3, 2), (4, 2, 2, 2, 2), (2,)], {"stride": 2}),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv3d_matches_torch(case, dtype, rng):
    _, name, shapes, kwargs = case
    check_against_torch(getattr(F, name), getattr(TF, name), shapes, kwargs, dtype, rng)


@pytest.mark.parametrize("case", [CONV_CASES[1], CONV_CASES[2], CONV_CASES[11]],
                         ids=lambda c: c[0])
def test_conv3d_in_chunks_on_two_threads(case, rng, monkeypatch):
    """The batch is processed a chunk of samples at a time, the chunks split over two threads
    when the work is large: one sample per chunk, threads forced on, gives the same results."""
    im2col = nabla.nn.functional._im2col
    monkeypatch.setattr(im2col, "_CHUNK_BYTES", 1)
    monkeypatch.setattr(im2col, "_THREAD_MIN_MACS", 0)
    _, name, shapes, kwargs = case
    check_against_torch(getattr(F, name), getattr(TF, name), shapes, kwargs, np.float64, rng)


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False),
                                   (False, False, True)], ids=["input", "weight", "bias"])
def test_conv3d_backward_of_one_argument(needs, rng):
    shapes = [(2, 4, 5, 4, 5), (6, 2, 2, 3, 2), (6,)]
    arrays = [rng.standard_normal(s) for s in shapes]
    nx = [nabla.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)]
    tx = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)]
    kw = {"groups": 2, "stride": (1, 2, 1), "padding": 1}
    ny, ty = F.conv3d(*nx, **kw), TF.conv3d(*tx, **kw)
    g = rng.standard_normal(tuple(ty.shape))
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    for a, b, r in zip(nx, tx, needs):
        assert (a.grad is None) == (not r)
        if r:
            assert_close(a.grad, b.grad, what="grad")


def test_conv3d_noncontiguous_input(rng):
    a = rng.standard_normal((2, 4, 5, 6, 3)).astype(np.float32)
    w = rng.standard_normal((4, 3, 2, 3, 2)).astype(np.float32)
    nx = nabla.tensor(a).permute(0, 4, 1, 2, 3)  # (2, 3, 4, 5, 6), not contiguous
    kw = {"stride": (1, 2, 1), "padding": 1}
    assert_close(F.conv3d(nx, nabla.tensor(w), **kw),
                 TF.conv3d(torch.tensor(a).permute(0, 4, 1, 2, 3), torch.tensor(w), **kw))


GRADCHECK_CASES = [
    ("conv3d", [(1, 2, 4, 3, 3), (4, 1, 2, 2, 1), (4,)],
     {"stride": (2, 1, 1), "padding": (1, 0, 1), "dilation": (1, 2, 1), "groups": 2}),
    ("conv_transpose3d", [(1, 2, 2, 3, 2), (2, 2, 2, 1, 2), (4,)],
     {"stride": 2, "padding": (1, 0, 0), "output_padding": (1, 0, 1), "groups": 2}),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_conv3d_gradcheck_and_gradgradcheck(case, rng):
    """First derivatives, and second ones (conv <-> transposed conv <-> weight correlation),
    against float64 finite differences."""
    name, shapes, kwargs = case
    inputs = tuple(nabla.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    fn = lambda *a: getattr(F, name)(*a, **kwargs)  # noqa: E731
    assert gradcheck(fn, inputs, **GRADCHECK_TOL)
    assert gradgradcheck(fn, inputs, **GRADCHECK_TOL)


@pytest.mark.parametrize("name", ["conv3d", "conv_transpose3d"])
def test_conv3d_double_backward_matches_torch(name, rng):
    """d/d(x, w, g) of <dL/dx, u> + <dL/dw, v> for L = <conv(x, w), g>, vs PyTorch."""
    x_shape, w_shape = ((2, 4, 4, 5, 3), (6, 2, 2, 3, 2)) if name == "conv3d" else \
        ((2, 4, 3, 2, 3), (4, 3, 2, 2, 2))
    kw = {"stride": 2, "padding": 1, "groups": 2}
    if name == "conv_transpose3d":
        kw["output_padding"] = 1
    y_shape = tuple(getattr(TF, name)(torch.zeros(x_shape), torch.zeros(w_shape), **kw).shape)
    (nx, nw, ng, nu, nv), (tx, tw, tg, tu, tv) = twin_inputs(
        [x_shape, w_shape, y_shape, x_shape, w_shape], np.float64, rng)
    results = []
    for lib, f, (x, w, g, u, v) in ((nabla, F, (nx, nw, ng, nu, nv)),
                                    (torch, TF, (tx, tw, tg, tu, tv))):
        y = getattr(f, name)(x, w, **kw)
        gx, gw = lib.autograd.grad((y * g).sum(), (x, w), create_graph=True)
        results.append(lib.autograd.grad((gx * u).sum() + (gw * v).sum(), (x, w, g)))
    for a, b, what in zip(*results, ("x", "w", "g"), strict=True):
        assert_close(a, b, what=f"second derivative wrt {what}")


def test_conv_transpose2d_output_padding_over_stride(rng):
    """output_padding >= stride (allowed when below dilation) in the shared geometry: the 2-D
    transposed convolution gets it right too."""
    check_against_torch(F.conv_transpose2d, TF.conv_transpose2d, [(1, 2, 4, 3), (2, 3, 3, 2)],
                         {"stride": (1, 2), "dilation": (2, 3), "output_padding": (1, 2)},
                         np.float64, rng)


def test_conv_output_size_per_dimension():
    x = torch.zeros(1, 1, 11, 9, 7)
    kernel, stride, padding, dilation = (3, 4, 1), (2, 3, 5), (1, 0, 0), (1, 2, 1)
    out = TF.conv3d(x, torch.zeros((1, 1) + kernel), stride=stride, padding=padding,
                    dilation=dilation)
    assert tuple(out.shape[2:]) == tuple(
        conv_output_size(n, k, s, p, d)
        for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))


@pytest.mark.parametrize("call, match", [
    (lambda x, w: F.conv3d(x, w[:, :2]), "conv3d.*channels"),
    (lambda x, w: F.conv3d(x, w[:, :, 0]), "conv3d.*5D weight"),
    (lambda x, w: F.conv3d(x, w, stride=2, padding="same"), "conv3d.*same"),
    (lambda x, w: F.conv3d(x[:, :, :2], w), "conv3d.*too small"),
    (lambda x, w: F.conv3d(x[0, 0], w), "conv3d.*input"),
    (lambda x, w: F.conv3d(x, w.double()), "conv3d.*dtype"),
    (lambda x, w: F.conv3d(x, w, nabla.zeros(3)), "conv3d.*bias"),
    (lambda x, w: F.conv3d(x, w, padding=(1, 1)), "padding"),
    (lambda x, w: F.conv_transpose3d(x, w.permute(1, 0, 2, 3, 4), stride=2, output_padding=2),
     "conv_transpose3d.*output padding"),
    (lambda x, w: F.conv_transpose3d(x, w), "conv_transpose3d.*does not fit"),
])
def test_conv3d_errors_are_clear(call, match):
    x, w = nabla.zeros(1, 3, 5, 5, 5), nabla.zeros(4, 3, 3, 3, 3)
    with pytest.raises((RuntimeError, ValueError), match=match):
        call(x, w)


# -- pooling ---------------------------------------------------------------------------------
# (id, function name, input shape, kwargs)
POOL_CASES = [
    ("max_2x2x2", "max_pool3d", (2, 3, 6, 4, 6), {"kernel_size": 2}),
    ("max_dil_ceil", "max_pool3d", (2, 2, 6, 7, 5),
     {"kernel_size": (3, 2, 2), "stride": (2, 1, 2), "padding": (1, 1, 0),
      "dilation": (1, 2, 1), "ceil_mode": True}),
    ("max_overlap", "max_pool3d", (1, 2, 4, 5, 4), {"kernel_size": 3, "stride": 1}),
    ("max_tiles_pad", "max_pool3d", (2, 2, 5, 6, 4),
     {"kernel_size": 3, "padding": 1, "ceil_mode": True}),
    ("max_unbatched", "max_pool3d", (3, 5, 4, 5), {"kernel_size": 2, "ceil_mode": True}),
    ("avg_2x2x2", "avg_pool3d", (2, 3, 6, 4, 6), {"kernel_size": 2}),
    ("avg_pad_ceil", "avg_pool3d", (2, 2, 6, 7, 5),
     {"kernel_size": (3, 2, 3), "stride": 2, "padding": 1, "ceil_mode": True}),
    ("avg_exclude_pad", "avg_pool3d", (2, 2, 6, 7, 5),
     {"kernel_size": 3, "stride": (2, 1, 2), "padding": 1, "ceil_mode": True,
      "count_include_pad": False}),
    ("avg_divisor", "avg_pool3d", (2, 2, 5, 6, 4),
     {"kernel_size": (2, 3, 2), "stride": (1, 2, 3), "padding": 1, "divisor_override": 5}),
    ("avg_unbatched", "avg_pool3d", (3, 4, 4, 5), {"kernel_size": 2, "stride": 1}),
    ("adaptive_avg", "adaptive_avg_pool3d", (2, 3, 7, 6, 5), {"output_size": (3, 4, 2)}),
    ("adaptive_avg_divisible", "adaptive_avg_pool3d", (2, 3, 8, 6, 4),
     {"output_size": (4, None, 2)}),
    ("adaptive_avg_global", "adaptive_avg_pool3d", (2, 3, 5, 4, 3), {"output_size": 1}),
    ("adaptive_avg_up", "adaptive_avg_pool3d", (1, 2, 3, 2, 3), {"output_size": (4, 3, 5)}),
    ("adaptive_avg_unbatched", "adaptive_avg_pool3d", (3, 5, 4, 7), {"output_size": 3}),
    ("adaptive_max", "adaptive_max_pool3d", (2, 3, 7, 6, 5), {"output_size": (3, 4, 2)}),
    ("adaptive_max_divisible", "adaptive_max_pool3d", (2, 3, 8, 6, 4), {"output_size": 2}),
    ("adaptive_max_unbatched", "adaptive_max_pool3d", (3, 5, 4, 7),
     {"output_size": (2, None, 3)}),
]
WITH_INDICES = {"max_pool3d", "adaptive_max_pool3d"}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_pool3d_matches_torch(case, dtype, rng):
    _, name, shape, kwargs = case
    check_against_torch(getattr(F, name), getattr(TF, name), [shape], kwargs, dtype, rng)
    if name in WITH_INDICES:
        a = rng.standard_normal(shape).astype(dtype)
        (ny, ni), (ty, ti) = (getattr(F, name)(nabla.tensor(a), **kwargs, return_indices=True),
                              getattr(TF, name)(torch.tensor(a), **kwargs, return_indices=True))
        assert_close(ny, ty, what="output with indices")
        assert_close(ni, ti, what="indices")


def test_max_pool3d_ties_take_the_first_like_torch():
    a = np.ones((1, 1, 4, 4, 4), np.float32)
    (_, ni), (_, ti) = (F.max_pool3d(nabla.tensor(a), 2, return_indices=True),
                        TF.max_pool3d(torch.tensor(a), 2, return_indices=True))
    assert_close(ni, ti, what="indices")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_max_unpool3d_matches_torch(dtype, rng):
    a = rng.standard_normal((2, 3, 5, 6, 4)).astype(dtype)
    kw = {"kernel_size": (2, 3, 2), "stride": (2, 2, 1)}
    (ny, ni), (ty, ti) = (F.max_pool3d(nabla.tensor(a), **kw, return_indices=True),
                          TF.max_pool3d(torch.tensor(a), **kw, return_indices=True))
    nv, tv = nabla.tensor(ny.numpy(), requires_grad=True), torch.tensor(ty.numpy(),
                                                                        requires_grad=True)
    nu = F.max_unpool3d(nv, ni, **kw, output_size=(5, 6, 4))
    tu = TF.max_unpool3d(tv, ti, **kw, output_size=(5, 6, 4))
    assert_close(nu, tu, what="unpooled")
    g = rng.standard_normal(tuple(tu.shape)).astype(dtype)
    nu.backward(nabla.tensor(g))
    tu.backward(torch.tensor(g))
    assert_close(nv.grad, tv.grad, what="grad")
    mod_n, mod_t = nn.MaxUnpool3d(**kw), tnn.MaxUnpool3d(**kw)
    assert repr(mod_n) == repr(mod_t)
    assert_close(mod_n(ny[0], ni[0], output_size=(5, 6, 4)),
                 mod_t(ty[0], ti[0], output_size=(5, 6, 4)), what="module, unbatched")
    with pytest.raises(RuntimeError, match=r"max_unpool3d.*invalid max index.*\(4, 5, 4\)"):
        mod_n(ny, ni)  # the default output size (4, 5, 4) is too small for these indices


@pytest.mark.parametrize("call, match", [
    (lambda x: F.max_pool3d(x, 2, padding=2), "max_pool3d.*half"),
    (lambda x: F.avg_pool3d(x, (2, 7, 2)), "avg_pool3d.*too small"),
    (lambda x: F.max_pool3d(x[0, 0], 2), "max_pool3d.*input"),
    (lambda x: F.avg_pool3d(x, 2, divisor_override=0), "avg_pool3d.*divisor"),
    (lambda x: F.adaptive_avg_pool3d(x[0, 0], 2), "adaptive_avg_pool3d.*input"),
    (lambda x: F.adaptive_max_pool3d(x, (2, 0, 2)), "adaptive_max_pool3d.*output_size"),
    (lambda x: F.max_unpool3d(x, nabla.zeros(1, 2, 5, 5, dtype=nabla.int64), 2),
     "max_unpool3d.*indices"),
])
def test_pool3d_errors_are_clear(call, match):
    with pytest.raises(RuntimeError, match=match):
        call(nabla.zeros(1, 2, 5, 5, 5))


# -- layers ----------------------------------------------------------------------------------
MODULES = [
    ("conv3d", lambda m: m.Conv3d(3, 4, (3, 2, 2), stride=(1, 2, 1), padding=(1, 0, 1),
                                  dilation=(2, 1, 1)), (2, 3, 6, 5, 4)),
    ("conv3d_same_groups_nobias", lambda m: m.Conv3d(4, 6, 2, padding="same", groups=2,
                                                     bias=False), (2, 4, 4, 5, 3)),
    ("conv3d_reflect", lambda m: m.Conv3d(2, 3, 3, padding=1, padding_mode="reflect"),
     (2, 2, 4, 5, 4)),
    ("conv3d_replicate", lambda m: m.Conv3d(2, 3, 3, padding=(2, 1, 0),
                                            padding_mode="replicate"), (2, 2, 4, 5, 4)),
    ("conv3d_circular", lambda m: m.Conv3d(2, 3, (3, 2, 3), padding=1,
                                           padding_mode="circular"), (2, 2, 4, 5, 4)),
    ("convT3d", lambda m: m.ConvTranspose3d(4, 6, (3, 2, 2), stride=2, padding=1,
                                            output_padding=(1, 0, 1), groups=2),
     (2, 4, 3, 4, 3)),
    ("maxpool3d", lambda m: m.MaxPool3d(3, 2, 1, ceil_mode=True), (2, 3, 5, 6, 5)),
    ("avgpool3d", lambda m: m.AvgPool3d((2, 3, 2), 2, 1, count_include_pad=False,
                                        divisor_override=None), (2, 3, 5, 6, 5)),
    ("adaptiveavg3d", lambda m: m.AdaptiveAvgPool3d((2, None, 3)), (2, 3, 5, 4, 7)),
    ("adaptivemax3d", lambda m: m.AdaptiveMaxPool3d(3), (2, 3, 5, 4, 7)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_matches_torch(case, dtype, rng):
    _, make, shape = case
    tmod, nmod = make(tnn).to(dtype), make(nn)
    assert repr(nmod) == repr(tmod)
    assert list(nmod.state_dict()) == list(tmod.state_dict())
    for (name, tp), (nname, np_) in zip(tmod.named_parameters(), nmod.named_parameters(),
                                        strict=True):
        assert name == nname and tuple(np_.shape) == tuple(tp.shape)
    nmod.to(nabla.float64 if dtype == torch.float64 else nabla.float32)
    nmod.load_state_dict(tmod.state_dict())
    run_twins(nmod, tmod, [shape], dtype, rng)


def test_conv_transpose3d_output_size_argument(rng):
    tmod, nmod = tnn.ConvTranspose3d(2, 3, 3, stride=2), nn.ConvTranspose3d(2, 3, 3, stride=2)
    nmod.load_state_dict(tmod.state_dict())
    x = rng.standard_normal((1, 2, 3, 4, 3)).astype(np.float32)
    assert_close(nmod(nabla.tensor(x), output_size=(8, 9, 7)),
                 tmod(torch.tensor(x), output_size=(8, 9, 7)))


def test_maxpool3d_module_return_indices(rng):
    a = rng.standard_normal((1, 2, 4, 6, 4)).astype(np.float32)
    (ny, ni), (ty, ti) = nn.MaxPool3d(2, return_indices=True)(nabla.tensor(a)), \
        tnn.MaxPool3d(2, return_indices=True)(torch.tensor(a))
    assert_close(ny, ty)
    assert_close(ni, ti)
    (ny, ni), (ty, ti) = nn.AdaptiveMaxPool3d(3, return_indices=True)(nabla.tensor(a)), \
        tnn.AdaptiveMaxPool3d(3, return_indices=True)(torch.tensor(a))
    assert_close(ny, ty)
    assert_close(ni, ti)


def test_conv3d_default_init_bounds():
    """kaiming_uniform_(a=sqrt(5)) gives |w| <= 1/sqrt(fan_in); bias likewise (as PyTorch)."""
    nabla.manual_seed(0)
    for mod, fan_in in ((nn.Conv3d(4, 8, 3), 108), (nn.ConvTranspose3d(6, 4, (3, 2, 2),
                                                                       groups=2), 24)):
        bound = 1 / math.sqrt(fan_in)
        w, b = mod.weight.detach().numpy(), mod.bias.detach().numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
        assert np.abs(b).max() <= bound
        assert abs(w.std() - bound / math.sqrt(3)) < 0.2 * bound  # uniform on [-bound, bound]


def test_summary_of_a_3d_model():
    model = nn.Sequential(nn.Conv3d(2, 4, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool3d(2),
                          nn.ConvTranspose3d(4, 6, (3, 2, 1), stride=2, groups=2),
                          nn.AdaptiveAvgPool3d(1))
    s = nabla.summary(model, (2, 8, 8, 6))
    conv, pool, convt = s.layers[0], s.layers[2], s.layers[3]
    assert conv.output_shape == (1, 4, 8, 8, 6) and conv.params == 4 * 1 * 27 + 4
    assert conv.formula == "4*1*3*3*3 + 4" and conv.macs == 4 * 8 * 8 * 6 * 27
    assert pool.output_shape == (1, 4, 4, 4, 3) and [conv.receptive_field,
                                                     pool.receptive_field] == [3, 4]
    # transposed: weight (C_in, C_out/groups, k), bias C_out; each input voxel scatters C_out/G*k
    assert convt.output_shape == (1, 6, 9, 8, 5) and convt.params == 4 * 3 * 6 + 6
    assert convt.formula == "4*3*3*2*1 + 6" and convt.macs == (4 * 4 * 3) * 4 * 3 * 6
    assert s.total_params == 112 + 78
