"""cumprod, cummax/cummin, logcumsumexp against PyTorch: values (and indices), gradients with
random upstream gradients, float32 and float64, 1-D/3-D/negative/size-1/empty dims, 0-d inputs,
non-contiguous views; zeros (cumprod), ties and NaN (cummax/cummin), extreme values
(logcumsumexp); float64 gradcheck and gradgradcheck, double backward against PyTorch, the
Tensor methods, replay under jit.trace, and errors for a bad dim that name the op."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.autograd import gradcheck, gradgradcheck

DTYPES = [np.float32, np.float64]
IDS = ["f32", "f64"]
INF, NAN = np.inf, np.nan

# (shape, dim, layout): layout 't' is a transposed view of the last two dims, 's' a strided view
CASES = [((5,), 0, "c"), ((2, 3, 4), 1, "c"), ((2, 3, 4), -1, "c"), ((2, 3, 4), -3, "c"),
         ((3, 1, 4), 1, "c"), ((0, 3), 0, "c"), ((3, 0), 0, "c"), ((), 0, "c"), ((), -1, "c"),
         ((4, 5), 0, "t"), ((4, 5), -1, "t"), ((3, 4), 1, "s")]
CASE_IDS = [f"{s}-dim{d}-{lay}" for s, d, lay in CASES]


def _view(a: np.ndarray, layout: str) -> np.ndarray:
    """The same values as a non-contiguous view."""
    if layout == "t":
        return np.ascontiguousarray(a.swapaxes(-1, -2)).swapaxes(-1, -2)
    if layout == "s":
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    return a


def _nonzero(rng, shape, dtype):
    """Magnitudes in [0.5, 1.5] with random signs: products neither vanish nor blow up."""
    sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    return (rng.uniform(0.5, 1.5, shape) * sign).astype(dtype)


def _compare(call, a: np.ndarray, rng, what: str = ""):
    """call(x) on a nabla and a torch tensor holding ``a``: equal outputs (all of a tuple), and
    equal gradients through the first output for a random upstream gradient."""
    nx = nabla.Tensor._make(a).requires_grad_()  # shares a's memory: views stay views
    tx = torch.tensor(np.array(a, order="C"), requires_grad=True)
    nout, tout = call(nx), call(tx)
    nouts = tuple(nout) if isinstance(nout, tuple) else (nout,)
    touts = tuple(tout) if isinstance(tout, tuple) else (tout,)
    for k, (n, t) in enumerate(zip(nouts, touts, strict=True)):
        assert_close(n, t, a.dtype, what=f"{what} output {k}")
    g = rng.standard_normal(tuple(touts[0].shape)).astype(a.dtype)
    (tg,) = torch.autograd.grad(touts[0], tx, torch.from_numpy(g))
    (ng,) = nabla.autograd.grad(nouts[0], nx, nabla.tensor(g))
    assert_close(ng, tg, a.dtype, what=f"{what} grad")
    return nouts, touts


# -- cumprod --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("shape, dim, layout", CASES, ids=CASE_IDS)
def test_cumprod_matches_torch(shape, dim, layout, dtype, rng):
    a = _view(_nonzero(rng, shape, dtype), layout)
    _compare(lambda x: x.cumprod(dim), a, rng, "cumprod")


def _with_zeros(dtype, rng):
    """Rows with no zero, one zero (first, middle, last), two and three zeros."""
    a = _nonzero(rng, (7, 6), dtype)
    a[1, 0] = a[2, 3] = a[3, 5] = 0
    a[4, 1] = a[4, 4] = 0
    a[5, 0] = a[5, 1] = 0
    a[6, 1] = a[6, 2] = a[6, 4] = 0
    return a


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("dim", [1, -2])
def test_cumprod_with_zeros_matches_torch(dim, dtype, rng):
    a = _with_zeros(dtype, rng)
    a = a if dim == 1 else np.ascontiguousarray(a.T).copy()
    _compare(lambda x: torch.cumprod(x, dim) if isinstance(x, torch.Tensor) else
             nabla.cumprod(x, dim), a, rng, "cumprod")


def test_cumprod_double_backward_with_zeros_matches_torch(rng):
    a = _with_zeros(np.float64, rng)
    v, w = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
    grads = []
    for lib in (nabla, torch):
        x = lib.tensor(a, requires_grad=True)
        (g,) = lib.autograd.grad(lib.cumprod(x, 1), x, lib.tensor(v), create_graph=True)
        (gg,) = lib.autograd.grad((g * lib.tensor(w)).sum(), x)
        grads.append((g, gg))
    assert_close(grads[0][0], grads[1][0], what="first derivative")
    assert_close(grads[0][1], grads[1][1], what="second derivative")


def test_cumprod_gradcheck_and_gradgradcheck(rng):
    x = nabla.tensor(_nonzero(rng, (3, 5), np.float64), requires_grad=True)
    for d in (0, 1, -1):
        assert gradcheck(lambda t, d=d: nabla.cumprod(t, d), (x,), **GRADCHECK_TOL)
        assert gradgradcheck(lambda t, d=d: nabla.cumprod(t, d), (x,), **GRADCHECK_TOL)
    z = nabla.tensor(_with_zeros(np.float64, rng), requires_grad=True)
    assert gradcheck(lambda t: nabla.cumprod(t, 1), (z,), **GRADCHECK_TOL)
    assert gradgradcheck(lambda t: nabla.cumprod(t, 1), (z,), **GRADCHECK_TOL)


@pytest.mark.parametrize("values, dtype", [([1, 2, 3], torch.int32), ([True, False], torch.bool),
                                           ([2, 5], torch.uint8), ([1, -3], torch.int64)])
def test_cumprod_integer_inputs_accumulate_in_int64(values, dtype):
    t = torch.tensor(values, dtype=dtype)
    n = nabla.tensor(t.numpy())
    assert_close(nabla.cumprod(n, 0), torch.cumprod(t, 0))
    assert_close(n.cumprod(0, dtype=nabla.float32), t.cumprod(0, dtype=torch.float32))


def test_cumprod_dtype_casts_first_and_grad_keeps_input_dtype(rng):
    a = _nonzero(rng, (3, 4), np.float32)
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ny, ty = nabla.cumprod(nx, 1, dtype=nabla.float64), torch.cumprod(tx, 1, dtype=torch.float64)
    assert_close(ny, ty)
    ny.sum().backward()
    ty.sum().backward()
    assert_close(nx.grad, tx.grad)


# -- cummax, cummin -------------------------------------------------------------------------------
def _distinct(rng, shape, dtype):
    """Values without ties, in random order (a permutation plus small noise)."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) + rng.random(shape) * 0.5).astype(dtype)


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("shape, dim, layout", CASES, ids=CASE_IDS)
def test_cummax_cummin_match_torch(shape, dim, layout, dtype, op, rng):
    a = _view(_distinct(rng, shape, dtype), layout)
    (nv, ni), _ = _compare(lambda x: getattr(x, op)(dim), a, rng, op)
    assert ni.dtype == np.int64 and not ni.requires_grad


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_ties_and_nan_follow_torch(op, dtype, rng):
    rows = [[3.0, 1.0, 3.0, 3.0, 0.0, 1.0, 1.0], [1.0, NAN, 2.0, NAN, 5.0, -INF, INF],
            [NAN, 1.0, 0.0, 2.0, 2.0, 2.0, -1.0], [2.0, 2.0, 2.0, -INF, -INF, INF, INF],
            [0.0, -0.0, 0.0, -0.0, 1.0, 1.0, NAN]]
    a = np.array(rows, dtype)
    (nv, ni), (tv, ti) = _compare(lambda x: getattr(x, op)(1), a, rng, op)
    np.testing.assert_array_equal(np.signbit(nv.detach().numpy()), np.signbit(tv.detach().numpy()))
    (nv, ni), _ = _compare(lambda x: getattr(x, op)(0), np.ascontiguousarray(a.T), rng, op)


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("values, dtype", [([3, 1, 3, 5, 5, 0], torch.int64),
                                           ([True, False, True, False], torch.bool),
                                           ([4, 4, 1, 9], torch.int32)])
def test_cummax_cummin_integer_and_bool_inputs(op, values, dtype):
    t = torch.tensor(values, dtype=dtype)
    nv, ni = getattr(nabla, op)(nabla.tensor(t.numpy()), 0)
    tv, ti = getattr(torch, op)(t, 0)
    assert_close(nv, tv, what="values")
    assert_close(ni, ti, what="indices")


def test_cummax_returns_a_named_tuple():
    result = nabla.cummax(nabla.tensor([1.0, 3.0, 2.0]), 0)
    assert type(result).__name__ == "cummax" and result._fields == ("values", "indices")
    assert type(nabla.cummin(nabla.tensor([1.0]), 0)).__name__ == "cummin"
    values, indices = result
    assert values is result.values and indices is result.indices
    assert not indices.requires_grad


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_cummax_cummin_gradcheck_and_gradgradcheck(op, rng):
    x = nabla.tensor(_distinct(rng, (3, 5), np.float64), requires_grad=True)
    for d in (0, -1):
        def fn(t, d=d):
            return getattr(nabla, op)(t, d).values
        assert gradcheck(fn, (x,), **GRADCHECK_TOL)
        assert gradgradcheck(fn, (x,), **GRADCHECK_TOL)


def test_cummax_gradient_of_ties_goes_to_the_latest_index():
    x = nabla.tensor([1.0, 2.0, 2.0, 0.0], requires_grad=True)
    nabla.cummax(x, 0).values.backward(nabla.tensor([1.0, 10.0, 100.0, 1000.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 10.0, 1100.0, 0.0])


def test_cummax_trace_recomputes_the_indices(rng):
    def f(x):
        return nabla.cummax(x, 1).values.sum() + nabla.cummin(x, 0).values.sum()

    a = _distinct(rng, (3, 4), np.float64)
    traced = nabla.jit.trace(f, (nabla.tensor(a, requires_grad=True),))
    y = nabla.tensor(-a, requires_grad=True)  # the opposite order: frozen indices would be wrong
    np.testing.assert_allclose(float(traced(y)), float(f(y)), rtol=1e-12)


# -- logcumsumexp ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("shape, dim, layout", CASES, ids=CASE_IDS)
def test_logcumsumexp_matches_torch(shape, dim, layout, dtype, rng):
    a = _view((rng.standard_normal(shape) * 3).astype(dtype), layout)
    _compare(lambda x: x.logcumsumexp(dim), a, rng, "logcumsumexp")


EXTREME_ROWS = [[-1e4, 1e4, -INF, 0.0, 1e4], [1e4, -1e4, 3.0, 1e4, -1e4],
                [-1e4, -1e4 + 1, -1e4 + 2, -1e4, -9e3], [1.0, -INF, 2.0, -INF, 0.5],
                [-INF, 1.0, 2.0, 1e4, -1e4], [-INF, -INF, 0.5, 0.5, 0.5],
                [INF, 1.0, 2.0, -INF, 0.0], [80.0, 90.0, 100.0, 700.0, 710.0]]


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_logcumsumexp_extreme_values_match_torch(dtype, rng):
    a = np.array(EXTREME_ROWS, dtype)
    if dtype == np.float32:
        a = np.where(np.abs(a) == 710.0, 80.0, a).astype(dtype)  # (inf in float32 otherwise)
    _compare(lambda x: x.logcumsumexp(1), a, rng, "logcumsumexp")  # nan gradients included
    _compare(lambda x: x.logcumsumexp(0), np.ascontiguousarray(a.T), rng, "logcumsumexp")


def test_logcumsumexp_zero_upstream_gradient_matches_torch(rng):
    a = rng.standard_normal((3, 5))
    g = rng.standard_normal((3, 5)) * (rng.random((3, 5)) < 0.5)  # zeros: log(0) avoided
    nx, tx = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    nabla.logcumsumexp(nx, 1).backward(nabla.tensor(g))
    torch.logcumsumexp(tx, 1).backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad)


def test_logcumsumexp_gradcheck_and_gradgradcheck(rng):
    x = nabla.tensor(rng.standard_normal((3, 5)) * 2, requires_grad=True)
    for d in (0, 1, -1):
        assert gradcheck(lambda t, d=d: nabla.logcumsumexp(t, d), (x,), **GRADCHECK_TOL)
        assert gradgradcheck(lambda t, d=d: nabla.logcumsumexp(t, d), (x,), **GRADCHECK_TOL)


def test_logcumsumexp_double_backward_matches_torch(rng):
    a = rng.standard_normal((4, 6)) * 2
    v, w = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
    out = []
    for lib in (nabla, torch):
        x = lib.tensor(a, requires_grad=True)
        (g,) = lib.autograd.grad(lib.logcumsumexp(x, 1), x, lib.tensor(v), create_graph=True)
        (gg,) = lib.autograd.grad((g * lib.tensor(w)).sum(), x)
        out.append(gg)
    assert_close(out[0], out[1], what="second derivative")


def test_logcumsumexp_rejects_integers():
    with pytest.raises(RuntimeError, match=r"logcumsumexp: expected a floating point input.*"
                                           r"int64.*x\.float\(\)"):
        nabla.logcumsumexp(nabla.tensor([1, 2, 3]), 0)


# -- all four -------------------------------------------------------------------------------------
OPS = ["cumprod", "cummax", "cummin", "logcumsumexp"]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape, dim", [((3,), 1), ((2, 3), -3), ((), 1), ((2, 3, 4), 3)])
def test_bad_dim_names_the_op_the_shape_and_the_range(op, shape, dim):
    x = nabla.zeros(*shape)
    n = max(len(shape), 1)
    pattern = rf"{op}: dim {dim} is out of range for an input of shape \({str(shape)[1:-1]}"
    with pytest.raises(IndexError, match=pattern) as err:
        getattr(nabla, op)(x, dim)
    assert f"[{-n}, {n - 1}]" in str(err.value)
    with pytest.raises(IndexError):
        getattr(torch, op)(torch.zeros(shape), dim)  # PyTorch rejects it too
    with pytest.raises(TypeError, match=f"{op}: dim must be one int"):
        getattr(nabla, op)(x, None)


@pytest.mark.parametrize("op", OPS)
def test_tensor_methods_and_no_grad(op, rng):
    a = _nonzero(rng, (3, 4), np.float64)
    x = nabla.tensor(a, requires_grad=True)
    method, function = getattr(x, op)(-1), getattr(nabla, op)(x, -1)
    first = method[0] if isinstance(method, tuple) else method
    assert_close(first, getattr(torch.tensor(a), op)(-1)[0] if op.startswith("cumm") else
                 getattr(torch.tensor(a), op)(-1))
    again = function[0] if isinstance(function, tuple) else function
    np.testing.assert_array_equal(first.detach().numpy(), again.detach().numpy())
    with nabla.no_grad():
        out = getattr(x, op)(0)
    out = out[0] if isinstance(out, tuple) else out
    assert not out.requires_grad and out.grad_fn is None
