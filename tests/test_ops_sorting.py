"""sort, argsort, topk, kthvalue, quantile against PyTorch (values, indices, gradients with
random upstream gradients, float32 and float64, dims, directions, interpolations), ties and NaN
like PyTorch, float64 gradcheck, replay under jit.trace; multinomial's draws, seeding, errors."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.autograd import gradcheck

DTYPES = [np.float32, np.float64]


def _distinct(rng, shape, dtype):
    """Values without ties (a tie's order is implementation-defined in topk)."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) + rng.random(shape) * 0.5) \
        .astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_argsort_match_torch(dtype, dim, descending, rng):
    a = _distinct(rng, (4, 5, 3), dtype)
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (nv, ni), (tv, ti) = nabla.sort(nx, dim, descending), torch.sort(tx, dim, descending)
    assert_close(nv, tv, what="values")
    assert_close(ni, ti, what="indices")
    assert_close(nx.argsort(dim, descending), tx.argsort(dim, descending), what="argsort")
    g = rng.standard_normal(a.shape).astype(dtype)
    nv.backward(nabla.tensor(g))
    tv.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="grad")


def _check_pair(call, dtype, rng):
    """call(x) -> (values, indices) for a nabla and a torch x: both equal, and the gradients
    through the values."""
    a = _distinct(rng, (4, 5), dtype)
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (nv, ni), (tv, ti) = call(nx), call(tx)
    assert_close(nv, tv, what="values")
    assert_close(ni, ti, what="indices")
    g = rng.standard_normal(tuple(tv.shape)).astype(dtype)
    nv.backward(nabla.tensor(g))
    tv.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="grad")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("k, dim, largest", [(2, -1, True), (3, 0, False), (1, 1, True),
                                             (0, -1, True), (5, 1, False)])
def test_topk_matches_torch(dtype, k, dim, largest, rng):
    _check_pair(lambda x: x.topk(k, dim, largest), dtype, rng)


def test_ties_and_nan_follow_torchs_stable_sort():
    a = np.array([[3.0, 1.0, np.nan, 3.0, 1.0, -np.inf, np.inf]])
    for descending in (False, True):
        (nv, ni) = nabla.sort(nabla.tensor(a), descending=descending)
        (tv, ti) = torch.sort(torch.tensor(a), descending=descending, stable=True)
        assert_close(nv, tv, what="values")
        assert_close(ni, ti, what="indices")


def test_zero_dim_and_empty():
    v, i = nabla.sort(nabla.tensor(2.5))
    assert float(v) == 2.5 and int(i) == 0
    v, i = nabla.tensor(np.zeros((3, 0))).sort(dim=1)
    assert v.shape == (3, 0) and i.shape == (3, 0)


@pytest.mark.parametrize("fn", [lambda x: nabla.sort(x, 0, True).values,
                                lambda x: nabla.topk(x, 2, 1).values], ids=["sort", "topk"])
def test_gradcheck(fn, rng):
    x = nabla.tensor(_distinct(rng, (3, 4), np.float64), requires_grad=True)
    assert gradcheck(fn, (x,), **GRADCHECK_TOL)


def test_trace_recomputes_the_order(rng):
    def f(x):
        return nabla.topk(x, 2).values.sum() + nabla.sort(x, 0).values[0].sum()

    a = _distinct(rng, (3, 4), np.float64)
    traced = nabla.jit.trace(f, (nabla.tensor(a, requires_grad=True),))
    y = nabla.tensor(-a, requires_grad=True)  # the opposite order: a frozen one would be wrong
    np.testing.assert_allclose(float(traced(y)), float(f(y)), rtol=1e-12)


def test_topk_error_names_k_and_the_size():
    with pytest.raises(RuntimeError, match=r"topk: k \(6\) is out of range .* size 5"):
        nabla.topk(nabla.zeros(2, 5), 6)


def test_multinomial_draws_like_the_weights():
    nabla.manual_seed(0)
    w = nabla.tensor([[0.2, 0.0, 0.8], [1.0, 1.0, 2.0]])
    draws = nabla.multinomial(w, 4000, replacement=True).numpy()
    assert draws.shape == (2, 4000) and draws.dtype == np.int64
    assert not (draws[0] == 1).any()  # zero weight: never drawn
    np.testing.assert_allclose(np.bincount(draws[0], minlength=3) / 4000, [0.2, 0, 0.8],
                               atol=0.03)
    np.testing.assert_allclose(np.bincount(draws[1], minlength=3) / 4000, [0.25, 0.25, 0.5],
                               atol=0.03)
    nabla.manual_seed(0)
    again = nabla.multinomial(w, 4000, replacement=True).numpy()
    np.testing.assert_array_equal(draws, again)  # seeded by nabla.manual_seed


def test_multinomial_without_replacement_and_errors():
    picks = nabla.tensor([1.0, 2.0, 3.0, 4.0]).multinomial(4).numpy()
    assert sorted(picks.tolist()) == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="without replacement"):
        nabla.multinomial(nabla.tensor([1.0, 2.0]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        nabla.multinomial(nabla.tensor([1.0, -2.0]), 1)
    with pytest.raises(RuntimeError, match="fewer than 2 categories"):
        nabla.multinomial(nabla.tensor([1.0, 0.0, 0.0]), 2)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("k, dim, keepdim", [(1, -1, False), (3, 0, True), (5, 1, False)])
def test_kthvalue_matches_torch(dtype, k, dim, keepdim, rng):
    _check_pair(lambda x: x.kthvalue(k, dim, keepdim), dtype, rng)
    with pytest.raises(RuntimeError, match=r"kthvalue: k \(0\) is out of range"):
        nabla.zeros(2, 3).kthvalue(0)


QUANTILE_CASES = [(0.3, None, False, "linear"), ([0.1, 0.5, 0.99], 1, False, "linear"),
                  ([0.0, 1.0], 0, True, "lower"), (0.5, 1, True, "higher"),
                  ([0.25, 0.75], None, True, "nearest"), (0.6, 0, False, "midpoint")]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("q, dim, keepdim, interpolation", QUANTILE_CASES)
def test_quantile_matches_torch(dtype, q, dim, keepdim, interpolation, rng):
    a = _distinct(rng, (4, 5), dtype)
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    nq = nabla.tensor(np.array(q, dtype)) if isinstance(q, list) else q
    tq = torch.tensor(np.array(q, dtype)) if isinstance(q, list) else q
    ny = nabla.quantile(nx, nq, dim, keepdim, interpolation=interpolation)
    ty = torch.quantile(tx, tq, dim, keepdim, interpolation=interpolation)
    assert_close(ny, ty, what="output")
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="grad")


def test_quantile_nan_gradcheck_and_errors(rng):
    a = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]])
    assert_close(nabla.quantile(nabla.tensor(a), 0.5, 1), torch.quantile(torch.tensor(a), 0.5, 1))
    x = nabla.tensor(_distinct(rng, (3, 4), np.float64), requires_grad=True)
    assert gradcheck(lambda v: nabla.quantile(v, 0.4, 1), (x,), **GRADCHECK_TOL)
    with pytest.raises(RuntimeError, match=r"q must be .* in \[0, 1\]"):
        nabla.quantile(x, 1.5)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        nabla.quantile(x, 0.5, interpolation="cubic")


@pytest.mark.parametrize("q", [0.3, [0.2, 0.9]], ids=["scalar_q", "q_list"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (-1, True), (None, True)])
def test_quantile_of_a_0d_tensor_matches_torch(q, dim, keepdim):
    x, t = nabla.tensor(2.5, requires_grad=True), torch.tensor(2.5, requires_grad=True)
    qn, qt = (nabla.tensor(q), torch.tensor(q)) if isinstance(q, list) else (q, q)
    got = nabla.quantile(x, qn, dim, keepdim)
    want = torch.quantile(t, qt, dim, keepdim)
    assert_close(got, want)
    got.sum().backward()
    want.sum().backward()
    assert_close(x.grad, t.grad)
    with pytest.raises(IndexError, match=r"quantile: dimension out of range"):
        nabla.quantile(x, 0.5, 1)
