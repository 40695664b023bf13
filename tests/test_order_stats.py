"""Order statistics and counts (ops/order_stats.py) against PyTorch: mode (values, and the index
PyTorch returns on ties), nanmedian, nanquantile (every interpolation), msort,
unique_consecutive, histogram, renorm. Forward and backward with random upstream gradients
(float32, float64), NaN placement, negative dims, keepdim, integer tensors; float64 gradcheck;
replays under jit.trace on other values; in-place renorm_; the errors."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close
from test_ops_shape import DTYPES, check, transposed

import nabla
from nabla.autograd import gradcheck

INTERPOLATIONS = ["linear", "lower", "higher", "nearest", "midpoint"]


def _ties(r, shape):
    """Small integers as floats: many ties, which mode is about."""
    return r.integers(0, 4, shape).astype(np.float64)


def _with_nan(r, shape, share=0.35):
    """Random values with NaNs, at least one real value in every row of the last dim."""
    a = r.standard_normal(shape)
    a[r.random(shape) < share] = np.nan
    a[..., 0] = r.standard_normal(shape[:-1])
    return a


# name, call(lib, *args), args(rng)
CASES = [
    ("mode", lambda lib, x: lib.mode(x), lambda r: [_ties(r, (4, 7))]),
    ("mode dim 0 keepdim", lambda lib, x: x.mode(0, keepdim=True),
     lambda r: [_ties(r, (9, 3))]),
    ("mode negative dim", lambda lib, x: lib.mode(x, -2), lambda r: [_ties(r, (2, 6, 3))]),
    ("mode non-contiguous", lambda lib, x: lib.mode(x, 1),
     lambda r: [transposed(r, 3, 5).round()]),
    ("nanmedian", lambda lib, x: lib.nanmedian(x), lambda r: [_with_nan(r, (3, 5))]),
    ("nanmedian dim", lambda lib, x: x.nanmedian(-1), lambda r: [_with_nan(r, (4, 6))]),
    ("nanmedian keepdim", lambda lib, x: lib.nanmedian(x, 1, keepdim=True),
     lambda r: [_with_nan(r, (2, 5, 3)).transpose(0, 2, 1)]),
    ("nanmedian without NaN", lambda lib, x: lib.nanmedian(x, 0),
     lambda r: [r.standard_normal((5, 2))]),
    *[(f"nanquantile {how}", lambda lib, x, how=how: lib.nanquantile(
        x, lib.tensor([0.0, 0.3, 0.5, 1.0], dtype=x.dtype), 1, interpolation=how),
       lambda r: [_with_nan(r, (3, 7)).T.copy().T]) for how in INTERPOLATIONS],
    ("nanquantile all values", lambda lib, x: lib.nanquantile(x, 0.25),
     lambda r: [_with_nan(r, (3, 4))]),
    ("nanquantile keepdim", lambda lib, x: x.nanquantile(0.7, dim=-1, keepdim=True),
     lambda r: [_with_nan(r, (2, 3, 5))]),
    ("nanquantile all values keepdim", lambda lib, x: lib.nanquantile(
        x, lib.tensor([0.1, 0.9], dtype=x.dtype), keepdim=True, interpolation="midpoint"),
     lambda r: [_with_nan(r, (2, 5))]),
    ("nanquantile 0-d", lambda lib, x: lib.nanquantile(x, 0.5, dim=0, keepdim=True),
     lambda r: [r.standard_normal(())]),
    ("msort", lambda lib, x: lib.msort(x), lambda r: [r.standard_normal((5, 3))]),
    ("msort method, 1-d", lambda lib, x: x.msort(), lambda r: [r.standard_normal(6)]),
    ("renorm p=2", lambda lib, x: lib.renorm(x, 2, 0, 1.5), lambda r: [r.standard_normal((4, 3))]),
    ("renorm p=1 dim -1", lambda lib, x: x.renorm(1, -1, 2.0),
     lambda r: [r.standard_normal((2, 3, 4))]),
    ("renorm p=3 middle dim", lambda lib, x: lib.renorm(x, 3, 1, 1.0),
     lambda r: [r.standard_normal((2, 4, 3))]),
    ("renorm p=inf", lambda lib, x: lib.renorm(x, float("inf"), 1, 0.8),
     lambda r: [r.standard_normal((3, 4))]),
    ("renorm zero slice", lambda lib, x: lib.renorm(x, 2, 0, 0.5),
     lambda r: [np.concatenate([r.standard_normal((2, 3)), np.zeros((1, 3))])]),
]
NAMES = [c[0] for c in CASES]


def _case(name):
    return next(c for c in CASES if c[0] == name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_against_torch(name, dtype, rng):
    _, call, make = _case(name)
    check(call, *[a.astype(dtype) for a in make(rng)], rng=rng)


@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("mode")])
def test_gradcheck(name, rng):
    _, call, make = _case(name)
    args = [nabla.tensor(a, requires_grad=True) for a in make(rng)]

    def values(*a):
        out = call(nabla, *a)
        return out[0] if isinstance(out, tuple) else out

    assert gradcheck(values, args, **GRADCHECK_TOL)


def test_mode_gradient_goes_to_the_returned_index(rng):
    """No finite-difference check for mode: moving one of the tied elements by eps changes
    which element is the mode. Its gradient is grad at the index it returns."""
    x = nabla.tensor(_ties(rng, (3, 8)), requires_grad=True)
    out = nabla.mode(x, 1)
    g = rng.standard_normal(3)
    out.values.backward(nabla.tensor(g))
    want = np.zeros((3, 8))
    want[np.arange(3), out.indices.numpy()] = g
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_renorm_double_backward(rng):
    check(lambda lib, x: lib.renorm(x, 2, 1, 1.0), rng.standard_normal((3, 4)), rng=rng,
          gradgrad=True)


def test_mode_index_is_the_last_occurrence_of_the_smallest_most_frequent_value():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = rng.integers(0, 4, (3, rng.integers(1, 10)))
        for dt in (np.int64, np.float32):
            n, t = nabla.mode(nabla.tensor(a.astype(dt))), torch.mode(torch.tensor(a.astype(dt)))
            assert_close(n.values, t.values)
            assert_close(n.indices, t.indices)


def test_mode_of_a_0d_tensor_and_nan():
    n, t = nabla.mode(nabla.tensor(3.0)), torch.mode(torch.tensor(3.0))
    assert_close(n.values, t.values)
    assert_close(n.indices, t.indices)
    # documented: NaNs count as one value, larger than the others (PyTorch's answer with NaN
    # depends on its sort: it returns NaN with index 0 for [nan, 1, nan])
    out = nabla.mode(nabla.tensor([np.nan, 1.0, np.nan, 2.0]))
    assert np.isnan(out.values.item()) and out.indices.item() == 2
    assert nabla.mode(nabla.tensor([np.nan, 2.0, 2.0])).values.item() == 2.0


def test_nanmedian_of_all_nan_is_nan_at_the_first_nan():
    """Values as PyTorch; the index (where the gradient goes) is the first NaN (PyTorch returns
    one of them, depending on its partial sort)."""
    a = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan] * 4])
    x = nabla.tensor(a, requires_grad=True)
    out, ref = nabla.nanmedian(x, 1), torch.nanmedian(torch.tensor(a), 1)
    assert_close(out.values, ref.values)
    assert out.indices.tolist() == [ref.indices[0].item(), 0]
    out.values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0, 1], [1, 0, 0, 0]])
    assert np.isnan(nabla.nanmedian(nabla.tensor([np.nan, np.nan])).item())
    assert_close(nabla.nanmedian(nabla.zeros(0)), torch.nanmedian(torch.zeros(0)))


@pytest.mark.parametrize("how", INTERPOLATIONS)
def test_nanquantile_of_all_nan_rows_matches_torch(how, rng):
    """NaN there, and the gradient goes where PyTorch sends it (the first NaN)."""
    a = _with_nan(rng, (3, 5))
    a[1] = np.nan
    check(lambda lib, x: lib.nanquantile(x, lib.tensor([0.2, 0.6], dtype=x.dtype), 1,
                                         interpolation=how), a, rng=rng)


def test_integer_inputs():
    a = np.array([[3, 1, 1, 2], [5, 5, 0, 0]])
    n, t = nabla.tensor(a), torch.from_numpy(a)
    for call in (lambda lib, x: lib.mode(x, 1), lambda lib, x: lib.nanmedian(x, 1),
                 lambda lib, x: lib.msort(x),
                 lambda lib, x: lib.unique_consecutive(x, return_counts=True)):
        for u, v in zip(call(nabla, n), call(torch, t), strict=True):
            assert_close(u, v)
    assert_close(nabla.nanmedian(n), torch.nanmedian(t))


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_unique_consecutive(dim, rng):
    a = rng.integers(0, 2, (5, 4))
    a[2] = a[1]  # a repeated row, for dim=0
    for inverse, counts in [(False, False), (True, False), (False, True), (True, True)]:
        kw = dict(return_inverse=inverse, return_counts=counts, dim=dim)  # (PyTorch needs them
        got = nabla.unique_consecutive(nabla.tensor(a), **kw)  # as keywords)
        want = torch.unique_consecutive(torch.from_numpy(a), **kw)
        got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
        for u, v in zip(got, want, strict=True):
            assert_close(u, v)
    x = nabla.tensor(a)
    assert_close(x.unique_consecutive(return_inverse=True)[1],
                 torch.from_numpy(a).unique_consecutive(return_inverse=True)[1])


def test_unique_consecutive_edges():
    for a in (np.array(5), np.zeros(0, np.int64), np.array([1.0, np.nan, np.nan, 1.0])):
        kw = dict(return_inverse=True, return_counts=True)
        got = nabla.unique_consecutive(nabla.tensor(a), **kw)
        want = torch.unique_consecutive(torch.from_numpy(a), **kw)
        for u, v in zip(got, want, strict=True):
            assert_close(u, v)


HISTOGRAMS = [
    dict(bins=7), dict(bins=5, range=(-1.0, 1.0)), dict(bins=4, density=True),
    dict(bins=6, weight=True), dict(bins="edges", density=True, weight=True),
    dict(bins="edges"), dict(bins=1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", range(len(HISTOGRAMS)))
def test_histogram(k, dtype, rng):
    a = rng.standard_normal((5, 8)).astype(dtype)
    w = rng.random((5, 8)).astype(dtype)
    edges = np.array([-2.0, -0.5, 0.0, 0.3, 2.0], dtype)

    def arguments(lib):
        kw = dict(HISTOGRAMS[k])
        if kw.pop("weight", False):
            kw["weight"] = lib.tensor(w)
        if kw["bins"] == "edges":
            kw["bins"] = lib.tensor(edges)
        return kw

    got = nabla.tensor(a).histogram(**arguments(nabla))
    want = torch.histogram(torch.from_numpy(a), **arguments(torch))
    assert_close(got.hist, want.hist)
    assert_close(got.bin_edges, want.bin_edges)


def test_histogram_edges_as_torch():
    for a, kw in ((np.array([1.0, 1.0, 1.0]), dict(bins=3)), (np.zeros(0), dict(bins=3)),
                  (np.array([0.0, 1.0, 2.0, 3.0]), dict(bins=2, range=(1.0, 1.0)))):
        got = nabla.histogram(nabla.tensor(a), **kw)
        want = torch.histogram(torch.from_numpy(a), **kw)
        assert_close(got.hist, want.hist)
        assert_close(got.bin_edges, want.bin_edges)


def test_renorm_in_place(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    n, t = nabla.tensor(a), torch.from_numpy(a.copy())
    assert n.renorm_(2, 0, 1.0) is n
    t.renorm_(2, 0, 1.0)
    assert_close(n, t)
    leaf_n, leaf_t = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    yn, yt = leaf_n * 3, leaf_t * 3
    yn.renorm_(1, 1, 2.0)
    yt.renorm_(1, 1, 2.0)
    g = rng.standard_normal((3, 4)).astype(np.float32)
    yn.backward(nabla.tensor(g))
    yt.backward(torch.from_numpy(g))
    assert_close(leaf_n.grad, leaf_t.grad)


@pytest.mark.parametrize("fn", [
    lambda x: (nabla.mode(x.round(), 0).values, nabla.mode(x.round(), 1).indices),
    lambda x: (nabla.nanmedian(x, 1).values, nabla.nanmedian(x)),
    lambda x: nabla.nanquantile(x, nabla.tensor([0.25, 0.5], dtype=x.dtype), 0),
    lambda x: nabla.msort(x) * nabla.renorm(x, 2, 0, 1.0),
    lambda x: nabla.histogram(x.nan_to_num(), 4),
    lambda x: nabla.unique_consecutive(x.round().sum(1), return_counts=True),
], ids=["mode", "nanmedian", "nanquantile", "msort_renorm", "histogram", "unique_consecutive"])
def test_trace_recomputes_the_positions(fn, rng):
    """The positions depend on the values (and on where the NaNs are): a replay on other values
    recomputes them."""
    x = nabla.tensor(np.nan_to_num(_with_nan(rng, (4, 5))) * 2, requires_grad=True)
    traced = nabla.jit.trace(fn, (x,), check_trace=False)
    for seed in range(3):
        r = np.random.default_rng(seed)
        other = r.standard_normal((4, 5)) * 2
        if seed:  # NaNs elsewhere for the NaN-aware ops
            other[r.random((4, 5)) < 0.3] = np.nan
            other[:, 0] = 1.0
        y = nabla.tensor(other, requires_grad=True)
        got, want = traced(y), fn(y)
        got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


ERRORS = [
    (lambda: nabla.mode(nabla.zeros(2, 0), 1), RuntimeError,
     r"mode: dim 1 of input \(2, 0\) is empty"),
    (lambda: nabla.mode(nabla.zeros(2, 3), 2), IndexError, "mode: dim 2 is out of range"),
    (lambda: nabla.nanmedian(nabla.zeros(2, 3), -3), IndexError, "nanmedian: dim -3"),
    (lambda: nabla.nanmedian(nabla.zeros(2, 0, dtype=nabla.int64), 1), RuntimeError,
     r"nanmedian: dim 1 of input \(2, 0\) is empty"),
    (lambda: nabla.nanquantile(nabla.zeros(3), 1.5), RuntimeError,
     "nanquantile: q must be a float or a 1-D tensor of values in"),
    (lambda: nabla.nanquantile(nabla.zeros(3), 0.5, interpolation="cubic"), ValueError,
     "nanquantile: interpolation must be one of"),
    (lambda: nabla.nanquantile(nabla.zeros(2, 0), 0.5, 1), RuntimeError,
     r"nanquantile: input of shape \(2, 0\) is empty"),
    (lambda: nabla.nanquantile(nabla.tensor([1, 2]), 0.5), RuntimeError,
     "nanquantile: input must be a floating tensor"),
    (lambda: nabla.unique_consecutive(nabla.zeros(2), dim=1), IndexError,
     "unique_consecutive: dim 1"),
    (lambda: nabla.histogram(nabla.tensor([1, 2]), 2), RuntimeError,
     "histogram: input must be a floating tensor"),
    (lambda: nabla.histogram(nabla.zeros(3), 0), RuntimeError,
     "histogram: bins must be a positive int"),
    (lambda: nabla.histogram(nabla.zeros(3), nabla.tensor([2.0, 1.0, 0.0])), RuntimeError,
     "histogram: the bin edges must increase"),
    (lambda: nabla.histogram(nabla.zeros(3), nabla.tensor([0, 1, 2])), RuntimeError,
     "histogram: bins must be an int or a 1-D tensor of at least two edges of input's dtype"),
    (lambda: nabla.histogram(nabla.zeros(3), 2, range=(3.0, 1.0)), RuntimeError,
     r"histogram: range's min must not exceed its max, got \(3.0, 1.0\)"),
    (lambda: nabla.histogram(nabla.zeros(3), 2, weight=nabla.ones(2)), RuntimeError,
     r"histogram: weight of shape \(2,\) must have input's shape \(3,\)"),
    (lambda: nabla.histogram(nabla.tensor([1.0, np.inf]), 2), RuntimeError,
     r"histogram: the range \[1.0, inf\] is not finite"),
    (lambda: nabla.renorm(nabla.ones(3), 2, 0, 1.0), RuntimeError,
     r"renorm: input needs at least 2 dimensions, got shape \(3,\)"),
    (lambda: nabla.renorm(nabla.ones(2, 2), -1, 0, 1.0), RuntimeError,
     "renorm: p must be positive and maxnorm non-negative, got p=-1"),
    (lambda: nabla.renorm(nabla.ones(2, 2), 2, 0, -1.0), RuntimeError,
     "renorm: p must be positive and maxnorm non-negative"),
    (lambda: nabla.renorm(nabla.ones(2, 2, dtype=nabla.int64), 2, 0, 1.0), RuntimeError,
     "renorm: input must be a floating tensor"),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_name_the_op_and_the_values(k):
    call, kind, pattern = ERRORS[k]
    with pytest.raises(kind, match=pattern):
        call()
