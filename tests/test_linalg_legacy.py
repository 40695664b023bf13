"""torch's top-level matrix functions from before torch.linalg (torch.svd, torch.qr, torch.lu,
torch.cholesky_solve, torch.triangular_solve, ...) and the Tensor methods of that API, against
PyTorch: forward and backward with random upstream gradients in float32 and float64, float64
gradcheck for the compositions, and the errors of the functions PyTorch 2 removed."""

import warnings

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL
from test_linalg import compare, general, spd

import nabla
from nabla.autograd import gradcheck

DTYPES = [np.float32, np.float64]
# PyTorch warns that these old names are deprecated (nabla keeps them quiet)
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")


def _quiet(fn):
    """Call a torch function that warns of its deprecation (torch.lu, torch.cholesky, ...)."""
    def call(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    return call


def _lower(rng, *shape):
    return np.tril(general(rng, *shape))


# name: (call on a library module and its tensors, input makers)
CASES = {
    "svd": (lambda m, a: m.svd(a)[1], [lambda r: r.standard_normal((2, 4, 3))]),
    "svd reconstruct": (lambda m, a: (lambda u, s, v: (u * s.unsqueeze(-2)) @ v.mT)(*m.svd(a)),
                        [lambda r: r.standard_normal((2, 4, 3))]),
    "svd some=False": (lambda m, a: (lambda u, s, v: (u[..., :3] * s.unsqueeze(-2)) @ v.mT)(
        *m.svd(a, some=False)), [lambda r: r.standard_normal((4, 3))]),
    "svd compute_uv=False": (lambda m, a: m.svd(a, compute_uv=False),
                             [lambda r: r.standard_normal((2, 4, 3))]),
    "qr": (lambda m, a: m.qr(a), [lambda r: r.standard_normal((2, 4, 3))]),
    "qr some=False": (lambda m, a: m.qr(a, some=False), [lambda r: r.standard_normal((3, 4))]),
    "cholesky": (lambda m, a: _quiet(m.cholesky)(a), [lambda r: spd(r, 2, 3, 3)]),
    "cholesky upper": (lambda m, a: _quiet(m.cholesky)(a, upper=True), [lambda r: spd(r, 3, 3)]),
    # L.tril(): only L's triangle is read, so nabla's gradient lies in it (as for
    # linalg.solve_triangular); PyTorch's has a value above the diagonal too
    "cholesky_solve": (lambda m, b, L: m.cholesky_solve(b, L.tril()),
                       [lambda r: r.standard_normal((2, 3, 2)), lambda r: _lower(r, 3, 3)]),
    "cholesky_solve upper": (lambda m, b, L: m.cholesky_solve(b, L.tril().mT, upper=True),
                             [lambda r: r.standard_normal((3, 2)), lambda r: _lower(r, 2, 3, 3)]),
    "cholesky_inverse": (lambda m, L: m.cholesky_inverse(L.tril()), [lambda r: _lower(r, 2, 3, 3)]),
    "cholesky_inverse upper": (lambda m, L: m.cholesky_inverse(L.tril().mT, upper=True),
                               [lambda r: _lower(r, 3, 3)]),
    "triangular_solve": (lambda m, b, a: m.triangular_solve(b, a),
                         [lambda r: r.standard_normal((2, 3, 2)), lambda r: general(r, 3, 3)]),
    "triangular_solve lower transpose unit": (
        lambda m, b, a: m.triangular_solve(b, a, upper=False, transpose=True, unitriangular=True),
        [lambda r: r.standard_normal((3, 2)), lambda r: general(r, 2, 3, 3)]),
    "lu": (lambda m, a: _quiet(m.lu)(a), [lambda r: r.standard_normal((2, 3, 3))]),
    "lu get_infos": (lambda m, a: _quiet(m.lu)(a, get_infos=True),
                     [lambda r: r.standard_normal((3, 4))]),
    "lu_solve": (lambda m, b, a: _quiet(m.lu_solve)(b, *_quiet(m.lu)(a)),
                 [lambda r: r.standard_normal((2, 3, 2)), lambda r: r.standard_normal((3, 3))]),
    "lu_unpack no data": (lambda m, a: m.lu_unpack(*m.linalg.lu_factor(a), unpack_data=False),
                          [lambda r: r.standard_normal((3, 3))]),
    "lu_unpack no pivots": (lambda m, a: m.lu_unpack(*m.linalg.lu_factor(a),
                                                     unpack_pivots=False)[1:],
                            [lambda r: r.standard_normal((2, 4, 3))]),
    "chain_matmul": (lambda m, a, b, c: _quiet(m.chain_matmul)(a, b, c),
                     [lambda r: r.standard_normal((2, 5)), lambda r: r.standard_normal((5, 3)),
                      lambda r: r.standard_normal((3, 4))]),
    "chain_matmul one": (lambda m, a: _quiet(m.chain_matmul)(a),
                         [lambda r: r.standard_normal((2, 5))]),
    "frobenius_norm": (lambda m, a: _quiet(m.frobenius_norm)(a, dim=(1, 2)),
                       [lambda r: r.standard_normal((2, 3, 4))]),
    "frobenius_norm one dim keepdim": (
        lambda m, a: _quiet(m.frobenius_norm)(a, dim=1, keepdim=True),
        [lambda r: r.standard_normal((2, 3, 4))]),
    "nuclear_norm": (lambda m, a: _quiet(m.nuclear_norm)(a), [lambda r: r.standard_normal((3, 4))]),
    "nuclear_norm dim keepdim": (lambda m, a: _quiet(m.nuclear_norm)(a, dim=(0, 2),
                                                                      keepdim=True),
                                 [lambda r: r.standard_normal((3, 2, 4))]),
    "ger": (lambda m, a, b: m.ger(a, b), [lambda r: r.standard_normal(3),
                                          lambda r: r.standard_normal(4)]),
    "orgqr": (lambda m, a: m.orgqr(*m.geqrf(a.detach())) * a.sum(),
              [lambda r: r.standard_normal((2, 4, 3))]),
    "ormqr": (lambda m, a, c: m.ormqr(*m.geqrf(a.detach()), c, transpose=True),
              [lambda r: r.standard_normal((4, 3)), lambda r: r.standard_normal((4, 2))]),
    "ormqr right": (lambda m, a, c: m.ormqr(*m.geqrf(a.detach()), c, left=False),
                    [lambda r: r.standard_normal((2, 4, 3)),
                     lambda r: r.standard_normal((2, 5, 4))]),
    # Tensor methods
    "method svd": (lambda m, a: a.svd(some=True)[1], [lambda r: r.standard_normal((4, 3))]),
    "method qr": (lambda m, a: a.qr(), [lambda r: r.standard_normal((4, 3))]),
    "method cholesky": (lambda m, a: _quiet(a.cholesky)(), [lambda r: spd(r, 3, 3)]),
    "method cholesky_solve": (lambda m, b, L: b.cholesky_solve(L.tril()),
                              [lambda r: r.standard_normal((3, 2)), lambda r: _lower(r, 3, 3)]),
    "method cholesky_inverse": (lambda m, L: L.tril().cholesky_inverse(),
                                [lambda r: _lower(r, 3, 3)]),
    "method lu + lu_solve": (lambda m, b, a: _quiet(b.lu_solve)(*_quiet(a.lu)()),
                             [lambda r: r.standard_normal((3, 2)),
                              lambda r: r.standard_normal((3, 3))]),
    "method triangular_solve": (lambda m, b, a: b.triangular_solve(a, upper=False),
                                [lambda r: r.standard_normal((3, 2)), lambda r: general(r, 3, 3)]),
    "method geqrf": (lambda m, a: a.geqrf(), [lambda r: r.standard_normal((4, 3))]),
    "method orgqr ormqr": (lambda m, a, c: a.geqrf()[0].orgqr(a.geqrf()[1]).sum()
                           + a.geqrf()[0].ormqr(a.geqrf()[1], c).sum(),
                           [lambda r: r.standard_normal((4, 3)),
                            lambda r: r.standard_normal((4, 2))]),
}
NO_GRAD = {"method geqrf", "method orgqr ormqr", "lu_unpack no data"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name, dtype, rng):
    fn, makers = CASES[name]
    compare(fn, [make(rng) for make in makers], dtype, grad=name not in NO_GRAD)


GRADCHECKS = ["svd reconstruct", "qr", "cholesky_solve", "cholesky_inverse", "triangular_solve",
              "lu_solve", "chain_matmul", "frobenius_norm", "nuclear_norm"]


@pytest.mark.parametrize("name", GRADCHECKS)
def test_gradcheck(name, rng):
    fn, makers = CASES[name]
    inputs = [nabla.tensor(make(rng), requires_grad=True) for make in makers]
    assert gradcheck(lambda *xs: fn(nabla, *xs), inputs, **GRADCHECK_TOL)


def test_ormqr_gradcheck(rng):
    h, tau = nabla.geqrf(nabla.tensor(rng.standard_normal((2, 4, 3))))
    inputs = [nabla.tensor(v, requires_grad=True) for v in (h._data, tau._data,
                                                           rng.standard_normal((2, 4, 2)))]
    assert gradcheck(lambda a, t, c: nabla.ormqr(a, t, c, transpose=True), inputs,
                     **GRADCHECK_TOL)


def test_matrix_rank_old_signature(rng):
    a = rng.standard_normal((3, 5, 4))
    a[1, :, 3] = a[1, :, 0]  # rank 3
    x, t = nabla.tensor(a), torch.tensor(a)
    assert nabla.matrix_rank(x).tolist() == torch.linalg.matrix_rank(t).tolist() == [4, 3, 4]
    assert nabla.matrix_rank(x, tol=1e3).tolist() == [0, 0, 0]
    assert nabla.matrix_rank(x, 0.5).tolist() == torch.linalg.matrix_rank(t, atol=0.5,
                                                                           rtol=0).tolist()
    s = a[0] @ a[0].T
    assert int(nabla.matrix_rank(nabla.tensor(s), symmetric=True)) == 4


def test_geqrf_has_no_derivative(rng):
    x = nabla.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="geqrf: the derivative is not implemented"):
        nabla.geqrf(x)[0].sum().backward()


def test_removed_functions_name_their_replacement():
    a = nabla.eye(3, dtype=nabla.float64)
    for call, hint in ((lambda: nabla.solve(a, a), "linalg.solve"),
                       (lambda: nabla.lstsq(a, a), "linalg.lstsq"),
                       (lambda: nabla.eig(a), "linalg.eigh"),
                       (lambda: nabla.symeig(a), "eigvalsh"),
                       (lambda: a.solve(a), "linalg.solve"),
                       (lambda: a.lstsq(a), "linalg.lstsq"),
                       (lambda: a.eig(), "linalg.eigh"),
                       (lambda: a.symeig(True), "UPLO")):
        with pytest.raises(RuntimeError, match=f"removed.*{hint}"):
            call()


def test_errors():
    with pytest.raises(RuntimeError, match="frobenius_norm: expected at most 2 dimensions"):
        nabla.frobenius_norm(nabla.ones(2, 2, 2), dim=(0, 1, 2))
    with pytest.raises(nabla.linalg.LinAlgError, match="singular"):
        nabla.lu(nabla.zeros(2, 2))  # without get_infos a singular matrix raises, as torch
    LU, pivots, info = nabla.lu(nabla.zeros(2, 2), get_infos=True)
    assert int(info) == 1
    with pytest.raises(RuntimeError, match="ormqr: other of shape"):
        nabla.ormqr(*nabla.geqrf(nabla.ones(4, 3)), nabla.ones(3, 2))


# -- svd_lowrank, pca_lowrank --------------------------------------------------------------------
def _low_rank(rng, *shape, rank):
    return rng.standard_normal(shape[:-1] + (rank,)) @ rng.standard_normal(shape[:-2] + (rank,
                                                                                     shape[-1]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 5), (2, 5, 8)])
def test_svd_lowrank_is_exact_for_low_rank(shape, dtype, rng):
    a = _low_rank(rng, *shape, rank=3).astype(dtype)
    U, S, V = nabla.svd_lowrank(nabla.tensor(a), q=4)
    tS = torch.svd_lowrank(torch.tensor(a), q=4)[1]
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-9}
    np.testing.assert_allclose(S._data, tS.numpy(), **tol)
    assert U.shape == shape[:-1] + (4,) and V.shape == shape[:-2] + (shape[-1], 4)
    rebuilt = (U * S.unsqueeze(-2)) @ V.mT
    np.testing.assert_allclose(rebuilt._data, a, **tol)
    np.testing.assert_allclose((U.mT @ U)._data, np.broadcast_to(np.eye(4), S.shape[:-1] + (4, 4)),
                               **tol)


def test_svd_lowrank_with_M_and_pca_lowrank(rng):
    a = rng.standard_normal((7, 4))
    S = nabla.svd_lowrank(nabla.tensor(a), q=4, M=nabla.tensor(a.mean(0, keepdims=True)))[1]
    tS = torch.svd_lowrank(torch.tensor(a), q=4, M=torch.tensor(a.mean(0, keepdims=True)))[1]
    np.testing.assert_allclose(S._data, tS.numpy(), rtol=1e-9)
    for kwargs in ({}, {"center": False}, {"q": 2, "niter": 4}):
        U, S, V = nabla.pca_lowrank(nabla.tensor(a), **kwargs)
        tU, tS, tV = torch.pca_lowrank(torch.tensor(a), **kwargs)
        assert U.shape == tuple(tU.shape) and V.shape == tuple(tV.shape)
        if kwargs.get("q", 4) == 4:  # full rank: exact
            np.testing.assert_allclose(S._data, tS.numpy(), rtol=1e-9)
    with pytest.raises(RuntimeError, match=r"svd_lowrank: q must be in \[0, min\(m, n\)\]"):
        nabla.svd_lowrank(nabla.tensor(a), q=5)


def test_svd_lowrank_gradient(rng):
    """With q = min(m, n) the basis spans A's whole range, so S are A's singular values as a
    function of A: their gradient is svdvals'."""
    a = rng.standard_normal((6, 4))
    x = nabla.tensor(a, requires_grad=True)
    g = rng.standard_normal(4)
    nabla.svd_lowrank(x, q=4)[1].backward(nabla.tensor(g))
    t = torch.tensor(a, requires_grad=True)
    torch.linalg.svdvals(t).backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-8, atol=1e-10)
    # each call draws a new basis: the gradients agree to rounding only
    assert gradcheck(lambda v: nabla.svd_lowrank(v, q=4)[1], (nabla.tensor(a,
                                                                           requires_grad=True),),
                     nondet_tol=1e-12, **GRADCHECK_TOL)


# -- torch.linalg's names of ops nabla has elsewhere: matmul, diagonal, vander ------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_linalg_matmul_diagonal_vander(dtype, rng):
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    compare(lambda m, x, y: m.linalg.matmul(x, y), [a, b], dtype)
    compare(lambda m, x: m.linalg.diagonal(x), [a], dtype)
    compare(lambda m, x: m.linalg.diagonal(x, offset=1, dim1=0, dim2=2), [a], dtype)
    v = rng.standard_normal((2, 3))
    compare(lambda m, x: m.linalg.vander(x), [v], dtype)
    compare(lambda m, x: m.linalg.vander(x[0], N=5), [v], dtype)
    ints = torch.linalg.vander(torch.tensor([[1, 2], [3, 4]]), N=3)
    assert nabla.linalg.vander(nabla.tensor([[1, 2], [3, 4]]), N=3).tolist() == ints.tolist()
    with pytest.raises(RuntimeError, match="linalg.vander: N must be greater than 1"):
        nabla.linalg.vander(nabla.ones(3), N=1)
    x = nabla.tensor(np.array([0.0, 0.5, -2.0]), requires_grad=True)
    assert gradcheck(lambda t: nabla.linalg.vander(t, N=4), (x,), **GRADCHECK_TOL)


def test_lu_under_jit_trace_reads_the_pivots_at_each_replay(rng):
    def solve(a, b):
        return nabla.linalg.lu_solve(*nabla.linalg.lu_factor(a), b)

    a = nabla.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = nabla.tensor(rng.standard_normal((3, 2)))
    traced = nabla.jit.trace(solve, (a, b))
    for order in ([2, 0, 1], [1, 2, 0]):  # other rows first: other pivots
        a2 = nabla.tensor(a._data[order] * 3.0, requires_grad=True)
        np.testing.assert_allclose(traced(a2, b)._data, np.linalg.solve(a2._data, b._data),
                                   rtol=1e-10)
        P = nabla.jit.trace(lambda x: nabla.lu_unpack(*nabla.linalg.lu_factor(x)).P, (a,))(a2)
        np.testing.assert_array_equal(P._data, nabla.linalg.lu(a2).P._data)


def test_ex_variants_warn_under_jit_trace_when_a_matrix_fails():
    bad = nabla.tensor(np.stack([np.eye(2), np.zeros((2, 2))]))
    with pytest.warns(nabla.jit.TracerWarning, match="inv_ex on a batch with failing"):
        nabla.jit.trace(lambda x: nabla.linalg.inv_ex(x).info, (bad,), check_trace=False)
