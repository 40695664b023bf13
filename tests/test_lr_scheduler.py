"""nabla.optim.lr_scheduler against torch.optim.lr_scheduler: the same lr at every step.

Each configuration drives an SGD (or Adam, for beta1 cycling) with two parameter groups for 100
steps next to its PyTorch twin, comparing get_last_lr() and the groups' momenta after every
step; then a state_dict round trip mid-run must continue the same sequence.
"""

import math
import pickle
import warnings

import numpy as np
import pytest

import nabla
import nabla.optim as optim
from nabla.optim import lr_scheduler

torch = pytest.importorskip("torch")

STEPS = 100
TOL = dict(rtol=1e-12, atol=1e-15)


def _optimizers(kind="SGD"):
    ours = [nabla.tensor(np.ones(2), requires_grad=True) for _ in range(2)]
    theirs = [torch.ones(2, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    groups = lambda ps: [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}]  # noqa: E731
    if kind == "Adam":
        return optim.Adam(groups(ours), lr=0.1), torch.optim.Adam(groups(theirs), lr=0.1)
    return (optim.SGD(groups(ours), lr=0.1, momentum=0.9),
            torch.optim.SGD(groups(theirs), lr=0.1, momentum=0.9))


def _warmup_then_cosine(lib):
    def make(opt):
        sched = lib.optim.lr_scheduler
        warm = sched.LinearLR(opt, start_factor=0.1, total_iters=10)
        decay = sched.CosineAnnealingLR(opt, T_max=90, eta_min=1e-4)
        return sched.SequentialLR(opt, [warm, decay], milestones=[10])
    return make


def _three_stage(lib):
    def make(opt):
        sched = lib.optim.lr_scheduler
        stages = [sched.ConstantLR(opt, factor=0.5, total_iters=5),
                  sched.ExponentialLR(opt, gamma=0.95),
                  sched.StepLR(opt, step_size=7, gamma=0.5)]
        return sched.SequentialLR(opt, stages, milestones=[10, 40])
    return make


class _Halving:
    """A callable object: its attributes are saved in LambdaLR's state_dict."""

    def __init__(self):
        self.every = 10

    def __call__(self, epoch):
        return 0.5 ** (epoch // self.every)


CONFIGS = {
    "StepLR": lambda s, o: s.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-float-step": lambda s, o: s.StepLR(o, 1.0, gamma=0.95),  # the transformer tutorial
    "StepLR-fractional-step": lambda s, o: s.StepLR(o, step_size=2.5, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[10, 30, 30, 60], gamma=0.3),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=40),
    "CosineAnnealingLR-eta_min-restarts": lambda s, o: s.CosineAnnealingLR(o, T_max=30,
                                                                           eta_min=0.01),
    "LinearLR-warmup": lambda s, o: s.LinearLR(o, start_factor=0.25, total_iters=20),
    "LinearLR-decay": lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                              total_iters=60),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=8),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=50, power=2.0),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda e: 1.0 / (1 + 0.1 * e)),
    "LambdaLR-per-group": lambda s, o: s.LambdaLR(o, [lambda e: 0.99**e, _Halving()]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda e: 0.98 if e % 2 else 1.0),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=10),
    "CosineAnnealingWarmRestarts-T_mult": lambda s, o: s.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=0.001),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, factor=0.2, total_iters=4), s.ExponentialLR(o, gamma=0.96)]),
    "OneCycleLR-cos": lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=100),
    "OneCycleLR-linear": lambda s, o: s.OneCycleLR(o, max_lr=0.8, epochs=10, steps_per_epoch=10,
                                                   anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-three-phase": lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=100,
                                                        three_phase=True, div_factor=10.0),
    "OneCycleLR-no-momentum": lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=100,
                                                        cycle_momentum=False),
}


def _make(config, lib, opt):
    sched = lib.optim.lr_scheduler if lib is torch else lr_scheduler
    return CONFIGS[config](sched, opt)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _step(sched, opt):
    opt.step()  # no gradients: a no-op, but torch expects it before scheduler.step()
    sched.step()


def _assert_same(ours, theirs, opt, ref):
    np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), **TOL)
    np.testing.assert_allclose([g["lr"] for g in opt.param_groups],
                               [g["lr"] for g in ref.param_groups], **TOL)
    np.testing.assert_allclose(_momenta(opt), _momenta(ref), **TOL)


def _pair(config, kind="SGD"):
    opt, ref = _optimizers(kind)
    return opt, ref, _make(config, nabla, opt), _make(config, torch, ref)


@pytest.mark.parametrize("config", list(CONFIGS))
def test_lr_sequence_matches_torch(config):
    opt, ref, ours, theirs = _pair(config)
    steps = getattr(ours, "total_steps", STEPS + 1) - 1
    _assert_same(ours, theirs, opt, ref)
    for _ in range(min(STEPS, steps)):
        _step(ours, opt)
        _step(theirs, ref)
        _assert_same(ours, theirs, opt, ref)
    assert "initial_lr" in opt.param_groups[0]


@pytest.mark.parametrize("make", [_warmup_then_cosine, _three_stage],
                         ids=["warmup-cosine", "three-stages"])
def test_sequential_lr_matches_torch(make):
    opt, ref = _optimizers()
    ours, theirs = make(nabla)(opt), make(torch)(ref)
    _assert_same(ours, theirs, opt, ref)
    for _ in range(STEPS):
        _step(ours, opt)
        _step(theirs, ref)
        _assert_same(ours, theirs, opt, ref)


def test_one_cycle_cycles_adam_beta1_like_torch():
    opt, ref, ours, theirs = _pair("OneCycleLR-cos", kind="Adam")
    for _ in range(STEPS - 1):
        _step(ours, opt)
        _step(theirs, ref)
        _assert_same(ours, theirs, opt, ref)
        assert opt.param_groups[0]["betas"][1] == 0.999
    ours.step()  # step 100 of 100 is allowed (torch allows it too); step 101 is not
    with pytest.raises(ValueError, match="Tried to step 101 times"):
        ours.step()


def test_one_cycle_shape():
    """Warm-up to max_lr at pct_start, then down to max_lr / (div · final_div)."""
    opt, _ = _optimizers()
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=101, pct_start=0.2)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(100):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs[0] == pytest.approx(1.0 / 25) and int(np.argmax(lrs)) == 20
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)


def _config_and_sequential():
    return list(CONFIGS) + ["warmup-cosine"]


@pytest.mark.parametrize("config", _config_and_sequential())
def test_state_dict_round_trip_continues_the_sequence(config):
    def build(opt):
        return _warmup_then_cosine(nabla)(opt) if config == "warmup-cosine" else \
            _make(config, nabla, opt)

    opt, _ = _optimizers()
    whole = build(opt)
    expected = []
    for _ in range(STEPS - 1):
        _step(whole, opt)
        expected.append(whole.get_last_lr())

    opt1, _ = _optimizers()
    first = build(opt1)
    for _ in range(40):
        _step(first, opt1)
    opt_state = pickle.loads(pickle.dumps(opt1.state_dict()))
    sched_state = first.state_dict()
    assert "optimizer" not in sched_state

    opt2, _ = _optimizers()
    resumed = build(opt2)
    opt2.load_state_dict(opt_state)
    resumed.load_state_dict(sched_state)
    got = []
    for _ in range(STEPS - 1 - 40):
        _step(resumed, opt2)
        got.append(resumed.get_last_lr())
    np.testing.assert_allclose(got, expected[40:], rtol=1e-14, atol=0)


def test_callable_object_state_is_saved_and_functions_are_not():
    opt, _ = _optimizers()
    halving = _Halving()
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, halving])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"every": 10}]
    halving.every = 3
    sched.load_state_dict(state)
    assert halving.every == 10


def test_warm_restarts_with_fractional_epochs_match_torch():
    opt, ref, ours, theirs = _pair("CosineAnnealingWarmRestarts-T_mult")
    for epoch in np.arange(0, 40, 0.35):
        ours.step(float(epoch))
        theirs.step(float(epoch))
        _assert_same(ours, theirs, opt, ref)


def test_closed_form_step_with_epoch_matches_torch():
    opt, ref, ours, theirs = _pair("MultiStepLR")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (5, 12, 31, 70, 3):
            ours.step(epoch)
            theirs.step(epoch)
            _assert_same(ours, theirs, opt, ref)


def test_resume_needs_initial_lr():
    opt, _ = _optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=5)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=3)


METRICS = [1.0, 0.9, 0.95, 0.95, 0.94, 0.91, 0.92, 0.93, 0.93, 0.93, 0.93, 0.5, 0.6, 0.6,
           0.6, 0.6, 0.6, 0.6, 0.49999, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=2),
    dict(patience=1, factor=0.5, cooldown=2),
    dict(patience=1, factor=0.5, threshold=0.05, threshold_mode="abs"),
    dict(patience=0, factor=0.1, min_lr=[0.001, 0.0004]),
    dict(patience=0, factor=0.5, min_lr=0.02, eps=0.001),
    dict(mode="max", patience=1, factor=0.5),
    dict(mode="max", patience=1, threshold=0.1, threshold_mode="abs", cooldown=1),
], ids=str)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    opt, ref = _optimizers()
    ours = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(ref, **kwargs)
    for metric in METRICS + [m * 0.5 for m in METRICS]:
        ours.step(nabla.tensor(metric) if metric == 0.5 else metric)
        theirs.step(metric)
        _assert_same(ours, theirs, opt, ref)
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == \
            (theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter)


def test_reduce_lr_on_plateau_reduces_after_patience_and_round_trips():
    opt, _ = _optimizers()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    for metric in [1.0, 1.0, 1.0]:
        sched.step(metric)
    assert sched.get_last_lr() == [0.1, 0.05]  # two bad epochs: still patient
    sched.step(1.0)
    assert sched.get_last_lr() == [0.05, 0.025]
    state = pickle.loads(pickle.dumps(sched.state_dict()))
    opt2, _ = _optimizers()
    again = lr_scheduler.ReduceLROnPlateau(opt2)
    again.load_state_dict(state)
    assert (again.patience, again.best, again.mode_worse) == (2, 1.0, math.inf)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")


def test_one_cycle_needs_momentum_and_a_length():
    ps = [nabla.tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad(ps), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(optim.SGD(ps, lr=0.1), max_lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        lr_scheduler.OneCycleLR(optim.SGD(ps, lr=0.1), max_lr=0.1, total_steps=10,
                                anneal_strategy="step")
