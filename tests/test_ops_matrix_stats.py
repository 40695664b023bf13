"""t, diagonal, diag, trace, tensordot, kron, diff, meshgrid, median, var_mean/std_mean (forward
and backward against PyTorch with random upstream gradients, float32 and float64, float64
gradcheck); nonzero, count_nonzero, unique, bincount (no gradient) against PyTorch; compile and
use_deterministic_algorithms, accepted for porting."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.autograd import gradcheck

DTYPES = [np.float32, np.float64]

# (id, function of (lib, x), input shape): each returns one differentiable tensor
CASES = [
    ("t", lambda lib, x: lib.t(x), (3, 4)),
    ("t_1d", lambda lib, x: lib.t(x), (5,)),
    ("diagonal", lambda lib, x: lib.diagonal(x), (4, 3)),
    ("diagonal_offset", lambda lib, x: lib.diagonal(x, 1), (3, 5)),
    ("diagonal_below_dims", lambda lib, x: lib.diagonal(x, -1, 2, 0), (4, 2, 3)),
    ("diagonal_empty", lambda lib, x: lib.diagonal(x, 4), (3, 3)),
    ("diag_vector", lambda lib, x: lib.diag(x), (4,)),
    ("diag_vector_above", lambda lib, x: lib.diag(x, 2), (3,)),
    ("diag_vector_below", lambda lib, x: lib.diag(x, -1), (3,)),
    ("diag_matrix", lambda lib, x: lib.diag(x, -1), (4, 3)),
    ("trace", lambda lib, x: lib.trace(x), (3, 5)),
    ("tensordot_int", lambda lib, x: lib.tensordot(x, x[:, :2], 1), (3, 3)),
    ("tensordot_lists", lambda lib, x: lib.tensordot(x, x, ([0, 2], [2, 0])), (2, 3, 2)),
    ("kron", lambda lib, x: lib.kron(x, x[:2, 1:]), (3, 4)),
    ("kron_1d_2d", lambda lib, x: lib.kron(x[0], x), (2, 3)),
    ("diff", lambda lib, x: lib.diff(x), (3, 5)),
    ("diff_twice_dim0", lambda lib, x: lib.diff(x, 2, 0), (4, 3)),
    ("meshgrid_ij", lambda lib, x: lib.meshgrid(x[0], x[1, :3], indexing="ij")[1], (2, 4)),
    ("meshgrid_xy", lambda lib, x: sum(g * (i + 1) for i, g in enumerate(
        lib.meshgrid(x[0], x[1, :3], x[1, 1:], indexing="xy"))), (2, 4)),
    ("median_all", lambda lib, x: lib.median(x), (3, 4)),
    ("median_dim", lambda lib, x: lib.median(x, 1).values, (3, 4)),
    ("median_dim_keepdim", lambda lib, x: lib.median(x, 0, keepdim=True).values, (4, 3)),
    ("std_mean", lambda lib, x: lib.std_mean(x, 1)[0] + lib.std_mean(x, 1)[1], (3, 4)),
    ("var_mean_corr0", lambda lib, x: lib.var_mean(x, 0, correction=0)[0] * 2
     + lib.var_mean(x, 0, correction=0)[1], (3, 4)),
]


def _distinct(rng, shape, dtype):
    return (rng.permutation(int(np.prod(shape))).reshape(shape) + rng.random(shape) * 0.5) \
        .astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, dtype, rng):
    _, fn, shape = case
    a = _distinct(rng, shape, dtype)
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ny, ty = fn(nabla, nx), fn(torch, tx)
    assert_close(ny, ty, what="output")
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="grad")


@pytest.mark.parametrize("case", [c for c in CASES if "empty" not in c[0]], ids=lambda c: c[0])
def test_gradcheck(case, rng):
    _, fn, shape = case
    x = nabla.tensor(_distinct(rng, shape, np.float64), requires_grad=True)
    assert gradcheck(lambda v: fn(nabla, v), (x,), **GRADCHECK_TOL)


def test_median_indices_and_nan_like_torch():
    a = np.array([[3.0, 1.0, 2.0, 4.0], [1.0, np.nan, 0.0, 2.0]])
    n, t = nabla.median(nabla.tensor(a), 1), torch.median(torch.tensor(a), 1)
    assert_close(n.values, t.values)
    assert_close(n.indices, t.indices)
    assert np.isnan(float(nabla.median(nabla.tensor(a))))


def test_methods_and_errors():
    x = nabla.tensor(np.arange(6.0).reshape(2, 3))
    assert float(x.trace()) == 4.0 and x.diagonal().tolist() == [0.0, 4.0]
    assert x.diag(1).tolist() == [1.0, 5.0]
    with pytest.raises(RuntimeError, match="t: expects a tensor with <= 2 dimensions"):
        nabla.t(nabla.zeros(2, 2, 2))
    with pytest.raises(RuntimeError, match="trace: expects a matrix"):
        nabla.trace(nabla.zeros(3))
    with pytest.raises(RuntimeError, match="dim1 and dim2 cannot be the same"):
        nabla.diagonal(x, 0, 1, -1)
    with pytest.raises(RuntimeError, match=r"tensordot: cannot contract dims \[1\] of shape "
                                           r"\(2, 3\) with dims \[0\] of shape \(2, 3\)"):
        nabla.tensordot(x, x, ([1], [0]))
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'ij' or 'xy'"):
        nabla.meshgrid(nabla.zeros(2), indexing="yx")
    with pytest.raises(RuntimeError, match="meshgrid: expects 0-D or 1-D tensors"):
        nabla.meshgrid(x)
    with pytest.raises(RuntimeError, match="median: cannot take the median of an empty"):
        nabla.median(nabla.zeros(0))


def test_nonzero_and_count_nonzero_match_torch(rng):
    a = rng.integers(-1, 2, size=(3, 4, 2))
    n, t = nabla.tensor(a), torch.tensor(a)
    assert_close(nabla.nonzero(n), torch.nonzero(t))
    for got, want in zip(nabla.nonzero(n, as_tuple=True), torch.nonzero(t, as_tuple=True)):
        assert_close(got, want)
    assert_close(n[nabla.nonzero(n, as_tuple=True)], t[torch.nonzero(t, as_tuple=True)])
    assert_close(nabla.count_nonzero(n), torch.count_nonzero(t))
    assert_close(n.count_nonzero((0, 2)), t.count_nonzero((0, 2)))


def test_unique_and_bincount_match_torch(rng):
    a = rng.integers(0, 5, size=(4, 3))
    n, t = nabla.tensor(a), torch.tensor(a)
    for got, want in zip(nabla.unique(n, return_inverse=True, return_counts=True),
                         torch.unique(t, return_inverse=True, return_counts=True)):
        assert_close(got, want)
    flat, tflat = n.reshape(-1), t.reshape(-1)
    assert_close(flat.bincount(minlength=7), tflat.bincount(minlength=7))
    w = rng.random(12)
    assert_close(flat.bincount(nabla.tensor(w)), tflat.bincount(torch.tensor(w)))
    with pytest.raises(RuntimeError, match="non-negative integers"):
        nabla.bincount(nabla.tensor([1, -1]))


def test_unique_keeps_each_nan_apart_as_torch():
    a = np.array([[0.0, np.nan, 1.0], [np.nan, 1.0, np.inf]])
    n, t = nabla.tensor(a), torch.tensor(a)
    for got, want in zip(nabla.unique(n, return_inverse=True, return_counts=True),
                         torch.unique(t, return_inverse=True, return_counts=True)):
        assert_close(got, want)


@pytest.mark.parametrize("args", [(10,), (7, -1, 1), (4, 0, 0), (3, 0.5, 0.5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histc_matches_torch(args, dtype, rng):
    for a in [rng.normal(size=(5, 8)), np.array([2.0, 2.0]), np.array([]),
              np.array([1.0, np.nan, 0.5, 3.0])]:
        a = a.astype(dtype)
        if np.isnan(a).any() and (len(args) == 1 or args[1] == args[2]):  # range from the data
            with pytest.raises(RuntimeError, match="range .* is not finite"):
                torch.histc(torch.tensor(a), *args)
            with pytest.raises(RuntimeError, match="histc: the data's range .* is not finite"):
                nabla.histc(nabla.tensor(a), *args)
            continue
        assert_close(nabla.histc(nabla.tensor(a), *args), torch.histc(torch.tensor(a), *args))
    x = nabla.tensor(rng.normal(size=6), requires_grad=True)
    assert not x.histc(3).requires_grad  # no gradient, as in PyTorch
    with pytest.raises(RuntimeError, match="histc: expected a floating point tensor"):
        nabla.histc(nabla.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="histc: max must be larger than min"):
        nabla.histc(nabla.tensor([1.0]), 3, 2, 1)


def test_where_with_the_condition_alone_is_nonzero(rng):
    c = rng.normal(size=(3, 4)) > 0
    for got, want in zip(nabla.where(nabla.tensor(c)), torch.where(torch.tensor(c))):
        assert_close(got, want)


def test_compile_hands_the_model_back():
    model = nabla.nn.Linear(2, 2)
    assert nabla.compile(model) is model

    @nabla.compile
    def f(x):
        return x * 2

    assert float(f(nabla.tensor(1.0))) == 2.0


def test_use_deterministic_algorithms_is_recorded():
    before = nabla.are_deterministic_algorithms_enabled()
    try:
        nabla.use_deterministic_algorithms(True)
        assert nabla.are_deterministic_algorithms_enabled()
    finally:
        nabla.use_deterministic_algorithms(before)


@pytest.mark.parametrize(
    "dtypes", [(np.float32, np.int64), (np.int64, np.bool_), (np.float64, np.float32)])
def test_cat_and_stack_promote_like_torch(dtypes):
    """float32 joined with int64 stays float32 (NumPy alone would give float64)."""
    arrays = [np.ones(2, dtypes[0]), np.zeros(2, dtypes[1])]
    for fn in ("cat", "stack"):
        out = getattr(nabla, fn)([nabla.tensor(a) for a in arrays])
        ref = getattr(torch, fn)([torch.from_numpy(a) for a in arrays])
        assert str(out.dtype) == str(ref.dtype).replace("torch.", "")
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    x = nabla.ones(2, requires_grad=True)
    nabla.cat([x, nabla.tensor([1, 2])]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(2, np.float32))


@pytest.mark.parametrize("values", [[1, 2], [True, False], [1.5, 2.5]])
def test_diag_keeps_the_dtype(values):
    out, ref = nabla.diag(nabla.tensor(values), 1), torch.diag(torch.tensor(values), 1)
    assert str(out.dtype) == str(ref.dtype).replace("torch.", "")
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_of_an_empty_tensor(indexing):
    empty, two = np.zeros(0, np.float32), np.array([1.0, 2.0], np.float32)
    out = nabla.meshgrid(nabla.tensor(empty), nabla.tensor(two), indexing=indexing)
    ref = torch.meshgrid(torch.from_numpy(empty), torch.from_numpy(two), indexing=indexing)
    assert [tuple(g.shape) for g in out] == [tuple(g.shape) for g in ref]
