"""nan_to_num, nansum, nanmean, searchsorted, bucketize, isin against PyTorch.

The NaN-aware ops: forward and backward (random upstream gradients) on inputs with NaN and inf
mixed in, float32 and float64, 0-d, empty and size-1 dims, dim tuples, negative dims, keepdim,
non-contiguous views; float64 gradcheck and gradgradcheck on inputs without NaN. The bucketing
ops: exact integer (or bool) results and dtypes, ties on either side, sorter, NaN as PyTorch
compares it, errors naming the op.
"""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.autograd import gradcheck, gradgradcheck

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["f32", "f64"]


def _specials(rng, shape, dtype, layout="c"):
    """Normal values with about a quarter NaN and a few +-inf; ``layout`` 't' gives a
    transposed (non-contiguous) view of the last two dims, 's' a strided one."""
    base = list(shape)
    if layout == "t":
        base[-2], base[-1] = base[-1], base[-2]
    elif layout == "s":
        base[-1] *= 2
    x = rng.standard_normal(base)
    u = rng.random(base)
    x[u < 0.25] = np.nan
    x[(u >= 0.25) & (u < 0.3)] = np.inf
    x[(u >= 0.3) & (u < 0.35)] = -np.inf
    x = np.asarray(x, dtype)
    if layout == "t":
        x = x.swapaxes(-1, -2)
    elif layout == "s":
        x = x[..., ::2]
    return x


def _leaf(a):
    """A nabla leaf sharing the array's memory (a view stays non-contiguous)."""
    return nabla.Tensor._make(a).requires_grad_()


def _compare(fn, a, rng, what=""):
    """fn(nabla, x) and fn(torch, x): outputs, and the gradients for a random upstream one."""
    nx, tx = _leaf(a), torch.tensor(np.array(a, order="C"), requires_grad=True)
    out, ref = fn(nabla, nx), fn(torch, tx)
    assert_close(out, ref, what=f"{what} forward")
    g = rng.standard_normal(tuple(ref.shape)).astype(ref.detach().numpy().dtype)
    out.backward(nabla.tensor(g))
    ref.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what=f"{what} grad")


# -- nansum, nanmean ---------------------------------------------------------------------------
REDUCE_CASES = [
    ((3, 4, 5), {}, "c"),
    ((3, 4, 5), {"dim": 1}, "c"),
    ((3, 4, 5), {"dim": -1, "keepdim": True}, "t"),
    ((3, 4, 5), {"dim": (0, 2)}, "s"),
    ((3, 4, 5), {"dim": (-1, -3), "keepdim": True}, "c"),
    ((3, 4), {"dim": [1]}, "t"),
    ((3, 4), {"dim": ()}, "c"),
    ((1, 4, 1), {"dim": 0}, "c"),
    ((1, 4, 1), {"dim": (0, 2), "keepdim": True}, "c"),
    ((), {}, "c"),
    ((), {"dim": 0}, "c"),
    ((), {"dim": -1, "keepdim": True}, "c"),
    ((0, 3), {"dim": 0}, "c"),
    ((0, 3), {}, "c"),
    ((2, 0, 3), {"dim": 1, "keepdim": True}, "c"),
    ((2, 0, 3), {"dim": -1}, "c"),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape, kw, layout", REDUCE_CASES)
@pytest.mark.parametrize("name", ["nansum", "nanmean"])
def test_nansum_nanmean_match_torch(name, shape, kw, layout, dtype, rng):
    a = _specials(rng, shape, dtype, layout)
    _compare(lambda m, x: getattr(m, name)(x, **kw), a, rng, name)


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
def test_all_nan_slices_and_upstream_nan_like_torch(name, rng):
    """An all-NaN row: nansum 0, nanmean NaN with a NaN gradient (PyTorch: grad / 0 * 0)."""
    a = np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 2.0], [np.inf, 3.0, np.nan]])
    _compare(lambda m, x: getattr(m, name)(x, 1), a, rng, name)
    _compare(lambda m, x: getattr(m, name)(x), np.full((2, 3), np.nan), rng, name)


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
def test_dtype_argument(name, rng):
    a = _specials(rng, (3, 4), np.float32)
    _compare(lambda m, x: getattr(m, name)(x, 0, dtype=m.float64), a, rng, name)


def test_nansum_of_integers_and_bools():
    for a in (np.arange(6, dtype=np.int32).reshape(2, 3), np.array([[True, False, True]])):
        for kw in ({}, {"dim": -1}, {"dim": 0, "keepdim": True}):
            assert_close(nabla.nansum(nabla.tensor(a), **kw), torch.nansum(torch.tensor(a), **kw))
    a = np.arange(6, dtype=np.int32)
    assert_close(nabla.nansum(nabla.tensor(a), dtype=nabla.int32),
                 torch.nansum(torch.tensor(a), dtype=torch.int32))


@pytest.mark.parametrize("fn", [lambda x: nabla.nansum(x, (0, -1)),
                                lambda x: nabla.nanmean(x, 1, keepdim=True),
                                lambda x: nabla.nanmean(x)], ids=["nansum", "nanmean", "all"])
def test_nan_reductions_gradcheck(fn, rng):
    x = nabla.tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    assert gradcheck(fn, (x,), **GRADCHECK_TOL)
    assert gradgradcheck(fn, (x,), **GRADCHECK_TOL)


def test_nanmean_double_backward_matches_torch(rng):
    a = _specials(rng, (3, 4), np.float64)
    a[np.isinf(a)] = 1.5  # inf gives nan second derivatives in both; keep the check meaningful
    g, h = rng.standard_normal(3), rng.standard_normal((3, 4))
    results = []
    for lib in (nabla, torch):
        x, gt = lib.tensor(a, requires_grad=True), lib.tensor(g, requires_grad=True)
        (gx,) = lib.autograd.grad(lib.nanmean(x, 1), x, gt, create_graph=True)
        (gx * lib.tensor(h)).nansum().backward()
        results.append((gx, gt.grad))
    assert_close(results[0][0], results[1][0], what="grad")
    assert_close(results[0][1], results[1][1], what="grad of the upstream gradient")


def test_nanmean_rejects_integers_naming_the_op():
    with pytest.raises(RuntimeError, match=r"nanmean: .*floating point dtype, got int64"):
        nabla.nanmean(nabla.tensor([1, 2]))
    with pytest.raises(IndexError, match=r"nansum: dim 2 is out of range"):
        nabla.nansum(nabla.zeros(2, 3), 2)
    with pytest.raises(IndexError, match=r"nanmean: dim -3 is out of range"):
        nabla.nanmean(nabla.zeros(2, 3), (0, -3))


def test_nan_reductions_are_silent_and_record_nothing_under_no_grad():
    x = nabla.tensor([[np.nan, np.nan], [1.0, np.nan]], requires_grad=True)
    with np.errstate(all="raise"):  # an all-NaN slice divides 0 by 0 in both passes
        y = nabla.nanmean(x, 1)
        y.backward(nabla.tensor([1.0, 2.0]))
    with nabla.no_grad():
        assert nabla.nanmean(x).grad_fn is None and nabla.nansum(x).grad_fn is None
        assert nabla.nan_to_num(x).grad_fn is None


# -- nan_to_num --------------------------------------------------------------------------------
NAN_TO_NUM_CASES = [
    ((3, 4), {}, "c"),
    ((3, 4), {"nan": 1.5}, "t"),
    ((2, 3, 4), {"nan": -2.0, "posinf": 7.0}, "s"),
    ((5,), {"neginf": -9.0}, "c"),
    ((2, 3), {"nan": 0.5, "posinf": 1e300, "neginf": -1e300}, "c"),  # beyond float32: inf
    ((2, 3), {"nan": None}, "c"),
    ((), {}, "c"),
    ((0, 3), {"posinf": 1.0}, "c"),
    ((1, 4, 1), {}, "c"),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape, kw, layout", NAN_TO_NUM_CASES)
def test_nan_to_num_matches_torch(shape, kw, layout, dtype, rng):
    a = _specials(rng, shape, dtype, layout)
    _compare(lambda m, x: m.nan_to_num(x, **kw), a, rng, "nan_to_num")


def test_nan_to_num_of_integers_is_a_copy_and_upstream_inf_like_torch():
    a = np.array([[1, -2], [3, 4]], np.int32)
    x = nabla.tensor(a)
    y = nabla.nan_to_num(x, nan=9.0)
    assert_close(y, torch.nan_to_num(torch.tensor(a), nan=9.0))
    assert y._data is not x._data
    a = np.array([np.nan, 1.0, np.inf, -np.inf])
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with np.errstate(all="raise"):
        nabla.nan_to_num(nx).backward(nabla.tensor([np.inf, np.inf, 2.0, np.nan]))
    torch.nan_to_num(tx).backward(torch.tensor([np.inf, np.inf, 2.0, np.nan]))
    assert_close(nx.grad, tx.grad, what="grad: grad * isfinite(x)")


def test_nan_to_num_gradcheck(rng):
    x = nabla.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: nabla.nan_to_num(t, posinf=2.0), (x,), **GRADCHECK_TOL)
    assert gradgradcheck(lambda t: nabla.nan_to_num(t) * t, (x,), **GRADCHECK_TOL)


def test_nan_to_num_rejects_a_non_number():
    with pytest.raises(TypeError, match="nan_to_num: posinf must be a number"):
        nabla.nan_to_num(nabla.zeros(2), posinf="big")


def test_tensor_methods_match_torch(rng):
    a = _specials(rng, (3, 4), np.float64)
    for call in (lambda x: x.nan_to_num(), lambda x: x.nan_to_num(1.0, 2.0, -2.0),
                 lambda x: x.nansum(), lambda x: x.nansum(-1, True),
                 lambda x: x.nansum(0, dtype=x.dtype), lambda x: x.nanmean(),
                 lambda x: x.nanmean((0, 1), keepdim=True)):
        assert_close(call(nabla.tensor(a)), call(torch.tensor(a)))


# -- searchsorted, bucketize -------------------------------------------------------------------
def _both(fn, *arrays, **kw):
    """fn on nabla and on torch tensors made from ``arrays`` (numbers pass as they are);
    the results must be equal, dtypes included."""
    def lib_args(lib):
        return [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]

    out, ref = fn(nabla, *lib_args(nabla), **kw), fn(torch, *lib_args(torch), **kw)
    assert_close(out, ref, what=f"{kw}")
    return out


SIDES = [{}, {"right": True}, {"side": "left"}, {"side": "right"}, {"right": True, "side": "right"},
         {"out_int32": True}, {"out_int32": True, "right": True}]


@pytest.mark.parametrize("kw", SIDES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
def test_searchsorted_1d_with_ties(kw, dtype, rng):
    seq = np.array([1, 2, 2, 2, 3, 5, 5, 8], dtype)
    values = rng.integers(0, 10, size=(3, 5)).astype(dtype)  # hits every tie and both ends
    _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), seq, values, **kw)
    _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), seq, values.T, **kw)  # a view
    _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), seq, values[0, 0], **kw)  # 0-d
    _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), seq, values[:, :0], **kw)  # empty
    _both(lambda m, s, **k: m.searchsorted(s, 5, **k), seq, **kw)  # a number
    _both(lambda m, s, **k: m.searchsorted(s, 2.5, **k), seq, **kw)


@pytest.mark.parametrize("kw", SIDES[:4])
def test_searchsorted_random_against_torch(kw, rng):
    for n in (0, 1, 2, 7, 64, 100):
        seq = np.sort(rng.integers(-5, 5, size=n)).astype(np.float64)  # many ties
        values = rng.integers(-7, 7, size=(4, 9)) + rng.choice([0.0, 0.5], size=(4, 9))
        _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), seq, values, **kw)


@pytest.mark.parametrize("kw", SIDES)
def test_searchsorted_nd_rows(kw, rng):
    seq = np.sort(rng.integers(0, 6, size=(2, 3, 7)), axis=-1).astype(np.float32)
    values = rng.integers(-1, 8, size=(2, 3, 5)).astype(np.float32)
    _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), seq, values, **kw)
    _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), seq[:, :1], values[:, :1, :0], **kw)
    square = np.sort(rng.integers(0, 6, size=(4, 4)), axis=-1).astype(np.float32)
    _both(lambda m, s, v, **k: m.searchsorted(s, v, **k),  # non-contiguous values
          square, rng.integers(-1, 8, size=(4, 4)).astype(np.float32).T, **kw)
    _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), np.zeros((0, 3)), np.zeros((0, 2)),
          **kw)
    _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), np.zeros((2, 0)), np.ones((2, 3)),
          **kw)


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_sorter(right, rng):
    seq = rng.integers(0, 5, size=9).astype(np.float64)
    order = np.argsort(seq, kind="stable")
    values = rng.integers(-1, 6, size=(3, 4)).astype(np.float64)
    _both(lambda m, s, v, o: m.searchsorted(s, v, right=right, sorter=o), seq, values, order)
    seq2 = rng.integers(0, 5, size=(3, 6)).astype(np.float64)
    order2 = np.argsort(seq2, axis=-1, kind="stable")
    _both(lambda m, s, v, o: m.searchsorted(s, v, right=right, sorter=o), seq2, values, order2)


def test_searchsorted_nan_and_promotion_like_torch():
    nan = np.nan
    for kw in SIDES[:2]:
        _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), np.array([1.0, nan, nan]),
              np.array([nan, 1.0, 2.0, -np.inf]), **kw)
        _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), np.array([-1.0, 0.0, 3.0, nan]),
              np.array([nan, 0.0, 5.0, np.inf]), **kw)
        # an int64 sequence and float values compare as floats
        _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), np.array([1, 2, 3]),
              np.array([1.5, 2.0], np.float32), **kw)
        _both(lambda m, s, **k: m.searchsorted(s, 2.5, **k), np.array([1, 2, 3]), **kw)
        # a float32 sequence and a 0-d float64 value (or number) compare in float32
        _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), np.array([0.1], np.float32),
              np.array(0.1), **kw)
        _both(lambda m, s, **k: m.searchsorted(s, 0.1, **k), np.array([0.1], np.float32), **kw)
        _both(lambda m, s, v, **k: m.searchsorted(s, v, **k), np.array([0.1]),
              np.array([0.1], np.float32), **kw)


@pytest.mark.parametrize("kw", [{}, {"right": True}, {"out_int32": True},
                                {"out_int32": True, "right": True}])
def test_bucketize_matches_torch(kw, rng):
    boundaries = np.array([1.0, 3.0, 3.0, 5.0, 9.0])
    values = rng.integers(0, 11, size=(2, 3, 4)).astype(np.float64)
    _both(lambda m, v, b, **k: m.bucketize(v, b, **k), values, boundaries, **kw)
    _both(lambda m, v, b, **k: m.bucketize(v, b, **k), values[..., ::2], boundaries, **kw)
    _both(lambda m, v, b, **k: m.bucketize(v, b, **k), values[0, 0, 0], boundaries, **kw)
    _both(lambda m, v, b, **k: m.bucketize(v, b, **k), values[:0], boundaries, **kw)
    _both(lambda m, b, **k: m.bucketize(3, b, **k), boundaries, **kw)
    _both(lambda m, v, b, **k: m.bucketize(v, b, **k), values, boundaries[:0], **kw)


def test_searchsorted_is_recomputed_by_jit_trace():
    seq = nabla.tensor([1.0, 2.0, 4.0])

    def f(x):
        return (x * 2).sum() + nabla.searchsorted(seq, x).float().sum()

    traced = nabla.jit.trace(f, (nabla.tensor([0.5, 3.0], requires_grad=True),))
    y = nabla.tensor([5.0, 1.5], requires_grad=True)
    assert float(traced(y)) == float(f(y)) == 13.0 + 4.0


SEARCH_ERRORS = [
    (lambda: nabla.searchsorted(nabla.zeros(2, 3), nabla.zeros(3, 1)),
     r"searchsorted: sorted_sequence of shape \(2, 3\) and input of shape \(3, 1\).*leading "
     r"dimensions must match.*\(2,\) \+ \(M,\)"),
    (lambda: nabla.searchsorted(nabla.zeros(2, 3), nabla.zeros(3)),
     r"searchsorted: .*\(2, 3\) and input of shape \(3,\)"),
    (lambda: nabla.searchsorted(nabla.zeros(2, 3), 1.0),
     r"searchsorted: a scalar input needs a 1-D sorted_sequence, got shape \(2, 3\)"),
    (lambda: nabla.searchsorted(nabla.tensor(1.0), nabla.tensor([1.0])),
     r"searchsorted: sorted_sequence must have at least 1 dimension"),
    (lambda: nabla.searchsorted(nabla.zeros(3), nabla.zeros(2), side="left", right=True),
     r"searchsorted: side='left' and right=True contradict"),
    (lambda: nabla.searchsorted(nabla.zeros(3), nabla.zeros(2), side="middle"),
     r"searchsorted: side can only be 'left' or 'right', got 'middle'"),
    (lambda: nabla.searchsorted(nabla.zeros(3), nabla.zeros(2), sorter=nabla.tensor([0, 1])),
     r"searchsorted: sorter of shape \(2,\) must have the shape of sorted_sequence, \(3,\)"),
    (lambda: nabla.searchsorted(nabla.zeros(3), nabla.zeros(2),
                                sorter=nabla.tensor(np.array([0, 1, 2], np.int32))),
     r"searchsorted: sorter must be a tensor of int64 indices, got int32"),
    (lambda: nabla.searchsorted(nabla.zeros(3), nabla.zeros(2), sorter=nabla.tensor([0, 1, 3])),
     r"searchsorted: sorter index out of range"),
    (lambda: nabla.searchsorted(nabla.tensor([True]), nabla.tensor([False])),
     r"searchsorted: bool tensors are not supported"),
    (lambda: nabla.bucketize(nabla.zeros(2), nabla.zeros(2, 3)),
     r"bucketize: boundaries must be a 1-D tensor, got shape \(2, 3\)"),
    (lambda: nabla.bucketize(nabla.zeros(2), nabla.tensor(1.0)),
     r"bucketize: boundaries must be a 1-D tensor, got shape \(\)"),
]


@pytest.mark.parametrize("call, match", SEARCH_ERRORS)
def test_search_errors_name_the_op(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


def test_searchsorted_and_isin_type_errors():
    with pytest.raises(TypeError, match="searchsorted: input must be a tensor or a number"):
        nabla.searchsorted(nabla.zeros(3), [1.0, 2.0])
    with pytest.raises(TypeError, match="isin: elements or test_elements must be a tensor"):
        nabla.isin(2, 2)


# -- isin --------------------------------------------------------------------------------------
@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("assume_unique", [False, True])
def test_isin_matches_torch(invert, assume_unique, rng):
    kw = {"invert": invert, "assume_unique": assume_unique}
    if assume_unique:
        e, t = rng.permutation(12).reshape(3, 4), rng.permutation(15)[:6].reshape(2, 3)
    else:
        e, t = rng.integers(0, 8, size=(3, 4)), rng.integers(0, 8, size=(2, 3))
    call = lambda m, a, b, **k: m.isin(a, b, **k)  # noqa: E731
    _both(call, e, t, **kw)
    _both(call, e.T, t[:, ::2], **kw)  # non-contiguous views
    _both(call, e[:0], t, **kw)
    _both(call, e, t[:0], **kw)
    _both(call, e[0, 0], t, **kw)  # 0-d


@pytest.mark.parametrize("invert", [False, True])
def test_isin_floats_scalars_and_promotion(invert):
    kw = {"invert": invert}
    call = lambda m, a, b, **k: m.isin(a, b, **k)  # noqa: E731
    nan = np.nan
    _both(call, np.array([1.0, nan, -0.0, np.inf, 2.0]), np.array([nan, 0.0, np.inf]), **kw)
    _both(call, np.array([1, 2, 3]), np.array([2.0, 3.5]), **kw)  # compared as floats
    _both(call, np.array([16777217]), np.array([16777216.0], np.float32), **kw)  # in float32
    _both(call, np.array([0.1], np.float32), np.array(0.1), **kw)  # 0-d: float32
    _both(call, np.array(0.1, np.float32), np.array([0.1]), **kw)  # dimensioned: float64
    _both(lambda m, b, **k: m.isin(2, b, **k), np.array([2.0, 3.5]), **kw)
    _both(lambda m, a, **k: m.isin(a, 2, **k), np.array([[1, 2], [3, 2]]), **kw)
    _both(lambda m, a, **k: m.isin(a, 1.5, **k), np.array([1, 2]), **kw)
    _both(lambda m, a, **k: m.isin(a, 1.0, **k), np.array([1, 2]), **kw)


def test_isin_rejects_bool():
    with pytest.raises(RuntimeError, match="isin: bool elements are not supported"):
        nabla.isin(nabla.tensor([True]), nabla.tensor([1]))
    with pytest.raises(RuntimeError, match="isin: bool test_elements are not supported"):
        nabla.isin(nabla.tensor([1]), nabla.tensor([True]))


def test_tensors_have_the_methods_torch_has():
    for name in ("nan_to_num", "nansum", "nanmean", "searchsorted", "bucketize", "isin"):
        assert hasattr(nabla.Tensor, name) == hasattr(torch.Tensor, name), name
