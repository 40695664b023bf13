"""nabla.linalg's triangular solves, LU, least squares, the _ex variants, tensor forms, cond and
householder_product vs torch.linalg: forward and backward (random upstream gradients) in
float32 and float64 on batched, broadcast, empty and transposed (non-contiguous) inputs;
float64 gradcheck (and gradgradcheck where the rule is written in differentiable ops); errors.

A case is a function of the library module (nabla or torch), so one lambda runs on both.
"""

import math

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL
from test_linalg import DTYPES, compare, general, spd

import nabla
from nabla.autograd import gradcheck, gradgradcheck


def _f64(*arrays):
    return [nabla.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]


# -- solve_triangular ----------------------------------------------------------------------------
TRIANGULAR_CASES = [
    ((4, 4), (4, 2)),
    ((2, 1, 3, 3), (4, 3, 2)),  # batch dims broadcast both ways
    ((3, 3), (2, 3, 1)),
    ((1, 1), (1, 3)),
    ((0, 3, 3), (0, 3, 2)),
    ((3, 3), (3, 0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", TRIANGULAR_CASES)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(sa, sb, upper, unit, dtype, rng):
    a, b = general(rng, *sa), rng.standard_normal(sb)
    compare(lambda m, x, y: m.linalg.solve_triangular(x, y, upper=upper, unitriangular=unit),
            [a, b], dtype)
    compare(lambda m, x, y: m.linalg.solve_triangular(x, y.mT, upper=upper, left=False,
                                                      unitriangular=unit), [a, b], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_solve_triangular_transposed_views(dtype, rng):
    a, b = general(rng, 2, 4, 4), rng.standard_normal((2, 3, 4))
    compare(lambda m, x, y: m.linalg.solve_triangular(x.mT, y.mT, upper=True), [a, b], dtype)


def test_solve_triangular_gradcheck(rng):
    for upper in (True, False):
        for unit in (False, True):
            a, b = _f64(general(rng, 2, 3, 3), rng.standard_normal((3, 2)))
            def fn(x, y, upper=upper, unit=unit):
                return nabla.linalg.solve_triangular(x, y, upper=upper, unitriangular=unit)

            assert gradcheck(fn, (a, b), **GRADCHECK_TOL)
            assert gradgradcheck(fn, (a, b), **GRADCHECK_TOL)


def test_solve_triangular_reads_one_triangle_and_zero_diagonal(rng):
    a = general(rng, 4, 4)
    b = rng.standard_normal((4, 2))
    garbage = a + np.tril(rng.standard_normal((4, 4)) * 100, -1)
    x = nabla.linalg.solve_triangular(nabla.tensor(garbage), nabla.tensor(b), upper=True)
    np.testing.assert_allclose(x._data, np.linalg.solve(np.triu(a), b), rtol=1e-10)
    singular = np.array([[1.0, 2.0], [0.0, 0.0]])  # inf / nan as torch (no error)
    compare(lambda m, x, y: m.linalg.solve_triangular(x, y, upper=True),
            [singular, np.ones((2, 1))], np.float64, grad=False)


def test_solve_triangular_errors():
    a = nabla.eye(3, dtype=nabla.float64)
    with pytest.raises(RuntimeError, match=r"solve_triangular.*B.unsqueeze\(-1\)"):
        nabla.linalg.solve_triangular(a, nabla.ones(3, dtype=nabla.float64), upper=True)
    with pytest.raises(RuntimeError, match="solve_triangular.*same dtype"):
        nabla.linalg.solve_triangular(a, nabla.ones(3, 1), upper=True)
    with pytest.raises(RuntimeError, match=r"solve_triangular.*square.*\(2, 3\)"):
        nabla.linalg.solve_triangular(nabla.ones(2, 3), nabla.ones(2, 1), upper=True)
    with pytest.raises(RuntimeError, match=r"solve_triangular.*\(\*, k, 3\).*unsqueeze\(-2\)"):
        nabla.linalg.solve_triangular(a, nabla.ones(2, 2, dtype=nabla.float64), upper=True,
                                      left=False)
    with pytest.raises(TypeError):
        nabla.linalg.solve_triangular(a, a)  # upper is a required keyword, as in torch


# -- LU ------------------------------------------------------------------------------------------
LU_SHAPES = [(4, 4), (2, 3, 5), (2, 5, 3), (1, 1), (3, 0, 0), (0, 3, 3), (2, 0, 3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", LU_SHAPES)
def test_lu_factor_and_lu(shape, dtype, rng):
    a = rng.standard_normal(shape)
    LU, pivots = compare(lambda m, x: m.linalg.lu_factor(x), [a], dtype)
    assert pivots.dtype == np.int32
    compare(lambda m, x: m.linalg.lu(x), [a], dtype)
    compare(lambda m, x: m.linalg.lu_factor_ex(x), [a], dtype)
    compare(lambda m, x: m.lu_unpack(*m.linalg.lu_factor(x)), [a], dtype)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 4), (4, 2)])
def test_lu_gradcheck(shape, rng):
    (a,) = _f64(rng.standard_normal(shape))
    assert gradcheck(lambda x: nabla.linalg.lu(x)[1:], (a,), **GRADCHECK_TOL)
    assert gradcheck(lambda x: nabla.linalg.lu_factor(x).LU, (a,), **GRADCHECK_TOL)
    assert gradgradcheck(lambda x: nabla.linalg.lu(x)[1:], (a,), **GRADCHECK_TOL)


def test_lu_of_singular_matrices(rng):
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    batch = np.stack([general(rng, 2, 2), s, np.zeros((2, 2))])
    compare(lambda m, x: m.linalg.lu_factor_ex(x), [batch], np.float64, grad=False)
    compare(lambda m, x: m.linalg.lu(x), [batch], np.float64, grad=False)
    with pytest.raises(nabla.linalg.LinAlgError, match=r"lu_factor.*U\[1,1\] is zero.*\(1,\)"):
        nabla.linalg.lu_factor(nabla.tensor(batch))
    with pytest.raises(RuntimeError, match="lu_factor_ex.*singular"):
        nabla.linalg.lu_factor_ex(nabla.tensor(batch), check_errors=True)
    with pytest.raises(RuntimeError, match="without pivoting is not implemented"):
        nabla.linalg.lu(nabla.tensor(batch), pivot=False)


LU_SOLVE_CASES = [((4, 4), (4, 2)), ((2, 1, 3, 3), (4, 3, 2)), ((1, 1), (1, 1)),
                  ((0, 3, 3), (0, 3, 2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", LU_SOLVE_CASES)
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve(sa, sb, left, adjoint, dtype, rng):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)

    def fn(m, x, y):
        LU, pivots = m.linalg.lu_factor(x)
        return m.linalg.lu_solve(LU, pivots, y if left else y.mT, left=left, adjoint=adjoint)

    compare(fn, [a, b], dtype)


def test_lu_solve_gradcheck_and_errors(rng):
    a, b = _f64(rng.standard_normal((2, 3, 3)), rng.standard_normal((3, 2)))

    def fn(x, y):
        return nabla.linalg.lu_solve(*nabla.linalg.lu_factor(x), y)

    assert gradcheck(fn, (a, b), **GRADCHECK_TOL)
    LU, pivots = nabla.linalg.lu_factor(a)
    with pytest.raises(RuntimeError, match="lu_solve: pivots must be"):
        nabla.linalg.lu_solve(LU, pivots.float(), b)
    with pytest.raises(RuntimeError, match=r"lu_solve: incompatible shapes"):
        nabla.linalg.lu_solve(LU, pivots, b[:2])


# -- lstsq ---------------------------------------------------------------------------------------
LSTSQ_CASES = [((5, 3), (5, 2)), ((2, 5, 3), (1, 5, 1)), ((1, 5, 3), (2, 5, 1)),
               ((2, 5, 3), (2, 5)), ((5, 3), (5,)), ((3, 5), (3, 2)), ((4, 4), (4, 2)),
               ((2, 0, 3), (2, 0, 2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", LSTSQ_CASES)
@pytest.mark.parametrize("driver", [None, "gels", "gelsd", "gelss"])
def test_lstsq(sa, sb, driver, dtype, rng):
    a, b = general(rng, *sa), rng.standard_normal(sb)
    compare(lambda m, x, y: m.linalg.lstsq(x, y, driver=driver), [a, b], dtype)


def test_lstsq_rank_deficient_and_rcond(rng):
    a = rng.standard_normal((6, 4))
    a[:, 3] = a[:, 0] + a[:, 1]  # rank 3: the minimum-norm solution, no residuals
    b = rng.standard_normal((6, 2))
    sol, res, rank, sv = compare(lambda m, x, y: m.linalg.lstsq(x, y, driver="gelsd"), [a, b],
                                 np.float64, grad=False)
    assert int(rank) == 3 and res.numel() == 0
    compare(lambda m, x, y: m.linalg.lstsq(x, y, rcond=0.5, driver="gelsd").rank,
            [np.diag([1.0, 0.9, 0.1]), np.ones((3, 1))], np.float64, grad=False)


def test_lstsq_gradcheck(rng):
    for sa, sb in (((5, 3), (5, 2)), ((3, 5), (3, 2)), ((2, 4, 4), (4,))):
        a, b = _f64(general(rng, *sa), rng.standard_normal(sb))
        assert gradcheck(lambda x, y: nabla.linalg.lstsq(x, y, driver="gelsd")[:2], (a, b),
                         **GRADCHECK_TOL)


def test_lstsq_errors():
    a = nabla.ones(4, 3, dtype=nabla.float64)
    with pytest.raises(RuntimeError, match="lstsq: A and B must have the same dtype"):
        nabla.linalg.lstsq(a, nabla.ones(4, 1))
    with pytest.raises(RuntimeError, match="lstsq: driver must be one of"):
        nabla.linalg.lstsq(a, a, driver="gesv")
    with pytest.raises(RuntimeError, match=r"lstsq: incompatible shapes.*\(\*, 4, k\)"):
        nabla.linalg.lstsq(a, nabla.ones(3, 1, dtype=nabla.float64))


# -- the _ex variants ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_ex(upper, dtype, rng):
    compare(lambda m, x: m.linalg.cholesky_ex(x, upper=upper), [spd(rng, 2, 3, 3)], dtype)
    bad = np.array([[[4.0, 2, 0], [2, 1, 0], [0, 0, 3]], [[4.0, 2, 0], [2, 5, 0], [0, 0, 3]]])
    # the failing matrix: the partial factor (PyTorch's gradient there is inf / nan)
    out = compare(lambda m, x: m.linalg.cholesky_ex(x, upper=upper), [bad], dtype, grad=False)
    assert out[1].dtype == np.int32
    with pytest.raises(nabla.linalg.LinAlgError, match=r"\(0,\).*minor of order 2"):
        nabla.linalg.cholesky_ex(nabla.tensor(bad), check_errors=True)


def test_cholesky_ex_partial_factor_and_gradient(rng):
    bad = spd(rng, 4, 4)
    bad[2, 2] = -50.0  # the leading minor of order 3 fails: info 3, columns 0-1 are L's
    good = spd(rng, 4, 4)
    x = nabla.tensor(np.stack([bad, good]), requires_grad=True)
    L, info = nabla.linalg.cholesky_ex(x)
    tL, tinfo = torch.linalg.cholesky_ex(torch.tensor(np.stack([bad, good])))
    assert info.tolist() == tinfo.tolist() == [3, 0]
    np.testing.assert_allclose(L._data[0, :, :2], tL.numpy()[0, :, :2], rtol=1e-12)
    np.testing.assert_allclose(L._data[1], tL.numpy()[1], rtol=1e-12)
    L.sum().backward()  # the good matrix gets its gradient, the bad one none
    assert not x.grad._data[0].any()
    (ref,) = _f64(good)
    nabla.linalg.cholesky(ref).sum().backward()
    np.testing.assert_allclose(x.grad._data[1], ref.grad._data, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_inv_ex_and_solve_ex(dtype, rng):
    a, b = general(rng, 2, 3, 3), rng.standard_normal((2, 3, 2))
    compare(lambda m, x: m.linalg.inv_ex(x), [a], dtype)
    compare(lambda m, x, y: m.linalg.solve_ex(x, y), [a, b], dtype)
    compare(lambda m, x, y: m.linalg.solve_ex(x, y[..., 0]), [a, b], dtype)
    compare(lambda m, x, y: m.linalg.solve_ex(x, y.mT, left=False), [a, b], dtype)


def test_inv_ex_and_solve_ex_of_singular_matrices(rng):
    s = np.stack([np.eye(3), np.ones((3, 3)), np.diag([1.0, 0.0, 2.0])])
    x = nabla.tensor(s, requires_grad=True)
    inverse, info = nabla.linalg.inv_ex(x)
    assert info.tolist() == torch.linalg.inv_ex(torch.tensor(s)).info.tolist() == [0, 2, 2]
    assert np.isnan(inverse._data[1:]).all()
    np.testing.assert_array_equal(inverse._data[0], np.eye(3))
    inverse[0].sum().backward()
    assert x.grad._data[0].any() and not x.grad._data[1:].any()
    result, info = nabla.linalg.solve_ex(nabla.tensor(s), nabla.ones(3, dtype=nabla.float64))
    assert info.tolist() == [0, 2, 2] and np.isnan(result._data[1:]).all()
    with pytest.raises(nabla.linalg.LinAlgError, match=r"inv_ex \(batch element \(1,\)\)"):
        nabla.linalg.inv_ex(nabla.tensor(s), check_errors=True)
    with pytest.raises(nabla.linalg.LinAlgError, match="solve_ex.*singular"):
        nabla.linalg.solve_ex(nabla.tensor(s), nabla.tensor(s), check_errors=True)


def test_ex_gradcheck(rng):
    (a,) = _f64(spd(rng, 2, 3, 3))
    # the gradient of a function of one triangle is the symmetric one (as PyTorch's): check it
    # on symmetric perturbations
    assert gradcheck(lambda x: nabla.linalg.cholesky_ex((x + x.mT) / 2).L, (a,),
                     **GRADCHECK_TOL)
    assert gradcheck(lambda x: nabla.linalg.inv_ex(x).inverse, (a,), **GRADCHECK_TOL)


# -- vecdot, tensorinv, tensorsolve, cond, householder_product -----------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_vecdot(dtype, rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((2, 1, 4))
    compare(lambda m, a, b: m.linalg.vecdot(a, b), [x, y], dtype)
    compare(lambda m, a, b: m.linalg.vecdot(a.mT, b[0].mT, dim=0), [x, y], dtype)
    compare(lambda m, a, b: m.linalg.vecdot(a, b, dim=-1), [x[:, :0], y[..., :0]], dtype)
    with pytest.raises(RuntimeError, match="vecdot: x and y must have the same dtype"):
        nabla.linalg.vecdot(nabla.ones(3), nabla.ones(3, dtype=nabla.float64))
    with pytest.raises(RuntimeError, match="vecdot: expected a float32 or float64"):
        nabla.linalg.vecdot(nabla.ones(3, dtype=nabla.int64), nabla.ones(3, dtype=nabla.int64))


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensorinv_and_tensorsolve(dtype, rng):
    a = rng.standard_normal((4, 6, 8, 3)) + 8 * np.eye(24).reshape(4, 6, 8, 3)
    compare(lambda m, x: m.linalg.tensorinv(x, ind=2), [a], dtype)
    compare(lambda m, x: m.linalg.tensorinv(x, ind=1), [general(rng, 6, 6)], dtype)
    b = rng.standard_normal((4, 6))
    compare(lambda m, x, y: m.linalg.tensorsolve(x, y), [a, b], dtype)
    compare(lambda m, x, y: m.linalg.tensorsolve(x.permute(2, 0, 1, 3), y, dims=(0,)), [a, b],
            dtype)
    with pytest.raises(RuntimeError, match=r"tensorinv: A of shape \(4, 6, 8\).*4 != 48"):
        nabla.linalg.tensorinv(nabla.ones(4, 6, 8), ind=1)
    with pytest.raises(RuntimeError, match="tensorsolve: A of shape"):
        nabla.linalg.tensorsolve(nabla.ones(6, 4, 2, 3), nabla.ones(6, 4))
    x, y = _f64(a[:2, :3, :2, :3] + 6 * np.eye(6).reshape(2, 3, 2, 3), b[:2, :3])
    assert gradcheck(lambda p, q: nabla.linalg.tensorsolve(p, q), (x, y), **GRADCHECK_TOL)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf])
def test_cond(p, dtype, rng):
    # PyTorch 2.13 cannot differentiate cond for the norms through inv_ex (it writes into the
    # inverse in place): those gradients are checked by gradcheck below
    spectral = p in (None, 2, -2)
    compare(lambda m, x: m.linalg.cond(x, p), [general(rng, 2, 3, 3)], dtype, grad=spectral)
    singular = np.stack([np.eye(3), np.ones((3, 3))])
    compare(lambda m, x: m.linalg.cond(x, p), [singular], dtype, grad=False)
    if p in (None, 2, -2):
        compare(lambda m, x: m.linalg.cond(x, p), [rng.standard_normal((3, 5))], dtype)
    else:
        with pytest.raises(RuntimeError, match="cond with p=.* needs square matrices"):
            nabla.linalg.cond(nabla.ones(3, 5), p)


def test_cond_gradcheck_and_errors(rng):
    (a,) = _f64(general(rng, 3, 3))
    for p in (None, -2, "fro", "nuc", 1, -1, math.inf, -math.inf):
        assert gradcheck(lambda x, p=p: nabla.linalg.cond(x, p), (a,), **GRADCHECK_TOL)
    with pytest.raises(RuntimeError, match="cond: p must be one of"):
        nabla.linalg.cond(a, 3)


def _geqrf(rng, shape, dtype):
    h, tau = torch.geqrf(torch.tensor(rng.standard_normal(shape)))
    return h.numpy().astype(dtype), tau.numpy().astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k", [((5, 3), 3), ((2, 5, 3), 2), ((4, 4), 4), ((3, 1), 0)])
def test_householder_product(shape, k, dtype, rng):
    h, tau = _geqrf(rng, shape, np.float64)
    compare(lambda m, a, t: m.linalg.householder_product(a, t), [h, tau[..., :k]], dtype)


def test_householder_product_gradcheck_and_errors(rng):
    h, tau = _geqrf(rng, (2, 4, 3), np.float64)
    a, t = _f64(h, tau)
    assert gradcheck(nabla.linalg.householder_product, (a, t), **GRADCHECK_TOL)
    with pytest.raises(RuntimeError, match="householder_product: A must have at least"):
        nabla.linalg.householder_product(a.mT, t)
    with pytest.raises(RuntimeError, match="householder_product: tau must be"):
        nabla.linalg.householder_product(a, nabla.ones(2, 4, dtype=nabla.float64))
