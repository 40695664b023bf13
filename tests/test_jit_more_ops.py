"""nabla.jit.trace over the newer ops: traced on one input, replayed on others, each replay
gives eager nabla's outputs and gradients; the data-dependent parts (indices, masks, levels,
sizes, random draws) are recomputed at each replay, and check_trace passes on the trace."""

import warnings

import numpy as np
import pytest

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.jit import TraceError, TracerWarning

_RTOL = {np.float32: 1e-5, np.float64: 1e-12}  # replay vs eager: the same ops on the same data


def _leaf(rng, shape, dtype=np.float64, scale=1.0):
    return nabla.tensor((rng.standard_normal(shape) * scale).astype(dtype), requires_grad=True)


def _ints(rng, low, high, shape):
    return nabla.tensor(rng.integers(low, high, shape))


def _run(fn, args, params=(), seed=1):
    """Outputs of ``fn(*args)`` and d(sum(out * random seeds))/d(args and params that require
    grad), as arrays (None for an unused one)."""
    out = fn(*args)
    outs = tuple(out) if isinstance(out, tuple) else (out,)
    roots = [o for o in outs if o.requires_grad]
    wrt = [t for t in list(args) + list(params) if t.requires_grad]
    grads = []
    if roots and wrt:
        rng = np.random.default_rng(seed)
        seeds = [nabla.tensor(rng.standard_normal(tuple(o.shape))).to(o.dtype) for o in roots]
        grads = nabla.autograd.grad(roots, wrt, seeds, allow_unused=True)
    return [o.detach().numpy() for o in outs], [None if g is None else g.numpy() for g in grads]


def _assert_same(got, want, rtol=1e-12, zeros_for_none=False):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        if zeros_for_none and (a is None) != (b is None):
            a, b = (np.zeros_like(b), b) if a is None else (a, np.zeros_like(a))
        if b is None:
            assert a is None
            continue
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, equal_nan=True)


def _replays(fn, example, others, params=(), rtol=1e-12, zeros_for_none=False):
    """Trace ``fn`` on ``example`` (check_trace on), then replay it on each of ``others``:
    outputs and gradients equal eager nabla's, with no second trace. Returns the trace."""
    traced = nabla.jit.trace(fn, tuple(example))
    for args in others:
        out, grads = _run(traced, args, params)
        want_out, want_grads = _run(fn, args, params)
        _assert_same(out, want_out, rtol)
        _assert_same(grads, want_grads, rtol, zeros_for_none)
    assert len(traced._programs) == 1, "replayed, not traced again"
    return traced


# -- quantile / nanquantile ------------------------------------------------------------------------
def _with_nans(rng, shape, dtype=np.float64):
    a = rng.standard_normal(shape)
    a[rng.random(shape) < 0.3] = np.nan
    return nabla.tensor(a.astype(dtype), requires_grad=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantile_reads_a_tensor_q_at_each_replay(interpolation, dtype, rng):
    def fn(x, q):
        return (nabla.quantile(x, q, dim=1, interpolation=interpolation),
                nabla.quantile(x, q[0], interpolation=interpolation),
                nabla.nanquantile(x, q, dim=0, keepdim=True, interpolation=interpolation))

    def args(levels):
        return _leaf(rng, (4, 7), dtype), nabla.tensor(np.array(levels, dtype))

    # 0.5 of 6 gaps: a tie for 'nearest' (half to even), as are 1/12 and 0.25 along 7 rows
    _replays(fn, args([0.1, 0.5, 0.25]), [args([0.9, 1 / 12, 0.0]), args([1.0, 0.5, 0.75])],
             rtol=_RTOL[dtype])


@pytest.mark.parametrize("op", [nabla.quantile, nabla.nanquantile])
def test_quantile_with_a_float_q_and_nans(op, rng):
    def fn(x):
        return op(x, 0.3, dim=1), op(x, 0.75)

    _replays(fn, [_with_nans(rng, (5, 6))], [[_with_nans(rng, (5, 6))] for _ in range(2)])


def test_check_trace_catches_a_level_taken_out_of_the_tensor(rng):
    def frozen(x, q):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TracerWarning)
            return nabla.quantile(x, q.tolist(), dim=1)

    with pytest.raises(TraceError, match="does not reproduce"):
        nabla.jit.trace(frozen, (_leaf(rng, (3, 5)), nabla.tensor([0.2, 0.9], dtype=nabla.float64)))


# -- index writes and reductions into positions ----------------------------------------------
def _write_cases(rng):
    """(name, fn, make_args): every make_args() draws other indices, masks and values."""
    def mask(shape):
        return nabla.tensor(rng.random(shape) > 0.5)

    return [
        ("index_copy", lambda x, i, s: nabla.index_copy(x, 0, i, s),
         lambda: (_leaf(rng, (5, 3)), nabla.tensor(rng.permutation(5)[:2]), _leaf(rng, (2, 3)))),
        ("index_fill", lambda x, i, v: nabla.index_fill(x, 1, i, v),
         lambda: (_leaf(rng, (4, 5)), _ints(rng, -5, 5, (3,)), _leaf(rng, ()))),
        ("index_put", lambda x, i, j, v: nabla.index_put(x, (i, j), v, accumulate=True),
         lambda: (_leaf(rng, (5, 3)), _ints(rng, 0, 5, (4,)), _ints(rng, -3, 3, (4,)),
                  _leaf(rng, (4,)))),
        ("index_put_mask", lambda x, m, v: nabla.index_put(x, (m,), v),
         lambda: (_leaf(rng, (5, 3)), mask(5), _leaf(rng, (3,)))),
        ("put", lambda x, i, s: nabla.put(x, i, s, accumulate=True),
         lambda: (_leaf(rng, (3, 4)), _ints(rng, -12, 12, (6,)), _leaf(rng, (2, 3)))),
        ("masked_scatter", lambda x, m, s: nabla.masked_scatter(x, m, s),
         lambda: (_leaf(rng, (3, 4)), mask((4,)), _leaf(rng, (13,)))),
        ("index_reduce_amax", lambda x, i, s: nabla.index_reduce(x, 0, i, s, "amax"),
         lambda: (_leaf(rng, (5, 3)), _ints(rng, 0, 5, (6,)), _leaf(rng, (6, 3)))),
        ("index_reduce_prod", lambda x, i, s: x.index_reduce(1, i, s, "prod",
                                                             include_self=False),
         lambda: (_leaf(rng, (3, 4)), _ints(rng, 0, 4, (5,)), _leaf(rng, (3, 5)))),
        ("index_reduce_mean", lambda x, i, s: nabla.index_reduce(x, 0, i, s, "mean"),
         lambda: (_leaf(rng, (4, 2)), _ints(rng, 0, 4, (5,)), _leaf(rng, (5, 2)))),
    ] + [
        (f"scatter_reduce_{reduce}_{include}",
         lambda x, i, s, reduce=reduce, include=include: nabla.scatter_reduce(
             x, 1, i, s, reduce, include_self=include),
         lambda: (_leaf(rng, (3, 5)), _ints(rng, 0, 5, (3, 4)), _leaf(rng, (3, 6))))
        for reduce in ("sum", "prod", "mean", "amax", "amin") for include in (True, False)
    ]


@pytest.mark.parametrize("case", range(19))
def test_index_writes_read_indices_masks_and_values_at_each_replay(case, rng):
    name, fn, make = _write_cases(rng)[case]
    _replays(fn, make(), [make() for _ in range(3)])


def test_index_writes_with_ties_and_zeros_replay_like_eager(rng):
    """amax ties share the gradient and prod is exact with zeros: both depend on the values of
    the replay, not of the example."""
    def fn(x, i, s):
        return (nabla.scatter_reduce(x, 0, i, s, "amax"), nabla.scatter_reduce(x, 0, i, s, "prod"),
                nabla.index_reduce(x, 0, i[:, 0], s, "amin", include_self=False))

    def args(seed):
        r = np.random.default_rng(seed)
        x = nabla.tensor(r.integers(-2, 3, (4, 3)).astype(np.float64), requires_grad=True)
        s = nabla.tensor(r.integers(-2, 3, (5, 3)).astype(np.float64), requires_grad=True)
        return x, nabla.tensor(r.integers(0, 4, (5, 3))), s

    _replays(fn, args(0), [args(k) for k in range(1, 5)])


# -- order statistics, counts, searches ---------------------------------------------------------
def test_mode_nanmedian_renorm_replay_like_eager(rng):
    def fn(x, y):
        m = nabla.mode(x, 1)
        med = nabla.nanmedian(y, 0, keepdim=True)
        return (m.values, m.indices, med.values, med.indices, nabla.nanmedian(y),
                nabla.renorm(y.nan_to_num(), 2, 0, 1.5), nabla.renorm(x, float("inf"), 1, 2.0))

    def args():
        x = nabla.tensor(rng.integers(0, 3, (4, 7)).astype(np.float64), requires_grad=True)
        return x, _with_nans(rng, (6, 3))

    _replays(fn, args(), [args() for _ in range(3)])


def test_counts_and_searches_are_recomputed_at_each_replay(rng):
    def fn(x, seq, v, edges, w):
        edges = edges.sort().values  # check_trace permutes the inputs: edges must stay sorted
        values, inverse, counts = nabla.unique_consecutive(x, return_inverse=True,
                                                           return_counts=True)
        hist = nabla.histogram(v, edges, weight=w)
        return (values, inverse, counts, nabla.unique_consecutive(x.reshape(4, 2), dim=0),
                nabla.histogram(v, 4).hist, nabla.histogram(v, 3, range=(-1.0, 1.0)).bin_edges,
                nabla.histogram(v, 5, density=True).hist,
                hist.hist, nabla.searchsorted(seq, v.reshape(2, 4), right=True),
                nabla.searchsorted(seq[0], v, sorter=nabla.argsort(seq[0])),
                nabla.bucketize(v, edges), nabla.bucketize(v, edges, right=True, out_int32=True))

    def args():
        return (_ints(rng, 0, 3, (8,)), nabla.tensor(np.sort(rng.standard_normal((2, 5)), 1)),
                nabla.tensor(rng.standard_normal(8) * 2),
                nabla.tensor(rng.standard_normal(4)), nabla.tensor(rng.random(8)))

    _replays(fn, args(), [args() for _ in range(3)])


# -- data-dependent sizes -------------------------------------------------------------------------
def test_sizes_that_depend_on_the_data_replay_with_their_gradients(rng):
    """nonzero, x[mask], masked_select, unique: a replay's sizes are its own, and so are the
    shapes its gradients are reduced to (not the example's)."""
    def fn(x, labels):
        rows, cols = nabla.nonzero(x > 0.5, as_tuple=True)
        picked = x[rows, cols].exp()
        masked = nabla.masked_select(x, x < -0.5) * 2
        kinds = nabla.unique(labels, return_counts=True)
        return picked, masked, x[x.abs() < 0.3].sum(), nabla.nonzero(x > 0), *kinds

    example = [nabla.tensor(np.array([[0.9, 0.0, 0.0], [0.0, 0.0, -0.9]]), requires_grad=True),
               nabla.tensor(np.array([1, 1, 1, 1]))]  # one element of each kind
    others = [[_leaf(rng, (2, 3)), _ints(rng, 0, 5, (4,))] for _ in range(4)]
    _replays(fn, example, others)


def test_a_size_of_one_in_the_example_is_not_broadcast_at_a_replay(rng):
    """A value of size 1 while tracing, larger at a replay: its gradient keeps the replay's size
    (reduced to the example's size, it would be summed into one element)."""
    x = nabla.tensor(np.array([2.0, -1.0, -1.0]), requires_grad=True)
    traced = nabla.jit.trace(lambda x: x[x > 0] * nabla.arange(1.0, 2.0, dtype=nabla.float64),
                             x)
    other = nabla.tensor(np.array([3.0, 1.0, -2.0]), requires_grad=True)
    (g,) = nabla.autograd.grad(traced(other).sum(), other)
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0, 0.0])


@pytest.mark.parametrize("dim", [0, None])
def test_repeat_interleave_reads_a_one_element_count_at_each_replay(dim, rng):
    """A count given as a one-element tensor is read at each replay (it was frozen at the
    example's value, with no warning)."""
    x = _leaf(rng, (3, 2))
    fn = lambda x, r: nabla.repeat_interleave(x, r, dim=dim)  # noqa: E731
    _replays(fn, (x, nabla.tensor([2])),
             [(x, nabla.tensor([3])), (x, nabla.tensor([0])), (x, nabla.tensor([1]))])
    _replays(fn, (x, nabla.tensor(2)), [(x, nabla.tensor(4))])


@pytest.mark.parametrize("op", [
    lambda x, i: x.scatter_add(1, i, nabla.ones(2, 2, dtype=nabla.float64)),
    lambda x, i: x.scatter(1, i, 2.0),
    lambda x, i: x.scatter_reduce(1, i, nabla.ones(2, 2, dtype=nabla.float64), "amax"),
    lambda x, i: x.gather(1, i),
    lambda x, i: x.index_select(1, i[0]),
    lambda x, i: x.index_add(1, i[0], nabla.ones(2, 2, dtype=nabla.float64)),
    lambda x, i: x.index_copy(1, i[0], nabla.ones(2, 2, dtype=nabla.float64)),
])
def test_an_index_out_of_range_at_a_replay_is_an_error_not_a_wrap(op, rng):
    """A replay runs the op without the public function's checks: the index is checked in the
    op itself (NumPy would wrap it modulo the size, or read a negative one from the end, where
    PyTorch refuses it)."""
    x = _leaf(rng, (2, 3))
    traced = nabla.jit.trace(op, (x, nabla.tensor([[0, 2], [1, 1]])))
    with pytest.raises(IndexError, match="index 3 is out of range for dim 1 with size 3"):
        traced(x, nabla.tensor([[0, 3], [1, 1]]))
    with pytest.raises(IndexError, match="index -4 is out of range"):
        traced(x, nabla.tensor([[0, -4], [1, 1]]))
    with pytest.raises(IndexError, match="index -1 is out of range .*no negative index"):
        traced(x, nabla.tensor([[-1, 0], [1, 1]]))


@pytest.mark.parametrize("op", [lambda x, i: x.take(i),
                                lambda x, i: nabla.take_along_dim(x, i, 1)])
def test_a_replay_reads_negative_indices_where_torch_does(op, rng):
    """take (in [-N, N)) and take_along_dim along a dim (any index, modulo the size) read a
    replay's negative index as an eager call does, traced on non-negative ones."""
    x = _leaf(rng, (2, 3))
    traced = nabla.jit.trace(op, (x, nabla.tensor([[0, 2], [1, 1]])))
    other = nabla.tensor([[-1, 2], [-3, 1]])
    np.testing.assert_array_equal(traced(x, other).detach().numpy(),
                                  op(x, other).detach().numpy())


# -- random draws: fresh at each replay, as eager -------------------------------------------------
def _draws_like_eager(fn, example, others, params=()):
    """Traced on ``example``: from the same seed a replay draws what an eager call draws (same
    outputs and gradients); two replays in a row draw differently."""
    traced = nabla.jit.trace(fn, tuple(example))  # check_trace replays from the eager state
    for k, args in enumerate(others):
        nabla.manual_seed(k)
        want = _run(fn, args, params)
        nabla.manual_seed(k)
        got = _run(traced, args, params)
        for a, b in zip(got, want):
            _assert_same(a, b)
        again = _run(traced, args, params)[0]
        assert any(not np.array_equal(a, b) for a, b in zip(again, got[0])), "a fresh draw"
    assert len(traced._programs) == 1
    return traced


_RANDOM = [
    ("dropout", lambda x: F.dropout(x, 0.3, training=True)),
    ("dropout1d", lambda x: F.dropout1d(x.flatten(2), 0.5, training=True)),
    ("dropout2d", lambda x: F.dropout2d(x, 0.5, training=True)),
    ("dropout3d", lambda x: F.dropout3d(x.unsqueeze(2), 0.5, training=True)),
    ("alpha_dropout", lambda x: F.alpha_dropout(x, 0.2, training=True)),
    ("feature_alpha_dropout", lambda x: F.feature_alpha_dropout(x, 0.5, training=True)),
    ("rrelu", lambda x: F.rrelu(x, 0.1, 0.4, training=True)),
    ("fractional_max_pool2d", lambda x: F.fractional_max_pool2d(x, 2, output_size=(4, 3))),
    # Five windows along W: with three, only the middle one moves (2 or 3, one draw in two the
    # same) and a replay's output could equal the last one's by chance (1 seed in ~70); D and H
    # (3 -> 2, kernel 1) are fixed by the sizes.
    ("fractional_max_pool3d", lambda x: F.fractional_max_pool3d(
        x.reshape(2, 3, 3, 3, 7), (1, 1, 2), output_size=(2, 2, 5), return_indices=True)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", _RANDOM, ids=[c[0] for c in _RANDOM])
def test_random_ops_draw_anew_at_each_replay(case, dtype, rng):
    _, fn = case
    _draws_like_eager(fn, [_leaf(rng, (2, 3, 9, 7), dtype)],
                      [[_leaf(rng, (2, 3, 9, 7), dtype)] for _ in range(2)])


def test_a_module_in_training_mode_replays_its_dropout(rng):
    model = nn.Sequential(nn.Linear(5, 8), nn.RReLU(), nn.Dropout(0.4), nn.Linear(8, 3),
                          nn.AlphaDropout(0.2)).double()
    model.train()
    _draws_like_eager(model, [_leaf(rng, (6, 5))], [[_leaf(rng, (6, 5))] for _ in range(2)],
                      params=list(model.parameters()))
    model.eval()  # traced in eval mode, the dropouts are identities: every replay agrees
    x = _leaf(rng, (6, 5))
    traced = nabla.jit.trace(model, x)
    np.testing.assert_array_equal(traced(x).detach().numpy(), traced(x).detach().numpy())


def test_other_random_draws_are_refused(rng):
    x = _leaf(rng, (3, 4))
    with pytest.raises(TraceError, match="random draw"):
        nabla.jit.trace(lambda x: x * nabla.randn(3, 4, dtype=nabla.float64), x)
    with pytest.raises(TraceError, match="random draw"):
        nabla.jit.trace(lambda x: F.gumbel_softmax(x), x)


# -- fractional max pooling with given samples ---------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dims", [2, 3])
def test_fractional_max_pool_reads_input_and_samples_at_each_replay(dims, dtype, rng):
    """The maxima's places depend on the values and on the samples: both are recomputed."""
    pool = F.fractional_max_pool2d if dims == 2 else F.fractional_max_pool3d
    spatial = (9, 8) if dims == 2 else (6, 7, 5)

    def fn(x, samples):
        return pool(x, 2, output_size=(3,) * dims, _random_samples=samples, return_indices=True)

    def args():  # samples below 0.9: check_trace scales float inputs by up to 1.1
        return (_leaf(rng, (2, 3) + spatial, dtype),
                nabla.tensor((rng.random((2, 3, dims)) * 0.9).astype(dtype)))

    _replays(fn, args(), [args() for _ in range(3)], rtol=_RTOL[dtype])


# -- adaptive softmax: the targets decide which clusters run ---------------------------------------
def _adaptive(dtype=np.float64):
    nabla.manual_seed(3)
    model = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 9, 15], div_value=2.0, head_bias=True)
    return model.to(nabla.float64 if dtype == np.float64 else nabla.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adaptive_softmax_runs_the_clusters_of_each_replays_targets(dtype, rng):
    """Traced on targets of the shortlist only (every tail empty), then replayed on targets of
    other clusters: outputs, loss and the gradients of the input and of every parameter are
    eager's (a tail no target uses: None eagerly, zero through the trace)."""
    model = _adaptive(dtype)
    params = list(model.parameters())

    def fn(x, target):
        return tuple(model(x, target))

    def args(low, high, target_dtype=np.int64):
        return _leaf(rng, (7, 8), dtype), nabla.tensor(rng.integers(low, high, 7)
                                                       .astype(target_dtype))

    traced = _replays(fn, args(0, 4), [args(0, 20), args(9, 20), args(0, 4), args(4, 9)],
                      params, rtol=_RTOL[dtype], zeros_for_none=True)
    x, target = args(0, 20)
    assert traced(x, target)[0].shape == (7,)
    _replays(fn, args(15, 20, np.int32), [args(0, 20, np.int32), args(0, 9, np.int32)], params,
             rtol=_RTOL[dtype], zeros_for_none=True)


def test_adaptive_softmax_predict_and_log_prob_replay_like_eager(rng):
    model = _adaptive()
    params = list(model.parameters())

    def fn(x):
        return model.predict(x), model.log_prob(x)

    def args(shortlist_bias):  # the head prefers the shortlist, the clusters, or neither
        with nabla.no_grad():
            model.head.bias.zero_()
            model.head.bias[:4] += shortlist_bias
        return [_leaf(rng, (9, 8), scale=3.0)]

    example = args(50.0)  # every row in the shortlist: predict evaluates no tail eagerly
    traced = nabla.jit.trace(fn, tuple(example))
    for bias in (-50.0, 0.0, 50.0):
        (x,) = args(bias)
        got, want = _run(traced, [x], params), _run(fn, [x], params)
        _assert_same(got[0], want[0])
        _assert_same(got[1], want[1])
        np.testing.assert_array_equal(got[0][0], want[0][1].argmax(1))
    assert len(traced._programs) == 1


# -- CTC loss: lengths that change between calls ------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_loss_reads_targets_and_lengths_at_each_replay(reduction, dtype, rng):
    t_len, n, classes, s = 12, 3, 5, 4

    def fn(log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs.log_softmax(2), targets, input_lengths, target_lengths,
                          reduction=reduction, zero_infinity=True)

    def args():  # short inputs too: impossible alignments, zeroed by zero_infinity
        return (_leaf(rng, (t_len, n, classes), dtype), _ints(rng, 1, classes, (n, s)),
                _ints(rng, 1, t_len + 1, (n,)), _ints(rng, 0, s + 1, (n,)))

    _replays(fn, args(), [args() for _ in range(4)], rtol=_RTOL[dtype])


def test_ctc_loss_module_with_concatenated_targets(rng):
    """1-D targets: the label sequences back to back; their lengths change, their sum (the
    size of the targets, part of the trace's signature) stays."""
    loss = nn.CTCLoss(blank=4)

    def fn(log_probs, targets, input_lengths, target_lengths):
        return loss(log_probs.log_softmax(2), targets, input_lengths, target_lengths)

    def args(lengths):
        return (_leaf(rng, (10, 3, 5)), _ints(rng, 0, 4, (sum(lengths),)),
                _ints(rng, 7, 11, (3,)), nabla.tensor(np.array(lengths)))

    traced = _replays(fn, args([2, 3, 1]), [args([0, 6, 0]), args([3, 3, 0]), args([1, 1, 4])])
    with pytest.raises(RuntimeError, match="target_lengths .* do not fit"):
        traced(*args([2, 3, 1])[:3], nabla.tensor(np.array([2, 3, 2])))
    bad = args([2, 3, 1])
    with pytest.raises(RuntimeError, match=r"input_lengths must lie in \[0, 10\]"):
        traced(bad[0], bad[1], nabla.tensor(np.array([11, 3, 3])), bad[3])
