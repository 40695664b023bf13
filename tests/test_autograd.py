"""The rules of the backward engine, each compared with PyTorch where PyTorch defines them.

Mostly elementwise ops with random upstream gradients (``backward(gradient)``), so these tests
pin the engine itself, not any one op's rule; random programs cover fan-in, fan-out and second
derivatives.
"""

import gc
import random
import weakref

import numpy as np
import pytest
import torch

import nabla
from nabla import autograd
from nabla.autograd.function import Op, OpValueError
from nabla.ops.arithmetic import Add

RTOL, ATOL = 1e-5, 1e-6


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def pair(array, requires_grad=True):
    """The same values as a nabla and a torch tensor (separate memory)."""
    return (nabla.tensor(array.copy(), requires_grad=requires_grad),
            torch.tensor(array.copy(), requires_grad=requires_grad))


def close(a, b, rtol=RTOL, atol=ATOL):
    a = a.detach().numpy() if isinstance(a, nabla.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def f(lib, x):
    """A diamond: x feeds exp, whose output is used three times."""
    y = x.exp()
    return y * y.tanh() + y.sin() * x


# -- accumulation and graph shapes ----------------------------------------------------------------
def test_diamond_graph_sums_gradients_like_torch(rng):
    x, tx = pair(rng.normal(size=(3, 4)))
    g = rng.normal(size=(3, 4))
    f(nabla, x).backward(nabla.tensor(g))
    f(torch, tx).backward(torch.tensor(g))
    close(x.grad, tx.grad)


def test_same_tensor_twice_in_one_op(rng):
    x, tx = pair(rng.normal(size=5))
    g = rng.normal(size=5)
    (x * x).backward(nabla.tensor(g))
    (tx * tx).backward(torch.tensor(g))
    close(x.grad, tx.grad)
    close(x.grad, 2 * x.detach().numpy() * g)




def test_leaf_used_three_times_through_adds(rng):
    x, tx = pair(rng.normal(size=3) * 0.3)
    ((x + x) + x).tanh().backward(nabla.ones(3))
    ((tx + tx) + tx).tanh().backward(torch.ones(3))
    close(x.grad, tx.grad)


def test_chains_between_a_node_with_two_outputs_and_a_diamond(rng):
    """The engine runs a lone pending node without its heap: chains leaving the two outputs of
    split, re-joined, with a second root reaching the middle of one chain."""
    data, g = rng.normal(size=4), rng.normal(size=2)
    grads = []
    for lib in (nabla, torch):
        x = lib.tensor(data.copy(), requires_grad=True)
        a, b = x.split(2)
        mid = a.tanh().exp()
        u = mid.sin().cos()
        v = (b * 2).cos().tanh()
        lib.autograd.backward([u * v + a, mid.sum()], [lib.tensor(g), None])
        grads.append(x.grad.detach().numpy())
    close(grads[0], grads[1])


OPS = {"+": lambda a, b: a + b, "*": lambda a, b: a * b, "-": lambda a, b: a - b,
       "n": lambda a, b: -a, "t": lambda a, b: a.tanh(), "s": lambda a, b: a.sigmoid()}


def random_graph(lib, xs, seed):
    """A random program of 2-7 ops over the inputs and earlier results (fan-in and fan-out)."""
    rnd = random.Random(seed)
    vals = list(xs)
    for _ in range(rnd.randint(2, 7)):
        op, i, j = rnd.choice("+*-nts"), rnd.randrange(60), rnd.randrange(60)
        vals.append(OPS[op](vals[i % len(vals)], vals[j % len(vals)]))
    return vals[-1]


def test_random_graphs_match_torch_over_two_backward_calls():
    failures = []
    for seed in range(400, 650):
        rng = np.random.default_rng(seed)
        data, g = rng.normal(size=(1 + seed % 2, 3)), rng.normal(size=3)
        grads = []
        for lib in (nabla, torch):
            xs = [lib.tensor(d, requires_grad=True) for d in data]
            y = random_graph(lib, xs, seed)
            y.backward(lib.tensor(g), retain_graph=True)
            y.backward(lib.tensor(g))
            grads.append([None if x.grad is None else x.grad.detach().numpy() for x in xs])
        for a, b in zip(*grads, strict=True):
            if (a is None) != (b is None) or (a is not None and not np.allclose(a, b, 1e-5, 1e-6)):
                failures.append(seed)
                break
    assert failures == []


def test_random_graphs_second_derivatives_match_torch():
    """grad(create_graph=True), then the gradient of <grad, w>: Hessian-vector products."""
    failures = []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        data, g, w = rng.normal(size=(1 + seed % 2, 3)), rng.normal(size=3), rng.normal(size=3)
        res = []
        for lib in (nabla, torch):
            xs = [lib.tensor(d, requires_grad=True) for d in data]
            y = random_graph(lib, xs, seed)
            gs = lib.autograd.grad(y, xs, lib.tensor(g), create_graph=True, allow_unused=True)
            dot = sum(gi * lib.tensor(w) for gi in gs if gi is not None and gi.requires_grad)
            hvp = (lib.autograd.grad(dot, xs, lib.ones(3), allow_unused=True)
                   if isinstance(dot, lib.Tensor) else [None] * len(xs))
            res.append([np.zeros(3) if a is None else a.detach().numpy()
                         for a in list(gs) + list(hvp)])
        for a, b in zip(*res, strict=True):
            if not np.allclose(a, b, 1e-5, 1e-6):
                failures.append(seed)
                break
    assert failures == []


def test_gradients_accumulate_across_backward_calls(rng):
    x, tx = pair(rng.normal(size=4))
    g1, g2 = rng.normal(size=4), rng.normal(size=4)
    x.tanh().backward(nabla.tensor(g1))
    first = x.grad.numpy().copy()
    x.sigmoid().backward(nabla.tensor(g2))
    tx.tanh().backward(torch.tensor(g1))
    tx.sigmoid().backward(torch.tensor(g2))
    close(x.grad, tx.grad)
    assert not np.allclose(first, x.grad.numpy())


def test_retain_graph_allows_second_backward(rng):
    x, tx = pair(rng.normal(size=3))
    g = rng.normal(size=3)
    y, ty = x.exp() * x, tx.exp() * tx
    y.backward(nabla.tensor(g), retain_graph=True)
    y.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g), retain_graph=True)
    ty.backward(torch.tensor(g))
    close(x.grad, tx.grad)


def test_second_backward_without_retain_graph_raises():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.backward(nabla.ones(2))
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward(nabla.ones(2))


def test_scalar_loss_from_sum_like_torch(rng):
    x, tx = pair(rng.normal(size=(2, 3)))
    g = rng.normal(size=(2, 3))
    (f(nabla, x) * nabla.tensor(g)).sum().backward()
    (f(torch, tx) * torch.tensor(g)).sum().backward()
    close(x.grad, tx.grad)


def test_broadcast_gradients_reduced_to_input_shapes(rng):
    a, ta = pair(rng.normal(size=(3, 1)))
    b, tb = pair(rng.normal(size=(1, 4)))
    s, ts = pair(np.array(0.7))
    v, tv = pair(rng.normal(size=4))
    g = rng.normal(size=(3, 4))
    ((a * b).tanh() * s + v).backward(nabla.tensor(g))
    ((ta * tb).tanh() * ts + tv).backward(torch.tensor(g))
    for n, t in [(a, ta), (b, tb), (s, ts), (v, tv)]:
        assert n.grad.shape == tuple(t.grad.shape)
        close(n.grad, t.grad)


def test_backward_on_non_scalar_needs_a_gradient():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(nabla.ones(3))


def test_scalar_backward_needs_no_gradient():
    x, tx = pair(np.array(0.7))
    x.tanh().exp().backward()
    tx.tanh().exp().backward()
    close(x.grad, tx.grad)


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        nabla.tensor([1.0]).exp().backward(nabla.ones(1))


# -- grad modes ---------------------------------------------------------------------------------
def test_no_grad_records_nothing():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    with nabla.no_grad():
        y = x * 2
        assert not nabla.is_grad_enabled()
    assert nabla.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf


def test_enable_grad_inside_no_grad_records():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    with nabla.no_grad():
        with nabla.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad


def test_grad_modes_as_decorators():
    x = nabla.tensor([1.0], requires_grad=True)

    @nabla.no_grad()
    def off():
        return x * 2

    @nabla.enable_grad()
    def on():
        return x * 2

    @nabla.set_grad_enabled(False)
    def off2():
        return x * 2

    @nabla.no_grad  # bare, as PyTorch allows
    def bare_off():
        return x * 2

    @nabla.enable_grad
    def bare_on():
        return x * 2

    assert nabla.is_grad_enabled()  # building the decorators changed nothing
    assert not off().requires_grad and not bare_off().requires_grad
    assert bare_off.__name__ == "bare_off"
    with nabla.no_grad():
        assert bare_on().requires_grad
    assert not off2().requires_grad
    with nabla.no_grad():
        assert on().requires_grad
    assert nabla.is_grad_enabled()


def test_set_grad_enabled_context_and_plain_call():
    x = nabla.tensor([1.0], requires_grad=True)
    with nabla.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert nabla.is_grad_enabled()
    with nabla.no_grad():
        with nabla.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not nabla.is_grad_enabled()
    try:
        nabla.set_grad_enabled(False)
        assert not nabla.is_grad_enabled()
    finally:
        nabla.set_grad_enabled(True)
    assert nabla.is_grad_enabled()


def test_grad_mode_is_thread_local():
    import threading

    seen = []
    with nabla.no_grad():
        worker = threading.Thread(target=lambda: seen.append(nabla.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with nabla.no_grad():
            raise ValueError
    assert nabla.is_grad_enabled()


# -- leaves, requires_grad, detach --------------------------------------------------------------
def test_is_leaf_and_requires_grad_propagation():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    c = nabla.tensor([3.0, 4.0])
    assert x.is_leaf and c.is_leaf and x.grad_fn is None
    y = x * c
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    z = c * c
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_detach_shares_memory_and_stops_gradient():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.numpy(), y._data)
    (x * d).backward(nabla.ones(2))
    close(x.grad, np.exp([1.0, 2.0]))  # d is a constant: no gradient through exp


def test_detach_in_place_cuts_tensor_from_graph():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None


def test_grad_not_propagated_to_inputs_without_requires_grad(rng):
    x = nabla.tensor(rng.normal(size=3), requires_grad=True)
    c = nabla.tensor(rng.normal(size=3))
    (x * c).backward(nabla.ones(3))
    assert c.grad is None


# -- hooks and retain_grad ----------------------------------------------------------------------
def test_leaf_hook_modifies_gradient_and_can_be_removed(rng):
    x, tx = pair(rng.normal(size=3))
    g = rng.normal(size=3)
    handle = x.register_hook(lambda grad: grad * 2)
    thandle = tx.register_hook(lambda grad: grad * 2)
    x.sin().backward(nabla.tensor(g))
    tx.sin().backward(torch.tensor(g))
    close(x.grad, tx.grad)
    handle.remove()
    thandle.remove()
    x.sin().backward(nabla.tensor(g))
    tx.sin().backward(torch.tensor(g))
    close(x.grad, tx.grad)


def test_leaf_hook_runs_once_on_summed_gradient():
    x, tx = pair(np.array([1.0, 2.0]))
    calls = []
    x.register_hook(lambda g: calls.append(g) or g + 1)  # not linear: the count matters
    tx.register_hook(lambda g: g + 1)
    (x * 2 + x * 3).backward(nabla.ones(2))
    (tx * 2 + tx * 3).backward(torch.ones(2))
    close(x.grad, tx.grad)
    assert len(calls) == 1


def test_non_leaf_hook_modifies_gradient_flowing_back(rng):
    x, tx = pair(rng.normal(size=3))
    g = rng.normal(size=3)
    seen = []
    y, ty = x.exp(), tx.exp()
    y.register_hook(lambda grad: seen.append(grad) or grad * 3)
    ty.register_hook(lambda grad: grad * 3)
    y.sin().backward(nabla.tensor(g))
    ty.sin().backward(torch.tensor(g))
    close(x.grad, tx.grad)
    close(seen[0], g * np.cos(np.exp(x.detach().numpy())))


def test_hooks_run_in_registration_order(rng):
    x, tx = pair(rng.normal(size=3))
    for t in (x, tx):
        t.register_hook(lambda g: g * 2)
        t.register_hook(lambda g: g + 1)
    x.exp().backward(nabla.ones(3))
    tx.exp().backward(torch.ones(3))
    close(x.grad, tx.grad)


def test_non_leaf_hook_removed():
    x = nabla.tensor([0.5, 1.5], requires_grad=True)
    y = x * 2
    handle = y.register_hook(lambda grad: grad * 100)
    handle.remove()
    y.tanh().backward(nabla.ones(2))
    close(x.grad, 2 * (1 - np.tanh([1.0, 3.0]) ** 2), rtol=1e-5)


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="require"):
        nabla.tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad_keeps_non_leaf_gradient(rng):
    x, tx = pair(rng.normal(size=3))
    g = rng.normal(size=3)
    y, ty = x.exp(), tx.exp()
    z, tz = y.tanh(), ty.tanh()
    y.retain_grad()
    ty.retain_grad()
    (z * 2).backward(nabla.tensor(g))
    (tz * 2).backward(torch.tensor(g))
    close(y.grad, ty.grad)
    assert z.grad is None


# -- autograd.grad -------------------------------------------------------------------------------
def test_grad_returns_gradients_without_touching_dot_grad(rng):
    x, tx = pair(rng.normal(size=3))
    w, tw = pair(rng.normal(size=3))
    g = rng.normal(size=3)
    gx, gw = autograd.grad(f(nabla, x) * w, [x, w], nabla.tensor(g))
    tgx, tgw = torch.autograd.grad(f(torch, tx) * tw, [tx, tw], torch.tensor(g))
    close(gx, tgx)
    close(gw, tgw)
    assert x.grad is None and w.grad is None


def test_grad_of_several_outputs_and_of_output_itself(rng):
    x, tx = pair(rng.normal(size=3))
    g1, g2 = rng.normal(size=3), rng.normal(size=3)
    (gx,) = autograd.grad([x.exp(), x.sin()], x, [nabla.tensor(g1), nabla.tensor(g2)])
    (tgx,) = torch.autograd.grad([tx.exp(), tx.sin()], tx, [torch.tensor(g1), torch.tensor(g2)])
    close(gx, tgx)
    y = x.exp()
    (gy,) = autograd.grad(y, y, nabla.tensor(g1))
    close(gy, g1)


def test_grad_twice_without_retain_graph_raises():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    autograd.grad(y, x, nabla.ones(2))
    with pytest.raises(RuntimeError, match="retain_graph"):
        autograd.grad(y, x, nabla.ones(2))


def test_grad_edge_cases_like_torch():
    out = {}
    for lib in (nabla, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        twice = lib.autograd.grad(x.exp(), [x, x], lib.ones(2))  # the same input twice
        y = x.exp()
        y.register_hook(lambda g: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            y.sin().backward(lib.ones(2))
        assert lib.is_grad_enabled()  # restored after an error inside backward
        sq = x * x
        with lib.no_grad():  # create_graph records even under no_grad
            (g,) = lib.autograd.grad(sq, x, lib.ones(2), create_graph=True)
        assert g.requires_grad
        x.exp().backward(lib.ones(2, dtype=lib.float64))  # a float64 upstream gradient
        assert str(x.grad.dtype).endswith("float32")
        out[lib] = twice
    close(out[nabla][0], out[torch][0])
    close(out[nabla][1], out[torch][1])


def test_grad_accepts_the_deprecated_only_inputs_of_gradient_penalties():
    """WGAN-GP scripts call grad(..., create_graph=True, retain_graph=True, only_inputs=True)."""
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((4, 3)), rng.standard_normal((3, 1))
    results = []
    for lib in (nabla, torch):
        x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True)
        d = lib.tanh(x @ w)
        g = lib.autograd.grad(outputs=d, inputs=x, grad_outputs=lib.ones_like(d),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        assert x.grad is not None  # the penalty's own backward reaches x
        results.append((penalty.item(), w.grad.numpy()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)
    x = nabla.tensor([1.0], requires_grad=True)
    with pytest.warns(FutureWarning, match="only_inputs"):
        (g,) = autograd.grad(x * 3, x, only_inputs=False)
    assert g.item() == 3.0 and x.grad is None


def test_grad_allow_unused():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    u = nabla.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        autograd.grad(x.exp(), [x, u], nabla.ones(2))
    gx, gu = autograd.grad(x.exp(), [x, u], nabla.ones(2), allow_unused=True)
    close(gx, np.exp([1.0, 2.0]))
    assert gu is None


def test_grad_input_must_require_grad():
    x = nabla.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="require"):
        autograd.grad(x.exp(), [nabla.tensor([1.0])], nabla.ones(1))


def test_grad_wrt_non_leaf_input(rng):
    x, tx = pair(rng.normal(size=3))
    g = rng.normal(size=3)
    h, th = x.exp(), tx.exp()
    (gh,) = autograd.grad((h.sin() * x), h, nabla.tensor(g))
    (tgh,) = torch.autograd.grad((th.sin() * tx), th, torch.tensor(g))
    close(gh, tgh)


def higher(lib, x, vs, order):
    """d^order/dx^order of sigmoid(x) * sin(x) * x, contracted with upstream gradients vs."""
    grad = nabla.autograd.grad if lib is nabla else torch.autograd.grad
    y = x.sigmoid() * x.sin() * x
    for k in range(order):
        (y,) = grad(y, x, vs[k], create_graph=k < order - 1)
    return y


@pytest.mark.parametrize("order", [1, 2, 3])
def test_higher_order_gradients_match_torch(rng, order):
    x, tx = pair(rng.normal(size=4))
    vs = [rng.normal(size=4) for _ in range(order)]
    out = higher(nabla, x, [nabla.tensor(v) for v in vs], order)
    tout = higher(torch, tx, [torch.tensor(v) for v in vs], order)
    close(out, tout, rtol=1e-5, atol=1e-8)


def test_create_graph_gradient_requires_grad_and_backward_into_leaf(rng):
    x, tx = pair(rng.normal(size=3))
    (gx,) = autograd.grad(x.tanh() * x, x, nabla.ones(3), create_graph=True)
    (tgx,) = torch.autograd.grad(tx.tanh() * tx, tx, torch.ones(3), create_graph=True)
    assert gx.requires_grad
    v = rng.normal(size=3)
    gx.backward(nabla.tensor(v))
    tgx.backward(torch.tensor(v))
    close(x.grad, tx.grad)


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph")
def test_backward_create_graph_accumulates_differentiable_grad(rng):
    x, tx = pair(rng.normal(size=3))
    (x * x * x).backward(nabla.ones(3), create_graph=True)
    (tx * tx * tx).backward(torch.ones(3), create_graph=True)
    assert x.grad.requires_grad
    (g2,) = autograd.grad(x.grad, x, nabla.ones(3))
    (tg2,) = torch.autograd.grad(tx.grad, tx, torch.ones(3))
    close(g2, tg2)
    tx.grad = None  # break torch's parameter <-> grad cycle


def test_backward_inputs_accumulates_only_into_those(rng):
    x, tx = pair(rng.normal(size=3))
    w, tw = pair(rng.normal(size=3))
    g = rng.normal(size=3)
    (x.exp() * w).backward(nabla.tensor(g), inputs=[x])
    (tx.exp() * tw).backward(torch.tensor(g), inputs=[tx])
    close(x.grad, tx.grad)
    assert w.grad is None and tw.grad is None


def test_backward_inputs_non_leaf(rng):
    x, tx = pair(rng.normal(size=3))
    g = rng.normal(size=3)
    h, th = x.exp(), tx.exp()
    h.sin().backward(nabla.tensor(g), inputs=[h])
    th.sin().backward(torch.tensor(g), inputs=[th])
    close(h.grad, th.grad)
    assert x.grad is None


# -- version counters: saved tensors modified in place -------------------------------------------
def test_in_place_change_of_saved_output_raises_at_backward():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # Exp saves its output
    with nabla.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward(nabla.ones(2))


def test_in_place_change_of_saved_input_raises_at_backward():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    w = nabla.tensor([3.0, 4.0])
    y = x * w  # Mul saves w
    w.add_(1)
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward(nabla.ones(2))
    tx, tw = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, 4.0])
    ty = tx * tw
    tw.add_(1)
    with pytest.raises(RuntimeError, match="inplace"):
        ty.backward(torch.ones(2))


def test_in_place_under_no_grad_on_saved_leaf_raises():
    w = nabla.tensor([3.0, 4.0], requires_grad=True)
    y = w.sin()  # Sin saves its input
    with nabla.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match="version"):
        y.backward(nabla.ones(2))


def test_in_place_through_detached_alias_raises():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    y = x.sin()
    x.detach().mul_(2)  # detach shares the version counter
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward(nabla.ones(2))




@pytest.mark.parametrize("write", ["view", "slice", "base_of_saved_view", "no_grad_view"])
def test_in_place_through_a_view_raises_at_backward(write):
    x = nabla.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    w = nabla.tensor([1.0, 2.0, 3.0, 4.0])
    if write == "view":
        y = x * w
        w.reshape(2, 2).add_(1)
    elif write == "slice":
        y = x * w
        w[1:].mul_(3)
    elif write == "base_of_saved_view":
        base = nabla.tensor([[1.0, 2.0], [3.0, 4.0]])
        y = x * base.reshape(4)  # Mul saves the view
        base.add_(1)
    else:
        y = x.sin()  # Sin saves x
        with nabla.no_grad():
            x.reshape(2, 2).mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward(nabla.ones(4))


def test_in_place_ops_bump_version_and_unrelated_change_is_fine():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    w = nabla.tensor([3.0, 4.0])
    other = nabla.tensor([0.0, 0.0])
    v = w._version[0]
    y = x * w
    other.add_(1)
    assert w._version[0] == v
    y.backward(nabla.ones(2))
    w.add_(1)  # after backward: allowed
    assert w._version[0] == v + 1
    close(x.grad, [3.0, 4.0])


def test_in_place_on_leaf_requiring_grad_raises():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.add_(1)
    with nabla.no_grad():
        x.add_(1)  # allowed, as optimizers do
    close(x.detach(), [2.0, 3.0])


# -- deep graphs and memory ----------------------------------------------------------------------
def test_deep_chain_has_no_recursion_limit():
    x = nabla.tensor([1.0], requires_grad=True)
    h = x
    for _ in range(100_000):
        h = -h
    h.backward(nabla.ones(1))
    close(x.grad, [1.0])
    del h  # freeing a 100,000-node chain must not overflow the C stack either


def test_saved_arrays_released_after_backward():
    x = nabla.tensor([1.0, 2.0, 3.0], requires_grad=True)
    gc.disable()  # prove that reference counting alone frees them
    try:
        y = x.exp()  # Exp saves its output array
        ref = weakref.ref(y._data)
        z = y.tanh()
        del y
        assert ref() is not None  # the graph still holds it
        z.backward(nabla.ones(3))
        assert ref() is None
    finally:
        gc.enable()


def test_saved_input_tensor_released_after_backward():
    x = nabla.tensor([1.0, 2.0, 3.0], requires_grad=True)
    gc.disable()
    try:
        h = x * 2.0
        z = h.sin()  # Sin saves its input, the non-leaf h
        ref = weakref.ref(h)
        del h
        assert ref() is not None
        z.backward(nabla.ones(3))
        assert ref() is None
    finally:
        gc.enable()


def test_retain_graph_keeps_saved_arrays_until_graph_dropped():
    x = nabla.tensor([1.0, 2.0, 3.0], requires_grad=True)
    gc.disable()
    try:
        y = x.exp()
        ref = weakref.ref(y._data)
        z = y.tanh()
        del y
        z.backward(nabla.ones(3), retain_graph=True)
        assert ref() is not None
        del z
        assert ref() is None
    finally:
        gc.enable()


def test_dropped_graph_freed_by_refcounting():
    x = nabla.tensor([1.0, 2.0, 3.0], requires_grad=True)
    gc.disable()
    try:
        y = x.exp()
        data_ref, node_ref = weakref.ref(y._data), weakref.ref(y.grad_fn)
        z = y.sin() * y
        out_ref = weakref.ref(z)
        del y, z
        assert data_ref() is None and node_ref() is None and out_ref() is None
    finally:
        gc.enable()


# -- gradients are never aliased ------------------------------------------------------------------
def test_two_leaves_receiving_same_gradient_do_not_share_memory():
    a = nabla.tensor([1.0, 2.0], requires_grad=True)
    b = nabla.tensor([3.0, 4.0], requires_grad=True)
    g = nabla.tensor([1.0, 1.0])
    (a + b).backward(g)  # Add passes the same gradient object to both inputs
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.mul_(5)
    close(b.grad, [1.0, 1.0])
    close(g, [1.0, 1.0])


class _DiagPlus(nabla.autograd.Function):
    """out = b + diag(a); its backward hands out the diagonal of grad (a strided view) for a and
    grad itself for b: two gradients sharing memory."""

    @staticmethod
    def forward(ctx, a, b):
        return b + nabla.diag_embed(a)

    @staticmethod
    def backward(ctx, grad):
        return grad.diagonal(), grad


def test_leaf_gradients_that_share_memory_through_a_strided_view_are_kept_apart():
    a = nabla.zeros(3, requires_grad=True)
    b = nabla.zeros(3, 3, requires_grad=True)
    upstream = nabla.tensor(np.arange(9.0, dtype=np.float32).reshape(3, 3))
    for _ in range(2):  # the second backward adds into the .grads kept from the first
        _DiagPlus.apply(a, b).backward(upstream)
    np.testing.assert_array_equal(a.grad.numpy(), 2 * np.array([0.0, 4.0, 8.0]))
    np.testing.assert_array_equal(b.grad.numpy(), 2 * upstream.numpy())


def test_user_gradient_not_modified_by_accumulation():
    a = nabla.tensor([1.0, 2.0], requires_grad=True)
    g = nabla.tensor([1.0, 1.0])
    (a + 0.0).backward(g)
    assert not np.shares_memory(a.grad.numpy(), g.numpy())
    (a + 0.0).backward(g)
    close(g, [1.0, 1.0])
    close(a.grad, [2.0, 2.0])
    a.backward(g)  # the root is the leaf itself
    a.backward(g)
    close(g, [1.0, 1.0])


def test_gradient_seen_by_hook_not_modified_by_later_accumulation():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x + 0.0
    h.register_hook(lambda g: seen.append(g))
    h.exp().backward(nabla.ones(2), retain_graph=True)
    first = seen[0].numpy().copy()
    h.exp().backward(nabla.ones(2))
    close(seen[0], first)


def test_tensor_returned_by_hook_not_modified_by_accumulation():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    fixed = nabla.tensor([10.0, 10.0])
    x.register_hook(lambda g: fixed)
    x.exp().backward(nabla.ones(2))
    x.exp().backward(nabla.ones(2))
    close(x.grad, [20.0, 20.0])
    close(fixed, [10.0, 10.0])


def test_view_of_user_gradient_not_stored_in_grad():
    x = nabla.tensor(np.ones((2, 3)), requires_grad=True)
    g = nabla.tensor(np.arange(6.0))
    x.reshape(6).backward(g)  # Reshape's rule returns a view of g
    assert not np.shares_memory(x.grad.numpy(), g.numpy())
    x.grad.add_(1)
    close(g, np.arange(6.0))


# -- dtypes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("leaf, other", [("float32", "float64"), ("float64", "float32")])
def test_grad_dtype_equals_leaf_dtype(leaf, other):
    x = nabla.tensor([1.0, 2.0], dtype=leaf, requires_grad=True)
    c = nabla.tensor([3.0, 4.0], dtype=other)
    y = (x * c).exp()
    tx = torch.tensor([1.0, 2.0], dtype=getattr(torch, leaf), requires_grad=True)
    ty = (tx * torch.tensor([3.0, 4.0], dtype=getattr(torch, other))).exp()
    assert str(y.dtype) == str(ty.dtype).replace("torch.", "")
    y.backward(nabla.ones(2, dtype=y.dtype))
    ty.backward(torch.ones(2, dtype=ty.dtype))
    assert x.grad.dtype == x.dtype == np.dtype(leaf)
    close(x.grad, tx.grad, rtol=1e-4)


def test_split_pieces_share_the_version_counter_like_torch():
    """Every piece of a multi-output view (split) is a view of the base, recorded or not."""
    for lib in (nabla, torch):
        w = lib.randn(4, 3, requires_grad=True)
        p, q = w.split(2)
        y = p.sin().sum()  # sin saves p, a view of w: changing q (another view) changes w
        with lib.no_grad():
            q.mul_(2)
        with pytest.raises(RuntimeError, match="modified (by an )?in-?place"):
            y.backward()
    base = nabla.zeros(4, 3)
    a, b = nabla.split(base, 2)
    b.add_(1)
    assert a._version[0] == base._version[0] == 1


def test_reshape_that_copies_is_not_a_view():
    """NumPy copies when reshaping a transposed array: the result must not share the version
    counter, or a later in-place change of the input would raise a false error."""
    w = nabla.randn(3, 4, requires_grad=True)
    flat = w.T.reshape(12)  # a copy
    assert flat._version is not w._version
    z = (flat * 2).sin().sum()
    with nabla.no_grad():
        w.add_(1)  # sin saved its own input, which is not w's memory
    z.backward()
    assert w.grad.shape == (3, 4)
    assert w.reshape(12)._version is w._version  # a contiguous reshape stays a view


def test_next_functions_walk_like_torch_down_to_accumulate_grad():
    """The tutorial's walk over the graph: nodes all the way, AccumulateGrad at a leaf that
    requires grad, (None, 0) where no gradient flows."""
    import torch

    def walk(lib):
        w, x = lib.ones(3, requires_grad=True), lib.ones(3)
        y = w * x
        names, fn = [], y.grad_fn
        pairs = fn.next_functions
        assert pairs[1] == (None, 0)
        leaf = pairs[0][0]
        names.append(type(leaf).__name__)
        assert leaf.variable is w and leaf.next_functions == ()
        return names

    assert walk(nabla) == walk(torch) == ["AccumulateGrad"]


def _next_kinds(fn) -> list:
    """next_functions as ('node' or None, output index): the length and the (None, 0) places
    (the nodes themselves differ where the two decompose an op differently: linear)."""
    return [(None if f is None else "node", i) for f, i in fn.next_functions]


def _graphs(lib) -> dict:
    F = lib.nn.functional
    x, w, b = (lib.ones(*s, dtype=lib.float64, requires_grad=True) for s in [(2, 3), (4, 3), (4,)])
    y, z = lib.ones(2, 3, dtype=lib.float64), x * 2

    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, k, flag):
            return a * k

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None, None

    return {"sum dim": x.sum(dim=1), "sum keepdim": x.sum(1, keepdim=True), "mean": x.mean(),
            "linear": F.linear(x, w, b), "linear, no bias": F.linear(x, w),
            "cat of 3": lib.cat([x, y, z], 1), "stack": lib.stack([y, x]),
            "clamp, tensor bounds": lib.clamp(x, y, z), "clamp, numbers": lib.clamp(x, 0.0, 1.0),
            "index, slice": z[:, 1:], "custom Function": Scale.apply(x, 3.0, True),
            "mul number": x * 2, "number add": 1 + x, "div number": x / 2, "add": x + y,
            "softmax": F.softmax(x, 1)}


def test_next_functions_list_tensor_inputs_only_as_torch():
    """Dims, flags and numbers passed to an op have no entry (as PyTorch), except a number
    operand of add/sub/mul/div, which PyTorch wraps as a tensor."""
    ours, theirs = _graphs(nabla), _graphs(torch)
    for name in ours:
        assert _next_kinds(ours[name].grad_fn) == _next_kinds(theirs[name].grad_fn), name
    x = nabla.ones(3, requires_grad=True)
    # left as they are: where's condition and an index tensor are listed, (None, 0), where
    # PyTorch leaves out such inputs (not differentiable); an optional tensor passed as None
    # (clamp's max) is not listed; 2 ** x lists the 2 (made a tensor before the op)
    assert _next_kinds(nabla.where(x > 0, x, 0.0).grad_fn) == [(None, 0), ("node", 0)]
    assert _next_kinds((x * 2)[nabla.tensor([0, 1])].grad_fn) == [("node", 0), (None, 0)]


class _Checked(Op):
    """An op whose forward makes its own check (raising OpValueError), then calls NumPy."""

    @staticmethod
    def forward(ctx, x, n):
        if n < 0:
            raise OpValueError(f"checked: n must be >= 0, got {n}; pass a count")
        return x.reshape(n)


def test_op_errors_raised_on_purpose_pass_the_wrapper_as_they_are():
    """An op's own check (OpInputError) keeps its message; a NumPy failure in forward gets the
    wrapper's context (the op's name and the input shapes), and both stay ValueErrors."""
    x = nabla.zeros(2, 3)
    with pytest.raises(ValueError) as info:
        _Checked.apply(x, -1)
    assert str(info.value) == "checked: n must be >= 0, got -1; pass a count"
    with pytest.raises(ValueError, match=r"^_Checked: invalid inputs \(\(2, 3\), 7\): cannot "
                                         r"reshape array of size 6 into shape \(7,\)"):
        _Checked.apply(x, 7)
    with pytest.raises(ValueError, match=r"^Add: invalid inputs \(\(2, 3\), \(4,\)\): the shapes "
                                         r"are not broadcastable"):
        Add.apply(x, nabla.zeros(4))
