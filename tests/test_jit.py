"""nabla.jit.trace: a replay gives the eager values and gradients, sees parameter updates, traces
again for a new signature, and refuses (or catches) what it cannot replay."""

import gc
import warnings
import weakref

import numpy as np
import pytest

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.jit import TraceError, TracerWarning


def _leaf(rng, shape, dtype=np.float64):
    return nabla.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def _chain(x, w):
    y = x
    for _ in range(5):
        y = (y * w + w).tanh() - 0.5
    return y


def _grads(fn, inputs, params, seed):
    """Outputs and d(sum(out * seed))/d(inputs + params), computed with autograd.grad."""
    out = fn(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    wrt = [t for t in list(inputs) + list(params) if t.requires_grad]
    seeds = [nabla.tensor(seed.standard_normal(o.shape)) .to(o.dtype) for o in outs]
    grads = nabla.autograd.grad(list(outs), wrt, seeds, allow_unused=True)
    return [o.detach().numpy() for o in outs], [None if g is None else g.numpy() for g in grads]


def _assert_same(fn, inputs, params=(), rtol=1e-12):
    traced = nabla.jit.trace(fn, tuple(inputs))
    for _ in range(2):  # the first call after trace() replays too
        eager_out, eager_g = _grads(fn, inputs, params, np.random.default_rng(1))
        out, g = _grads(traced, inputs, params, np.random.default_rng(1))
        for a, b in zip(eager_out + eager_g, out + g):
            if a is None:
                assert b is None
            else:
                np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-12)
    return traced


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chain_matches_eager(rng, dtype):
    x, w = _leaf(rng, (4, 5), dtype), _leaf(rng, (4, 5), dtype)
    _assert_same(_chain, [x, w], rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_broadcasting_reductions_and_views(rng):
    x, b = _leaf(rng, (3, 4)), _leaf(rng, (4,))

    def f(x, b):
        y = (x + b).exp().sum(1, keepdim=True) * x.t().reshape(3, 4)
        return y.softmax(-1)[:, 1:].mean()

    _assert_same(f, [x, b])


def test_multi_output_ops_and_tuple_results(rng):
    x = _leaf(rng, (4, 6))

    def f(x):
        values, _ = x.max(1)
        a, b = x.chunk(2, 1)
        return values * 2, (a * b).sum(0)

    _assert_same(f, [x])


def test_comparisons_are_replayed(rng):
    x = _leaf(rng, (5, 5))
    traced = _assert_same(lambda x: nabla.where(x > 0, x, 0.1 * x), [x])
    other = nabla.tensor(rng.standard_normal((5, 5)))
    np.testing.assert_array_equal(traced(other).numpy(),
                                  np.where(other.numpy() > 0, other.numpy(), 0.1 * other.numpy()))


def test_module_parameters_are_captured_and_updates_seen(rng):
    nabla.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    x = nabla.tensor(rng.standard_normal((5, 6)))
    y = nabla.tensor(rng.integers(0, 3, 5))
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        return loss_fn(model(x), y)

    _assert_same(step, [x, y], list(model.parameters()))
    traced = nabla.jit.trace(step, (x, y))
    opt = nabla.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        traced(x, y).backward()
        opt.step()
    eager = step(x, y).item()
    assert traced(x, y).item() == pytest.approx(eager, rel=1e-12)


def test_training_with_a_trace_equals_eager_training(rng):
    data = rng.standard_normal((16, 4)), rng.integers(0, 2, 16)

    def train(use_trace):
        nabla.manual_seed(3)
        model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2)).double()
        opt = nabla.optim.Adam(model.parameters(), lr=1e-2)
        x, y = nabla.tensor(data[0]), nabla.tensor(data[1])

        def step(x, y):
            return F.cross_entropy(model(x), y)

        fn = nabla.jit.trace(step) if use_trace else step
        for _ in range(5):
            opt.zero_grad()
            fn(x, y).backward()
            opt.step()
        return [p.detach().numpy().copy() for p in model.parameters()]

    for a, b in zip(train(False), train(True)):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_cnn_and_lstm_trace(rng):
    nabla.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(4 * 3 * 3, 5)).double()
    x = nabla.tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
    _assert_same(lambda x: cnn(x), [x], list(cnn.parameters()), rtol=1e-10)
    lstm = nn.LSTM(3, 4, batch_first=True).double()
    s = nabla.tensor(rng.standard_normal((2, 5, 3)))
    _assert_same(lambda s: lstm(s)[0], [s], list(lstm.parameters()), rtol=1e-10)


def test_new_signature_traces_again(rng):
    traced = nabla.jit.trace(lambda x: (x * x).sum())
    a, b = _leaf(rng, (2, 3)), _leaf(rng, (4,))
    assert traced(a).item() == pytest.approx((a.detach().numpy() ** 2).sum())
    assert traced(b).item() == pytest.approx((b.detach().numpy() ** 2).sum())
    traced(nabla.tensor(b.detach().numpy()))  # requires_grad differs: one more trace
    assert len(traced._programs) == 3


def test_no_grad_call_records_nothing(rng):
    x = _leaf(rng, (3,))
    traced = nabla.jit.trace(lambda x: x.exp(), x)
    with nabla.no_grad():
        y = traced(x)
    assert not y.requires_grad and y.grad_fn is None


def test_refuses_random_draws_in_place_writes_and_custom_functions(rng):
    x = _leaf(rng, (4, 4))
    with pytest.raises(TraceError, match="random draw"):
        nabla.jit.trace(lambda x: x * nabla.rand(4, 4, dtype=nabla.float64), x)
    buf = nabla.zeros(4, 4, dtype=nabla.float64)
    with pytest.raises(TraceError, match="in-place write"):
        nabla.jit.trace(lambda x: buf.add_(x.detach()) * x, x)

    class Twice(nabla.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(TraceError, match="Twice"):
        nabla.jit.trace(lambda x: Twice.apply(x), x)
    assert nabla.autograd.grad_mode._trace.tracer is None  # a failed trace leaves no tracer


def test_argmax_is_replayed(rng):
    x = _leaf(rng, (4, 6))
    traced = _assert_same(lambda x: x * x.argmax(1, keepdim=True) + x.argmin(), [x])
    other = nabla.tensor(rng.standard_normal((4, 6)), requires_grad=True)  # same signature
    a = other.detach().numpy()
    np.testing.assert_array_equal(traced(other).detach().numpy(),
                                  a * a.argmax(1)[:, None] + a.argmin())
    assert len(traced._programs) == 1  # replayed, not traced again


def test_all_and_any_are_replayed(rng):
    def fn(x):
        rows_positive = (x > 0).all(1, keepdim=True)
        some_large = (x > 1).any(0)
        return x * rows_positive + x * some_large
    x = _leaf(rng, (5, 3))
    traced = nabla.jit.trace(fn, x, check_trace=False)  # replay alone must be right
    other = nabla.tensor(np.abs(rng.standard_normal((5, 3))) + 0.5,  # another mask entirely
                         requires_grad=True)
    a = other.detach().numpy()
    np.testing.assert_allclose(traced(other).detach().numpy(),
                               a * (a > 0).all(1, keepdims=True) + a * (a > 1).any(0))
    assert len(traced._programs) == 1  # replayed, not traced again


def test_max_pool_indices_are_replayed(rng):
    """max_pool2d's indices are an output of its op; adaptive_max_pool2d's argmax (sizes that
    do not divide) is a step of its own: a replay recomputes both."""
    def fn(x):
        y, idx = F.max_pool2d(x, 2, return_indices=True)  # indices: the op's second output
        return F.adaptive_max_pool2d(x, (2, 3)).sum() + y * idx

    x = _leaf(rng, (2, 3, 5, 7))
    traced = nabla.jit.trace(fn, x, check_trace=False)
    other = _leaf(rng, (2, 3, 5, 7))
    np.testing.assert_array_equal(traced(other).detach().numpy(), fn(other).detach().numpy())
    assert len(traced._programs) == 1


def test_ops_with_an_index_read_it_at_each_replay(rng):
    def fn(x, idx):
        picked = nabla.gather(x, 1, idx)
        rows = nabla.index_select(x, 0, idx[:, 0] % 3) + nabla.take(x, idx).sum() \
            + nabla.take_along_dim(x, idx, 1).sum(1, keepdim=True)
        return nabla.scatter_add(nabla.zeros_like(x), 1, idx, picked) + picked.sum() + rows

    x = _leaf(rng, (3, 5))
    idx = nabla.tensor(rng.integers(0, 5, (3, 2)))
    traced = nabla.jit.trace(fn, (x, idx), check_trace=False)
    other = nabla.tensor(rng.integers(0, 5, (3, 2)))
    np.testing.assert_array_equal(traced(x, other).detach().numpy(),
                                  fn(x, other).detach().numpy())
    assert len(traced._programs) == 1


def test_index_tensors_in_a_key_are_read_at_each_replay(rng):
    """x[rows, targets] (a hand-written NLL), table[idx], x[x % 3] and x[mask]: the index
    tensors are values of the program, not constants frozen at the example."""
    def nll(z, y):
        return -z.log_softmax(1)[nabla.arange(z.shape[0]), y].mean()

    def lookups(table, idx, mask):
        return table[idx].sum(1), table[idx % 3, 1:], table[mask], \
            nabla.masked_select(table[:, 0], mask)

    z = _leaf(rng, (6, 4))
    y = nabla.tensor(rng.integers(0, 4, 6))
    traced = _assert_same(nll, [z, y])
    other = nabla.tensor((y.numpy() + 1) % 4)
    assert traced(z, other).item() == pytest.approx(nll(z, other).item(), rel=1e-12)
    _assert_same(nll, [z, other])
    table = _leaf(rng, (4, 3))
    idx = nabla.tensor(rng.integers(0, 4, (5, 2)))
    mask = nabla.tensor(np.array([True, False, True, True]))
    traced = _assert_same(lookups, [table, idx, mask])
    for k in range(3):
        idx2 = nabla.tensor(np.random.default_rng(k).integers(0, 4, (5, 2)))
        mask2 = nabla.tensor(np.random.default_rng(k).random(4) > 0.5)
        for a, b in zip(traced(table, idx2, mask2), lookups(table, idx2, mask2)):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("fn", [
    lambda x: nabla.unique(x % 4, return_inverse=True, return_counts=True),
    lambda x: nabla.bincount(x % 5, minlength=3),
    lambda x: nabla.bincount(x % 5, x.double()),
    lambda x: F.one_hot(x % 4, 4),
    lambda x: F.one_hot(x % (x[0] + 1)),  # as many classes as this input has
    lambda x: nabla.norm((x % 3).double(), 0),
    lambda x: nabla.histc(x.double(), 4, 0, 6),
    lambda x: nabla.where(x > 3),
    lambda x: (nabla.kthvalue(x, 2).indices, nabla.median(x, 0).indices, x.cummax(0).indices),
], ids=["unique", "bincount", "bincount_weights", "one_hot", "one_hot_inferred", "norm0",
        "histc", "where", "index_steps"])
def test_ops_without_gradient_are_recomputed_at_each_replay(fn, rng):
    """Their results depend on the values: a replay on other values computes them anew."""
    x = nabla.tensor(rng.integers(0, 7, 9))
    traced = nabla.jit.trace(fn, (x,), check_trace=False)
    for seed in range(3):
        other = nabla.tensor(np.random.default_rng(seed).integers(0, 7, 9))
        got, want = traced(other), fn(other)
        got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("loss, rows", [
    (lambda x, y: F.multi_margin_loss(x, y % 4), 8),
    (lambda x, y: F.multilabel_margin_loss(x, (y % 5).reshape(2, 4) - 1), 2),
    (lambda x, y: F.cross_entropy(x, y % 4, ignore_index=1, label_smoothing=0.1), 8),
    (lambda x, y: F.nll_loss(x.log_softmax(1), y % 4, weight=nabla.tensor([1.0, 2, 3, 4])), 8),
], ids=["multi_margin", "multilabel_margin", "cross_entropy", "nll"])
def test_losses_read_the_targets_at_each_replay(loss, rows, rng):
    x = _leaf(rng, (rows, 4))
    y = nabla.tensor(rng.integers(0, 20, 8))
    traced = nabla.jit.trace(loss, (x, y), check_trace=False)
    for seed in range(3):
        other = nabla.tensor(np.random.default_rng(seed).integers(0, 20, 8))
        assert traced(x, other).item() == pytest.approx(loss(x, other).item(), rel=1e-12)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_reads_indices_offsets_and_weights_at_each_replay(mode, rng):
    """Bags of other sizes (the same number of bags), padding entries left out, per-sample
    weights: the bag layout is a step of the program, recomputed from the new offsets."""
    def fn(w, idx, offsets, psw):
        return F.embedding_bag(idx, w, offsets, mode=mode, padding_idx=2,
                               per_sample_weights=psw if mode == "sum" else None)

    w = _leaf(rng, (6, 3))
    def example(seed):
        r = np.random.default_rng(seed)
        cuts = np.sort(r.integers(0, 9, 2))
        return (nabla.tensor(r.integers(0, 6, 9)), nabla.tensor(np.r_[0, cuts]),
                nabla.tensor(r.standard_normal(9)))
    traced = nabla.jit.trace(fn, (w, *example(0)), check_trace=False)
    for seed in range(1, 4):
        args = (w, *example(seed))
        got, want = traced(*args), fn(*args)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
        g_got, = nabla.autograd.grad(got.sum(), w)
        g_want, = nabla.autograd.grad(want.sum(), w)
        np.testing.assert_allclose(g_got.numpy(), g_want.numpy(), rtol=1e-12)
    assert len(traced._programs) == 1


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_and_max_unpool_are_traced(mode, padding_mode, rng):
    """Their corner indices, masks and unpooling indices come from the inputs' values."""
    def fn(x, grid):
        sampled = F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode)
        return F.max_unpool2d(*F.max_pool2d(sampled, 2, return_indices=True), 2)

    x, grid = _leaf(rng, (2, 3, 5, 5)), _leaf(rng, (2, 4, 4, 2))
    traced = _assert_same(fn, [x, grid])
    other = [_leaf(rng, (2, 3, 5, 5)), _leaf(rng, (2, 4, 4, 2)) * 1.3]  # other corners, clips
    other[1] = other[1].detach().requires_grad_()
    for a, b in zip(*(_grads(f, other, [], np.random.default_rng(2)) for f in (fn, traced))):
        for u, v in zip(a, b):
            np.testing.assert_allclose(v, u, rtol=1e-12, atol=1e-12)


def test_check_trace_catches_frozen_values(rng):
    # check_trace replays on a permutation of x: with 6 values the permutation kept every sign
    # (so the frozen mask stayed right) for 1 draw in 16; with 64, for 1 in 2**59.
    x = _leaf(rng, (64,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TracerWarning)
        with pytest.raises(TraceError, match="does not reproduce"):  # a mask made from .numpy()
            nabla.jit.trace(lambda x: x * nabla.tensor(x.detach().numpy() > 0), x)
        with pytest.raises(TraceError, match="does not reproduce"):
            nabla.jit.trace(lambda x: x * float(x.detach()[0].item()), x)


def test_item_warns_while_tracing(rng):
    x = _leaf(rng, (3,))
    with pytest.warns(TracerWarning, match="item"):
        nabla.jit.trace(lambda x: x * 2 if x.sum().item() > -1e9 else x, x)


def test_backward_rules(rng):
    x = _leaf(rng, (3,))
    traced = nabla.jit.trace(lambda x: (x * x).sum(), x)
    y = traced(x)
    node = y.grad_fn
    y.backward()
    assert node._saved is None  # the replayed ops' saved arrays are released
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    y = traced(x)
    with pytest.raises(RuntimeError, match="create_graph"):
        nabla.autograd.grad(y, x, create_graph=True)
    y = traced(x)
    with nabla.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_traced_call_frees_its_arrays(rng):
    x = _leaf(rng, (100,))
    traced = nabla.jit.trace(lambda x: x.exp().sum(), x)
    gc.disable()
    try:
        y = traced(x)
        ctx = weakref.ref(y.grad_fn._saved[0])  # the replayed exp's ctx, holding its output
        assert ctx() is not None
        y.backward()
        assert ctx() is None  # freed at once, without the garbage collector
    finally:
        gc.enable()


def test_bad_inputs_and_outputs(rng):
    x = _leaf(rng, (3,))
    with pytest.raises(TypeError, match="must be Tensors"):
        nabla.jit.trace(lambda x, k: x * k)(x, 2.0)
    with pytest.raises(TraceError, match="return a Tensor"):
        nabla.jit.trace(lambda x: {"y": x * 2}, x)
