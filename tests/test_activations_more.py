"""The activations of activation_more.py vs PyTorch: forward and backward under random upstream
gradients in float32 and float64, with the kink points (x == +-lambd, +-3, threshold, 0) in every
input so that the gradient convention there is pinned down; PReLU's parameter; RReLU's random
slopes; float64 gradcheck of the smooth ones; the in-place ``op_`` aliases; the reprs."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL, assert_close

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.autograd import gradcheck

DTYPES = [torch.float32, torch.float64]
KINKS = [0.0, 0.5, -0.5, 3.0, -3.0, 1.0, -1.0, 0.25, -0.25, 0.125]  # exact in float32

# (name, nabla function, torch function, input shape)
FUNCS = [
    ("celu", F.celu, TF.celu, (4, 5)),
    ("celu_alpha", lambda x: F.celu(x, 0.5), lambda x: TF.celu(x, 0.5), (4, 5)),
    ("glu", F.glu, TF.glu, (3, 6)),
    ("glu_dim0", lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0), (4, 5)),
    ("hardshrink", F.hardshrink, TF.hardshrink, (4, 5)),
    ("hardshrink_l", lambda x: F.hardshrink(x, 0.25), lambda x: TF.hardshrink(x, 0.25), (4, 5)),
    ("softshrink", F.softshrink, TF.softshrink, (4, 5)),
    ("softshrink_l", lambda x: F.softshrink(x, 1.0), lambda x: TF.softshrink(x, 1.0), (4, 5)),
    ("hardsigmoid", F.hardsigmoid, TF.hardsigmoid, (4, 5)),
    ("hardswish", F.hardswish, TF.hardswish, (4, 5)),
    ("softsign", F.softsign, TF.softsign, (4, 5)),
    ("tanhshrink", F.tanhshrink, TF.tanhshrink, (4, 5)),
    ("threshold", lambda x: F.threshold(x, 0.5, -2.0), lambda x: TF.threshold(x, 0.5, -2.0),
     (4, 5)),
    ("threshold_int", lambda x: F.threshold(x, 0.0, 3), lambda x: TF.threshold(x, 0.0, 3),
     (4, 5)),
    ("softmin", lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1), (4, 5)),
    ("softmin_default_dim", F.softmin, lambda x: TF.softmin(x, 0), (2, 4, 5)),  # legacy dim
    ("rrelu_eval", F.rrelu, TF.rrelu, (4, 5)),
    ("rrelu_eval_bounds", lambda x: F.rrelu(x, 0.1, 0.3), lambda x: TF.rrelu(x, 0.1, 0.3),
     (4, 5)),
    ("prelu_scalar", lambda x: F.prelu(x, nabla.tensor([0.3], dtype=x.dtype)),
     lambda x: TF.prelu(x, torch.tensor([0.3], dtype=x.dtype)), (2, 3, 4)),
]

# (name, nabla factory, torch factory, input shape)
MODULES = [
    ("PReLU", lambda: nn.PReLU(), lambda: tnn.PReLU(), (4, 5)),
    ("PReLU_C", lambda: nn.PReLU(3, 0.1), lambda: tnn.PReLU(3, 0.1), (2, 3, 4, 4)),
    ("PReLU_C_3d", lambda: nn.PReLU(3), lambda: tnn.PReLU(3), (2, 3, 5)),
    ("CELU", lambda: nn.CELU(0.7), lambda: tnn.CELU(0.7), (4, 5)),
    ("GLU", lambda: nn.GLU(1), lambda: tnn.GLU(1), (2, 4, 3)),
    ("Hardshrink", lambda: nn.Hardshrink(), lambda: tnn.Hardshrink(), (4, 5)),
    ("Softshrink", lambda: nn.Softshrink(0.25), lambda: tnn.Softshrink(0.25), (4, 5)),
    ("Hardsigmoid", lambda: nn.Hardsigmoid(), lambda: tnn.Hardsigmoid(), (4, 5)),
    ("Hardswish", lambda: nn.Hardswish(), lambda: tnn.Hardswish(), (4, 5)),
    ("Softsign", lambda: nn.Softsign(), lambda: tnn.Softsign(), (4, 5)),
    ("Tanhshrink", lambda: nn.Tanhshrink(), lambda: tnn.Tanhshrink(), (4, 5)),
    ("Threshold", lambda: nn.Threshold(0.25, 7.0), lambda: tnn.Threshold(0.25, 7.0), (4, 5)),
    ("Softmin", lambda: nn.Softmin(0), lambda: tnn.Softmin(0), (4, 5)),
    ("Softmax2d", lambda: nn.Softmax2d(), lambda: tnn.Softmax2d(), (2, 3, 2, 4)),
    ("Softmax2d_3d", lambda: nn.Softmax2d(), lambda: tnn.Softmax2d(), (3, 2, 4)),
    ("RReLU_eval", lambda: nn.RReLU().eval(), lambda: tnn.RReLU().eval(), (4, 5)),
]


def _input(shape, rng) -> np.ndarray:
    """Random values with the kink points written into the first elements."""
    x = rng.standard_normal(shape) * 2.5
    flat = x.reshape(-1)
    n = min(len(KINKS), flat.size)
    flat[:n] = KINKS[:n]
    return x


def _compare(nfn, tfn, x, dtype, rng, extra_n=(), extra_t=()):
    """Forward and backward (random upstream gradient) of nfn vs tfn on x; returns the pair of
    outputs."""
    tx = torch.tensor(x, dtype=dtype, requires_grad=True)
    nx = nabla.tensor(x.astype(tx.detach().numpy().dtype), requires_grad=True)
    ty, ny = tfn(tx), nfn(nx)
    assert_close(ny, ty, what="output")
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g, dtype=dtype))
    ny.backward(nabla.tensor(g.astype(ny.dtype)))
    assert_close(nx.grad, tx.grad, what="input gradient")
    for a, b in zip(extra_n, extra_t, strict=True):
        assert_close(a.grad, b.grad, what="parameter gradient")
    return ny, ty


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", FUNCS, ids=[c[0] for c in FUNCS])
def test_function_matches_torch(case, dtype, rng):
    _, nfn, tfn, shape = case
    _compare(nfn, tfn, _input(shape, rng), dtype, rng)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_matches_torch(case, dtype, rng):
    _, make_n, make_t, shape = case
    tmod, nmod = make_t().to(dtype), make_n()
    with torch.no_grad():
        for p in tmod.parameters():
            p.copy_(torch.randn_like(p))
    nmod.to(nabla.float64 if dtype == torch.float64 else nabla.float32)
    result = nmod.load_state_dict(tmod.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    assert list(nmod.state_dict()) == list(tmod.state_dict())
    _compare(nmod, tmod, _input(shape, rng), dtype, rng,
             list(nmod.parameters()), list(tmod.parameters()))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_prelu_per_channel_weight_gradient(dtype, rng):
    """num_parameters=C on (N, C, H, W) with a state_dict from torch: weight gradient summed over
    N, H, W, including the x == 0 elements (PyTorch's convention: slope side)."""
    tmod = tnn.PReLU(4).to(dtype)
    with torch.no_grad():
        tmod.weight.copy_(torch.tensor([0.1, -0.5, 0.3, 2.0]))
    nmod = nn.PReLU(4).to(nabla.float64 if dtype == torch.float64 else nabla.float32)
    nmod.load_state_dict(tmod.state_dict())
    assert nmod.weight.dtype == tmod.weight.detach().numpy().dtype
    x = _input((3, 4, 2, 5), rng)
    _compare(nmod, tmod, x, dtype, rng, [nmod.weight], [tmod.weight])


def test_prelu_default_init_and_state_dict():
    for args in [(), (5,), (3, 0.1)]:
        n, t = nn.PReLU(*args), tnn.PReLU(*args)
        assert list(n.state_dict()) == ["weight"]
        assert_close(n.weight, t.weight)
        assert n.weight.requires_grad


def test_prelu_rejects_channel_mismatch():
    with pytest.raises(ValueError, match="channel size"):
        F.prelu(nabla.zeros(2, 3), nabla.zeros(4))


def test_glu_rejects_odd_dim():
    with pytest.raises(ValueError, match="even"):
        F.glu(nabla.zeros(2, 5))


def test_softmax2d_rejects_2d():
    with pytest.raises(ValueError, match="3 or 4 dimensions"):
        nn.Softmax2d()(nabla.zeros(2, 3))


def test_softmin_dtype():
    x = np.arange(6.0).reshape(2, 3).astype(np.float32)
    out = F.softmin(nabla.tensor(x), dim=1, dtype=nabla.float64)
    assert_close(out, TF.softmin(torch.tensor(x), dim=1, dtype=torch.float64))


# -- RReLU -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [nabla.float32, nabla.float64], ids=["f32", "f64"])
def test_rrelu_training_slopes_in_range_and_gradient(dtype, rng):
    lower, upper = 0.1, 0.4
    x = nabla.tensor(_input((50, 40), rng).astype(dtype), requires_grad=True)
    y = F.rrelu(x, lower, upper, training=True)
    assert y.dtype == dtype
    xd, yd = x._data, y._data
    pos = xd > 0
    np.testing.assert_array_equal(yd[pos], xd[pos])
    neg = xd < 0
    slopes = yd[neg] / xd[neg]
    tol = 1e-6
    assert slopes.min() >= lower - tol and slopes.max() <= upper + tol
    assert slopes.std() > 0.05  # really random, not the mean slope
    g = rng.standard_normal(xd.shape).astype(dtype)
    y.backward(nabla.tensor(g))
    # the gradient is the upstream one times the slope drawn for that element
    np.testing.assert_allclose(x.grad._data[neg], g[neg] * slopes, rtol=1e-5)
    np.testing.assert_array_equal(x.grad._data[pos], g[pos])


def test_rrelu_training_is_seeded():
    x = nabla.randn(6, 7)
    nabla.manual_seed(123)
    a = F.rrelu(x, training=True)
    b = F.rrelu(x, training=True)
    nabla.manual_seed(123)
    c = nn.RReLU()(x)  # a module starts in training mode
    np.testing.assert_array_equal(a._data, c._data)
    assert not np.array_equal(a._data, b._data)


def test_rrelu_module_eval_matches_torch(rng):
    x = _input((5, 6), rng).astype(np.float32)
    n, t = nn.RReLU(0.2, 0.3), tnn.RReLU(0.2, 0.3)
    n.eval()
    t.eval()
    assert_close(n(nabla.tensor(x)), t(torch.tensor(x)))


# -- gradcheck -------------------------------------------------------------------------------
SMOOTH = [
    ("celu", lambda x: F.celu(x, 0.7)),
    ("glu", F.glu),
    ("softsign", F.softsign),
    ("tanhshrink", F.tanhshrink),
    ("softmin", lambda x: F.softmin(x, -1)),
    ("hardswish_inside", lambda x: F.hardswish(x * 0.5)),  # |x| < 3: the smooth part
    ("prelu", lambda x: F.prelu(x, nabla.tensor([0.2, 0.7, 1.5], dtype=nabla.float64))),
]


@pytest.mark.parametrize("case", SMOOTH, ids=[c[0] for c in SMOOTH])
def test_gradcheck_smooth(case, rng):
    _, fn = case
    x = rng.standard_normal((2, 3, 4))
    x = np.where(np.abs(x) < 0.05, 0.3, x)  # away from 0, where celu/prelu have a kink
    assert gradcheck(fn, (nabla.tensor(x, requires_grad=True),), **GRADCHECK_TOL)


def test_gradcheck_prelu_weight(rng):
    x = nabla.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = nabla.tensor(rng.uniform(0.1, 1.0, 3), requires_grad=True)
    assert gradcheck(F.prelu, (x, w), **GRADCHECK_TOL)


# -- in-place aliases ------------------------------------------------------------------------
INPLACE = [
    ("relu_", lambda x: F.relu_(x), lambda x: TF.relu_(x)),
    ("elu_", lambda x: F.elu_(x, 0.5), lambda x: TF.elu_(x, 0.5)),
    ("leaky_relu_", lambda x: F.leaky_relu_(x, 0.2), lambda x: TF.leaky_relu_(x, 0.2)),
    ("hardtanh_", lambda x: F.hardtanh_(x, -0.7, 0.9), lambda x: TF.hardtanh_(x, -0.7, 0.9)),
    ("selu_", lambda x: F.selu_(x), lambda x: TF.selu_(x)),
    ("celu_", lambda x: F.celu_(x, 0.6), lambda x: TF.celu_(x, 0.6)),
    ("threshold_", lambda x: F.threshold_(x, 0.5, -1.0), lambda x: TF.threshold_(x, 0.5, -1.0)),
    ("rrelu_", lambda x: F.rrelu_(x), lambda x: TF.rrelu_(x)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_writes_into_input(case, dtype, rng):
    _, nfn, tfn = case
    x = _input((4, 5), rng)
    tx = torch.tensor(x, dtype=dtype)
    nx = nabla.tensor(x.astype(tx.numpy().dtype))
    version = nx._version[0]
    tout, nout = tfn(tx), nfn(nx)
    assert nout is nx
    assert nx._version[0] > version
    assert_close(nx, tx, what="written values")
    assert tout is tx


@pytest.mark.parametrize("case", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_in_graph_gradient(case, rng):
    """On a non-leaf in grad mode the write is recorded: the gradient is the op's."""
    name, nfn, tfn = case
    x = _input((4, 5), rng)
    g = rng.standard_normal((4, 5))
    tx = torch.tensor(x, requires_grad=True)
    nx = nabla.tensor(x, requires_grad=True)
    th, nh = tx * 1.0, nx * 1.0
    tfn(th).backward(torch.tensor(g))
    nout = nfn(nh)
    assert nout is nh
    nout.backward(nabla.tensor(g))
    assert_close(nx.grad, tx.grad)


def test_inplace_hardtanh_in_graph_off_kinks(rng):
    x = rng.uniform(-2, 2, (4, 5))
    x = np.where(np.abs(np.abs(x) - 1) < 0.05, 0.0, x)
    g = rng.standard_normal((4, 5))
    tx, nx = torch.tensor(x, requires_grad=True), nabla.tensor(x, requires_grad=True)
    TF.hardtanh_(tx * 1.0).backward(torch.tensor(g))
    F.hardtanh_(nx * 1.0).backward(nabla.tensor(g))
    assert_close(nx.grad, tx.grad)


def test_inplace_refuses_leaf_that_requires_grad():
    x = nabla.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu_(x)


# -- reprs -----------------------------------------------------------------------------------
REPRS = [
    (lambda m: m.PReLU(), "PReLU"), (lambda m: m.PReLU(3, 0.1), "PReLU_C"),
    (lambda m: m.CELU(), "CELU"), (lambda m: m.CELU(0.5, True), "CELU_inplace"),
    (lambda m: m.GLU(), "GLU"), (lambda m: m.GLU(1), "GLU_1"),
    (lambda m: m.Hardshrink(), "Hardshrink"), (lambda m: m.Softshrink(0.3), "Softshrink"),
    (lambda m: m.Hardsigmoid(), "Hardsigmoid"), (lambda m: m.Hardsigmoid(True), "Hs_inplace"),
    (lambda m: m.Hardswish(), "Hardswish"), (lambda m: m.Hardswish(True), "Hsw_inplace"),
    (lambda m: m.Softsign(), "Softsign"), (lambda m: m.Tanhshrink(), "Tanhshrink"),
    (lambda m: m.Threshold(0.1, 20), "Threshold"),
    (lambda m: m.Threshold(0.1, 2.0, True), "Threshold_inplace"),
    (lambda m: m.Softmin(), "Softmin"), (lambda m: m.Softmin(1), "Softmin_1"),
    (lambda m: m.Softmax2d(), "Softmax2d"),
    (lambda m: m.RReLU(), "RReLU"), (lambda m: m.RReLU(0.1, 0.3, True), "RReLU_inplace"),
]


@pytest.mark.parametrize("make", [r[0] for r in REPRS], ids=[r[1] for r in REPRS])
def test_repr_matches_torch(make):
    assert repr(make(nn)) == repr(make(tnn))


def test_all_names_exported():
    import nabla.nn.functional.activation_more as fm
    import nabla.nn.modules.activation_more as mm

    for name in fm.__all__:
        assert getattr(F, name) is getattr(fm, name)
        assert hasattr(TF, name), name
    for name in mm.__all__:
        assert getattr(nn, name) is getattr(mm, name)
        assert hasattr(tnn, name), name
