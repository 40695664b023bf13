"""The small nn / F gaps against PyTorch: dropout3d / Dropout3d, lp_pool3d / LPPool3d,
adaptive_max_pool{1,2,3}d_with_indices, upsample_nearest / upsample_bilinear, nn.Buffer and
InstanceNorm's ``bias`` argument. Forward and backward with random upstream gradients in float32
and float64, float64 gradchecks, module reprs and state_dict keys, and the errors."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL, assert_close, perturb, run_twins

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.autograd import gradcheck

DTYPES = [np.float32, np.float64]


def _both(nf, tf, x, rng, *args, **kwargs):
    """nf / tf on the same input: compare outputs and the input's gradient for a random
    upstream gradient; returns the nabla output."""
    nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ny, ty = nf(nx, *args, **kwargs), tf(tx, *args, **kwargs)
    assert_close(ny, ty, what="output")
    g = rng.standard_normal(tuple(ty.shape)).astype(x.dtype)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="input grad")
    return ny


# -- dropout3d ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 8, 2, 3, 2), (32, 2, 3, 2)], ids=["batched", "unbatched"])
def test_dropout3d_matches_torch_on_the_same_mask(shape, dtype, rng):
    """The masks come from different generators: recover nabla's (whole channel volumes) and
    check output and gradient against x * mask / (1 - p) computed by torch. 32 channel volumes,
    so that some are kept and some dropped but for 1 draw in 10^7 (with 8, all were kept for 1
    in 60)."""
    p = 0.4
    x = rng.standard_normal(shape).astype(dtype) + 5.0  # no zeros, so the mask is readable
    nx = nabla.tensor(x, requires_grad=True)
    y = F.dropout3d(nx, p)
    lead = 2 if len(shape) == 5 else 1
    keep = (y.detach().numpy() != 0)
    per_channel = keep.reshape(shape[:lead] + (-1,))
    assert np.all(per_channel.all(-1) | ~per_channel.any(-1)), "a channel partly dropped"
    assert 0 < keep.mean() < 1
    tx = torch.tensor(x, requires_grad=True)
    ty = tx * torch.tensor(keep.astype(dtype)) / (1 - p)
    assert_close(y, ty)
    g = rng.standard_normal(shape).astype(dtype)
    y.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad)


def test_dropout3d_eval_edges_and_seed():
    x = nabla.randn(2, 4, 2, 2, 2, dtype=nabla.float64)
    assert F.dropout3d(x, 0.5, training=False) is x
    assert F.dropout3d(x, 0.0) is x
    assert np.all(F.dropout3d(x, 1.0).numpy() == 0)
    nabla.manual_seed(3)
    a = F.dropout3d(x, 0.5).numpy()
    nabla.manual_seed(3)
    np.testing.assert_array_equal(a, F.dropout3d(x, 0.5).numpy())
    y = F.dropout3d(nabla.ones(40, 50, 1, 1, 1, dtype=nabla.float64), 0.3).numpy()
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7])
    assert abs((y == 0).mean() - 0.3) < 0.03
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout3d(x, 1.5)


def test_dropout3d_other_ranks_warn_as_torch():
    x = nabla.ones(6, 3, 2)
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input"):
        y = F.dropout3d(x, 0.5).numpy()
    assert np.all(y.reshape(6, -1).min(-1) == y.reshape(6, -1).max(-1))  # one draw per x[i]
    with pytest.warns(UserWarning, match="Received a 6-D input"):
        F.dropout3d(nabla.ones(2, 2, 2, 2, 2, 2), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout3d(nabla.ones(2, 2, 2, 2), 0.5)


def test_dropout3d_module():
    m, t = nn.Dropout3d(0.25), tnn.Dropout3d(0.25)
    assert repr(m) == repr(t) == "Dropout3d(p=0.25, inplace=False)"
    assert repr(nn.Dropout3d()) == repr(tnn.Dropout3d())
    x = nabla.randn(2, 3, 2, 2, 2)
    assert m.eval()(x) is x
    y = m.train()(nabla.ones(4, 16, 2, 2, 2)).numpy()
    per_channel = y.reshape(4, 16, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))
    assert list(m.state_dict()) == list(t.state_dict()) == []
    with pytest.raises(ValueError, match="dropout probability"):
        nn.Dropout3d(-0.1)


# -- lp_pool3d -----------------------------------------------------------------------------------
LP3_CASES = [
    ("p2", (2, 3, 5, 6, 7), (2.0, 2, None, False)),
    ("p2_ceil_stride", (2, 2, 5, 6, 7), (2.0, (2, 3, 2), 2, True)),
    ("p3_rect", (1, 2, 4, 6, 5), (3.0, (1, 2, 3), (1, 2, 1), False)),
    ("p1_unbatched", (2, 4, 4, 4), (1.0, 2, None, False)),
    ("p1.5_int_norm", (1, 2, 4, 4, 4), (1.5, 3, 1, True)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", LP3_CASES, ids=[c[0] for c in LP3_CASES])
def test_lp_pool3d_matches_torch(case, dtype, rng):
    _, shape, args = case
    x = rng.standard_normal(shape).astype(dtype)
    if args[0] != 2.0:  # odd or fractional powers of negative sums are NaN in both
        x = np.abs(x) + 0.1
    _both(F.lp_pool3d, TF.lp_pool3d, x, rng, *args)


@pytest.mark.filterwarnings("ignore:invalid value")  # the NaNs of negative sums, as torch's
def test_lp_pool3d_negative_sum_and_gradcheck():
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 4, 4))
    yt = TF.lp_pool3d(torch.tensor(x), 3.0, 2)
    yn = F.lp_pool3d(nabla.tensor(x), 3.0, 2)
    np.testing.assert_allclose(yn.numpy(), yt.numpy(), rtol=1e-10, equal_nan=True)
    v = nabla.tensor(np.abs(x) + 0.5, requires_grad=True)
    assert gradcheck(lambda a: F.lp_pool3d(a, 2.0, (2, 1, 2), 1), (v,), **GRADCHECK_TOL)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_lppool3d_module_matches_torch(dtype, rng):
    for args in [(2, 3), (2, (1, 2, 3), 2, True), (1.5, 2)]:
        ours, theirs = nn.LPPool3d(*args), tnn.LPPool3d(*args)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict()) == []
        run_twins(ours, theirs, [(2, 2, 5, 6, 6)], dtype, rng, shift=12.0)  # positive inputs


def test_lp_pool3d_errors():
    with pytest.raises(RuntimeError, match="avg_pool3d"):
        F.lp_pool3d(nabla.ones(2, 3, 4), 2.0, 2)
    with pytest.raises((ValueError, TypeError), match="kernel_size"):
        F.lp_pool3d(nabla.ones(1, 1, 4, 4, 4), 2.0, (2, 2))


# -- adaptive_max_pool*d_with_indices ---------------------------------------------------------
AMP_CASES = [
    ("1d", (2, 3, 10), 4),
    ("1d_divides", (2, 3, 8), 4),
    ("1d_unbatched", (3, 7), 3),
    ("2d", (2, 3, 7, 9), (3, 4)),
    ("2d_none", (1, 2, 6, 5), (None, 2)),
    ("2d_unbatched", (2, 5, 5), 2),
    ("3d", (1, 2, 5, 6, 7), (2, 3, 4)),
    ("3d_divides", (2, 1, 4, 4, 6), 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", AMP_CASES, ids=[c[0] for c in AMP_CASES])
def test_adaptive_max_pool_with_indices_matches_torch(case, dtype, rng):
    tag, shape, size = case
    name = f"adaptive_max_pool{tag[:2]}_with_indices"
    nf, tf = getattr(F, name), getattr(TF, name)
    x = rng.standard_normal(shape).astype(dtype)
    nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ny, ni), (ty, ti) = nf(nx, size), tf(tx, size)
    assert_close(ny, ty, what="values")
    assert_close(ni, ti, what="indices")
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="input grad")
    # a tuple whatever return_indices says, as in PyTorch
    for flag in (False, True):
        out = nf(nabla.tensor(x), size, return_indices=flag)
        assert isinstance(out, tuple) and len(out) == 2
        np.testing.assert_array_equal(out[1].numpy(), ti.numpy())


def test_adaptive_max_pool_with_indices_gradcheck_and_errors():
    x = nabla.tensor(np.random.default_rng(2).standard_normal((1, 2, 5, 7)), requires_grad=True)
    assert gradcheck(lambda a: F.adaptive_max_pool2d_with_indices(a, (2, 3))[0], (x,),
                     **GRADCHECK_TOL)
    v = nabla.tensor(np.random.default_rng(3).standard_normal((1, 1, 3, 4, 5)),
                     requires_grad=True)
    assert gradcheck(lambda a: F.adaptive_max_pool3d_with_indices(a, 2)[0], (v,),
                     **GRADCHECK_TOL)
    with pytest.raises(RuntimeError, match="adaptive_max_pool2d"):
        F.adaptive_max_pool2d_with_indices(nabla.ones(4), 2)
    with pytest.raises(RuntimeError, match="adaptive_max_pool3d"):
        F.adaptive_max_pool3d_with_indices(nabla.ones(1, 1, 4, 4, 4), (0, 1, 1))
    with pytest.raises(RuntimeError, match="adaptive_max_pool1d"):
        F.adaptive_max_pool1d_with_indices(nabla.ones(1, 1, 4, 4), 2)


# -- upsample_nearest / upsample_bilinear --------------------------------------------------------
UPSAMPLE_CASES = [
    ("nearest_size", "upsample_nearest", (2, 3, 4, 5), {"size": (7, 9)}),
    ("nearest_scale", "upsample_nearest", (1, 2, 3, 4), {"scale_factor": 2}),
    ("nearest_1d", "upsample_nearest", (2, 3, 5), {"size": 8}),
    ("bilinear_size", "upsample_bilinear", (2, 3, 4, 5), {"size": (7, 3)}),
    ("bilinear_scale", "upsample_bilinear", (1, 2, 3, 4), {"scale_factor": 2}),
    ("bilinear_int_size", "upsample_bilinear", (1, 1, 4, 4), {"size": 6}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", UPSAMPLE_CASES, ids=[c[0] for c in UPSAMPLE_CASES])
def test_upsample_aliases_match_torch(case, dtype, rng):
    _, name, shape, kwargs = case
    x = rng.standard_normal(shape).astype(dtype)
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
        _both(getattr(F, name), getattr(TF, name), x, rng, **kwargs)


def test_upsample_bilinear_is_align_corners_true():
    x = nabla.tensor(np.random.default_rng(4).standard_normal((1, 2, 3, 4)))
    with pytest.warns(UserWarning):
        y = F.upsample_bilinear(x, size=(5, 7))
    np.testing.assert_allclose(
        y.numpy(), F.interpolate(x, (5, 7), mode="bilinear", align_corners=True).numpy())
    assert not np.allclose(y.numpy(), F.interpolate(x, (5, 7), mode="bilinear").numpy())
    v = nabla.tensor(np.random.default_rng(5).standard_normal((1, 1, 3, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(lambda a: F.upsample_bilinear(a, scale_factor=2), (v,),
                         **GRADCHECK_TOL)
        with pytest.raises(ValueError, match="size or scale_factor"):
            F.upsample_nearest(x)
        with pytest.raises(NotImplementedError, match="bilinear"):
            F.upsample_bilinear(nabla.ones(1, 2, 5), size=4)


# -- nn.Buffer -----------------------------------------------------------------------------------
class _BufferNet(nn.Module):
    """A Buffer, a non-persistent Buffer and a Parameter (module level: it is pickled)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(nabla.ones(2))
        self.stats = nn.Buffer(nabla.zeros(2))
        self.cache = nn.Buffer(nabla.ones(3), persistent=False)

    def forward(self, x):
        return x * self.w + self.stats


class _TorchBufferNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.w = tnn.Parameter(torch.ones(2))
        self.stats = tnn.Buffer(torch.zeros(2))
        self.cache = tnn.Buffer(torch.ones(3), persistent=False)


def test_buffer_assignment_registers_as_torch():
    m, t = _BufferNet(), _TorchBufferNet()
    assert list(m.state_dict()) == list(t.state_dict()) == ["w", "stats"]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in m.named_parameters()] == ["w"]
    assert isinstance(m.stats, nn.Buffer) and isinstance(m.stats, nabla.Tensor)
    assert not isinstance(nabla.zeros(2), nn.Buffer)
    # a plain tensor into a buffer slot keeps its persistence; a Buffer brings its own
    m.stats, t.stats = nabla.full((2,), 5.0), torch.full((2,), 5.0)
    m.cache, t.cache = nabla.zeros(3), torch.zeros(3)
    assert list(m.state_dict()) == list(t.state_dict()) == ["w", "stats"]
    m.cache, t.cache = nn.Buffer(nabla.zeros(3)), tnn.Buffer(torch.zeros(3))
    assert list(m.state_dict()) == list(t.state_dict()) == ["w", "stats", "cache"]
    m.stats, t.stats = nn.Buffer(nabla.ones(2), persistent=False), \
        tnn.Buffer(torch.ones(2), persistent=False)
    assert list(m.state_dict()) == list(t.state_dict()) == ["w", "cache"]
    m.extra, t.extra = nn.Buffer(nabla.ones(1)), tnn.Buffer(torch.ones(1))
    assert list(m.state_dict()) == list(t.state_dict()) == ["w", "cache", "extra"]
    m.stats = None
    assert m.stats is None and "stats" in m._buffers


def test_buffer_values_and_gradients_match_torch(rng):
    m, t = _BufferNet(), _TorchBufferNet()
    for dtype in (torch.float32, torch.float64):
        t.to(dtype)
        m.to(nabla.float64 if dtype == torch.float64 else nabla.float32)
        perturb(t)
        m.load_state_dict(t.state_dict())
        x = rng.standard_normal((4, 2))
        nx = nabla.tensor(x.astype(m.w.dtype), requires_grad=True)
        tx = torch.tensor(x, dtype=dtype, requires_grad=True)
        ny, ty = m(nx), tx * t.w + t.stats
        assert_close(ny, ty)
        g = rng.standard_normal((4, 2))
        ny.backward(nabla.tensor(g.astype(ny.dtype)))
        ty.backward(torch.tensor(g, dtype=dtype))
        assert_close(nx.grad, tx.grad)
        assert_close(m.w.grad, t.w.grad)
        assert m.stats.grad is None and m.stats.dtype == nx.dtype
        m.w.grad, t.w.grad = None, None


def test_buffer_shares_memory_and_keeps_requires_grad():
    t = nabla.zeros(3)
    b = nn.Buffer(t)
    b.add_(1.0)
    np.testing.assert_array_equal(t.numpy(), [1.0, 1.0, 1.0])
    assert b._version is t._version and b.persistent and not b.requires_grad
    r = nn.Buffer(nabla.ones(2, requires_grad=True) * 2)
    tr = tnn.Buffer(torch.ones(2, requires_grad=True) * 2)
    assert r.requires_grad == tr.requires_grad and r.is_leaf and tr.is_leaf
    assert nn.Buffer().shape == tnn.Buffer().shape == (0,)
    assert nn.Buffer([1.0, 2.0]).tolist() == [1.0, 2.0]
    assert not nn.Buffer(nabla.ones(1), persistent=False).persistent


def test_buffer_copies_and_pickles():
    m = _BufferNet()
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert list(clone.state_dict()) == ["w", "stats"]
        assert isinstance(clone.cache, nn.Buffer) and not clone.cache.persistent
        np.testing.assert_array_equal(clone.cache.numpy(), m.cache.numpy())
    m.double()
    assert m.stats.dtype == nabla.float64 and m.cache.dtype == nabla.float64


def test_buffer_errors():
    m = _BufferNet()
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'w'"):
        m.w = nn.Buffer(nabla.ones(2))
    m.plain = 3
    with pytest.raises(KeyError, match="already exists"):
        m.plain = nn.Buffer(nabla.ones(2))
    with pytest.raises(TypeError, match="as buffer 'stats'"):
        m.stats = [1.0, 2.0]

    class Early(nn.Module):
        def __init__(self):
            self.b = nn.Buffer(nabla.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


# -- InstanceNorm's bias argument ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_instance_norm_bias_false_matches_torch(dtype, rng):
    ours = nn.InstanceNorm2d(3, affine=True, bias=False)
    theirs = tnn.InstanceNorm2d(3, affine=True, bias=False).to(dtype)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    perturb(theirs)
    ours.to(nabla.float64 if dtype == torch.float64 else nabla.float32)
    ours.load_state_dict(theirs.state_dict())
    run_twins(ours, theirs, [(2, 3, 4, 5)], dtype, rng)
