"""Convolutions vs PyTorch: conv1d/2d, conv_transpose1d/2d, unfold/fold (forward, backward with
random upstream gradients, float32 and float64), float64 finite differences, double backward,
and the layers' parameter shapes, state_dict keys, init and padding modes."""

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL, assert_close, check_against_torch, to_torch, twin_inputs

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.autograd import gradcheck, gradgradcheck
from nabla.nn.utils.conv_utils import conv_output_size

DTYPES = [np.float32, np.float64]

# (id, function name, input shapes (input, weight[, bias]), kwargs)
CASES = [
    ("2d_basic", "conv2d", [(2, 3, 6, 5), (4, 3, 3, 3), (4,)], {}),
    ("2d_stride_pad_dil", "conv2d", [(2, 4, 9, 8), (6, 4, 3, 2), (6,)],
     {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1)}),
    ("2d_groups", "conv2d", [(2, 6, 7, 5), (4, 3, 3, 3), (4,)], {"groups": 2, "padding": 1}),
    ("2d_depthwise", "conv2d", [(2, 4, 6, 7), (8, 1, 3, 3)], {"groups": 4, "stride": 2}),
    ("2d_same_even_kernel", "conv2d", [(1, 2, 5, 6), (3, 2, 4, 2), (3,)],
     {"padding": "same", "dilation": (1, 2)}),
    ("2d_valid_1x1", "conv2d", [(3, 5, 4, 4), (2, 5, 1, 1)], {"padding": "valid"}),
    ("2d_unbatched", "conv2d", [(3, 5, 6), (2, 3, 2, 3), (2,)], {"padding": 1}),
    ("1d_basic", "conv1d", [(2, 3, 10), (5, 3, 3), (5,)], {"stride": 2, "padding": 1}),
    ("1d_groups_dil", "conv1d", [(2, 4, 11), (6, 2, 3)], {"groups": 2, "dilation": 3}),
    ("1d_same", "conv1d", [(2, 3, 7), (2, 3, 4), (2,)], {"padding": "same"}),
    ("t2d_basic", "conv_transpose2d", [(2, 4, 3, 5), (4, 3, 3, 3), (3,)], {}),
    ("t2d_stride_outpad", "conv_transpose2d", [(2, 4, 4, 3), (4, 3, 3, 2), (3,)],
     {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2)}),
    ("t2d_groups_dil", "conv_transpose2d", [(2, 6, 4, 4), (6, 2, 3, 3), (6,)],
     {"groups": 3, "dilation": 2, "stride": 2, "output_padding": 1}),
    ("t1d", "conv_transpose1d", [(2, 4, 5), (4, 3, 3), (3,)],
     {"stride": 3, "padding": 1, "output_padding": 2, "dilation": 2}),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_conv_matches_torch(case, dtype, rng, layout):
    _, name, shapes, kwargs = case
    check_against_torch(getattr(F, name), getattr(TF, name), shapes, kwargs, dtype, rng)


@pytest.mark.parametrize("case", CASES[1:4] + CASES[11:13], ids=lambda c: c[0])
def test_conv_in_chunks_of_one_sample(case, rng, monkeypatch, layout):
    """Column matrices are built a few samples at a time; with one sample per chunk the
    results are the same."""
    monkeypatch.setattr(nabla.nn.functional._im2col, "_CHUNK_BYTES", 1)
    _, name, shapes, kwargs = case
    check_against_torch(getattr(F, name), getattr(TF, name), shapes, kwargs, np.float64, rng)


@pytest.mark.parametrize("needs", [(True, False), (False, True)], ids=["input", "weight"])
@pytest.mark.parametrize("case", CASES[:4], ids=lambda c: c[0])
def test_conv_backward_of_one_argument(case, needs, rng, layout):
    """Backward computes both adjoints in one pass over the batch; with only the input (or
    only the weight) requiring grad it computes that one alone, and it equals PyTorch's."""
    _, name, shapes, kwargs = case
    arrays = [rng.standard_normal(s) for s in shapes[:2]]
    nx = [nabla.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)]
    tx = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)]
    ny, ty = getattr(F, name)(*nx, **kwargs), getattr(TF, name)(*tx, **kwargs)
    g = rng.standard_normal(tuple(ty.shape))
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    for a, b, r in zip(nx, tx, needs):
        assert (a.grad is None) == (not r)
        if r:
            assert_close(a.grad, b.grad, what="grad")


def test_conv_backward_of_the_bias_alone(rng, monkeypatch):
    """Only the bias requires grad: it is the summed gradient, and no adjoint is computed."""
    import nabla.nn.functional.conv as conv_module

    def no_adjoints(*args):
        raise AssertionError("an adjoint was computed that nothing needs")

    monkeypatch.setattr(conv_module, "_adjoints", no_adjoints)
    x, w, b = (rng.standard_normal(s) for s in [(2, 3, 6, 5), (4, 3, 3, 3), (4,)])
    nb, tb = nabla.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    g = rng.standard_normal((2, 4, 4, 3))
    F.conv2d(nabla.tensor(x), nabla.tensor(w), nb).backward(nabla.tensor(g))
    TF.conv2d(torch.tensor(x), torch.tensor(w), tb).backward(torch.tensor(g))
    assert_close(nb.grad, tb.grad, what="bias grad")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_unfold_fold_match_torch(dtype, rng):
    kw = {"kernel_size": (2, 3), "dilation": (2, 1), "padding": 1, "stride": (2, 1)}
    check_against_torch(F.unfold, TF.unfold, [(2, 3, 7, 6)], kw, dtype, rng)
    blocks = nabla.nn.utils.conv_utils.conv_output_size
    n_blocks = blocks(7, 2, 2, 1, 2) * blocks(6, 3, 1, 1, 1)
    check_against_torch(lambda x, **k: F.fold(x, (7, 6), **k),
                         lambda x, **k: TF.fold(x, (7, 6), **k), [(2, 18, n_blocks)], kw,
                         dtype, rng)


def test_fold_is_the_adjoint_of_unfold(rng):
    """<unfold(x), c> = <x, fold(c)>: the overlap-add sums exactly what unfold copies."""
    x = nabla.tensor(rng.standard_normal((2, 3, 6, 5)))
    kw = {"kernel_size": 3, "padding": 1, "stride": 2}
    cols = F.unfold(x, **kw)
    c = nabla.tensor(rng.standard_normal(tuple(cols.shape)))
    lhs = float((cols * c).sum())
    rhs = float((x * F.fold(c, (6, 5), **kw)).sum())
    assert math.isclose(lhs, rhs, rel_tol=1e-10)


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 0)])
def test_noncontiguous_input(stride, padding, rng):
    a = rng.standard_normal((3, 5, 7, 2)).astype(np.float32)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    nx = nabla.tensor(a).permute(0, 3, 1, 2)  # (3, 2, 5, 7), not contiguous
    kw = {"stride": stride, "padding": padding}
    assert_close(F.conv2d(nx, nabla.tensor(w), **kw),
                 TF.conv2d(torch.tensor(a).permute(0, 3, 1, 2), torch.tensor(w), **kw))


GRADCHECK_CASES = [
    ("conv2d", [(1, 2, 5, 4), (4, 1, 2, 3), (4,)],
     {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}),
    ("conv2d", [(2, 4, 5, 4), (4, 2, 3, 2), (4,)],
     {"padding": (1, 0), "dilation": (1, 2), "groups": 2}),
    ("conv1d", [(2, 2, 6), (3, 2, 3), (3,)], {"stride": 2, "padding": 1}),
    ("conv_transpose2d", [(1, 2, 3, 3), (2, 2, 2, 3), (4,)],
     {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ("conv_transpose1d", [(1, 2, 4), (2, 3, 3), (3,)], {"stride": 2, "dilation": 2}),
    ("unfold", [(1, 2, 4, 5)], {"kernel_size": 2, "padding": 1, "stride": 2}),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck_float64(case, rng, layout):
    name, shapes, kwargs = case
    inputs = tuple(nabla.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    assert gradcheck(lambda *a: getattr(F, name)(*a, **kwargs), inputs, **GRADCHECK_TOL)


@pytest.mark.parametrize("case", GRADCHECK_CASES[:4], ids=[c[0] for c in GRADCHECK_CASES[:4]])
def test_double_backward_gradgradcheck(case, rng, layout):
    """conv's second derivatives are convolutions again (conv <-> transposed conv <-> weight
    correlation): checked against finite differences of the first derivative."""
    name, shapes, kwargs = case
    inputs = tuple(nabla.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    assert gradgradcheck(lambda *a: getattr(F, name)(*a, **kwargs), inputs, **GRADCHECK_TOL)


def test_double_backward_matches_torch(rng):
    """d/d(x, w) of <dL/dx, u> + <dL/dw, v> for L = <conv2d(x, w), g>, vs PyTorch."""
    shapes = [(2, 4, 6, 5), (6, 2, 3, 3), (2, 6, 3, 3), (2, 4, 6, 5), (6, 2, 3, 3)]
    (nx, nw, ng, nu, nv), (tx, tw, tg, tu, tv) = twin_inputs(shapes, np.float64, rng)
    kw = {"stride": 2, "padding": 1, "groups": 2}
    results = []
    for lib, f, (x, w, g, u, v) in ((nabla, F, (nx, nw, ng, nu, nv)),
                                    (torch, TF, (tx, tw, tg, tu, tv))):
        y = f.conv2d(x, w, **kw)
        gx, gw = lib.autograd.grad((y * g).sum(), (x, w), create_graph=True)
        results.append(lib.autograd.grad((gx * u).sum() + (gw * v).sum(), (x, w, g)))
    for a, b, what in zip(*results, ("x", "w", "g"), strict=True):
        assert_close(a, b, what=f"second derivative wrt {what}")


def test_conv_output_size_formula():
    assert conv_output_size(32, 3, 1, 1) == 32
    assert conv_output_size(28, 5) == 24
    assert conv_output_size(7, 3, stride=2, padding=1, dilation=2) == 3
    x = torch.zeros(1, 1, 11, 1)
    for k, s, p, d in [(3, 2, 1, 1), (4, 3, 0, 2), (1, 5, 0, 1)]:
        out = TF.conv2d(x, torch.zeros(1, 1, k, 1), stride=s, padding=p, dilation=d)
        assert conv_output_size(11, k, s, p, d) == out.shape[2]


@pytest.mark.parametrize("call, match", [
    (lambda x, w: F.conv2d(x, w[:, :2]), "channels"),
    (lambda x, w: F.conv2d(x, w, stride=2, padding="same"), "same"),
    (lambda x, w: F.conv2d(x[:, :, :2, :2], w), "too small"),
    (lambda x, w: F.conv2d(x[0, 0], w), "input"),
    (lambda x, w: F.conv2d(x, w.double()), "dtype"),
    (lambda x, w: F.conv_transpose2d(x, w.permute(1, 0, 2, 3), stride=2,
                                     output_padding=2), "output padding"),
])
def test_errors_are_clear(call, match):
    x, w = nabla.zeros(1, 3, 5, 5), nabla.zeros(4, 3, 3, 3)
    with pytest.raises((RuntimeError, ValueError), match=match):
        call(x, w)


# -- modules ---------------------------------------------------------------------------------
MODULES = [
    ("conv1d", lambda m: m.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    ("conv1d_nobias_groups", lambda m: m.Conv1d(4, 6, 2, groups=2, bias=False), (2, 4, 7)),
    ("conv2d", lambda m: m.Conv2d(3, 5, (3, 2), padding=(1, 0), dilation=(2, 1)), (2, 3, 7, 6)),
    ("conv2d_same", lambda m: m.Conv2d(2, 4, 4, padding="same"), (2, 2, 6, 5)),
    ("conv2d_depthwise", lambda m: m.Conv2d(4, 8, 3, groups=4, stride=2), (2, 4, 7, 7)),
    ("conv2d_reflect", lambda m: m.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
     (2, 2, 5, 4)),
    ("conv2d_replicate", lambda m: m.Conv2d(2, 3, 3, padding=(2, 1), padding_mode="replicate"),
     (2, 2, 5, 4)),
    ("conv2d_circular", lambda m: m.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
     (2, 2, 5, 4)),
    ("conv1d_reflect_same", lambda m: m.Conv1d(2, 3, 4, padding="same", padding_mode="reflect"),
     (2, 2, 7)),
    ("convT1d", lambda m: m.ConvTranspose1d(3, 2, 3, stride=2, output_padding=1), (2, 3, 5)),
    ("convT2d", lambda m: m.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, groups=2),
     (2, 4, 3, 4)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_matches_torch(case, dtype, rng):
    _, make, shape = case
    tmod, nmod = make(tnn).to(dtype), make(nn)
    assert list(nmod.state_dict()) == list(tmod.state_dict())
    for (name, tp), (nname, np_) in zip(tmod.named_parameters(), nmod.named_parameters(),
                                        strict=True):
        assert name == nname and tuple(np_.shape) == tuple(tp.shape)
    nmod.to(nabla.float64 if dtype == torch.float64 else nabla.float32)
    nmod.load_state_dict(tmod.state_dict())
    x = rng.standard_normal(shape)
    nx = nabla.tensor(x.astype(np.float32 if dtype == torch.float32 else np.float64),
                      requires_grad=True)
    tx = torch.tensor(x, dtype=dtype, requires_grad=True)
    ny, ty = nmod(nx), tmod(tx)
    assert_close(ny, ty, what="output")
    g = rng.standard_normal(tuple(ty.shape))
    ny.backward(nabla.tensor(g.astype(ny.dtype)))
    ty.backward(torch.tensor(g, dtype=dtype))
    assert_close(nx.grad, tx.grad, what="input grad")
    for (name, tp), (_, np_) in zip(tmod.named_parameters(), nmod.named_parameters()):
        assert_close(np_.grad, tp.grad, what=f"grad of {name}")
    assert repr(nmod) == repr(tmod)


def test_conv_transpose_output_size_argument(rng):
    tmod, nmod = tnn.ConvTranspose2d(2, 3, 3, stride=2), nn.ConvTranspose2d(2, 3, 3, stride=2)
    nmod.load_state_dict(tmod.state_dict())
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    assert_close(nmod(nabla.tensor(x), output_size=(10, 9)),
                 tmod(torch.tensor(x), output_size=(10, 9)))


def test_default_init_bounds():
    """kaiming_uniform_(a=sqrt(5)) gives |w| <= 1/sqrt(fan_in); bias likewise (as PyTorch)."""
    nabla.manual_seed(0)
    for mod, fan_in in ((nn.Conv2d(8, 16, 3), 72), (nn.ConvTranspose2d(8, 6, 3, groups=2), 27),
                        (nn.Conv1d(4, 8, 5), 20)):
        bound = 1 / math.sqrt(fan_in)
        w, b = mod.weight.detach().numpy(), mod.bias.detach().numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
        assert np.abs(b).max() <= bound
        assert abs(w.std() - bound / math.sqrt(3)) < 0.2 * bound  # uniform on [-bound, bound]


def test_state_dict_into_torch(rng):
    nmod, tmod = nn.Conv2d(3, 4, 3, padding=1), tnn.Conv2d(3, 4, 3, padding=1)
    tmod.load_state_dict({k: to_torch(v) for k, v in nmod.state_dict().items()})
    x = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    assert_close(nmod(nabla.tensor(x)), tmod(torch.tensor(x)))


def test_unfold_fold_modules_match_torch(rng):
    kw = {"kernel_size": (2, 3), "padding": 1, "stride": 2}
    a = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    nu, tu = nn.Unfold(**kw), tnn.Unfold(**kw)
    assert repr(nu) == repr(tu)
    cols = nu(nabla.tensor(a))
    assert_close(cols, tu(torch.tensor(a)))
    nf, tf = nn.Fold((6, 5), **kw), tnn.Fold((6, 5), **kw)
    assert repr(nf) == repr(tf)
    assert_close(nf(cols), tf(torch.tensor(cols.numpy())))
