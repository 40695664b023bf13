"""Flat parameter groups (optim/flat.py): the one-call-per-group update gives exactly the
per-parameter update, keeps parameters' arrays, and falls back when a group cannot be flat."""

import numpy as np
import pytest
import torch

import nabla
from nabla import optim
from nabla.optim.flat import FlatGroup

SHAPES = [(3, 4), (4,), (2, 2, 2), ()]


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=s) for s in SHAPES]
    ours = [nabla.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    return ours, theirs, rng


CONFIGS = [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, nesterov=False, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1, foreach=False)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, maximize=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, eps=1e-3)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, foreach=False)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, foreach=False)),
    ("Adadelta", dict(eps=1e-4, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    # β2 = 0.999 keeps ρ_t ≤ 5 for the first steps (plain momentum), then rectifies
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, decoupled_weight_decay=True)),
]


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_flat_group_matches_torch_and_keeps_parameter_arrays(name, kwargs):
    ours, theirs, rng = _pair()
    arrays = [p._data for p in ours]
    opt, ref = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(20):
        for a, b in zip(ours, theirs):
            g = rng.normal(size=a.shape)
            a.grad, b.grad = nabla.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
        assert isinstance(opt._flat.get(id(opt.param_groups[0])), FlatGroup)  # the fast path
        if step == 10:  # a state_dict round trip in the middle rebuilds the flat group
            opt.load_state_dict(opt.state_dict())
            # torch's too: loading casts NAdam's float32 mu_product to the parameters' float64
            ref.load_state_dict(ref.state_dict())
    for a, b, arr in zip(ours, theirs, arrays):
        assert a._data is arr  # updated in place
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)
    for a, b in zip(ours, theirs):
        for key, value in ref.state[b].items():
            np.testing.assert_allclose(np.asarray(opt.state[a][key].numpy()), value.numpy(),
                                       rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, kwargs", [
    ("Adam", dict(lr=0.05)),
    ("RMSprop", dict(lr=0.05, momentum=0.9, centered=True)),
    ("Adagrad", dict(lr=0.05, initial_accumulator_value=0.5)),
    ("Adadelta", dict(lr=0.5)),
    ("NAdam", dict(lr=0.05)),
])
def test_a_parameter_without_gradient_falls_back_to_per_parameter_updates(name, kwargs):
    ours, theirs, rng = _pair(1)
    opt, ref = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(6):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            if i == 1 and step % 2:  # skipped on odd steps: its step count falls behind
                a.grad = b.grad = None
                continue
            g = rng.normal(size=a.shape)
            a.grad, b.grad = nabla.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
        for key, value in ref.state[b].items():
            np.testing.assert_allclose(np.asarray(opt.state[a][key].numpy()), value.numpy(),
                                       rtol=1e-12)


def test_adam_counts_the_steps_of_a_flat_group_in_one_array():
    """state['step'] of every parameter is a 0-d view of one counter array (one call per
    step); after a step taken parameter by parameter the counters are checked again."""
    ours, theirs, rng = _pair(2)
    opt, ref = optim.Adam(ours, lr=0.05), torch.optim.Adam(theirs, lr=0.05)
    for step in range(5):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            skip = i == 0 and step == 2  # one parameter misses step 2: counts then differ
            g = None if skip else rng.normal(size=a.shape)
            a.grad, b.grad = (None, None) if skip else (nabla.tensor(g), torch.tensor(g))
        opt.step()
        ref.step()
        counts = [opt.state[p]["step"] for p in ours]
        assert [float(c) for c in counts] == [float(ref.state[p]["step"]) for p in theirs]
        if step < 2:
            assert all(c._data.base is not None for c in counts)
            assert len({id(c._data.base) for c in counts}) == 1
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)


def test_a_group_whose_parameters_change_dtype_is_rebuilt_in_the_new_dtype():
    """After float32 steps the parameters become float64 (as model.double() does): the flat
    buffers follow, so the update runs in float64 like PyTorch's, state values carried over."""
    ours, theirs, rng = _pair(3)
    for a, b in zip(ours, theirs):
        a.data, b.data = a.data.float(), b.data.float()
    opt, ref = optim.Adam(ours, lr=0.05), torch.optim.Adam(theirs, lr=0.05)
    for step in range(4):
        if step == 2:
            for a, b in zip(ours, theirs):
                a.data, b.data = a.data.double(), b.data.double()
            for sb in ref.state.values():  # PyTorch keeps its state's dtype: convert it
                for key in ("exp_avg", "exp_avg_sq"):
                    sb[key] = sb[key].double()
        for a, b in zip(ours, theirs):
            g = rng.normal(size=a.shape)
            a.grad = nabla.tensor(g, dtype=a.dtype)
            b.grad = torch.tensor(g, dtype=b.dtype)
        opt.step()
        ref.step()
    for a, b in zip(ours, theirs):
        assert a.dtype == nabla.float64 and opt.state[a]["exp_avg"].dtype == nabla.float64
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_replaced_parameter_arrays_rebuild_the_group_or_leave_it(name):
    """``p.data = ...`` between steps: an array of the same shape and dtype rebuilds the flat
    group around it; a non-contiguous one (a transposed view) sends the group parameter by
    parameter. Either way the steps match PyTorch's."""
    ours, theirs, rng = _pair(4)
    kwargs = dict(lr=0.05, momentum=0.9) if name == "SGD" else dict(lr=0.05)
    opt, ref = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(6):
        if step == 2:  # same shape and dtype, a new array
            v = rng.normal(size=SHAPES[1])
            ours[1].data, theirs[1].data = nabla.tensor(v), torch.tensor(v)
        if step == 4:  # a non-contiguous view
            v = rng.normal(size=SHAPES[0][::-1])
            ours[0].data, theirs[0].data = nabla.tensor(v).t(), torch.tensor(v).t()
            assert not ours[0]._data.flags.c_contiguous
        for a, b in zip(ours, theirs):
            g = rng.normal(size=a.shape)
            a.grad, b.grad = nabla.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
        flat = opt._flat.get(id(opt.param_groups[0]))
        assert (flat is not None) == (step < 4)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12,
                                       err_msg=f"step {step}")


def _steps(opt, ref, ours, theirs, rng, n):
    for _ in range(n):
        for a, b in zip(ours, theirs):
            g = rng.normal(size=a.shape)
            a.grad, b.grad = nabla.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()


@pytest.mark.parametrize("name, kwargs", [c for c in CONFIGS if c[0] not in ("SGD", "Adam")])
def test_a_flat_state_dict_resumes_in_torch_and_a_torch_one_in_a_flat_group(name, kwargs):
    """After 5 steps each side loads the other's state_dict (as tensors of the other library);
    5 more steps, both on the flat path here, end on the same values."""
    ours, theirs, rng = _pair(5)
    opt, ref = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    _steps(opt, ref, ours, theirs, rng, 5)
    sd, ref_sd = opt.state_dict(), ref.state_dict()
    assert [list(s) for s in sd["state"].values()] == [list(s) for s in ref_sd["state"].values()]
    opt.load_state_dict({"state": {i: {k: v.numpy().copy() for k, v in s.items()}
                                   for i, s in ref_sd["state"].items()},
                         "param_groups": ref_sd["param_groups"]})
    ref.load_state_dict({"state": {i: {k: torch.from_numpy(np.array(v.numpy()))
                                       for k, v in s.items()}
                                   for i, s in sd["state"].items()},
                         "param_groups": sd["param_groups"]})
    _steps(opt, ref, ours, theirs, rng, 5)
    assert isinstance(opt._flat.get(id(opt.param_groups[0])), FlatGroup)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)
        for key, value in ref.state[b].items():
            assert opt.state[a][key].dtype == getattr(nabla, str(value.dtype)[6:])
            np.testing.assert_allclose(np.asarray(opt.state[a][key].numpy()), value.numpy(),
                                       rtol=1e-12, atol=1e-14)


def test_adagrad_group_added_later_starts_its_flat_sums_at_initial_accumulator_value():
    """Adagrad makes its state at construction; a group added later gets it at its first step,
    from ``initial_accumulator_value``, on the flat path as parameter by parameter."""
    ours, theirs, rng = _pair(6)
    opt = optim.Adagrad(ours[:2], lr=0.1, initial_accumulator_value=0.5)
    opt.add_param_group({"params": ours[2:]})
    ref = torch.optim.Adagrad([{"params": theirs[:2]}, {"params": theirs[2:]}], lr=0.1,
                              initial_accumulator_value=0.5)
    _steps(opt, ref, ours, theirs, rng, 4)
    assert all(isinstance(opt._flat.get(id(g)), FlatGroup) for g in opt.param_groups)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(opt.state[a]["sum"].numpy(), ref.state[b]["sum"].numpy(),
                                   rtol=1e-12)


def test_nadam_keeps_mu_product_in_one_array_and_falls_back_when_they_differ():
    """NAdam's 0-d mu_product is, like the step counters, a view of one array per group; a
    loaded state whose products differ between parameters sends the group parameter by
    parameter (one product for the group would be wrong), still as torch does."""
    ours, theirs, rng = _pair(7)
    opt, ref = optim.NAdam(ours, lr=0.05), torch.optim.NAdam(theirs, lr=0.05)
    _steps(opt, ref, ours, theirs, rng, 3)
    products = [opt.state[p]["mu_product"]._data for p in ours]
    assert len({id(m.base) for m in products}) == 1 and products[0].base is not None
    assert products[0].dtype == np.float32  # PyTorch's dtype for it (the default is float32)
    sd, ref_sd = opt.state_dict(), ref.state_dict()
    for saved in (sd, ref_sd):  # a new dict: state_dict's are the live ones
        second = saved["state"][1]
        saved["state"][1] = {**second, "mu_product": second["mu_product"] * 0.5}
    opt.load_state_dict(sd)
    ref.load_state_dict(ref_sd)
    _steps(opt, ref, ours, theirs, rng, 3)
    assert opt._flat.get(id(opt.param_groups[0])) is None
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(float(opt.state[a]["mu_product"]),
                                   float(ref.state[b]["mu_product"]), rtol=1e-12)
