"""nabla.optim.LBFGS against torch.optim.LBFGS: same iterates, losses and state, with the fixed
step and with the strong-Wolfe line search, over several ``step(closure)`` calls."""

import copy

import numpy as np
import pytest
import torch
from conftest import tolerance

import nabla
import nabla.optim as optim


def rosenbrock(lib, x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def regression(lib, params, inputs, targets):
    w1, b1, w2 = params
    hidden = lib.tanh(inputs @ w1 + b1)
    return ((hidden @ w2 - targets) ** 2).mean()


def _run(lib, opt_cls, arrays, loss_fn, steps: int, **kwargs):
    params = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = opt_cls(params, **kwargs)
    losses = []

    def closure():
        opt.zero_grad()
        loss = loss_fn(lib, params)
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure)))
    return params, opt, losses


def _compare(ours, theirs, dtype) -> None:
    (n_params, n_opt, n_losses), (t_params, t_opt, t_losses) = ours, theirs
    tol = tolerance(dtype)
    np.testing.assert_allclose(n_losses, t_losses, **tol)
    for a, b in zip(n_params, t_params, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    n_state = n_opt.state[n_params[0]]
    t_state = t_opt.state[t_params[0]]
    for key in ("func_evals", "n_iter"):
        assert n_state[key] == t_state[key], key
    for key in ("d", "prev_flat_grad", "H_diag"):
        np.testing.assert_allclose(n_state[key].numpy(), t_state[key].numpy(), err_msg=key, **tol)
    assert len(n_state["old_dirs"]) == len(t_state["old_dirs"])
    for a, b in zip(n_state["old_stps"], t_state["old_stps"], strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), **tol)
    np.testing.assert_allclose(float(n_state["t"]), float(t_state["t"]), **tol)
    # torch keeps lr's type where the step is lr (an int lr: an int t); where it computed the
    # step it may hold a 0-d tensor, which nabla keeps as a float
    want_type = float if isinstance(t_state["t"], torch.Tensor) else type(t_state["t"])
    assert type(n_state["t"]) is want_type, (type(n_state["t"]), type(t_state["t"]))
    np.testing.assert_allclose(n_state["prev_loss"], t_state["prev_loss"], **tol)


CASES = [dict(), dict(lr=0.5, max_iter=7), dict(history_size=3, max_iter=10),
         dict(line_search_fn="strong_wolfe"),
         dict(line_search_fn="strong_wolfe", history_size=2, max_iter=30, max_eval=40),
         dict(tolerance_change=1e-3),
         dict(line_search_fn="strong_wolfe", lr=1e-6, max_iter=20, max_eval=6),
         dict(line_search_fn="strong_wolfe", lr=30, tolerance_change=1e-2)]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_rosenbrock_matches_torch(kwargs, rng):
    x0 = [np.array([-1.2, 1.0, 0.5, -0.3])]

    def loss(lib, params):
        return rosenbrock(lib, params[0])

    ours = _run(nabla, optim.LBFGS, x0, loss, 3, **kwargs)
    theirs = _run(torch, torch.optim.LBFGS, x0, loss, 3, **kwargs)
    _compare(ours, theirs, np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_small_network_matches_torch(dtype, line_search_fn, rng):
    arrays = [rng.standard_normal(s).astype(dtype) * 0.5 for s in [(3, 5), (5,), (5, 1)]]
    inputs = rng.standard_normal((16, 3)).astype(dtype)
    targets = np.sin(inputs.sum(1, keepdims=True)).astype(dtype)

    def loss(lib, params):
        return regression(lib, params, lib.tensor(inputs), lib.tensor(targets))

    kwargs = dict(max_iter=8, line_search_fn=line_search_fn)
    ours = _run(nabla, optim.LBFGS, arrays, loss, 3, **kwargs)
    theirs = _run(torch, torch.optim.LBFGS, arrays, loss, 3, **kwargs)
    if dtype == np.float64:
        _compare(ours, theirs, dtype)
    else:  # float32: over 24 iterations the runs part for ~1 seed in 100 (rounding flips a
        # line-search decision, or grows along the fixed steps); the first step's 8 stay close
        np.testing.assert_allclose(ours[2][:2], theirs[2][:2], rtol=1e-3)
    assert ours[2][-1] < ours[2][0]


def test_state_dict_resumes_the_same_run():
    x0 = [np.array([-1.2, 1.0, 0.5])]

    def loss(lib, params):
        return rosenbrock(lib, params[0])

    params, opt, _ = _run(nabla, optim.LBFGS, x0, loss, 1, max_iter=5, history_size=4)
    saved_params = [p.detach().clone() for p in params]
    saved = copy.deepcopy(opt.state_dict())
    whole = _run(nabla, optim.LBFGS, x0, loss, 3, max_iter=5, history_size=4)

    resumed = [p.clone().requires_grad_(True) for p in saved_params]
    opt2 = optim.LBFGS(resumed, max_iter=5, history_size=4)
    opt2.load_state_dict(saved)

    def closure():
        opt2.zero_grad()
        out = rosenbrock(nabla, resumed[0])
        out.backward()
        return out

    for _ in range(2):
        opt2.step(closure)
    np.testing.assert_allclose(resumed[0].detach().numpy(), whole[0][0].detach().numpy(),
                               rtol=1e-12)


def test_stops_at_once_when_the_gradient_is_below_tolerance():
    x = nabla.tensor([1.0, 1.0], requires_grad=True)
    opt = optim.LBFGS([x])

    def closure():
        opt.zero_grad()
        loss = rosenbrock(nabla, x)
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0
    assert opt.state[x]["func_evals"] == 1 and opt.state[x]["n_iter"] == 0
    assert x.tolist() == [1.0, 1.0]


def test_bad_use_is_refused_with_a_clear_error():
    a, b = nabla.zeros(2, requires_grad=True), nabla.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([a], line_search_fn="backtracking")
    with pytest.raises(TypeError, match="one dtype"):
        optim.LBFGS([a, nabla.zeros(2, dtype=nabla.float64, requires_grad=True)])
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS([a]).step(None)


def _network(dtype, rng):
    arrays = [rng.standard_normal(s).astype(dtype) * 0.5 for s in [(3, 5), (5,), (5, 1)]]
    inputs = rng.standard_normal((16, 3)).astype(dtype)
    targets = np.sin(inputs.sum(1, keepdims=True)).astype(dtype)
    return arrays, inputs, targets


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("through_file", [False, True])
def test_state_dict_of_several_parameters_resumes_as_torch(line_search_fn, through_file, rng,
                                                          tmp_path):
    arrays, inputs, targets = _network(np.float64, rng)
    kwargs = dict(max_iter=4, history_size=3, line_search_fn=line_search_fn)

    def run(lib, start, saved=None, steps=2):
        params = [lib.tensor(a.copy(), requires_grad=True) for a in start]
        opt = (optim.LBFGS if lib is nabla else torch.optim.LBFGS)(params, **kwargs)
        if saved is not None:
            opt.load_state_dict(saved)

        def closure():
            opt.zero_grad()
            loss = regression(lib, params, lib.tensor(inputs), lib.tensor(targets))
            loss.backward()
            return loss

        losses = [float(opt.step(closure)) for _ in range(steps)]
        return params, opt, losses

    whole = run(nabla, arrays, steps=4)
    first_params, first_opt, _ = run(nabla, arrays)
    saved = copy.deepcopy(first_opt.state_dict())
    if through_file:
        nabla.save(saved, tmp_path / "lbfgs.pt")
        saved = nabla.load(tmp_path / "lbfgs.pt")
    middle = [p.detach().numpy().copy() for p in first_params]
    resumed = run(nabla, middle, saved)
    for a, b in zip(resumed[0], whole[0], strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(resumed[2], whole[2][2:], rtol=1e-12)

    t_params, t_opt, _ = run(torch, arrays)
    t_resumed = run(torch, [p.detach().numpy() for p in t_params],
                    copy.deepcopy(t_opt.state_dict()))
    _compare(resumed, t_resumed, np.float64)


def test_load_state_dict_refuses_the_state_of_another_model(rng):
    arrays, inputs, targets = _network(np.float64, rng)
    params, opt, _ = _run(nabla, optim.LBFGS, arrays,
                          lambda lib, p: regression(lib, p, lib.tensor(inputs),
                                                    lib.tensor(targets)), 1, max_iter=3)
    smaller = [nabla.zeros(3, 5, dtype=nabla.float64, requires_grad=True),
               nabla.zeros(4, dtype=nabla.float64, requires_grad=True),
               nabla.zeros(5, 1, dtype=nabla.float64, requires_grad=True)]
    with pytest.raises(RuntimeError, match=r"LBFGS.load_state_dict: state 'd' has shape \(25,\)"
                                           r".*24 elements"):
        optim.LBFGS(smaller).load_state_dict(opt.state_dict())
