"""nabla.optim against torch.optim: same trajectories, same state, same state_dict format.

Every optimizer and combination of options runs 50 steps from identical float64 starts on the
same random gradients (fixed per step) as its PyTorch twin; parameters and state must agree to
1e-10. Then the Optimizer contract: state_dict round trips, param groups, closures, zero_grad.
"""

import copy
import itertools
import pickle
import warnings

import numpy as np
import pytest

import nabla
import nabla.optim as optim

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-10, atol=1e-10)
SHAPES = [(4, 3), (5,), ()]
STEPS = 50


def _grid(**options):
    """Every combination of the given option values, as a list of keyword dicts."""
    keys = list(options)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*options.values())]


def _sgd_cases():
    cases = _grid(lr=[0.1], momentum=[0.0, 0.9], dampening=[0.0, 0.3], weight_decay=[0.0, 0.1],
                  nesterov=[False, True], maximize=[False, True])
    return [c for c in cases if not c["nesterov"] or (c["momentum"] > 0 and c["dampening"] == 0)]


CASES = (
    [("SGD", c) for c in _sgd_cases()]
    + [("Adagrad", c) for c in _grid(lr=[0.1], lr_decay=[0.0, 0.01], weight_decay=[0.0, 0.1],
                                      initial_accumulator_value=[0.0, 0.5],
                                      maximize=[False, True])]
    + [("Adadelta", c) for c in _grid(lr=[1.0, 0.5], rho=[0.9, 0.5], weight_decay=[0.0, 0.1],
                                       maximize=[False, True])]
    + [("RMSprop", c) for c in _grid(lr=[0.01], alpha=[0.99, 0.4], weight_decay=[0.0, 0.1],
                                      momentum=[0.0, 0.9], centered=[False, True],
                                      maximize=[False, True])]
    + [("Adam", c) for c in _grid(lr=[0.05], betas=[(0.9, 0.999), (0.3, 0.9)],
                                   weight_decay=[0.0, 0.1], amsgrad=[False, True],
                                   maximize=[False, True])]
    + [("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=a))
       for a in (False, True)]
    + [("AdamW", c) for c in _grid(lr=[0.05], weight_decay=[0.01, 0.3], amsgrad=[False, True],
                                    maximize=[False, True])]
)


def _case_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def _params(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in SHAPES]
    ours = [nabla.tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return ours, theirs


def _grads(step, seed=1):
    """The gradients of step ``step``: random, but the same whenever the step is replayed."""
    rng = np.random.default_rng((seed, step))
    return [rng.standard_normal(s) for s in SHAPES]


def _set_grads(params, grads, lib):
    for p, g in zip(params, grads, strict=True):
        if g is None:
            p.grad = None
        else:
            p.grad = nabla.tensor(g.copy()) if lib is nabla else torch.from_numpy(g.copy())


def _run(opt, params, lib, steps, start=0, skip=None):
    for k in range(start, start + steps):
        grads = _grads(k)
        if skip is not None:
            grads = [None if skip(k, i) else g for i, g in enumerate(grads)]
        _set_grads(params, grads, lib)
        opt.step()


def _value(v):
    if isinstance(v, nabla.Tensor):
        return v.detach().numpy()
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    return np.asarray(v)


def _assert_params(ours, theirs):
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)


def _assert_state(our_state, their_state):
    """Same keys, same values; ``step`` a 0-d tensor in both."""
    assert set(our_state) == set(their_state)
    for key, theirs in their_state.items():
        ours = our_state[key]
        assert isinstance(ours, nabla.Tensor) == isinstance(theirs, torch.Tensor), key
        np.testing.assert_allclose(_value(ours), _value(theirs), err_msg=key, **TOL)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_torch(case):
    name, kwargs = case
    ours, theirs = _params()
    opt = getattr(optim, name)(ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    _run(opt, ours, nabla, STEPS)
    _run(ref, theirs, torch, STEPS)
    _assert_params(ours, theirs)
    for a, b in zip(ours, theirs, strict=True):
        _assert_state(opt.state[a], ref.state[b])


def _representative():
    """One case per optimizer with all its state buffers in use."""
    return [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
            ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
            ("Adadelta", dict(rho=0.8)),
            ("RMSprop", dict(momentum=0.5, centered=True)),
            ("Adam", dict(lr=0.05, amsgrad=True)),
            ("AdamW", dict(lr=0.05, amsgrad=True))]


@pytest.mark.parametrize("case", _representative(), ids=_case_id)
def test_skipped_parameters_match_torch(case):
    """A parameter whose grad is None takes no step and its state does not advance."""
    name, kwargs = case
    ours, theirs = _params()

    def skip(k, i):
        return (k + i) % 3 == 0

    opt = getattr(optim, name)(ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    _run(opt, ours, nabla, 20, skip=skip)
    _run(ref, theirs, torch, 20, skip=skip)
    _assert_params(ours, theirs)
    for a, b in zip(ours, theirs, strict=True):
        _assert_state(opt.state[a], ref.state[b])


@pytest.mark.parametrize("case", _representative(), ids=_case_id)
def test_state_dict_round_trip_continues_the_trajectory(case):
    """Save at step 20 (pickled, as a checkpoint would be), resume in a fresh optimizer: the
    run ends bit for bit where an uninterrupted one does."""
    name, kwargs = case
    whole, _ = _params()
    opt = getattr(optim, name)(whole, **kwargs)
    _run(opt, whole, nabla, STEPS)

    first, _ = _params()
    opt1 = getattr(optim, name)(first, **kwargs)
    _run(opt1, first, nabla, 20)
    saved = pickle.loads(pickle.dumps(opt1.state_dict()))
    resumed = [nabla.tensor(p.detach().numpy().copy(), requires_grad=True) for p in first]
    opt2 = getattr(optim, name)(resumed, lr=123.0)  # the saved groups override this
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    _run(opt2, resumed, nabla, STEPS - 20, start=20)
    for a, b in zip(resumed, whole, strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert set(opt2.state[a]) == set(opt.state[b])
        for key, value in opt.state[b].items():
            np.testing.assert_array_equal(_value(opt2.state[a][key]), _value(value))


@pytest.mark.parametrize("case", _representative(), ids=_case_id)
def test_state_dict_format_is_torch_and_loads_torch_state(case):
    """Same indices and keys as torch; a torch state_dict (as arrays) resumes in nabla."""
    name, kwargs = case
    ours, theirs = _params()
    opt = getattr(optim, name)(ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    _run(opt, ours, nabla, 10)
    _run(ref, theirs, torch, 10)
    sd, ref_sd = opt.state_dict(), ref.state_dict()
    assert list(sd["state"]) == list(ref_sd["state"]) == [0, 1, 2]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1, 2]]
    assert set(sd["param_groups"][0]) <= set(ref_sd["param_groups"][0])
    for i in sd["state"]:
        _assert_state(sd["state"][i], ref_sd["state"][i])

    as_arrays = {"state": {i: {k: v.detach().numpy().copy() for k, v in s.items()}
                           for i, s in ref_sd["state"].items()},
                 "param_groups": copy.deepcopy(ref_sd["param_groups"])}
    fresh = [nabla.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt2 = getattr(optim, name)(fresh)
    opt2.load_state_dict(as_arrays)
    assert isinstance(opt2.state[fresh[0]].get("step", nabla.zeros(())), nabla.Tensor)
    _run(opt2, fresh, nabla, 10, start=10)
    _run(ref, theirs, torch, 10, start=10)
    _assert_params(fresh, theirs)


@pytest.mark.parametrize("case", _representative(), ids=_case_id)
def test_nabla_state_dict_resumes_in_torch(case):
    name, kwargs = case
    ours, _ = _params()
    opt = getattr(optim, name)(ours, **kwargs)
    _run(opt, ours, nabla, 10)
    sd = opt.state_dict()
    as_torch = {"state": {i: {k: torch.from_numpy(v.numpy().copy()) for k, v in s.items()}
                          for i, s in sd["state"].items()},
                "param_groups": copy.deepcopy(sd["param_groups"])}
    theirs = [torch.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ours]
    ref = getattr(torch.optim, name)(theirs)
    ref.load_state_dict(as_torch)
    _run(ref, theirs, torch, 10, start=10)
    _run(opt, ours, nabla, 10, start=10)
    _assert_params(ours, theirs)


def test_load_state_dict_accepts_numeric_step_and_casts_dtype():
    p = nabla.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    opt.load_state_dict({"state": {0: {"step": 4, "exp_avg": np.ones(3, dtype=np.float32),
                                       "exp_avg_sq": np.ones(3)}},
                         "param_groups": [dict(opt.param_groups[0], params=[0])]})
    state = opt.state[p]
    assert isinstance(state["step"], nabla.Tensor) and state["step"].item() == 4
    assert state["exp_avg"].dtype == nabla.float64
    with pytest.raises(ValueError, match="number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})


def test_param_groups_with_different_hyper_parameters_match_torch():
    ours, theirs = _params()
    groups = lambda ps: [{"params": ps[:1]},  # noqa: E731
                         {"params": ps[1:], "lr": 0.01, "momentum": 0.5, "weight_decay": 0.1}]
    opt = optim.SGD(groups(ours), lr=0.1, momentum=0.9)
    ref = torch.optim.SGD(groups(theirs), lr=0.1, momentum=0.9)
    assert opt.param_groups[1]["dampening"] == 0 and opt.param_groups[0]["lr"] == 0.1
    _run(opt, ours, nabla, 30)
    _run(ref, theirs, torch, 30)
    _assert_params(ours, theirs)
    assert opt.state_dict()["param_groups"][1]["params"] == [1, 2]


def test_add_param_group_later_matches_torch():
    ours, theirs = _params()
    opt = optim.Adagrad(ours[:2], lr=0.1, initial_accumulator_value=0.2)
    ref = torch.optim.Adagrad(theirs[:2], lr=0.1, initial_accumulator_value=0.2)
    _run(opt, ours, nabla, 5)
    _run(ref, theirs, torch, 5)
    opt.add_param_group({"params": ours[2], "lr": 0.3})
    ref.add_param_group({"params": theirs[2], "lr": 0.3})
    _run(opt, ours, nabla, 5, start=5)
    _run(ref, theirs, torch, 5, start=5)
    _assert_params(ours, theirs)
    _assert_state(opt.state[ours[2]], ref.state[theirs[2]])


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    p = nabla.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        calls.append(nabla.is_grad_enabled())
        loss = (p * p).sum()
        loss.backward()
        return loss

    with nabla.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 5.0
    np.testing.assert_allclose(p.detach().numpy(), [0.8, -1.6])
    assert opt.step() is None


def test_zero_grad_semantics():
    ours, theirs = _params()
    opt = optim.SGD(ours, lr=0.1, momentum=0.9)
    ref = torch.optim.SGD(theirs, lr=0.1, momentum=0.9)
    _run(opt, ours, nabla, 3)
    _run(ref, theirs, torch, 3)
    grad = ours[0].grad
    opt.zero_grad(set_to_none=False)
    ref.zero_grad(set_to_none=False)
    assert ours[0].grad is grad and not grad.detach().numpy().any()
    opt.step()  # zero gradients: momentum still moves the parameters, as in torch
    ref.step()
    _assert_params(ours, theirs)
    opt.zero_grad()
    ref.zero_grad()
    assert all(p.grad is None for p in ours)
    ours[1].grad = nabla.Tensor._make(np.broadcast_to(np.ones(1), ours[1].shape))  # read-only
    opt.zero_grad(set_to_none=False)
    assert ours[1].grad.detach().numpy().tolist() == [0.0] * 5
    opt.zero_grad()
    before = [p.detach().numpy().copy() for p in ours]
    opt.step()  # no gradients: no step at all
    for b, p in zip(before, ours, strict=True):
        np.testing.assert_array_equal(b, p.detach().numpy())


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW"])
def test_step_writes_in_place_and_bumps_the_version_once(name):
    p = nabla.tensor(np.ones((2, 3)), requires_grad=True)
    data, version = p._data, p._version[0]
    opt = getattr(optim, name)([p], lr=0.1)
    p.grad = nabla.tensor(np.full((2, 3), 0.5))
    opt.step()
    assert p._data is data and p._version[0] == version + 1
    assert not np.allclose(p.detach().numpy(), 1.0)
    assert p.grad.detach().numpy().tolist() == [[0.5] * 3] * 2  # the gradient is not touched


def test_float32_parameters_stay_float32():
    p = nabla.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = nabla.tensor(np.ones(3, dtype=np.float32))
    opt.step()
    assert p.dtype == nabla.float32 and opt.state[p]["exp_avg"].dtype == nabla.float32


@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.SGD(ps, lr=-1), "Invalid learning rate: -1"),
    (lambda ps: optim.SGD(ps, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda ps: optim.Adagrad(ps, eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda ps: optim.Adadelta(ps, rho=1.5), "Invalid rho value: 1.5"),
    (lambda ps: optim.RMSprop(ps, alpha=-0.1), "Invalid alpha value: -0.1"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda ps: optim.AdamW(ps, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (lambda ps: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda ps: optim.SGD([ps[0], ps[0]], lr=0.1), "duplicate parameters"),
    (lambda ps: optim.SGD([{"params": ps[:2]}, {"params": ps[1:]}], lr=0.1),
     "more than one parameter group"),
    (lambda ps: optim.SGD([ps[0] * 2], lr=0.1), "non-leaf"),
])
def test_bad_arguments_are_reported(make, message):
    ps, _ = _params()
    with pytest.raises(ValueError, match=message):
        make(ps)


def test_bad_parameter_containers_are_reported():
    ps, _ = _params()
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(ps[0], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": set(ps)}], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.ones(3)], lr=0.1)
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.Adam(ps, differentiable=True)


def test_named_parameters_and_repr():
    ps, _ = _params()
    opt = optim.SGD([("w", ps[0]), ("b", ps[1])], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    text = repr(opt)
    assert text.startswith("SGD (") and "lr: 0.1" in text and "Parameter Group 0" in text


def test_implementation_flags_are_accepted():
    ps, _ = _params()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.Adam(ps, foreach=None, fused=None, capturable=False)
    with pytest.warns(UserWarning, match="no effect"):
        optim.SGD(ps, lr=0.1, foreach=True)


def test_a_graph_that_saved_the_old_parameter_refuses_backward_after_step():
    """The version bump is what lets autograd catch a stale saved value."""
    p = nabla.tensor(np.ones(3), requires_grad=True)
    loss = (p * p).sum()
    p.grad = nabla.tensor(np.ones(3))
    optim.SGD([p], lr=0.1).step()
    assert p.is_leaf and p.requires_grad
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_scratch_grows_for_a_larger_parameter_and_drops_views_of_the_smaller_array():
    small, large = nabla.ones(2, requires_grad=True), nabla.ones(3, 4, requires_grad=True)
    # one parameter per group: updated parameter by parameter (a flat group would not be)
    opt = optim.Adagrad([{"params": [small]}, {"params": [large]}], lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        (small.sum() + large.sum()).backward()
        opt.step()
        bases = [v for k, v in opt._scratch.items() if len(k) == 2]
        assert len(bases) == 1 and bases[0].shape == (3, 12)
        assert all(np.shares_memory(a, bases[0])
                   for k, three in opt._scratch.items() if len(k) == 3 for a in three)
    assert {k[2] for k in opt._scratch if len(k) == 3} == {(2,), (3, 4)}
    np.testing.assert_allclose(small.detach().numpy(), 1 - 0.1 - 0.1 / np.sqrt(2), rtol=1e-6)


def test_scratch_memory_is_bounded_by_the_largest_parameter_and_not_pickled():
    ours, _ = _params()
    # one parameter per group: updated parameter by parameter (a flat group would not be)
    opt = optim.RMSprop([{"params": [p]} for p in ours], momentum=0.9, centered=True,
                        weight_decay=0.1)
    _run(opt, ours, nabla, 2)
    largest = max(p.numel() for p in ours)
    bases = [v for k, v in opt._scratch.items() if len(k) == 2]  # (array type, dtype) keys
    assert len(bases) == 1 and bases[0].shape == (3, largest)  # one (3, n) array in all
    views = [v for k, v in opt._scratch.items() if len(k) == 3]  # by shape, views of it
    assert len(views) == len({p.shape for p in ours})
    assert all(np.shares_memory(a, bases[0]) for three in views for a in three)
    copy_ = pickle.loads(pickle.dumps(opt))  # the optimizer itself pickles, as in torch
    assert copy_._scratch == {} and len(copy_.state) == len(ours)
    copied = [g["params"][0] for g in copy_.param_groups]
    _run(copy_, copied, nabla, 2, start=2)
    _run(opt, ours, nabla, 2, start=2)
    for a, b in zip(copied, ours, strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
