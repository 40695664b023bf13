"""Adamax, NAdam, RAdam, Rprop and ASGD against torch.optim: same trajectories, same state (keys,
values and the dtypes of 0-d state such as NAdam's mu_product), same state_dict, same errors.

Each case runs 50 steps from the same random start on the same random gradients (drawn per
test from the ``rng`` fixture) as its PyTorch twin: float64 parameters and state agree to
1e-10, float32 ones to float32 rounding.
"""

import copy
import itertools
import pickle

import numpy as np
import pytest

import nabla
import nabla.optim as optim

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-10, atol=1e-10)
TOL32 = dict(rtol=2e-4, atol=2e-5)
SHAPES = [(4, 3), (5,), ()]
STEPS = 50
NAMES = ["Adamax", "NAdam", "RAdam", "Rprop", "ASGD"]


def _grid(**options):
    keys = list(options)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*options.values())]


CASES = (
    [("Adamax", c) for c in _grid(lr=[0.05], betas=[(0.9, 0.999), (0.3, 0.9)],
                                   weight_decay=[0.0, 0.1], maximize=[False, True])]
    + [("NAdam", c) for c in _grid(lr=[0.05], betas=[(0.9, 0.999), (0.3, 0.9)],
                                    weight_decay=[0.0, 0.1], momentum_decay=[4e-3, 0.1],
                                    decoupled_weight_decay=[False, True], maximize=[False, True])
       if c["weight_decay"] or not c["decoupled_weight_decay"]]
    # β2 = 0.999 leaves ρ_t ≤ 5 for the first steps (plain momentum), then rectifies
    + [("RAdam", c) for c in _grid(lr=[0.05], betas=[(0.9, 0.999), (0.3, 0.9)],
                                    weight_decay=[0.0, 0.1], decoupled_weight_decay=[False, True],
                                    maximize=[False, True])
       if c["weight_decay"] or not c["decoupled_weight_decay"]]
    # narrow step_sizes make the clamp bite at both ends
    + [("Rprop", c) for c in _grid(lr=[0.01, 0.1], etas=[(0.5, 1.2), (0.3, 2.0)],
                                    step_sizes=[(1e-6, 50), (5e-3, 0.05)], maximize=[False, True])]
    # t0 = 10 starts the averaging (mu < 1) within the 50 steps; lambd = 0.1 decays eta fast
    + [("ASGD", c) for c in _grid(lr=[0.05], lambd=[1e-4, 0.1], alpha=[0.75, 0.5],
                                   t0=[1e6, 10.0], weight_decay=[0.0, 0.1],
                                   maximize=[False, True])]
)


def _case_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def _representative():
    """One case per optimizer with all of its state in use."""
    return [("Adamax", dict(lr=0.05, weight_decay=0.1)),
            ("NAdam", dict(lr=0.05, momentum_decay=0.1)),
            ("RAdam", dict(lr=0.05, betas=(0.5, 0.9))),
            ("Rprop", dict(lr=0.05, step_sizes=(1e-3, 0.2))),
            ("ASGD", dict(lr=0.05, lambd=0.01, t0=5.0))]


# Loading casts floating state to the parameter's dtype, in torch as in nabla: NAdam's
# mu_product and ASGD's eta and mu, float32 0-d tensors, become float64 and the run continues a
# little off the uninterrupted one (by ~1e-8)
_FLOAT_SCALAR_STATE = ("NAdam", "ASGD")


class Run:
    """Random start and per-step gradients for one test, replayed identically for both."""

    def __init__(self, rng, dtype=np.float64):
        self.start = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        self.grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES]
                      for _ in range(STEPS)]

    def params(self, lib):
        return [lib.tensor(a.copy(), requires_grad=True) for a in self.start]

    def steps(self, opt, params, lib, start, stop, skip=None):
        for k in range(start, stop):
            for i, (p, g) in enumerate(zip(params, self.grads[k], strict=True)):
                if skip is not None and skip(k, i):
                    p.grad = None
                else:
                    p.grad = nabla.tensor(g.copy()) if lib is nabla else torch.from_numpy(g.copy())
            opt.step()


def _value(v):
    if isinstance(v, (nabla.Tensor, torch.Tensor)):
        return v.detach().numpy()
    return np.asarray(v)


def _assert_params(ours, theirs, tol=TOL):
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)


def _assert_state(our_state, their_state, tol=TOL):
    """Same keys in the same order, same values, and tensors of the same dtype (0-d included)."""
    assert list(our_state) == list(their_state)
    for key, theirs in their_state.items():
        ours = our_state[key]
        assert isinstance(ours, nabla.Tensor) == isinstance(theirs, torch.Tensor), key
        assert str(_value(ours).dtype) == str(_value(theirs).dtype), key
        np.testing.assert_allclose(_value(ours), _value(theirs), err_msg=key, **tol)


def _twins(name, kwargs, run):
    ours, theirs = run.params(nabla), run.params(torch)
    return (ours, getattr(optim, name)(ours, **kwargs),
            theirs, getattr(torch.optim, name)(theirs, **kwargs))


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_torch(case, rng):
    name, kwargs = case
    run = Run(rng)
    ours, opt, theirs, ref = _twins(name, kwargs, run)
    run.steps(opt, ours, nabla, 0, STEPS)
    run.steps(ref, theirs, torch, 0, STEPS)
    _assert_params(ours, theirs)
    for a, b in zip(ours, theirs, strict=True):
        _assert_state(opt.state[a], ref.state[b])


@pytest.mark.parametrize("case", _representative(), ids=_case_id)
def test_float32_matches_torch(case, rng):
    name, kwargs = case
    run = Run(rng, np.float32)
    ours, opt, theirs, ref = _twins(name, kwargs, run)
    run.steps(opt, ours, nabla, 0, STEPS)
    run.steps(ref, theirs, torch, 0, STEPS)
    assert all(p.dtype == nabla.float32 for p in ours)
    _assert_params(ours, theirs, TOL32)
    for a, b in zip(ours, theirs, strict=True):
        _assert_state(opt.state[a], ref.state[b], TOL32)


@pytest.mark.parametrize("case", _representative(), ids=_case_id)
def test_skipped_parameters_match_torch(case, rng):
    """A parameter whose grad is None takes no step and its state does not advance."""
    name, kwargs = case
    run = Run(rng)
    ours, opt, theirs, ref = _twins(name, kwargs, run)

    def skip(k, i):
        return (k + i) % 3 == 0

    run.steps(opt, ours, nabla, 0, 20, skip)
    run.steps(ref, theirs, torch, 0, 20, skip)
    _assert_params(ours, theirs)
    for a, b in zip(ours, theirs, strict=True):
        _assert_state(opt.state[a], ref.state[b])


@pytest.mark.parametrize("case", _representative(), ids=_case_id)
def test_state_dict_is_torch_and_loads_both_ways(case, rng):
    """Same indices, group keys and state; a torch state_dict resumes in nabla and a nabla one
    in torch, and both continue on the same trajectory (the uninterrupted one, unless loading
    made 0-d float32 state float64: see _FLOAT_SCALAR_STATE)."""
    name, kwargs = case
    run = Run(rng)
    ours, opt, theirs, ref = _twins(name, kwargs, run)
    run.steps(opt, ours, nabla, 0, 10)
    run.steps(ref, theirs, torch, 0, 10)
    sd, ref_sd = opt.state_dict(), ref.state_dict()
    assert list(sd["state"]) == list(ref_sd["state"]) == [0, 1, 2]
    group, ref_group = sd["param_groups"][0], ref_sd["param_groups"][0]
    assert group["params"] == ref_group["params"] == [0, 1, 2]
    # all of torch's keys but those naming its implementations, with the same values
    assert set(ref_group) - set(group) <= {"foreach", "capturable", "differentiable", "fused"}
    assert {k: ref_group[k] for k in group} == group
    for i in sd["state"]:
        _assert_state(sd["state"][i], ref_sd["state"][i])

    from_torch = {"state": {i: {k: v.detach().numpy().copy() for k, v in s.items()}
                            for i, s in ref_sd["state"].items()},
                  "param_groups": copy.deepcopy(ref_sd["param_groups"])}
    mine = [nabla.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt2 = getattr(optim, name)(mine)
    opt2.load_state_dict(from_torch)
    from_nabla = {"state": {i: {k: torch.from_numpy(v.numpy().copy()) for k, v in s.items()}
                            for i, s in sd["state"].items()},
                  "param_groups": copy.deepcopy(sd["param_groups"])}
    yours = [torch.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ours]
    ref2 = getattr(torch.optim, name)(yours)
    ref2.load_state_dict(from_nabla)
    run.steps(opt2, mine, nabla, 10, 30)
    run.steps(ref2, yours, torch, 10, 30)
    _assert_params(mine, yours)
    if name not in _FLOAT_SCALAR_STATE:
        run.steps(ref, theirs, torch, 10, 30)
        _assert_params(mine, theirs)
    for a, b in zip(mine, yours, strict=True):
        _assert_state(opt2.state[a], ref2.state[b])


@pytest.mark.parametrize("case", _representative(), ids=_case_id)
def test_pickled_state_dict_round_trip_continues_as_torch_does(case, rng):
    """Save at step 20 (pickled, as a checkpoint), resume in a fresh optimizer whose lr the
    saved groups override: the run continues as torch's own round trip does, and ends bit for
    bit where an uninterrupted run does (but see _FLOAT_SCALAR_STATE)."""
    name, kwargs = case
    run = Run(rng)
    ours, opt, theirs, ref = _twins(name, kwargs, run)
    run.steps(opt, ours, nabla, 0, 20)
    run.steps(ref, theirs, torch, 0, 20)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    resumed = [nabla.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ours]
    opt2 = getattr(optim, name)(resumed, lr=123.0)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    ref2 = getattr(torch.optim, name)([p.detach().clone().requires_grad_() for p in theirs],
                                      lr=123.0)
    ref2.load_state_dict(pickle.loads(pickle.dumps(ref.state_dict())))
    run.steps(opt2, resumed, nabla, 20, STEPS)
    run.steps(opt, ours, nabla, 20, STEPS)
    run.steps(ref2, ref2.param_groups[0]["params"], torch, 20, STEPS)
    _assert_params(resumed, ref2.param_groups[0]["params"])
    for a, b in zip(resumed, ref2.param_groups[0]["params"], strict=True):
        _assert_state(opt2.state[a], ref2.state[b])
    if name not in _FLOAT_SCALAR_STATE:
        for a, b in zip(resumed, ours, strict=True):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("name", NAMES)
def test_defaults_and_positional_arguments_are_torchs(name):
    """The constructor's defaults, and the order of its positional arguments, are torch's."""
    import inspect

    p, q = nabla.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    ours, theirs = getattr(optim, name)([p]).defaults, getattr(torch.optim, name)([q]).defaults
    assert set(theirs) - set(ours) <= {"foreach", "capturable", "differentiable", "fused"}
    assert {k: theirs[k] for k in ours} == ours

    def positional(f):
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return [a.name for a in inspect.signature(f).parameters.values() if a.kind in kinds]

    assert positional(getattr(optim, name)) == positional(getattr(torch.optim, name))


@pytest.mark.parametrize("name", NAMES)
def test_step_writes_in_place_bumps_the_version_once_and_keeps_the_grad(name):
    p = nabla.tensor(np.ones((2, 3)), requires_grad=True)
    data, version = p._data, p._version[0]
    opt = getattr(optim, name)([p], lr=0.1)
    p.grad = nabla.tensor(np.full((2, 3), 0.5))
    opt.step()
    assert p._data is data and p._version[0] == version + 1
    assert not np.allclose(p.detach().numpy(), 1.0)
    assert p.grad.detach().numpy().tolist() == [[0.5] * 3] * 2


def test_param_groups_with_their_own_hyper_parameters_match_torch(rng):
    run = Run(rng)

    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.01, "etas": (0.2, 1.5)}]

    ours, theirs = run.params(nabla), run.params(torch)
    opt = optim.Rprop(groups(ours), lr=0.1)
    ref = torch.optim.Rprop(groups(theirs), lr=0.1)
    run.steps(opt, ours, nabla, 0, 30)
    run.steps(ref, theirs, torch, 0, 30)
    _assert_params(ours, theirs)
    assert opt.param_groups[1]["step_sizes"] == (1e-6, 50)


def test_closure_loss_is_returned(rng):
    p = nabla.tensor(rng.standard_normal(3), requires_grad=True)
    opt = optim.NAdam([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    before = (p * p).sum().item()
    assert opt.step(closure).item() == pytest.approx(before)
    assert (p * p).sum().item() < before


BAD = [
    ("Adamax", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("Adamax", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("Adamax", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    ("Adamax", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adamax", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("NAdam", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("NAdam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("NAdam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("NAdam", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("NAdam", dict(momentum_decay=-0.1), "Invalid momentum_decay value: -0.1"),
    ("RAdam", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("RAdam", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("RAdam", dict(betas=(-0.5, 0.9)), "Invalid beta parameter at index 0: -0.5"),
    ("RAdam", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("Rprop", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("Rprop", dict(etas=(1.0, 1.2)), "Invalid eta values: 1.0, 1.2"),
    ("Rprop", dict(etas=(0.5, 1.0)), "Invalid eta values: 0.5, 1.0"),
    ("Rprop", dict(etas=(0.0, 1.2)), "Invalid eta values: 0.0, 1.2"),
    ("ASGD", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("ASGD", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
]


@pytest.mark.parametrize("name, kwargs, message", BAD,
                         ids=[f"{n}-{next(iter(k))}-{i}" for i, (n, k, _) in enumerate(BAD)])
def test_invalid_hyper_parameters_are_refused_as_torch_refuses_them(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match=f"{name}: {message}"):
        getattr(optim, name)([nabla.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match=f"{name}: {message}"):  # a group's own value too
        getattr(optim, name)([{"params": [nabla.zeros(2, requires_grad=True)], **kwargs}])


def test_values_torch_accepts_are_accepted():
    """ASGD checks only lr and weight_decay, Rprop not its step_sizes: nor does nabla."""
    p = nabla.zeros(2, requires_grad=True)
    optim.ASGD([p], lambd=-1.0, alpha=-1.0, t0=-5.0)
    optim.Rprop([p], step_sizes=(1.0, 1e-3))
    optim.NAdam([p], momentum_decay=0.0)
    with pytest.raises(TypeError, match="Rprop: etas must be a pair"):
        optim.Rprop([p], etas=0.5)


@pytest.mark.parametrize("name", ["NAdam", "ASGD"])
def test_scalar_state_follows_the_default_dtype_as_in_torch(name, rng):
    """With float64 as the default dtype, step, mu_product, eta and mu are float64 (in both)."""
    run = Run(rng)
    kwargs = dict(_representative())[name]
    old, old_torch = nabla.get_default_dtype(), torch.get_default_dtype()
    nabla.set_default_dtype(nabla.float64)
    torch.set_default_dtype(torch.float64)
    try:
        ours, opt, theirs, ref = _twins(name, kwargs, run)
        run.steps(opt, ours, nabla, 0, STEPS)
        run.steps(ref, theirs, torch, 0, STEPS)
    finally:
        nabla.set_default_dtype(old)
        torch.set_default_dtype(old_torch)
    _assert_params(ours, theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert opt.state[a]["step"].dtype == nabla.float64
        _assert_state(opt.state[a], ref.state[b])


# -- CyclicLR -------------------------------------------------------------------------------------
class _Decay:
    """A callable scale_fn: saved in the state_dict as its __dict__ (as torch does)."""

    def __init__(self):
        self.rate = 0.9

    def __call__(self, x):
        return self.rate ** (x - 1)


CYCLIC = {
    "triangular": dict(base_lr=0.01, max_lr=0.1, step_size_up=7),
    "triangular2-asymmetric": dict(base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4,
                                   step_size_down=9, mode="triangular2"),
    "exp_range": dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=5, mode="exp_range",
                      gamma=0.97, base_momentum=[0.7, 0.75], max_momentum=0.95),
    "scale_fn-cycle": dict(base_lr=0.001, max_lr=0.01, step_size_up=6,
                           scale_fn=lambda c: 1 / c, mode="no such mode"),
    "scale_fn-iterations": dict(base_lr=0.001, max_lr=0.01, step_size_up=6, step_size_down=2,
                                scale_fn=_Decay(), scale_mode="iterations"),
    "no-momentum": dict(base_lr=0.01, max_lr=0.1, step_size_up=3.0, cycle_momentum=False),
    "all-up": dict(base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=0),
}


def _cyclic_pair(config, kind):
    ours = [nabla.tensor(np.ones(2), requires_grad=True) for _ in range(2)]
    theirs = [torch.ones(2, dtype=torch.float64, requires_grad=True) for _ in range(2)]

    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}]

    kwargs = dict(lr=0.1, momentum=0.9) if kind == "SGD" else dict(lr=0.1)
    opt = getattr(optim, kind)(groups(ours), **kwargs)
    ref = getattr(torch.optim, kind)(groups(theirs), **kwargs)
    def options():  # a callable object of its own for each scheduler
        return copy.deepcopy(CYCLIC[config])

    return (opt, ref, optim.lr_scheduler.CyclicLR(opt, **options()),
            torch.optim.lr_scheduler.CyclicLR(ref, **options()))


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _assert_same_schedule(ours, theirs, opt, ref):
    np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12, atol=0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx(
        [g["lr"] for g in ref.param_groups], rel=1e-12)
    assert _momenta(opt) == pytest.approx(_momenta(ref), rel=1e-12)
    assert [g["betas"][1] for g in opt.param_groups if "betas" in g] == \
        [g["betas"][1] for g in ref.param_groups if "betas" in g]


@pytest.mark.parametrize("kind", ["SGD", "Adam", "NAdam"])
@pytest.mark.parametrize("config", list(CYCLIC))
def test_cyclic_lr_matches_torch(config, kind):
    """lr and momentum (SGD's, or beta1 of the Adam family) at each of 60 steps."""
    opt, ref, ours, theirs = _cyclic_pair(config, kind)
    _assert_same_schedule(ours, theirs, opt, ref)
    lrs = []
    for _ in range(60):
        opt.step()
        ref.step()
        ours.step()
        theirs.step()
        _assert_same_schedule(ours, theirs, opt, ref)
        lrs.append(ours.get_last_lr()[0])
    assert max(lrs) > min(lrs)  # it does cycle
    assert opt.param_groups[0]["initial_lr"] == ref.param_groups[0]["initial_lr"]


@pytest.mark.parametrize("config", list(CYCLIC))
def test_cyclic_lr_state_dict_is_torchs_and_resumes(config):
    opt, ref, ours, theirs = _cyclic_pair(config, "SGD")
    for _ in range(17):
        opt.step()
        ref.step()
        ours.step()
        theirs.step()
    state, ref_state = ours.state_dict(), theirs.state_dict()
    assert "optimizer" not in state and set(state) <= set(ref_state)
    for key in ("base_lrs", "max_lrs", "total_size", "step_ratio", "mode", "gamma",
                "scale_mode", "cycle_momentum", "last_epoch", "_scale_fn_custom"):
        assert state[key] == ref_state[key], key
    saved = pickle.loads(pickle.dumps((opt.state_dict(), state)))
    opt2, _, resumed, _ = _cyclic_pair(config, "SGD")
    if isinstance(resumed._scale_fn_custom, _Decay):
        resumed._scale_fn_custom.rate = 0.5  # the saved rate comes back
    opt2.load_state_dict(saved[0])
    resumed.load_state_dict(saved[1])
    for _ in range(30):
        ours.step()
        resumed.step()
        assert resumed.get_last_lr() == ours.get_last_lr()
        assert _momenta(opt2) == _momenta(opt)


@pytest.mark.parametrize("make, error, match", [
    (lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, mode="triangle"),
     ValueError, "mode is invalid and scale_fn is None"),
    (lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, [0.01] * 3, 0.1),
     ValueError, "base_lr must have the same length as optimizer.param_groups"),
    (lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, 0.01, [0.1]),
     ValueError, "max_lr must have the same length as optimizer.param_groups"),
    (lambda lib, o: lib.optim.lr_scheduler.CyclicLR(lib.optim.Rprop(o.param_groups[0]["params"]),
                                                    0.01, 0.1),
     ValueError, "optimizer must support momentum or beta1"),
    (lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, base_momentum=[0.8]),
     ValueError, "base_momentum must have the same length"),
])
def test_cyclic_lr_refuses_what_torch_refuses(make, error, match):
    opt, ref, _, _ = _cyclic_pair("triangular", "SGD")
    with pytest.raises(error, match=match):
        make(torch, ref)
    with pytest.raises(error, match=f"{match}" if "length" in match else f"CyclicLR: {match}"):
        make(nabla, opt)


def test_cyclic_lr_clear_errors_where_torch_fails_late_or_not_at_all():
    opt, ref, _, _ = _cyclic_pair("triangular", "SGD")
    with pytest.raises(ZeroDivisionError):  # torch: at its first step, in __init__
        torch.optim.lr_scheduler.CyclicLR(ref, 0.01, 0.1, step_size_up=0)
    with pytest.raises(ValueError, match="CyclicLR: step_size_up must be positive"):
        optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=0)
    with pytest.raises(ValueError, match="step_size_down non-negative"):
        optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_down=-3)
    with pytest.raises(ValueError, match="scale_mode must be 'cycle' or 'iterations'"):
        optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, scale_fn=abs, scale_mode="epochs")
    with pytest.raises(TypeError, match="scale_fn must be a function"):
        optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, scale_fn=0.5)
