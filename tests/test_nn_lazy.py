"""Lazy modules (LazyLinear, LazyConv*/LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*) and
UninitializedParameter / UninitializedBuffer against PyTorch's contract: reprs and state_dict
keys before and after the first call, the class they become, forward and backward against torch
with copied weights (float32, float64), the same initial values as the eager layer under the
same seed, optimizers built before the dry run, load_state_dict into a lazy module, copies, and
the clear errors of uninitialized parameters."""

import copy
import pickle

import numpy as np
import pytest
import torch
import torch.nn as tnn
from conftest import assert_close, perturb, run_twins

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.nn.modules.lazy import LazyModuleMixin
from nabla.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

DTYPES = [torch.float32, torch.float64]


def _ndt(dtype):
    return nabla.float64 if dtype == torch.float64 else nabla.float32


# (id, nabla lazy, torch lazy, input shape, eager nabla layer for that input)
LAZY = [
    ("linear", lambda m: m.LazyLinear(5), (4, 3), lambda: nn.Linear(3, 5)),
    ("linear_3d_nobias", lambda m: m.LazyLinear(4, bias=False), (2, 3, 6),
     lambda: nn.Linear(6, 4, bias=False)),
    ("conv1d", lambda m: m.LazyConv1d(4, 3, padding=1), (2, 3, 8),
     lambda: nn.Conv1d(3, 4, 3, padding=1)),
    ("conv2d_groups", lambda m: m.LazyConv2d(4, 3, stride=2, groups=2), (2, 4, 7, 7),
     lambda: nn.Conv2d(4, 4, 3, stride=2, groups=2)),
    ("conv2d_unbatched", lambda m: m.LazyConv2d(3, 2, padding_mode="reflect", padding=1),
     (2, 5, 5), lambda: nn.Conv2d(2, 3, 2, padding_mode="reflect", padding=1)),
    ("conv3d_nobias", lambda m: m.LazyConv3d(2, 2, bias=False), (1, 3, 4, 4, 4),
     lambda: nn.Conv3d(3, 2, 2, bias=False)),
    ("convT1d", lambda m: m.LazyConvTranspose1d(3, 3, stride=2), (2, 4, 5),
     lambda: nn.ConvTranspose1d(4, 3, 3, stride=2)),
    ("convT2d_groups", lambda m: m.LazyConvTranspose2d(4, 3, 2, 1, 1, groups=2), (1, 2, 4, 4),
     lambda: nn.ConvTranspose2d(2, 4, 3, 2, 1, 1, groups=2)),
    ("convT3d", lambda m: m.LazyConvTranspose3d(2, 2), (1, 3, 3, 3, 3),
     lambda: nn.ConvTranspose3d(3, 2, 2)),
    ("bn1d", lambda m: m.LazyBatchNorm1d(), (6, 3), lambda: nn.BatchNorm1d(3)),
    ("bn1d_3d_input", lambda m: m.LazyBatchNorm1d(eps=1e-3), (4, 3, 5),
     lambda: nn.BatchNorm1d(3, eps=1e-3)),
    ("bn2d_cumulative", lambda m: m.LazyBatchNorm2d(momentum=None), (3, 2, 4, 4),
     lambda: nn.BatchNorm2d(2, momentum=None)),
    ("bn3d_noaffine", lambda m: m.LazyBatchNorm3d(affine=False), (2, 2, 3, 2, 3),
     lambda: nn.BatchNorm3d(2, affine=False)),
    ("in1d", lambda m: m.LazyInstanceNorm1d(), (2, 3, 6),
     lambda: nn.InstanceNorm1d(3, affine=True, track_running_stats=True)),
    ("in2d_nobias", lambda m: m.LazyInstanceNorm2d(bias=False), (2, 3, 4, 5),
     lambda: nn.InstanceNorm2d(3, affine=True, track_running_stats=True, bias=False)),
    ("in3d_plain", lambda m: m.LazyInstanceNorm3d(affine=False, track_running_stats=False),
     (2, 2, 3, 3, 3), lambda: nn.InstanceNorm3d(2)),
]
IDS = [c[0] for c in LAZY]


def _lazy_keys(mod, lazy_test) -> list:
    return [k for k, v in mod.state_dict().items() if lazy_test(v)]


@pytest.mark.filterwarnings("ignore:input's size at dim=1")  # torch's, num_features=0
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", LAZY, ids=IDS)
def test_lazy_layer_matches_torch(case, dtype, rng):
    """Before: same repr, keys, placeholders. Dry run on the same input (after .to(dtype)).
    After: the eager class, same repr, keys and shapes; then torch's values copied in and
    forward / backward / running statistics compared."""
    _, make, shape, _ = case
    n, t = make(nn), make(tnn)
    assert repr(n) == repr(t)
    assert list(n.state_dict()) == list(t.state_dict())
    assert _lazy_keys(n, is_lazy) == _lazy_keys(t, tnn.parameter.is_lazy)
    assert n.has_uninitialized_params() == t.has_uninitialized_params()
    assert [type(p).__name__ for p in n.parameters()] == \
        [type(p).__name__ for p in t.parameters()]
    n.to(_ndt(dtype))
    t.to(dtype)
    x = rng.standard_normal(shape)
    t(torch.tensor(x, dtype=dtype))
    n(nabla.tensor(x, dtype=_ndt(dtype)))
    assert type(n).__name__ == type(t).__name__ and not isinstance(n, LazyModuleMixin)
    assert type(n) is type(case[3]())
    # torch leaves num_features at 0 when nothing was lazy (affine=False and no running
    # stats); nabla sets it from the input as in every other case
    assert repr(n) == repr(t).replace("(0,", f"({getattr(n, 'num_features', 0)},")
    assert {k: tuple(v.shape) for k, v in n.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in t.state_dict().items()}
    assert all(p.dtype == _ndt(dtype) for p in n.parameters())
    perturb(t)
    n.load_state_dict(t.state_dict())
    run_twins(n, t, [shape], dtype, rng, steps=2)


@pytest.mark.parametrize("case", LAZY, ids=IDS)
def test_lazy_draws_the_eager_layers_initial_values(case, rng):
    """Same seed, same values: the lazy layer draws what the eager one would have at that
    point (weight, then bias, as PyTorch's reset_parameters)."""
    _, make, shape, make_eager = case
    x = nabla.tensor(rng.standard_normal(shape), dtype=nabla.float32)
    lazy = make(nn).eval()  # eval: a batch norm's dry run leaves its running stats alone
    nabla.manual_seed(11)
    lazy(x)
    after_lazy = nabla.randn(3)
    nabla.manual_seed(11)
    eager = make_eager()
    after_eager = nabla.randn(3)
    for (name, a), (ename, b) in zip(lazy.state_dict().items(), eager.state_dict().items(),
                                     strict=True):
        assert name == ename
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    np.testing.assert_array_equal(after_lazy.numpy(), after_eager.numpy())  # same draws used
    assert type(lazy) is type(eager)


def test_lazy_linear_becomes_linear_in_place():
    m = nn.LazyLinear(3)
    w, b = m.weight, m.bias
    assert isinstance(w, UninitializedParameter) and isinstance(w, nn.Parameter)
    assert repr(w) == repr(tnn.LazyLinear(3).weight) == "<UninitializedParameter>"
    assert m.has_uninitialized_params()
    x = nabla.randn(2, 7)
    y = m(x)
    assert y.shape == (2, 3)
    assert type(m) is nn.Linear and isinstance(m, nn.Linear) and m.in_features == 7
    assert m.weight is w and m.bias is b and type(w) is nn.Parameter and w.shape == (3, 7)
    assert w.requires_grad and w.is_leaf and w.grad is None
    assert not hasattr(m, "_initialize_hook") and not m._forward_pre_hooks
    assert not hasattr(m, "has_uninitialized_params")  # as torch: a plain Linear now
    y.sum().backward()  # d sum(x W^T + b) / dW = each row the column sums of x
    np.testing.assert_allclose(w.grad.numpy(), np.tile(x.numpy().sum(0), (3, 1)), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("make_opt", [
    lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda lib, ps: lib.optim.Adam(ps, lr=0.01),
    lambda lib, ps: lib.optim.SGD(ps, lr=0.05, weight_decay=0.1),
], ids=["sgd_momentum", "adam", "sgd_decay"])
def test_optimizer_built_before_the_dry_run(make_opt, rng):
    """As torch: parameters() gives the placeholders, the optimizer keeps them, the dry run
    materializes those same objects, and training then matches torch step for step."""
    def build(lib):
        m = lib.nn
        return m.Sequential(m.LazyConv2d(4, 3), m.ReLU(), m.LazyBatchNorm2d(), m.Flatten(),
                            m.LazyLinear(2))
    n, t = build(nabla), build(torch)
    assert repr(n) == repr(t)
    nopt, topt = make_opt(nabla, n.parameters()), make_opt(torch, t.parameters())
    held = list(nopt.param_groups[0]["params"])
    assert all(is_lazy(p) for p in held) and len(held) == len(list(t.parameters()))
    x = rng.standard_normal((3, 2, 5, 5))
    t(torch.tensor(x, dtype=torch.float32))
    n(nabla.tensor(x, dtype=nabla.float32))
    assert repr(n) == repr(t)
    assert all(a is b for a, b in zip(held, n.parameters(), strict=True))
    n.load_state_dict(t.state_dict())  # in place: the optimizer's tensors get the values
    for step in range(3):
        xs = rng.standard_normal((3, 2, 5, 5)).astype(np.float32)
        tl = (t(torch.tensor(xs)) ** 2).mean()
        nl = (n(nabla.tensor(xs)) ** 2).mean()
        assert_close(nl, tl, what=f"loss {step}")
        topt.zero_grad()
        nopt.zero_grad()
        tl.backward()
        nl.backward()
        topt.step()
        nopt.step()
        for (name, tp), p in zip(t.named_parameters(), held, strict=True):
            assert_close(p, tp, what=f"{name} after step {step}")


def test_optimizer_step_before_the_dry_run_skips_the_parameters():
    """No parameter has a gradient yet: torch skips them, and so does every nabla optimizer
    (Adagrad, which fills its state when built, refuses to be built on them, as torch's)."""
    optim = nabla.optim
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        optim.Adagrad(nn.LazyLinear(3).parameters())
    for make in (lambda ps: optim.SGD(ps, lr=0.1), lambda ps: optim.SGD(ps, 0.1, momentum=0.9),
                 optim.RMSprop, optim.Adam, optim.AdamW, optim.Adadelta):
        m = nn.LazyLinear(3)
        opt = make(m.parameters())
        opt.step()
        assert m.has_uninitialized_params()
        m(nabla.randn(2, 4)).sum().backward()
        opt.step()
        assert m.weight.shape == (3, 4)


def test_load_state_dict_materializes_a_lazy_module(rng):
    for n, t, x_shape in [(nn.LazyConv2d(4, 3), tnn.Conv2d(2, 4, 3), (2, 2, 6, 6)),
                          (nn.LazyLinear(3), tnn.Linear(5, 3), (4, 5)),
                          (nn.LazyBatchNorm2d(), tnn.BatchNorm2d(3), (2, 3, 4, 4))]:
        perturb(t)
        assert not n.load_state_dict(t.state_dict()).missing_keys
        assert isinstance(n, LazyModuleMixin) and not n.has_uninitialized_params()
        for name, v in t.state_dict().items():
            np.testing.assert_array_equal(n.state_dict()[name].numpy(), v.numpy(), name)
        x = rng.standard_normal(x_shape).astype(np.float32)
        t.eval()
        n.eval()
        assert_close(n(nabla.tensor(x)), t(torch.tensor(x)))  # the loaded values, not redrawn
        assert repr(n) == repr(t) and type(n).__name__ == type(t).__name__
        # unlike torch (which leaves in_channels / num_features at 0), the first call sets them
        assert "(0" not in repr(n)


def test_state_dict_of_a_lazy_module():
    a, b = nn.LazyLinear(3), nn.LazyLinear(3)
    sd = a.state_dict()
    assert all(is_lazy(v) for v in sd.values()) and sd["weight"] is a.weight
    assert repr(b.load_state_dict(sd)) == repr(tnn.LazyLinear(3).load_state_dict(
        tnn.LazyLinear(3).state_dict()))
    assert b.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="weight in the state_dict is uninitialized"):
        nn.Linear(4, 3).load_state_dict(sd)
    assert all(is_lazy(v) for v in pickle.loads(pickle.dumps(sd)).values())


def test_lazy_modules_copy_pickle_and_cast():
    m = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyBatchNorm1d())
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert repr(clone) == repr(m) and clone[0].has_uninitialized_params()
        clone(nabla.randn(5, 6))
        assert type(clone[0]) is nn.Linear and clone[0].weight.shape == (4, 6)
        assert type(clone[2]) is nn.BatchNorm1d and clone[2].running_mean.shape == (4,)
    assert m[0].has_uninitialized_params()  # the original is untouched
    m.double()
    assert m[0].weight.dtype == nabla.float64 and m[2].running_var.dtype == nabla.float64
    m(nabla.randn(5, 6, dtype=nabla.float64))
    assert m[0].weight.dtype == m[2].running_var.dtype == nabla.float64
    assert m[2].num_batches_tracked.dtype == nabla.int64
    frozen = nn.LazyLinear(2).requires_grad_(False)
    frozen(nabla.randn(1, 3))
    assert not frozen.weight.requires_grad and not frozen.bias.requires_grad


def test_lazy_instance_norm_unbatched_infers_channels():
    """PyTorch reads dim 1 of unbatched (C, L) input as the channel count (and then fails);
    nabla reads dim 0, the channels, and matches the eager InstanceNorm1d."""
    x = np.random.default_rng(1).standard_normal((3, 7))
    n = nn.LazyInstanceNorm1d().double()
    y = n(nabla.tensor(x))
    t = tnn.InstanceNorm1d(3, affine=True, track_running_stats=True).double()
    assert n.num_features == 3 and n.weight.shape == (3,)
    assert_close(y, t(torch.tensor(x)))
    assert_close(n.running_mean, t.running_mean)


def test_forward_hooks_and_first_call_order():
    m = nn.LazyLinear(2)
    seen = []
    m.register_forward_pre_hook(lambda mod, args: seen.append(type(mod.weight).__name__))
    m.register_forward_hook(lambda mod, args, out: out * 0)
    y = m(nabla.randn(3, 4))
    assert seen == ["Parameter"] and np.all(y.detach().numpy() == 0)  # lazy hook ran first
    m(nabla.randn(3, 4))
    assert seen == ["Parameter", "Parameter"]


class _LazyScale(LazyModuleMixin, nn.Module):
    """A user-defined lazy module without cls_to_become: y = x * w, w of the last dim."""

    def __init__(self):
        super().__init__()
        self.w = UninitializedParameter()
        self.calls = 0

    def initialize_parameters(self, x):
        self.calls += 1
        if self.has_uninitialized_params():
            self.w.materialize((x.shape[-1],))
            nn.init.ones_(self.w)

    def forward(self, x):
        return x * self.w


def test_user_defined_lazy_module():
    m = _LazyScale()
    assert [k for k in m.state_dict()] == ["w"] and m.has_uninitialized_params()
    x = nabla.randn(2, 3)
    np.testing.assert_array_equal(m(x).detach().numpy(), x.numpy())
    m(x)
    assert m.calls == 1 and isinstance(m, _LazyScale) and not m.has_uninitialized_params()

    class Forgetful(LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.w = UninitializedParameter()

        def initialize_parameters(self, x):
            pass

    with pytest.raises(RuntimeError, match="module Forgetful has not been fully initialized"):
        Forgetful()(x)

    class NoInit(LazyModuleMixin, nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="initialize_parameters .* NoInit"):
        NoInit()(x)


def test_uninitialized_tensors_directly():
    p = UninitializedParameter(dtype=nabla.float64)
    assert p.dtype == nabla.float64 and p.requires_grad and is_lazy(p)
    assert UninitializedParameter.cls_to_become is nn.Parameter
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and p.shape == (2, 3) and p.dtype == nabla.float64
    assert not is_lazy(p)
    b = UninitializedBuffer()
    assert repr(b) == repr(tnn.UninitializedBuffer()) == "<UninitializedBuffer>"
    assert not b.requires_grad and b.dtype == nabla.get_default_dtype()
    b.materialize(4, dtype=nabla.float64)
    assert type(b) is nabla.Tensor and b.shape == (4,) and b.dtype == nabla.float64
    q = nn.UninitializedParameter(requires_grad=False)
    assert not q.requires_grad and isinstance(q, nn.Parameter)
    with pytest.raises(ValueError, match="materialize"):
        q.materialize((2, -1))
    assert is_lazy(q)
    with pytest.raises(RuntimeError, match="only floating point"):
        UninitializedParameter(dtype=nabla.int64)


def test_uninitialized_parameter_errors_are_clear():
    m = nn.LazyLinear(3)
    w = m.weight
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        _ = w.shape
    for use in (lambda: w.data, lambda: w.numel(), lambda: w + 1, lambda: w.sum(),
                lambda: F.linear(nabla.randn(2, 4), w), lambda: w.detach(), lambda: len(w),
                lambda: nabla.nn.utils.parameters_to_vector(m.parameters()),
                lambda: m.forward(nabla.randn(2, 4))):
        with pytest.raises(RuntimeError, match="uninitialized parameter .*dry run"):
            use()
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        w.grad = nabla.zeros(3, 4)
    m.zero_grad()  # no gradients: nothing to do, no error (as torch)
    assert m.has_uninitialized_params()


def test_lazy_first_call_errors():
    with pytest.raises(TypeError, match="LazyLinear: expected a Tensor"):
        nn.LazyLinear(3)(np.ones((2, 4)))
    with pytest.raises(RuntimeError, match="LazyLinear: expected at least 1D"):
        nn.LazyLinear(3)(nabla.tensor(1.0))
    with pytest.raises(RuntimeError, match="LazyConv2d: expected 3D or 4D input"):
        nn.LazyConv2d(4, 3)(nabla.ones(2, 5))
    with pytest.raises(ValueError, match="out_channels \\(4\\) must be divisible by groups"):
        nn.LazyConv2d(4, 3, groups=3)
    m = nn.LazyConv2d(4, 3, groups=2)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups.*3 channels"):
        m(nabla.ones(1, 3, 5, 5))
    assert m.has_uninitialized_params() and type(m) is nn.LazyConv2d  # a later call may work
    assert m(nabla.ones(1, 4, 5, 5)).shape == (1, 4, 3, 3)
    with pytest.raises(ValueError, match="LazyBatchNorm2d: expected 4D input"):
        nn.LazyBatchNorm2d()(nabla.ones(2, 3, 4))
    with pytest.raises(ValueError, match="LazyInstanceNorm1d: expected 2D or 3D"):
        nn.LazyInstanceNorm1d()(nabla.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="padding mode"):
        nn.LazyConvTranspose2d(4, 3, padding_mode="reflect")


def test_lazy_after_load_errors():
    m = nn.LazyLinear(3)
    m.load_state_dict(nn.Linear(4, 3).state_dict())
    with pytest.raises(RuntimeError, match=r"LazyLinear: the input implies weight of shape "
                                           r"\(3, 5\), but weight has shape \(3, 4\)"):
        m(nabla.ones(2, 5))
    assert m(nabla.ones(2, 4)).shape == (2, 3)
    partial = nn.LazyLinear(3)
    sd = nn.Linear(4, 3).state_dict()
    del sd["bias"]
    assert partial.load_state_dict(sd, strict=False).missing_keys == ["bias"]
    with pytest.raises(RuntimeError, match=r"\['weight'\] were loaded .* \['bias'\] were not"):
        partial(nabla.ones(2, 4))
    lazy_into_plain = nn.Linear(4, 3)
    lazy_into_plain.weight = UninitializedParameter()
    with pytest.raises(RuntimeError, match="can't load weight into an uninitialized"):
        lazy_into_plain.load_state_dict(nn.Linear(4, 3).state_dict())
