"""nabla.linalg vs torch.linalg: forward and backward (random upstream gradients) in float32 and
float64 on batched, 1x1, empty-batch and transposed (non-contiguous) inputs; float64 gradcheck
for every differentiable function, gradgradcheck for the smooth ones; the errors.

A case is a function of the library module (nabla or torch), so one lambda runs on both.
Eigen- and singular vectors are fixed only up to sign: cases compare functions of them that do
not depend on it (V * V, U diag(S) Vh, V diag(f(L)) V^T).
"""

import math

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL

import nabla
from nabla.autograd import gradcheck, gradgradcheck

DTYPES = [np.float32, np.float64]
# LAPACK results of float32 differ from PyTorch's by more than elementwise ops (conftest's
# TOLERANCES): the factorisations accumulate rounding over n steps
TOL = {np.float32: {"rtol": 2e-3, "atol": 2e-4}, np.float64: {"rtol": 1e-6, "atol": 1e-9}}


# -- inputs --------------------------------------------------------------------------------------
def general(rng, *shape):
    """Random matrices kept away from singular (diagonal shifted by n)."""
    n = shape[-1]
    return rng.standard_normal(shape) + (n * np.eye(n) if shape[-2] == n else 0)


def spd(rng, *shape):
    """Symmetric positive-definite matrices, eigenvalues spread (distinct) and >= 1."""
    x = rng.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def symmetric(rng, *shape):
    x = rng.standard_normal(shape)
    return x + np.swapaxes(x, -1, -2)


# -- comparison with PyTorch ---------------------------------------------------------------------
def _outputs(out) -> tuple:
    return tuple(out) if isinstance(out, tuple) else (out,)


def _close(actual, expected, dtype, what):
    want = expected.detach().numpy()
    assert isinstance(actual, nabla.Tensor), f"{what}: got {type(actual)}"
    assert tuple(actual.shape) == want.shape, f"{what}: shape {actual.shape} != {want.shape}"
    assert actual.dtype == want.dtype, f"{what}: dtype {actual.dtype} != {want.dtype}"
    np.testing.assert_allclose(actual._data, want, err_msg=what, **TOL[dtype])


def compare(fn, arrays, dtype, grad=True):
    """fn(nabla, *tensors) and fn(torch, *tensors): every output, and the gradients of
    sum_k <g_k, output_k> (random g_k) over the floating outputs that require grad."""
    arrays = [np.asarray(a, dtype) for a in arrays]
    xs = [nabla.tensor(a, requires_grad=grad) for a in arrays]
    ts = [torch.tensor(a, requires_grad=grad) for a in arrays]
    outs, refs = _outputs(fn(nabla, *xs)), _outputs(fn(torch, *ts))
    assert len(outs) == len(refs)
    for k, (o, r) in enumerate(zip(outs, refs, strict=True)):
        _close(o, r, dtype, f"output {k}")
    if not grad:
        return outs
    rng = np.random.default_rng(0)
    pairs = [(o, r, rng.standard_normal(r.shape).astype(dtype))
             for o, r in zip(outs, refs, strict=True) if r.requires_grad and r.numel()]
    if not pairs:
        return outs
    sum(((o * nabla.tensor(g)).sum() for o, _, g in pairs[1:]),
        (pairs[0][0] * nabla.tensor(pairs[0][2])).sum()).backward()
    sum(((r * torch.tensor(g)).sum() for _, r, g in pairs[1:]),
        (pairs[0][1] * torch.tensor(pairs[0][2])).sum()).backward()
    for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
        if t.grad is None:
            assert x.grad is None or not x.grad._data.any(), f"grad of input {i}"
        else:
            _close(x.grad, t.grad, dtype, f"grad of input {i}")
    return outs


SQUARE_SHAPES = [(4, 4), (2, 3, 4, 4), (1, 1), (0, 3, 3)]


# -- inv, det, slogdet, solve --------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SQUARE_SHAPES)
def test_inv_det_slogdet(shape, dtype, rng):
    a = general(rng, *shape)
    compare(lambda m, x: m.linalg.inv(x), [a], dtype)
    compare(lambda m, x: m.linalg.det(x), [a], dtype)
    compare(lambda m, x: m.linalg.slogdet(x), [a], dtype)
    compare(lambda m, x: m.linalg.slogdet(-x), [a], dtype)  # negative determinants for odd n


def test_empty_matrices():
    """0 x 0 matrices: det 1, empty inverses and factors; 0-column matrices for svd/pinv."""
    for fn in (lambda m, x: m.linalg.det(x), lambda m, x: m.linalg.inv(x),
               lambda m, x: m.linalg.slogdet(x), lambda m, x: m.linalg.cholesky(x),
               lambda m, x: m.linalg.eigh(x), lambda m, x: m.linalg.svdvals(x)):
        compare(fn, [np.zeros((2, 0, 0))], np.float64)
    for fn in (lambda m, x: m.linalg.pinv(x), lambda m, x: m.linalg.svd(x),
               lambda m, x: m.linalg.matrix_norm(x, "nuc"), lambda m, x: m.linalg.qr(x)):
        compare(fn, [np.zeros((3, 0))], np.float64, grad=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_transposed_views(dtype, rng):
    a, b = general(rng, 2, 4, 4), rng.standard_normal((2, 4, 3))
    compare(lambda m, x: m.linalg.inv(x.mT), [a], dtype)
    compare(lambda m, x: m.linalg.det(x.transpose(0, 1)), [rng.standard_normal((4, 2, 4))
                                                            + 4 * np.eye(4)[:, None]], dtype)
    compare(lambda m, x, y: m.linalg.solve(x.mT, y), [a, b], dtype)
    compare(lambda m, x: m.linalg.cholesky(x.mT), [spd(rng, 3, 4, 4)], dtype)
    compare(lambda m, x: m.linalg.qr(x.mT), [rng.standard_normal((3, 5))], dtype)
    compare(lambda m, x: m.linalg.svd(x.mT, full_matrices=False).S, [b], dtype)
    compare(lambda m, x: m.linalg.eigvalsh(x.mT), [symmetric(rng, 4, 4)], dtype)


def _cofactors(a):
    """The cofactor matrices by minors (the reference for det's gradient)."""
    out = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        *batch, i, j = idx
        minor = np.delete(np.delete(a[tuple(batch)], i, 0), j, 1)
        out[idx] = (-1) ** (i + j) * np.linalg.det(minor)
    return out


def test_det_of_singular_matrices_has_the_cofactor_gradient(rng):
    """The gradient of det is the cofactor matrix, also where det = 0 (from the SVD there).
    PyTorch 2.13 returns 0 instead where its LU gives det exactly 0 (a wrong derivative)."""
    exact = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]])  # rank 2, det 0
    low_rank = rng.standard_normal((2, 3, 2)) @ rng.standard_normal((2, 2, 3))  # det ~ 1e-17
    rank_one = np.outer([1.0, -2.0, 0.5], [3.0, 1.0, -1.0])  # all cofactors 0
    batch = np.stack([exact, general(rng, 3, 3), *low_rank, rank_one])
    x = nabla.tensor(batch, requires_grad=True)
    g = rng.standard_normal(5)
    nabla.linalg.det(x).backward(nabla.tensor(g))
    np.testing.assert_allclose(x.grad._data, g[:, None, None] * _cofactors(batch), atol=1e-12)
    gradcheck(nabla.linalg.det, nabla.tensor(batch[:4], requires_grad=True), **GRADCHECK_TOL)
    gradcheck(nabla.linalg.det, nabla.tensor(exact, requires_grad=True), **GRADCHECK_TOL)
    # the SVD route is differentiable too (distinct singular values): second derivatives
    gradgradcheck(nabla.linalg.det, nabla.tensor(batch[:2], requires_grad=True),
                  **GRADCHECK_TOL)


SOLVE_CASES = [
    ((3, 3), (3, 2), {}),
    ((3, 3), (3,), {}),  # a vector
    ((2, 3, 3), (2, 3), {}),  # a batch of vectors: B has A's shape minus the last dim
    ((2, 1, 3, 3), (4, 3, 2), {}),  # batch dims broadcast both ways
    ((3, 3), (2, 4, 3, 1), {}),
    ((3, 3), (2, 3), {"left": False}),  # X A = B
    ((2, 3, 3), (5, 3), {"left": False}),
    ((1, 1), (1, 1), {}),
    ((0, 3, 3), (0, 3, 2), {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb,kw", SOLVE_CASES)
def test_solve(sa, sb, kw, dtype, rng):
    compare(lambda m, a, b: m.linalg.solve(a, b, **kw), [general(rng, *sa),
                                                         rng.standard_normal(sb)], dtype)


# -- cholesky, qr --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SQUARE_SHAPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(shape, upper, dtype, rng):
    compare(lambda m, x: m.linalg.cholesky(x, upper=upper), [spd(rng, *shape)], dtype)


def test_cholesky_and_eigh_read_one_triangle(rng):
    a = spd(rng, 4, 4)
    a[np.triu_indices(4, 1)] = rng.standard_normal(6) * 100  # garbage above the diagonal
    compare(lambda m, x: m.linalg.cholesky(x), [a], np.float64)
    compare(lambda m, x: m.linalg.eigvalsh(x), [a], np.float64)
    compare(lambda m, x: m.linalg.eigvalsh(x.mT, UPLO="U"), [a], np.float64)


QR_SHAPES = [(5, 3), (3, 3), (3, 5), (2, 4, 3), (2, 3, 4), (1, 1), (0, 4, 3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", QR_SHAPES)
def test_qr(shape, dtype, rng):
    a = rng.standard_normal(shape)
    compare(lambda m, x: m.linalg.qr(x), [a], dtype)
    compare(lambda m, x: m.linalg.qr(x, mode="r").R, [a], dtype, grad=False)
    complete_grad = shape[-2] <= shape[-1]  # else Q's last columns are not unique
    compare(lambda m, x: m.linalg.qr(x, mode="complete"), [a], dtype, grad=complete_grad)


# -- eigh, svd -----------------------------------------------------------------------------------
def _eigh_invariants(m, x, **kw):
    L, V = m.linalg.eigh(x, **kw)
    return L, V * V, (V * m.exp(L / 10).unsqueeze(-2)) @ V.mT


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SQUARE_SHAPES)
def test_eigh_eigvalsh(shape, dtype, rng):
    a = symmetric(rng, *shape)
    compare(_eigh_invariants, [a], dtype)
    compare(lambda m, x: _eigh_invariants(m, x, UPLO="U"), [a], dtype)
    compare(lambda m, x: m.linalg.eigvalsh(x), [a], dtype)
    compare(lambda m, x: m.linalg.eigvalsh(x), [a], dtype, grad=False)


def _svd_invariants(m, x):
    U, S, Vh = m.linalg.svd(x, full_matrices=False)
    return S, U * U, Vh * Vh, (U * S.unsqueeze(-2)) @ Vh


SVD_SHAPES = [(4, 3), (3, 4), (3, 3), (2, 5, 3), (2, 3, 5), (1, 1), (0, 3, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SVD_SHAPES)
def test_svd_svdvals(shape, dtype, rng):
    a = rng.standard_normal(shape)
    compare(_svd_invariants, [a], dtype)
    compare(lambda m, x: m.linalg.svdvals(x), [a], dtype)
    compare(lambda m, x: m.linalg.svdvals(x), [a], dtype, grad=False)
    # full matrices: the values and the first k vectors (the rest is any basis)
    k = min(shape[-2:])
    compare(lambda m, x: (m.linalg.svd(x).U[..., :k] ** 2, m.linalg.svd(x).S,
                          m.linalg.svd(x).Vh[..., :k, :] ** 2), [a], dtype)


def test_svd_full_matrices_vectors_gradient_needs_reduced():
    a = nabla.randn(4, 3, dtype=nabla.float64, requires_grad=True)
    U, S, Vh = nabla.linalg.svd(a)
    assert U.shape == (4, 4) and Vh.shape == (3, 3)
    with pytest.raises(RuntimeError, match=r"linalg.svd: .*full_matrices=True for a non-square "
                                           r"matrix \(4 x 3\).*full_matrices=False"):
        (U * U).sum().backward()
    Vh = nabla.linalg.svd(a.mT)[2]
    with pytest.raises(RuntimeError, match="full_matrices=False"):
        (Vh * Vh).sum().backward()


# -- pinv, matrix_rank, matrix_power, multi_dot, cross -------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (2, 4, 4), (1, 1), (0, 2, 3)])
def test_pinv(shape, dtype, rng):
    # general(): a random square matrix is sometimes nearly singular, and then float32 rounding,
    # amplified by the condition number, moved pinv's gradient past TOL (1 draw in 20 of 2x4x4)
    compare(lambda m, x: m.linalg.pinv(x), [general(rng, *shape)], dtype)


def test_pinv_thresholds_and_hermitian(rng):
    low = rng.standard_normal((2, 5, 2)) @ rng.standard_normal((2, 2, 4))  # rank 2
    compare(lambda m, x: m.linalg.pinv(x), [low], np.float64, grad=False)
    a = rng.standard_normal((4, 4))
    s = np.linalg.svd(a, compute_uv=False)
    for kw in ({"atol": s[2] * 1.01}, {"rtol": s[1] / s[0] * 0.99}, {"atol": 0.0, "rtol": 0.5}):
        compare(lambda m, x, kw=kw: m.linalg.pinv(x, **kw), [a], np.float64, grad=False)
    compare(lambda m, x: m.linalg.pinv(x, hermitian=True), [symmetric(rng, 2, 4, 4)], np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matrix_rank(dtype, rng):
    low = rng.standard_normal((3, 5, 2)) @ rng.standard_normal((3, 2, 4))
    for kw in ({}, {"atol": 1.0}, {"rtol": 0.3}, {"atol": 0.5, "rtol": 0.1}):
        compare(lambda m, x, kw=kw: m.linalg.matrix_rank(x, **kw), [low], dtype, grad=False)
    compare(lambda m, x: m.linalg.matrix_rank(x, hermitian=True),
            [low[..., :4, :] @ low[..., :4, :].swapaxes(-1, -2)], dtype, grad=False)
    compare(lambda m, x: m.linalg.matrix_rank(x), [np.zeros((2, 0, 3))], dtype, grad=False)
    x = nabla.tensor(low, requires_grad=True)
    assert nabla.linalg.matrix_rank(x).dtype == nabla.int64 and not \
        nabla.linalg.matrix_rank(x).requires_grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -2])
def test_matrix_power(n, dtype, rng):
    compare(lambda m, x: m.linalg.matrix_power(x, n), [general(rng, 2, 3, 3) / 3], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [
    [(3, 4), (4, 2)], [(3,), (3, 4), (4, 2)], [(2, 3), (3, 4), (4, 5), (5, 2)],
    [(10, 2), (2, 10), (10, 3), (3,)], [(3,), (3,)], [(2, 3), (3, 0), (0, 2)],
])
def test_multi_dot(shapes, dtype, rng):
    compare(lambda m, *xs: m.linalg.multi_dot(xs), [rng.standard_normal(s) for s in shapes],
            dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb,kw", [
    ((4, 3), (4, 3), {}), ((2, 1, 3), (1, 4, 3), {}), ((3, 2), (3, 2), {"dim": 0}),
    ((3,), (3,), {}), ((2, 3, 4), (2, 3, 1), {"dim": 1}), ((0, 3), (0, 3), {}),
])
def test_cross(sa, sb, kw, dtype, rng):
    compare(lambda m, a, b: m.linalg.cross(a, b, **kw), [rng.standard_normal(sa),
                                                         rng.standard_normal(sb)], dtype)


# -- norms ---------------------------------------------------------------------------------------
VECTOR_NORMS = [
    {}, {"ord": 1}, {"ord": 3}, {"ord": 0.5}, {"ord": math.inf}, {"ord": -math.inf},
    {"ord": -1}, {"ord": -2.5}, {"ord": 2, "dim": 1}, {"ord": 2, "dim": (0, 2), "keepdim": True},
    {"ord": 1, "dim": -1}, {"keepdim": True},
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", VECTOR_NORMS)
def test_vector_norm(kw, dtype, rng):
    x = rng.uniform(0.5, 2.0, (2, 3, 4)) * rng.choice([-1, 1], (2, 3, 4))  # no zeros, no ties
    compare(lambda m, t: m.linalg.vector_norm(t, **kw), [x], dtype)
    x[0, 1] = 0.0
    compare(lambda m, t: m.linalg.vector_norm(t, 0, dim=kw.get("dim")), [x], dtype, grad=False)


def test_vector_norm_dtype_argument_and_integer_input():
    x = nabla.tensor([3.0, 4.0], dtype=nabla.float32)
    y = nabla.linalg.vector_norm(x, dtype=nabla.float64)
    assert y.dtype == nabla.float64 and y.item() == 5.0
    assert nabla.linalg.vector_norm(nabla.tensor([3, 4]), dtype=nabla.float32).item() == 5.0
    with pytest.raises(RuntimeError, match="linalg.vector_norm: expected a floating point"):
        nabla.linalg.vector_norm(nabla.tensor([3, 4]))


MATRIX_ORDS = ["fro", "nuc", 1, -1, math.inf, -math.inf, 2, -2]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm(ord, dtype, rng):
    a = rng.standard_normal((2, 3, 4))
    compare(lambda m, x: m.linalg.matrix_norm(x, ord), [a], dtype)
    compare(lambda m, x: m.linalg.matrix_norm(x, ord, dim=(2, 0), keepdim=True), [a], dtype)
    compare(lambda m, x: m.linalg.norm(x[0], ord), [a], dtype)


@pytest.mark.parametrize("kw", [
    {}, {"ord": 3}, {"dim": 1}, {"dim": (1,), "ord": -math.inf}, {"dim": (0, 2)},
    {"dim": (-1, -2), "ord": "nuc", "keepdim": True}, {"keepdim": True},
])
def test_norm_dispatch(kw, rng):
    x = rng.standard_normal((2, 3, 4))
    if "ord" in kw and "dim" not in kw:
        x = x[0, 0]
    compare(lambda m, t: m.linalg.norm(t, **kw), [x], np.float64)


# -- gradcheck, gradgradcheck (float64 finite differences) ---------------------------------------
def _sym(x):
    return (x + x.mT) / 2


GRADCHECK = {
    "inv": (lambda x: nabla.linalg.inv(x), lambda r: general(r, 2, 3, 3)),
    "det": (lambda x: nabla.linalg.det(x), lambda r: general(r, 2, 3, 3)),
    "slogdet": (lambda x: nabla.linalg.slogdet(x).logabsdet, lambda r: -general(r, 2, 3, 3)),
    "solve": (lambda x: nabla.linalg.solve(x[:3], x[3:].mT), lambda r: general(r, 5, 3)),
    "solve_right": (lambda x: nabla.linalg.solve(x[:3], x[3:], left=False),
                    lambda r: general(r, 5, 3)),
    "cholesky": (lambda x: nabla.linalg.cholesky(_sym(x)), lambda r: spd(r, 2, 3, 3)),
    "cholesky_upper": (lambda x: nabla.linalg.cholesky(_sym(x), upper=True),
                       lambda r: spd(r, 3, 3)),
    "qr_tall": (lambda x: nabla.linalg.qr(x), lambda r: r.standard_normal((4, 3))),
    "qr_wide": (lambda x: nabla.linalg.qr(x), lambda r: r.standard_normal((2, 3, 4))),
    "qr_complete_square": (lambda x: nabla.linalg.qr(x, mode="complete"),
                           lambda r: r.standard_normal((3, 3))),
    "eigh": (lambda x: _eigh_invariants(nabla, _sym(x)), lambda r: symmetric(r, 2, 3, 3)),
    "eigh_upper": (lambda x: _eigh_invariants(nabla, _sym(x), UPLO="U"),
                   lambda r: symmetric(r, 3, 3)),
    "eigvalsh": (lambda x: nabla.linalg.eigvalsh(_sym(x)), lambda r: symmetric(r, 3, 3)),
    "svd_tall": (lambda x: _svd_invariants(nabla, x), lambda r: r.standard_normal((2, 4, 3))),
    "svd_wide": (lambda x: _svd_invariants(nabla, x), lambda r: r.standard_normal((3, 4))),
    "svd_square": (lambda x: _svd_invariants(nabla, x), lambda r: r.standard_normal((3, 3))),
    "svd_full_square": (lambda x: nabla.linalg.svd(x).U.abs(), lambda r: r.standard_normal((3, 3))),
    "svdvals": (lambda x: nabla.linalg.svdvals(x), lambda r: r.standard_normal((2, 3, 4))),
    "pinv": (lambda x: nabla.linalg.pinv(x), lambda r: r.standard_normal((2, 3, 4))),
    "pinv_tall": (lambda x: nabla.linalg.pinv(x), lambda r: r.standard_normal((4, 3))),
    "pinv_hermitian": (lambda x: nabla.linalg.pinv(_sym(x), hermitian=True),
                       lambda r: symmetric(r, 3, 3)),
    "matrix_power": (lambda x: nabla.linalg.matrix_power(x, -3), lambda r: general(r, 3, 3)),
    "multi_dot": (lambda x: nabla.linalg.multi_dot([x[0], x, x.mT, x[:, 1]]),
                  lambda r: r.standard_normal((3, 3))),
    "cross": (lambda x: nabla.linalg.cross(x[:2], x[2:3]), lambda r: r.standard_normal((3, 3))),
    "vector_norm": (lambda x: nabla.linalg.vector_norm(x, 3, dim=-1), lambda r: general(r, 2, 3)),
    "matrix_norm_nuc": (lambda x: nabla.linalg.matrix_norm(x, "nuc"),
                        lambda r: r.standard_normal((2, 3, 4))),
    "matrix_norm_2": (lambda x: nabla.linalg.matrix_norm(x, -2),
                      lambda r: r.standard_normal((3, 4))),
    "norm_nuc": (lambda x: nabla.linalg.norm(x, "nuc"), lambda r: r.standard_normal((3, 4))),
    "norm_dim": (lambda x: nabla.linalg.norm(x, 3, dim=0), lambda r: general(r, 2, 3)),
    "matrix_norm_inf": (lambda x: nabla.linalg.matrix_norm(x, math.inf),
                        lambda r: r.standard_normal((3, 4))),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck(name, rng):
    fn, make = GRADCHECK[name]
    assert gradcheck(fn, nabla.tensor(make(rng), requires_grad=True), **GRADCHECK_TOL)


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "solve", "cholesky", "qr_tall",
                                  "eigh", "svd_tall", "pinv"])
def test_gradgradcheck(name, rng):
    fn, make = GRADCHECK[name]
    assert gradgradcheck(fn, nabla.tensor(make(rng), requires_grad=True), **GRADCHECK_TOL)


# -- results, modes, errors ----------------------------------------------------------------------
def test_named_tuples_and_no_graph_under_no_grad(rng):
    a = nabla.tensor(spd(rng, 3, 3), requires_grad=True)
    assert nabla.linalg.slogdet(a)._fields == ("sign", "logabsdet")
    assert nabla.linalg.eigh(a)._fields == ("eigenvalues", "eigenvectors")
    assert nabla.linalg.svd(a)._fields == ("U", "S", "Vh")
    assert nabla.linalg.qr(a)._fields == ("Q", "R")
    assert not nabla.linalg.slogdet(a).sign.requires_grad
    with nabla.no_grad():
        for y in (nabla.linalg.inv(a), nabla.linalg.det(a), *nabla.linalg.svd(a),
                  nabla.linalg.cholesky(a), nabla.linalg.norm(a), nabla.linalg.pinv(a)):
            assert not y.requires_grad and y.grad_fn is None


def test_qr_gradient_errors_match_pytorch():
    a = nabla.randn(4, 3, dtype=nabla.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="linalg.qr: .*not computed when mode='r'"):
        nabla.linalg.qr(a, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match=r"linalg.qr: .*mode='complete' and m > n \(got 4 x 3"):
        nabla.linalg.qr(a, mode="complete").Q.sum().backward()


def _bad(*shape, dtype=nabla.float64):
    return nabla.zeros(*shape, dtype=dtype)


ERRORS = [
    (lambda: nabla.linalg.inv(_bad(3, 4)),
     r"linalg.inv: expected a batch of square matrices \(..., n, n\), got shape \(3, 4\); "
     r"use linalg.pinv"),
    (lambda: nabla.linalg.inv(_bad(3)), r"linalg.inv: .*got shape \(3,\)"),
    (lambda: nabla.linalg.inv(nabla.tensor([[1, 2], [3, 4]])),
     "linalg.inv: expected a float32 or float64 tensor, got int64"),
    (lambda: nabla.linalg.det(_bad(2, 3, 4)), r"linalg.det: .*square .*\(2, 3, 4\)"),
    (lambda: nabla.linalg.slogdet(_bad(2, 3)), r"linalg.slogdet: .*\(2, 3\)"),
    (lambda: nabla.linalg.cholesky(_bad(2, 3)), r"linalg.cholesky: .*square .*\(2, 3\)"),
    (lambda: nabla.linalg.eigh(_bad(3, 2)), r"linalg.eigh: .*\(3, 2\).*linalg.svd"),
    (lambda: nabla.linalg.eigvalsh(_bad(3, 2)), r"linalg.eigvalsh: .*\(3, 2\)"),
    (lambda: nabla.linalg.eigh(_bad(3, 3), UPLO="X"), "linalg.eigh: UPLO must be 'L'"),
    (lambda: nabla.linalg.svd(_bad(3)), r"linalg.svd: .*at least 2 dimensions, got shape \(3,\)"),
    (lambda: nabla.linalg.svdvals(_bad(3)), r"linalg.svdvals: .*\(3,\)"),
    (lambda: nabla.linalg.qr(_bad(3)), r"linalg.qr: .*\(3,\)"),
    (lambda: nabla.linalg.qr(_bad(3, 3), mode="full"), "linalg.qr: mode must be 'reduced'"),
    (lambda: nabla.linalg.pinv(_bad(3)), r"linalg.pinv: .*\(3,\)"),
    (lambda: nabla.linalg.matrix_rank(_bad(3)), r"linalg.matrix_rank: .*\(3,\)"),
    (lambda: nabla.linalg.matrix_power(_bad(2, 3), 2), r"linalg.matrix_power: .*\(2, 3\)"),
    (lambda: nabla.linalg.solve(_bad(3, 3), _bad(4)),
     r"linalg.solve: incompatible shapes of A \(3, 3\) and B \(4,\)"),
    (lambda: nabla.linalg.solve(_bad(3, 3), _bad(4, 2)),
     r"linalg.solve: incompatible shapes of A \(3, 3\) and B \(4, 2\) for A X = B"),
    (lambda: nabla.linalg.solve(_bad(2, 3, 3), _bad(4, 3, 1)),
     r"linalg.solve: the batch dimensions .* not broadcastable \(2 vs 4\)"),
    (lambda: nabla.linalg.solve(_bad(3, 3), _bad(3), left=False),
     r"linalg.solve: B of shape \(3,\) is a vector .*B.unsqueeze\(-2\)"),
    (lambda: nabla.linalg.solve(_bad(3, 3), _bad(3, 3, dtype=nabla.float32)),
     "linalg.solve: A and B must have the same dtype"),
    (lambda: nabla.linalg.solve(_bad(3, 4), _bad(3)), r"linalg.solve: .*square .*\(3, 4\)"),
    (lambda: nabla.linalg.multi_dot([_bad(3, 3)]), "linalg.multi_dot: expected at least 2"),
    (lambda: nabla.linalg.multi_dot([_bad(2, 3), _bad(2, 3, 3)]),
     r"linalg.multi_dot: tensor 1 has shape \(2, 3, 3\)"),
    (lambda: nabla.linalg.multi_dot([_bad(2, 3), _bad(4, 3)]),
     r"linalg.multi_dot: tensors 0 and 1 of shapes \(2, 3\) and \(4, 3\) cannot be multiplied"),
    (lambda: nabla.linalg.cross(_bad(4), _bad(4)), "linalg.cross: inputs dimension -1 must have "
                                                   "length 3"),
    (lambda: nabla.linalg.cross(_bad(2, 3), _bad(3)), "linalg.cross: .*same number of dim"),
    (lambda: nabla.linalg.cross(_bad(2, 3), _bad(4, 3)), r"linalg.cross: .*not broadcastable"),
    (lambda: nabla.linalg.matrix_norm(_bad(3)), r"linalg.matrix_norm: .*\(3,\)"),
    (lambda: nabla.linalg.matrix_norm(_bad(3, 3), 3), "linalg.matrix_norm: order 3 is not "
                                                      "supported"),
    (lambda: nabla.linalg.matrix_norm(_bad(3, 3), dim=(0, 0)), "linalg.matrix_norm: the two dims"),
    (lambda: nabla.linalg.norm(_bad(2, 2, 2), 2),
     r"linalg.norm: with ord=2 and no dim, the input must be 1-D or 2-D, got shape \(2, 2, 2\)"),
    (lambda: nabla.linalg.norm(_bad(2, 2, 2), dim=(0, 1, 2)), "linalg.norm: dim must be"),
    (lambda: nabla.linalg.vector_norm(_bad(0), math.inf), "linalg.vector_norm: cannot compute"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_name_the_op_shape_and_fix(i):
    call, pattern = ERRORS[i]
    with pytest.raises(RuntimeError, match=pattern):
        call()


def test_vector_norm_rejects_string_orders():
    with pytest.raises(TypeError, match="linalg.vector_norm: ord must be a number"):
        nabla.linalg.vector_norm(_bad(3), "fro")


def test_singular_and_indefinite_inputs_raise_linalg_error():
    batch = nabla.tensor(np.stack([np.eye(3), np.ones((3, 3))]))
    with pytest.raises(nabla.linalg.LinAlgError, match=r"linalg.inv: .*singular .*batch element "
                                                       r"\(1,\).*linalg.pinv"):
        nabla.linalg.inv(batch)
    with pytest.raises(nabla.linalg.LinAlgError, match="linalg.solve: A is singular"):
        nabla.linalg.solve(batch, nabla.ones(2, 3, dtype=nabla.float64))
    with pytest.raises(nabla.linalg.LinAlgError, match=r"linalg.cholesky: .*not "
                                                       r"positive-definite \(batch element \(1,"):
        nabla.linalg.cholesky(batch)
    with pytest.raises(nabla.linalg.LinAlgError, match="linalg.inv"):
        nabla.linalg.matrix_power(batch, -1)
    assert issubclass(nabla.linalg.LinAlgError, RuntimeError)
