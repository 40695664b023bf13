"""Activation checkpointing (nabla.utils.checkpoint) against torch.utils.checkpoint on the same
weights: gradients of inputs and parameters, dropout masks, tuple outputs, plain arguments,
checkpoint_sequential, the memory it frees, and its errors."""

import gc
import warnings
import weakref

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import nabla
import nabla.utils.checkpoint
from nabla.utils.checkpoint import checkpoint, checkpoint_sequential

TOL = {"rtol": 1e-10, "atol": 1e-10}
VARIANTS = [True, False]


def _close(a, b, what: str) -> None:
    assert a is not None and b is not None, f"{what}: a gradient is missing"
    np.testing.assert_allclose(np.asarray(a._data), b.detach().numpy(), err_msg=what, **TOL)


def _twin_mlp(dropout: float = 0.0):
    """The same MLP block in PyTorch and nabla (float64, PyTorch's weights copied across)."""
    def make(nn):
        return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Dropout(dropout), nn.Linear(16, 16),
                             nn.ReLU(), nn.Linear(16, 5)).double()

    tmod = make(torch.nn)
    nmod = make(nabla.nn)
    nmod.load_state_dict(tmod.state_dict())
    return nmod, tmod


def _twin_input(rng, shape=(4, 6), requires_grad=True):
    x = rng.standard_normal(shape)
    return (nabla.tensor(x, requires_grad=requires_grad),
            torch.tensor(x, requires_grad=requires_grad))


def _compare_grads(nmod, tmod, nx, tx) -> None:
    if tx.requires_grad:
        _close(nx.grad, tx.grad, "grad of the input")
    for (name, tp), (_, np_) in zip(tmod.named_parameters(), nmod.named_parameters(),
                                    strict=True):
        _close(np_.grad, tp.grad, f"grad of {name}")


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_mlp_block_gradients_match_torch(use_reentrant, rng):
    nmod, tmod = _twin_mlp()
    nx, tx = _twin_input(rng)
    ny = checkpoint(nmod, nx, use_reentrant=use_reentrant)
    ty = tcp.checkpoint(tmod, tx, use_reentrant=use_reentrant)
    _close(ny, ty, "output")
    assert ny.requires_grad and ny.grad_fn is not None
    g = rng.standard_normal(tuple(ty.shape))
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    _compare_grads(nmod, tmod, nx, tx)


def test_non_reentrant_works_with_autograd_grad_and_inputs_without_grad(rng):
    nmod, tmod = _twin_mlp()
    nx, tx = _twin_input(rng, requires_grad=False)  # only the parameters require grad
    g = rng.standard_normal((4, 5))
    ny = checkpoint(nmod, nx, use_reentrant=False)
    ty = tcp.checkpoint(tmod, tx, use_reentrant=False)
    ngrads = nabla.autograd.grad(ny, list(nmod.parameters()), nabla.tensor(g))
    tgrads = torch.autograd.grad(ty, list(tmod.parameters()), torch.tensor(g))
    for i, (a, b) in enumerate(zip(ngrads, tgrads, strict=True)):
        _close(a, b, f"autograd.grad of parameter {i}")
    assert all(p.grad is None for p in nmod.parameters())  # grad() leaves .grad alone


def test_reentrant_without_inputs_requiring_grad_warns_and_gives_no_gradients(rng):
    nmod, tmod = _twin_mlp()
    nx, tx = _twin_input(rng, requires_grad=False)
    with pytest.warns(UserWarning, match="requires_grad"):
        ny = checkpoint(nmod, nx, use_reentrant=True)
    with pytest.warns(UserWarning, match="requires_grad"):
        ty = tcp.checkpoint(tmod, tx, use_reentrant=True)
    assert ny.requires_grad == ty.requires_grad == False  # noqa: E712


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_dropout_draws_the_same_mask_when_recomputed(use_reentrant, rng):
    nmod, _ = _twin_mlp(dropout=0.5)
    nmod.train()
    x = rng.standard_normal((8, 6))
    g = nabla.tensor(rng.standard_normal((8, 5)))
    results = {}
    for mode in ("plain", "checkpoint", "no_rng"):
        nabla.manual_seed(1234)
        nmod.zero_grad()
        nx = nabla.tensor(x, requires_grad=True)
        if mode == "plain":
            ny = nmod(nx)
        else:
            ny = checkpoint(nmod, nx, use_reentrant=use_reentrant,
                            preserve_rng_state=mode == "checkpoint")
        nabla.rand(3)  # the forward moved the random state on: backward must not depend on it
        ny.backward(g)
        after = nabla.rand(3)  # and backward must hand the caller's random state back
        grads = [nx.grad] + [p.grad for p in nmod.parameters()]
        results[mode] = (ny, [t._data.copy() for t in grads], after._data.copy())
    (py, pgrads, pafter), (cy, cgrads, cafter) = results["plain"], results["checkpoint"]
    np.testing.assert_array_equal(cy._data, py._data)
    for i, (a, b) in enumerate(zip(cgrads, pgrads, strict=True)):
        np.testing.assert_allclose(a, b, err_msg=f"gradient {i}", **TOL)
    np.testing.assert_array_equal(cafter, pafter)
    # without preserve_rng_state the recomputation draws another mask: the check can fail
    ngrads = results["no_rng"][1]
    assert any(not np.allclose(a, b) for a, b in zip(ngrads, pgrads))


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_tuple_outputs_and_plain_arguments(use_reentrant, rng):
    def block(lib):
        def f(x, w, scale, act, flag):
            h = act(x @ w) * scale
            return (h.sum(1), h * h) if flag else (h,)
        return f

    xs = [rng.standard_normal((3, 4)), rng.standard_normal((4, 5))]
    nx = [nabla.tensor(a, requires_grad=True) for a in xs]
    tx = [torch.tensor(a, requires_grad=True) for a in xs]
    nouts = checkpoint(block(nabla), *nx, 0.5, nabla.tanh, True, use_reentrant=use_reentrant)
    touts = tcp.checkpoint(block(torch), *tx, 0.5, torch.tanh, True,
                           use_reentrant=use_reentrant)
    assert isinstance(nouts, tuple) and len(nouts) == 2
    gs = [rng.standard_normal(tuple(t.shape)) for t in touts]
    sum((o * nabla.tensor(g)).sum() for o, g in zip(nouts, gs)).backward()
    sum((o * torch.tensor(g)).sum() for o, g in zip(touts, gs)).backward()
    for i in range(2):
        _close(nouts[i], touts[i], f"output {i}")
        _close(nx[i].grad, tx[i].grad, f"grad of argument {i}")
    one = checkpoint(block(nabla), *nx, 0.5, nabla.tanh, False, use_reentrant=use_reentrant)
    assert isinstance(one, tuple) and len(one) == 1  # a 1-tuple stays a tuple, as in PyTorch


def test_non_reentrant_takes_keyword_arguments_and_a_tensor_without_grad(rng):
    def f(lib):
        return lambda x, c, *, w: lib.sin(x * c) @ w

    a, c, w = (rng.standard_normal(s) for s in [(3, 4), (4,), (4, 2)])
    nx, nw, tx, tw = (nabla.tensor(a, requires_grad=True), nabla.tensor(w, requires_grad=True),
                      torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True))
    nc, tc = nabla.tensor(c), torch.tensor(c)
    ny = checkpoint(f(nabla), nx, nc, w=nw, use_reentrant=False)
    ty = tcp.checkpoint(f(torch), tx, tc, w=tw, use_reentrant=False)
    g = rng.standard_normal((3, 2))
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    _close(nx.grad, tx.grad, "grad of x")
    _close(nw.grad, tw.grad, "grad of the keyword argument w")
    assert nc.grad is None


@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("segments", [1, 2, 3, 5])
def test_checkpoint_sequential_matches_torch(segments, use_reentrant, rng):
    def make(nn):
        return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.Sigmoid(),
                             nn.Linear(8, 3)).double()

    tmod = make(torch.nn)
    nmod = make(nabla.nn)
    nmod.load_state_dict(tmod.state_dict())
    nx, tx = _twin_input(rng, (6, 5))
    ny = checkpoint_sequential(nmod, segments, nx, use_reentrant=use_reentrant)
    ty = tcp.checkpoint_sequential(tmod, segments, tx, use_reentrant=use_reentrant)
    _close(ny, ty, "output")
    g = rng.standard_normal((6, 3))
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    _compare_grads(nmod, tmod, nx, tx)
    # a list of modules and callables works as well
    nmod.zero_grad()
    nx.grad = None
    ny = checkpoint_sequential(list(nmod), segments, nx, use_reentrant=use_reentrant)
    ny.backward(nabla.tensor(g))
    _compare_grads(nmod, tmod, nx, tx)


@pytest.mark.parametrize("use_reentrant", [None, True, False])
def test_activations_inside_are_freed_after_forward(use_reentrant, rng):
    fc1, fc2 = nabla.nn.Linear(4, 8), nabla.nn.Linear(8, 3)
    refs = []

    def f(x):
        h = nabla.tanh(fc1(x))  # fc2 saves h for its weight's gradient
        refs.append(weakref.ref(h._data))
        return fc2(h)

    x = nabla.tensor(rng.standard_normal((5, 4)).astype(np.float32), requires_grad=True)
    gc.disable()  # only reference counting frees: a cycle would keep h alive
    try:
        y = f(x)
        assert refs[0]() is not None, "without checkpointing the graph keeps h (test is void)"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # use_reentrant=None warns (tested below)
            y = checkpoint(f, x, use_reentrant=use_reentrant)
        assert refs[-1]() is None, "the checkpointed function's activation is still alive"
        y.sum().backward()
        assert len(refs) == 3  # the function ran again at backward
        assert refs[-1]() is None  # and its recomputed graph was freed too
        assert x.grad is not None and fc1.weight.grad is not None
    finally:
        gc.enable()


def test_under_no_grad_it_just_calls_the_function(rng):
    calls = []

    def f(x):
        calls.append(nabla.is_grad_enabled())
        return x * 2

    x = nabla.tensor(rng.standard_normal(3), requires_grad=True)
    with nabla.no_grad():
        y = checkpoint(f, x, use_reentrant=False)
    assert not y.requires_grad and calls == [False]


def test_use_reentrant_none_warns_and_means_true(rng):
    nmod, _ = _twin_mlp()
    nx, _ = _twin_input(rng)
    with pytest.warns(UserWarning, match="use_reentrant"):
        ny = checkpoint(nmod, nx)
    with pytest.warns(UserWarning, match="use_reentrant"):
        checkpoint_sequential(nmod, 2, nx)
    with pytest.warns(UserWarning, match="use_reentrant"):
        tcp.checkpoint(torch.sin, torch.ones(2, requires_grad=True))
    assert type(ny.grad_fn).__name__ == "_Reentrant"
    assert nabla.utils.checkpoint.checkpoint is checkpoint


def test_errors_name_the_function_and_the_fix(rng):
    x = nabla.tensor(rng.standard_normal(3), requires_grad=True)
    with pytest.raises(ValueError, match="keyword arguments scale.*use_reentrant=False"):
        checkpoint(lambda x, scale: x * scale, x, scale=2.0, use_reentrant=True)
    with pytest.raises(TypeError, match="checkpoint: function must be callable"):
        checkpoint(3, x, use_reentrant=False)
    with pytest.raises(TypeError, match="a Tensor or a tuple of Tensors, got list"):
        checkpoint(lambda x: [x * 2], x, use_reentrant=False)
    with pytest.raises(TypeError, match="tuple holding a float"):
        checkpoint(lambda x: (x * 2, 1.0), x, use_reentrant=False)
    with pytest.raises(ValueError, match="checkpoint_sequential: segments must be .* got 4"):
        checkpoint_sequential([nabla.tanh, nabla.sin], 4, x, use_reentrant=False)
    outside = x * 3  # computed outside and captured: its gradient has nowhere to go
    with pytest.raises(RuntimeError, match="pass that tensor as an argument"):
        checkpoint(lambda y: y * outside, x.detach(), use_reentrant=False)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_double_backward_and_inplace_changes_are_refused(use_reentrant, rng):
    x = nabla.tensor(rng.standard_normal(3), requires_grad=True)
    y = checkpoint(nabla.sin, x, use_reentrant=use_reentrant).sum()
    with pytest.raises(RuntimeError, match="double backward .create_graph=True"):
        nabla.autograd.grad(y, x, create_graph=True)
    base = nabla.tensor(rng.standard_normal(3), requires_grad=True)
    a = base * 1
    y = checkpoint(nabla.sin, a, use_reentrant=use_reentrant).sum()
    with nabla.no_grad():
        a.mul_(2)  # the saved input changed: recomputing from it would be wrong
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()
