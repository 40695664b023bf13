"""InstanceNorm1d/2d/3d, RMSNorm, LocalResponseNorm (functions and modules) and the padding
layers vs PyTorch: state copied from torch, outputs and every gradient compared under random
upstream gradients in float32 and float64, train and eval; float64 gradchecks; errors."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL, assert_close, perturb, run_twins, to_torch

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.autograd import gradcheck

DTYPES = [torch.float32, torch.float64]

# (name, nabla factory, torch factory, input shape)
NORM_LAYERS = [
    ("in1d", lambda: nn.InstanceNorm1d(3), lambda: tnn.InstanceNorm1d(3), (4, 3, 5)),
    ("in1d_unbatched", lambda: nn.InstanceNorm1d(3), lambda: tnn.InstanceNorm1d(3), (3, 5)),
    ("in1d_affine_tracked", lambda: nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
     lambda: tnn.InstanceNorm1d(3, affine=True, track_running_stats=True), (4, 3, 5)),
    ("in2d_affine", lambda: nn.InstanceNorm2d(4, affine=True),
     lambda: tnn.InstanceNorm2d(4, affine=True), (2, 4, 3, 5)),
    ("in2d_tracked_momentum", lambda: nn.InstanceNorm2d(2, momentum=0.3,
                                                        track_running_stats=True),
     lambda: tnn.InstanceNorm2d(2, momentum=0.3, track_running_stats=True), (3, 2, 4, 3)),
    ("in2d_unbatched_affine_tracked",
     lambda: nn.InstanceNorm2d(2, affine=True, track_running_stats=True, eps=1e-3),
     lambda: tnn.InstanceNorm2d(2, affine=True, track_running_stats=True, eps=1e-3),
     (2, 4, 3)),
    ("in3d_affine_tracked", lambda: nn.InstanceNorm3d(2, affine=True, track_running_stats=True),
     lambda: tnn.InstanceNorm3d(2, affine=True, track_running_stats=True), (2, 2, 3, 2, 4)),
    ("in3d_unbatched", lambda: nn.InstanceNorm3d(2), lambda: tnn.InstanceNorm3d(2),
     (2, 3, 2, 2)),
    ("rms", lambda: nn.RMSNorm(6), lambda: tnn.RMSNorm(6), (2, 3, 6)),
    ("rms_eps_2d", lambda: nn.RMSNorm((3, 4), eps=1e-3), lambda: tnn.RMSNorm((3, 4), eps=1e-3),
     (2, 3, 4)),
    ("rms_noaffine", lambda: nn.RMSNorm(5, elementwise_affine=False),
     lambda: tnn.RMSNorm(5, elementwise_affine=False), (5,)),
    ("lrn", lambda: nn.LocalResponseNorm(3), lambda: tnn.LocalResponseNorm(3), (2, 5, 4)),
    ("lrn_4d_even", lambda: nn.LocalResponseNorm(4, 0.5, 0.6, 2.0),
     lambda: tnn.LocalResponseNorm(4, 0.5, 0.6, 2.0), (2, 6, 3, 2)),
    ("lrn_5d_big", lambda: nn.LocalResponseNorm(7, 1.0, 0.9, 1.5),
     lambda: tnn.LocalResponseNorm(7, 1.0, 0.9, 1.5), (2, 3, 2, 2, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", NORM_LAYERS, ids=[c[0] for c in NORM_LAYERS])
def test_norm_layer_matches_torch(case, train, dtype, rng):
    _, make_n, make_t, shape = case
    tmod, nmod = make_t().to(dtype), make_n()
    perturb(tmod)
    nmod.to(nabla.float64 if dtype == torch.float64 else nabla.float32)
    result = nmod.load_state_dict(tmod.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    tmod.train(train)
    nmod.train(train)
    run_twins(nmod, tmod, [shape], dtype, rng, steps=3, shift=0.5)


@pytest.mark.parametrize("case", NORM_LAYERS, ids=[c[0] for c in NORM_LAYERS])
def test_norm_layer_init_state_dict_and_repr(case, rng):
    """Default init equals PyTorch's; nabla -> torch state_dict loads; extra_repr matches."""
    _, make_n, make_t, shape = case
    nmod, tmod = make_n(), make_t()
    sd = nmod.state_dict()
    assert list(sd) == list(tmod.state_dict())
    for k, v in tmod.state_dict().items():
        assert_close(sd[k], v, what=k)
    tmod.load_state_dict({k: to_torch(v) for k, v in sd.items()})
    assert nmod.extra_repr() == tmod.extra_repr()
    nmod.eval()
    tmod.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    assert_close(nmod(nabla.tensor(x)), tmod(torch.tensor(x)))


@pytest.mark.parametrize("momentum", [0.2, None])
def test_instance_norm_running_stats_over_steps_then_eval(momentum, rng):
    kw = {"momentum": momentum, "affine": True, "track_running_stats": True}
    tmod, nmod = tnn.InstanceNorm1d(4, **kw), nn.InstanceNorm1d(4, **kw)
    for _ in range(5):
        x = rng.standard_normal((3, 4, 6)) * 3 + 1
        nmod(nabla.tensor(x.astype(np.float32)))
        tmod(torch.tensor(x, dtype=torch.float32))
    assert_close(nmod.running_mean, tmod.running_mean)
    assert_close(nmod.running_var, tmod.running_var)
    assert_close(nmod.num_batches_tracked, tmod.num_batches_tracked)  # not counted, as torch
    nmod.eval()
    tmod.eval()
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    assert_close(nmod(nabla.tensor(x)), tmod(torch.tensor(x)))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_functional_matches_torch(use_input_stats, dtype, rng):
    x = rng.standard_normal((3, 2, 4, 5))
    w, b = rng.standard_normal(2), rng.standard_normal(2)
    rm, rv = rng.standard_normal(2), rng.random(2) + 0.5
    npd = x.dtype if dtype == torch.float64 else np.float32
    tt = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b)]
    nt = [nabla.tensor(a.astype(npd), requires_grad=True) for a in (x, w, b)]
    trm, trv = torch.tensor(rm, dtype=dtype), torch.tensor(rv, dtype=dtype)
    nrm, nrv = nabla.tensor(rm.astype(npd)), nabla.tensor(rv.astype(npd))
    ty = TF.instance_norm(tt[0], trm, trv, tt[1], tt[2], use_input_stats, 0.3, 1e-4)
    ny = F.instance_norm(nt[0], nrm, nrv, nt[1], nt[2], use_input_stats, 0.3, 1e-4)
    assert_close(ny, ty)
    assert_close(nrm, trm, what="running_mean")
    assert_close(nrv, trv, what="running_var")
    g = rng.standard_normal(ty.shape)
    ty.backward(torch.tensor(g, dtype=dtype))
    ny.backward(nabla.tensor(g.astype(npd)))
    for n_, t_, what in zip(nt, tt, ("input", "weight", "bias"), strict=True):
        assert_close(n_.grad, t_.grad, what=f"grad of {what}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("eps", [None, 1e-2])
def test_rms_norm_functional_matches_torch(eps, dtype, rng):
    x, w = rng.standard_normal((3, 4, 5)) * 0.1, rng.standard_normal((4, 5))
    npd = x.dtype if dtype == torch.float64 else np.float32
    tt = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w)]
    nt = [nabla.tensor(a.astype(npd), requires_grad=True) for a in (x, w)]
    ty, ny = TF.rms_norm(tt[0], (4, 5), tt[1], eps), F.rms_norm(nt[0], (4, 5), nt[1], eps)
    assert_close(ny, ty)
    g = rng.standard_normal(ty.shape)
    ty.backward(torch.tensor(g, dtype=dtype))
    ny.backward(nabla.tensor(g.astype(npd)))
    assert_close(nt[0].grad, tt[0].grad, what="grad of input")
    assert_close(nt[1].grad, tt[1].grad, what="grad of weight")


def test_rms_norm_default_eps_is_machine_epsilon():
    """A zero input gives 0 * rsqrt(eps): the eps must be finfo(dtype).eps, as in PyTorch."""
    for tdt, ndt in ((torch.float32, nabla.float32), (torch.float64, nabla.float64)):
        x = np.full((2, 3), 1e-9)
        assert_close(F.rms_norm(nabla.tensor(x).to(ndt), (3,)),
                     TF.rms_norm(torch.tensor(x, dtype=tdt), (3,)))


def test_gradchecks_float64(rng):
    x = nabla.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = nabla.tensor(rng.standard_normal(3), requires_grad=True)
    b = nabla.tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b),
                     **GRADCHECK_TOL)
    w4 = nabla.tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w: F.rms_norm(x, 4, w, 1e-3), (x, w4), **GRADCHECK_TOL)
    assert gradcheck(lambda x: F.local_response_norm(x, 2, 0.5, 0.75, 1.0), (x,),
                     **GRADCHECK_TOL)
    x5 = nabla.tensor(rng.standard_normal((2, 5, 2, 2)), requires_grad=True)
    assert gradcheck(lambda x: F.local_response_norm(x, 3, 0.3, 0.6, 2.0), (x5,),
                     **GRADCHECK_TOL)


def test_norm_errors_name_the_layer():
    with pytest.raises(ValueError, match="InstanceNorm1d: expected 2D or 3D input"):
        nn.InstanceNorm1d(3)(nabla.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="InstanceNorm2d: expected 3D or 4D input"):
        nn.InstanceNorm2d(3)(nabla.zeros(3, 4))
    with pytest.raises(ValueError, match="InstanceNorm1d: expected input's size at dim=1"):
        nn.InstanceNorm1d(3, affine=True)(nabla.zeros(2, 4, 5))
    with pytest.raises(ValueError, match="instance_norm: expected more than 1 spatial"):
        nn.InstanceNorm1d(3)(nabla.zeros(2, 3, 1))
    with pytest.raises(ValueError, match="instance_norm: running_mean and running_var"):
        F.instance_norm(nabla.zeros(2, 3, 4), use_input_stats=False)
    with pytest.raises(RuntimeError, match="rms_norm: expected input with shape"):
        nn.RMSNorm(4)(nabla.zeros(2, 3))
    with pytest.raises(ValueError, match="local_response_norm: expected 3D or higher"):
        nn.LocalResponseNorm(2)(nabla.zeros(2, 3))


# (nabla class, torch class, constructor args, input shape)
PADS = [
    (nn.ZeroPad1d, tnn.ZeroPad1d, (2,), (2, 3, 4)),
    (nn.ZeroPad2d, tnn.ZeroPad2d, ((1, 0, 2, -1),), (2, 3, 4)),
    (nn.ZeroPad3d, tnn.ZeroPad3d, ((1, 2, 0, 1, 2, 0),), (1, 2, 3, 2, 2)),
    (nn.ConstantPad1d, tnn.ConstantPad1d, ((3, 1), 2.5), (3, 4)),
    (nn.ConstantPad2d, tnn.ConstantPad2d, (1, -1.0), (2, 3, 4)),
    (nn.ConstantPad3d, tnn.ConstantPad3d, (1, 0.5), (2, 2, 3, 2)),
    (nn.ReflectionPad1d, tnn.ReflectionPad1d, ((3, 1),), (2, 3, 4)),
    (nn.ReflectionPad1d, tnn.ReflectionPad1d, (2,), (3, 4)),
    (nn.ReflectionPad2d, tnn.ReflectionPad2d, (2,), (2, 3, 4, 3)),
    (nn.ReflectionPad2d, tnn.ReflectionPad2d, ((1, 0, 2, 1),), (3, 4, 3)),
    (nn.ReflectionPad3d, tnn.ReflectionPad3d, (1,), (1, 2, 3, 2, 4)),
    (nn.ReflectionPad3d, tnn.ReflectionPad3d, ((1, 0, 2, 1, 0, 1),), (2, 3, 3, 2)),
    (nn.ReplicationPad1d, tnn.ReplicationPad1d, ((3, 1),), (2, 3, 4)),
    (nn.ReplicationPad2d, tnn.ReplicationPad2d, (2,), (2, 3, 4, 3)),
    (nn.ReplicationPad2d, tnn.ReplicationPad2d, ((0, 3, 1, 2),), (3, 2, 3)),
    (nn.ReplicationPad3d, tnn.ReplicationPad3d, ((1, 2, 0, 1, 2, 0),), (1, 2, 3, 2, 2)),
    (nn.CircularPad1d, tnn.CircularPad1d, ((3, 1),), (2, 3, 4)),
    (nn.CircularPad2d, tnn.CircularPad2d, (1,), (2, 3, 4, 3)),
    (nn.CircularPad2d, tnn.CircularPad2d, ((2, 0, 1, 3),), (2, 4, 3)),
    (nn.CircularPad3d, tnn.CircularPad3d, ((1, 2, 0, 1, 2, 0),), (1, 2, 3, 2, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", PADS, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(PADS)])
def test_padding_matches_torch(case, dtype, rng):
    ncls, tcls, args, shape = case
    nmod, tmod = ncls(*args), tcls(*args)
    assert repr(nmod) == repr(tmod)
    assert nmod.padding == tuple(tmod.padding)
    x = rng.standard_normal(shape)
    tx = torch.tensor(x, dtype=dtype, requires_grad=True)
    nx = nabla.tensor(x.astype(tx.detach().numpy().dtype), requires_grad=True)
    ty, ny = tmod(tx), nmod(nx)
    assert_close(ny, ty)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g, dtype=dtype))
    ny.backward(nabla.tensor(g.astype(ny.dtype)))
    assert_close(nx.grad, tx.grad, what="grad of input")


def test_padding_errors_name_the_layer():
    with pytest.raises(ValueError, match="ZeroPad2d: padding must be an int or a tuple of 4"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(ValueError, match="ReflectionPad3d: padding must be"):
        nn.ReflectionPad3d((1, 2, 3, 4))
    with pytest.raises(ValueError, match="ReflectionPad2d: expected 3D or 4D input"):
        nn.ReflectionPad2d(1)(nabla.zeros(3, 4))
    with pytest.raises(ValueError, match="CircularPad1d: expected 2D or 3D input"):
        nn.CircularPad1d(1)(nabla.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match="ConstantPad3d: expected at least 3D input"):
        nn.ConstantPad3d(1, 0.0)(nabla.zeros(3, 4))
    with pytest.raises(RuntimeError, match="reflect padding"):
        nn.ReflectionPad1d(4)(nabla.zeros(2, 3, 4))
