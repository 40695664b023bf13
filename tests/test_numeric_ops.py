"""ops/numeric.py (and the modules it re-exports: bessel.py, erfinv.py, matrix_exp.py) against
PyTorch: gcd/lcm, frexp/ldexp, nextafter, isposinf/isneginf/isreal, i0 (and torch.special's
i0e/i1/i1e), erfinv, cross, trapezoid/trapz/cumulative_trapezoid, vander, matrix_exp. Forward
and backward with random upstream gradients in float32 and float64, broadcasting, negative dims
and non-contiguous inputs; float64 gradcheck (and gradgradcheck) for the differentiable ones;
the Tensor methods and their in-place forms; the errors."""

import warnings

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.autograd import gradcheck, gradgradcheck

FLOATS = [np.float32, np.float64]


def _pair(array, requires_grad=True):
    """The same values as a nabla tensor (sharing ``array``'s memory, so a transposed array
    stays non-contiguous) and a torch tensor."""
    grad = requires_grad and array.dtype.kind == "f"
    n = nabla.from_numpy(array)
    return (n.requires_grad_() if grad else n), torch.tensor(array, requires_grad=grad)


def _compare(nf, tf, arrays, rng, grad=True):
    """nf and tf on the same inputs: outputs equal; with ``grad``, every floating input's
    gradient for one random upstream gradient."""
    pairs = [_pair(a, grad) for a in arrays]
    ny, ty = nf(*[p[0] for p in pairs]), tf(*[p[1] for p in pairs])
    assert_close(ny, ty, what="output")
    if grad:
        g = rng.standard_normal(tuple(ty.shape)).astype(ny.dtype)
        ny.backward(nabla.tensor(g))
        ty.backward(torch.tensor(g))
        for i, (n, t) in enumerate(pairs):
            if t.requires_grad:
                assert_close(n.grad, t.grad, what=f"grad of argument {i}")
    return ny


def _check_grads(fn, *arrays, second=True):
    inputs = [nabla.tensor(a, dtype=nabla.float64, requires_grad=True) for a in arrays]
    assert gradcheck(fn, tuple(inputs), **GRADCHECK_TOL)
    if second:
        assert gradgradcheck(fn, tuple(inputs), **GRADCHECK_TOL)


# -- gcd, lcm ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_match_torch(name, rng):
    a = rng.integers(-60, 60, (4, 5))
    b = rng.integers(-60, 60, (5,))
    a[0, :2], b[:2] = 0, 0  # gcd(0, 0), gcd(x, 0)
    _compare(getattr(nabla, name), getattr(torch, name), [a, b], rng, grad=False)
    _compare(getattr(nabla, name), getattr(torch, name), [a.T, b[:4]], rng, grad=False)
    for da, db in [(np.int8, np.int32), (np.uint8, np.int8), (np.int16, np.int16)]:
        x, y = a[:2, :3].astype(da) % 50, b[:3].astype(db)
        _compare(getattr(nabla, name), getattr(torch, name), [x, y], rng, grad=False)
    out = getattr(nabla.tensor(a), name)(nabla.tensor(b))  # the Tensor method
    assert_close(out, getattr(torch.tensor(a), name)(torch.tensor(b)))


def test_gcd_lcm_in_place_and_errors():
    x = nabla.tensor([12, 18, 7])
    assert x.gcd_(nabla.tensor([8, 12, 0])) is x and x.tolist() == [4, 6, 7]
    assert x.lcm_(nabla.tensor([6, 4, 2])).tolist() == [12, 12, 14]
    with pytest.raises(TypeError, match="gcd: expected integer"):
        nabla.gcd(nabla.tensor([1.0]), nabla.tensor([2.0]))
    with pytest.raises(TypeError, match="lcm: expected integer"):
        nabla.lcm(nabla.tensor([True]), nabla.tensor([True]))
    with pytest.raises(ValueError, match="gcd: shapes"):
        nabla.gcd(nabla.tensor([1, 2]), nabla.tensor([1, 2, 3]))


# -- frexp, ldexp, nextafter ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
def test_frexp_values_and_gradient(dtype, rng):
    edge = np.array([0.0, -0.0, 1.0, -3.5, np.inf, -np.inf, np.nan, 1e-40, 6e4], dtype)
    nm, ne = nabla.frexp(nabla.tensor(edge))
    tm, te = torch.frexp(torch.tensor(edge))
    assert_close(nm, tm)
    assert_close(ne, te)
    x = (rng.standard_normal((3, 4)) * 100).astype(dtype)
    out = _compare(lambda t: nabla.frexp(t).mantissa, lambda t: torch.frexp(t).mantissa,
                   [x.T], rng)
    assert out.requires_grad
    m, e = nabla.tensor(x).frexp()  # the method, a (mantissa, exponent) pair
    assert not e.requires_grad and e.dtype == nabla.int32
    np.testing.assert_array_equal(np.ldexp(m.numpy(), e.numpy()), x)
    _check_grads(lambda t: nabla.frexp(t)[0], x)
    with pytest.raises(TypeError, match="frexp: expected a floating"):
        nabla.frexp(nabla.tensor([1, 2]))


@pytest.mark.parametrize("dtype", FLOATS)
def test_ldexp_matches_torch(dtype, rng):
    x = rng.standard_normal((3, 4)).astype(dtype)
    e_int = rng.integers(0, 6, (4,))
    _compare(nabla.ldexp, torch.ldexp, [x, e_int], rng)
    # torch's gradient for negative integer exponents is 0 (it forms 2 ** e in integers);
    # nabla's is 2 ** e
    neg = nabla.tensor(x, requires_grad=True)
    nabla.ldexp(neg, nabla.tensor([-1, -2, 0, 3])).sum().backward()
    np.testing.assert_array_equal(neg.grad.numpy(), np.broadcast_to([0.5, 0.25, 1, 8], (3, 4)))
    e_float = rng.uniform(-2, 2, (3, 1)).astype(dtype)
    _compare(nabla.ldexp, torch.ldexp, [x.T.copy().T, e_float], rng)  # gradient of both
    _check_grads(nabla.ldexp, x, e_float)
    # integer mantissas give floats; an exponent past the float range saturates as in torch
    ints = [np.array([1, 2, 3]), np.array([-1, 2, 200])]
    _compare(nabla.ldexp, torch.ldexp, ints, rng, grad=False)
    big = [np.array([1e-30], np.float32), np.array([100])]
    _compare(nabla.ldexp, torch.ldexp, big, rng, grad=False)
    y = nabla.tensor(x.copy())
    assert y.ldexp_(nabla.tensor(e_int)) is y
    assert_close(y, torch.ldexp(torch.tensor(x), torch.tensor(e_int)))
    assert_close(nabla.tensor(x).ldexp(nabla.tensor(e_int)),
                 torch.tensor(x).ldexp(torch.tensor(e_int)))


def test_nextafter_matches_torch(rng):
    for dtype in FLOATS:
        x = rng.standard_normal((2, 3)).astype(dtype)
        y = np.array([0.0, np.inf, -np.inf], dtype)
        _compare(nabla.nextafter, torch.nextafter, [x, y], rng)  # gradient: 1 and 0
    mixed = [np.array([1.0, -2.0], np.float32), np.array([2.0, -3.0])]
    _compare(nabla.nextafter, torch.nextafter, mixed, rng)  # promoted to float64
    x = nabla.tensor([1.0, 2.0])
    assert_close(x.nextafter(nabla.tensor([0.0, 3.0])),
                 torch.tensor([1.0, 2.0]).nextafter(torch.tensor([0.0, 3.0])))
    assert x.nextafter_(nabla.tensor([2.0, 1.0])) is x
    assert x.tolist() == torch.tensor([1.0, 2.0]).nextafter_(torch.tensor([2.0, 1.0])).tolist()
    with pytest.raises(TypeError, match="nextafter: expected floating"):
        nabla.nextafter(nabla.tensor([1]), nabla.tensor([2]))


def test_isposinf_isneginf_isreal():
    values = np.array([[1.0, np.inf], [-np.inf, np.nan]], np.float32)
    for name in ["isposinf", "isneginf", "isreal"]:
        for v in [values, values.T, np.array([1, -2]), np.array(np.inf)]:
            assert_close(getattr(nabla, name)(nabla.from_numpy(v)),
                         getattr(torch, name)(torch.tensor(v)))
        assert_close(getattr(nabla.tensor(values), name)(),
                     getattr(torch.tensor(values), name)())
    assert not nabla.isposinf(nabla.tensor([1.0], requires_grad=True)).requires_grad


# -- i0 and torch.special's i0e, i1, i1e ---------------------------------------------------------
BESSEL = [("i0", torch.i0), ("i0e", torch.special.i0e), ("i1", torch.special.i1),
          ("i1e", torch.special.i1e)]


@pytest.mark.parametrize("name, ref", BESSEL)
def test_bessel_family_wide_range(name, ref):
    x = np.concatenate([np.linspace(-60, 60, 2401), [0.0, -0.0, 1e-300, 19.999, 20.001, 700.0,
                                                      1e4, np.nan]])
    fn = getattr(nabla.special, name)
    out, want = fn(nabla.tensor(x)).numpy(), ref(torch.tensor(x)).numpy()
    np.testing.assert_allclose(out, want, rtol=1e-13, atol=0, equal_nan=True)
    x32 = np.linspace(-30, 30, 601, dtype=np.float32)
    out32 = fn(nabla.tensor(x32))
    assert out32.dtype == nabla.float32
    np.testing.assert_allclose(out32.numpy(), ref(torch.tensor(x32)).numpy(), rtol=2e-6)
    ints = fn(nabla.tensor([0, 1, 2]))  # integers give the default float dtype
    assert_close(ints, ref(torch.tensor([0, 1, 2])))


@pytest.mark.parametrize("name, ref", BESSEL)
@pytest.mark.parametrize("dtype", FLOATS)
def test_bessel_family_gradients(name, ref, dtype, rng):
    x = (rng.standard_normal((3, 4)) * 8).astype(dtype)
    x[0, 0] = 0.0  # the rules' special point
    _compare(getattr(nabla.special, name), ref, [x.T], rng)
    _check_grads(getattr(nabla.special, name), x[1:] + 0.3)


def test_i0_names_and_in_place():
    assert nabla.special.i0 is nabla.i0
    x = nabla.tensor([0.5, -2.0])
    assert_close(x.i0(), torch.tensor([0.5, -2.0]).i0())
    assert x.i0_() is x
    assert_close(x, torch.i0(torch.tensor([0.5, -2.0])))
    with pytest.raises(RuntimeError, match="i0_"):
        nabla.tensor([1, 2]).i0_()  # a float result cannot go into an integer tensor


# -- erfinv ---------------------------------------------------------------------------------------
def test_erfinv_values_like_torch():
    x = np.concatenate([np.linspace(-1, 1, 4001), 1 - np.geomspace(1e-16, 1e-2, 60),
                        np.geomspace(1e-300, 1e-3, 20), [-0.0, 1.5, -2.0, np.nan]])
    out = nabla.erfinv(nabla.tensor(x))
    want = torch.erfinv(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-12, atol=0, equal_nan=True)
    assert np.signbit(out.numpy()[x == 0]).tolist() == np.signbit(x[x == 0]).tolist()
    x32 = np.linspace(-1, 1, 20001, dtype=np.float32)
    np.testing.assert_allclose(nabla.erfinv(nabla.tensor(x32)).numpy(),
                               torch.erfinv(torch.tensor(x32)).numpy(), rtol=3e-7, atol=1e-7)
    assert_close(nabla.erfinv(nabla.tensor([0, 1])), torch.erfinv(torch.tensor([0, 1])))
    assert nabla.special.erfinv is nabla.erfinv


@pytest.mark.parametrize("dtype", FLOATS)
def test_erfinv_gradient(dtype, rng):
    x = rng.uniform(-0.99, 0.99, (4, 3)).astype(dtype)
    _compare(nabla.erfinv, torch.erfinv, [x.T], rng)
    _check_grads(nabla.erfinv, rng.uniform(-0.9, 0.9, (5,)))
    y = nabla.tensor(x.copy())
    assert y.erfinv_() is y
    assert_close(y, torch.tensor(x).erfinv_())
    # in place on a non-leaf: recorded, so the gradient reaches the leaf
    nleaf, tleaf = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ny, ty = (nleaf * 0.5).erfinv_(), (tleaf * 0.5).erfinv_()
    ny.sum().backward()
    ty.sum().backward()
    assert_close(nleaf.grad, tleaf.grad)
    assert_close(nabla.tensor(x).erfinv(), torch.tensor(x).erfinv())


# -- cross ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_default_dim_is_the_first_of_size_3(dtype, rng):
    for sa, sb in [((3, 4, 3), (3, 4, 3)), ((2, 3), (1, 3)), ((4, 1, 3), (1, 3, 3))]:
        a, b = rng.standard_normal(sa).astype(dtype), rng.standard_normal(sb).astype(dtype)
        with warnings.catch_warnings():  # torch's notice that it deprecates the default
            warnings.simplefilter("ignore")
            want = torch.cross(torch.tensor(a), torch.tensor(b))
        assert_close(nabla.cross(nabla.tensor(a), nabla.tensor(b)), want)
    a, b = rng.standard_normal((3, 5)).astype(dtype), rng.standard_normal((3, 5)).astype(dtype)
    _compare(lambda x, y: nabla.cross(x, y, dim=-2), lambda x, y: torch.cross(x, y, dim=-2),
             [a, b.T.copy().T], rng)
    assert_close(nabla.tensor(a).cross(nabla.tensor(b), 0),
                 torch.tensor(a).cross(torch.tensor(b), 0))
    with pytest.raises(RuntimeError, match="no dimension of size 3"):
        nabla.cross(nabla.zeros(2, 4), nabla.zeros(2, 4))


def test_cross_gradcheck(rng):
    _check_grads(lambda x, y: nabla.cross(x, y), rng.standard_normal((3, 2)),
                 rng.standard_normal((3, 2)))


# -- trapezoid, trapz, cumulative_trapezoid ------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["trapezoid", "trapz", "cumulative_trapezoid"])
def test_trapezoid_family_matches_torch(name, dtype, rng):
    nf, tf = getattr(nabla, name), getattr(torch, name)
    y = rng.standard_normal((3, 5)).astype(dtype)
    _compare(lambda t: nf(t), lambda t: tf(t), [y.T], rng)
    _compare(lambda t: nf(t, dx=0.5, dim=0), lambda t: tf(t, dx=0.5, dim=0), [y], rng)
    x1 = np.sort(rng.standard_normal(5)).astype(dtype)
    _compare(lambda t, s: nf(t, s), lambda t, s: tf(t, s), [y, x1], rng)
    x2 = rng.standard_normal((1, 5)).astype(dtype)  # broadcast against y
    _compare(lambda t, s: nf(t, s, dim=-1), lambda t, s: tf(t, s, dim=-1), [y, x2], rng)
    x3 = rng.standard_normal((3,)).astype(dtype)
    _compare(lambda t, s: nf(t, s, dim=-2), lambda t, s: tf(t, s, dim=-2), [y, x3], rng)


def test_trapezoid_edges_and_integers(rng):
    for name in ["trapezoid", "cumulative_trapezoid"]:
        nf, tf = getattr(nabla, name), getattr(torch, name)
        for shape, dim in [((0,), -1), ((2, 0), 1), ((1,), 0), ((2, 1), -1), ((4, 3), 0)]:
            y = rng.standard_normal(shape).astype(np.float32)
            assert_close(nf(nabla.tensor(y), dim=dim), tf(torch.tensor(y), dim=dim))
        ints = np.array([[1, 2, 4], [3, 5, 9]])
        assert_close(nf(nabla.tensor(ints)), tf(torch.tensor(ints)))
        assert_close(nf(nabla.tensor(ints), dx=2), tf(torch.tensor(ints), dx=2))
        assert_close(nf(nabla.tensor(ints), nabla.tensor([0, 1, 3])),
                     tf(torch.tensor(ints), torch.tensor([0, 1, 3])))
        with pytest.raises(RuntimeError, match="one x value for each sample"):
            nf(nabla.ones(2, 3), nabla.ones(4))
        with pytest.raises(IndexError, match="out of range"):
            nf(nabla.tensor(1.0))
        with pytest.raises(TypeError, match="not both"):
            nf(nabla.ones(3), nabla.ones(3), dx=2.0)
        with pytest.raises(TypeError, match="x must be a Tensor"):
            nf(nabla.ones(3), 2.0)


def test_trapezoid_gradcheck(rng):
    y, x = rng.standard_normal((2, 4)), np.sort(rng.standard_normal(4))
    _check_grads(lambda a, b: nabla.trapezoid(a, b), y, x)
    _check_grads(lambda a, b: nabla.cumulative_trapezoid(a, b), y, x)
    _check_grads(lambda a: nabla.trapz(a, dx=0.3, dim=0), y)


# -- vander ---------------------------------------------------------------------------------------
def test_vander_values_like_torch(rng):
    x = rng.standard_normal(4)
    for n, increasing in [(None, False), (None, True), (0, False), (1, True), (6, False)]:
        for v in [x, x.astype(np.float32), np.array([2, -1, 0, 3]), np.array([1, 0], bool),
                  np.arange(3, dtype=np.int32)]:
            assert_close(nabla.vander(nabla.tensor(v), N=n, increasing=increasing),
                         torch.vander(torch.tensor(v), N=n, increasing=increasing))
    with pytest.raises(RuntimeError, match="one-dimensional"):
        nabla.vander(nabla.ones(2, 2))
    with pytest.raises(RuntimeError, match="non-negative"):
        nabla.vander(nabla.ones(2), N=-1)


@pytest.mark.parametrize("dtype", FLOATS)
def test_vander_gradient(dtype, rng):
    x = rng.standard_normal(5).astype(dtype)
    x[1] = 0.0  # the running products' zero-safe rule: d(x^k)/dx = k x^(k-1) at 0 as well
    powers = torch.arange(4, dtype=torch.float64)
    # the reference: torch's powers x ** j (torch.vander's own backward fails in place)
    _compare(lambda t: nabla.vander(t, 4, True),
             lambda t: (t.unsqueeze(-1) ** powers.to(t.dtype)), [x], rng)
    _check_grads(lambda t: nabla.vander(t), rng.standard_normal(4))


# -- matrix_exp -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
def test_matrix_exp_forward(dtype, rng):
    for shape, scale in [((4, 4), 1.0), ((2, 3, 5, 5), 0.1), ((3, 3), 20.0), ((1, 1), 3.0),
                         ((2, 0, 0), 1.0), ((0, 3, 3), 1.0)]:
        a = (rng.standard_normal(shape) * scale).astype(dtype)
        # float32 against the float64 result: the squarings amplify rounding to about
        # eps * |A|_1 of the largest entry (up to 7x that over 2,000 draws, torch's float32 as
        # much), so two float32 results of a norm-60 matrix differed by 1e-5 for some seeds.
        want = torch.matrix_exp(torch.tensor(a, dtype=torch.float64)).numpy()
        out = nabla.matrix_exp(nabla.tensor(a))
        scale_of = np.abs(want).max(initial=1.0)
        norm = max(1.0, float(np.abs(a.astype(np.float64)).sum(-2).max(initial=0.0)))
        atol = 20 * np.finfo(np.float32).eps * norm if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(out.numpy() / scale_of, want / scale_of, atol=atol)
        assert out.dtype == a.dtype and out.shape == a.shape
    z = nabla.zeros(3, 3)
    assert_close(nabla.matrix_exp(z), torch.eye(3))
    assert nabla.linalg.matrix_exp is nabla.matrix_exp  # torch.linalg.matrix_exp too
    assert_close(nabla.tensor(a).matrix_exp() if a.size else z.matrix_exp(), torch.eye(3))


@pytest.mark.parametrize("dtype", FLOATS)
def test_matrix_exp_gradient(dtype, rng):
    a = (rng.standard_normal((2, 4, 4)) * 0.7).astype(dtype)
    _compare(nabla.matrix_exp, torch.matrix_exp, [np.swapaxes(a, -1, -2)], rng)
    _check_grads(nabla.matrix_exp, rng.standard_normal((3, 3)))


def test_matrix_exp_errors():
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        nabla.matrix_exp(nabla.ones(3))
    with pytest.raises(RuntimeError, match="square"):
        nabla.matrix_exp(nabla.ones(2, 3))
    with pytest.raises(RuntimeError, match="floating"):
        nabla.matrix_exp(nabla.tensor([[1, 2], [3, 4]]))
