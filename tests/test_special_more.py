"""nabla.special's normal-distribution functions (ndtr, log_ndtr, ndtri, erfcx, xlog1py) and
the aliases sinc and round against torch.special: random inputs over each domain and the edge
values (nan, +-inf, +-0, domain ends) in float32 and float64, gradients against torch's and by
float64 gradcheck / gradgradcheck; and every new special function (the polynomials' and
Bessel functions' own tests are in test_special_polynomials.py and test_special_bessel.py) on
0-d, empty and non-contiguous inputs.

Tolerances (float64): PyTorch computes these to within a few ulps, except where noted:
- ndtr: torch's CPU kernel is (1 + erf(x / sqrt 2)) / 2, which keeps only absolute accuracy in
  the lower tail (ndtr(-9) = 0 there); nabla's is relative, so ndtr is compared with torch with
  an absolute floor and, in the tail, relatively with 0.5 erfc(-x / sqrt 2) (torch's erfc);
- log_ndtr: torch rounds x / sqrt 2 before squaring it, an error of about x^2 ulps.
float32: torch works in float32 (nabla in float64, then rounds), hence rtol 1e-5.
"""

import math

import numpy as np
import pytest
import torch

import nabla
from nabla import special
from nabla.autograd import gradcheck, gradgradcheck
from nabla.ops.normal_cdf import Ndtr

RTOL = {np.float64: 1e-12, np.float32: 1e-5}
# torch's float32 log_ndtr squares the rounded x / sqrt 2: x^2 ulps, 9e-6 at x = 12
RTOL_OF = {("log_ndtr", np.float32): 3e-5}
ATOL = {"ndtr": {np.float64: 1e-16, np.float32: 1e-7}}  # torch's lower tail (see above)
# erfcx's rule 2 x erfcx(x) - 2/sqrt(pi) cancels to -1/(sqrt(pi) x^2) for large x: in float32
# (torch's and nabla's rule alike) that leaves an absolute error of a few ulps of 1.13
GRAD_ATOL = {("erfcx", np.float32): 1e-6}
DOMAINS = {  # name: (low, high) of the random inputs
    "ndtr": (-12.0, 12.0),
    "log_ndtr": (-40.0, 12.0),
    "ndtri": (0.0, 1.0),
    "erfcx": (-26.0, 60.0),
}
EDGES = {
    "ndtr": [math.nan, math.inf, -math.inf, 0.0, -0.0, -40.0, 40.0, -1.0, 1.0],
    "log_ndtr": [math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, -1e10, 40.0, -40.0, 1e-300],
    "ndtri": [math.nan, 0.0, -0.0, 1.0, 0.5, -1e-300, 1.0 + 2e-16, -math.inf, math.inf,
              0.02425, 0.97575, 1e-300, 5e-324],
    "erfcx": [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 2.0, -26.7, -26.6, 1e300,
              1e-300, -1e-300],
}


def _torch(name, x):
    return getattr(torch.special, name)(x)


def _nabla(name, x):
    return getattr(special, name)(x)


def _check(name, actual, expected, dtype, rtol=None, atol=None):
    """Values equal to rtol (and the name's absolute floor), nan where torch has nan, and the
    sign of every zero and infinity the same."""
    a, e = np.asarray(actual._data), expected.detach().numpy()
    assert a.dtype == e.dtype, f"{name}: dtype {a.dtype} != {e.dtype}"
    rtol = RTOL_OF.get((name, dtype), RTOL[dtype]) if rtol is None else rtol
    atol = ATOL.get(name, {}).get(dtype, 0.0) if atol is None else atol
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True, err_msg=name)
    exact = (e == 0) | np.isinf(e)
    np.testing.assert_array_equal(np.signbit(a[exact]), np.signbit(e[exact]), err_msg=name)


def _random(name, dtype, rng, size=2000):
    low, high = DOMAINS[name]
    return rng.uniform(low, high, size).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(DOMAINS))
def test_forward_random_and_edges(name, dtype, rng):
    with np.errstate(over="ignore"):  # 1e300 in float32: inf
        x = np.concatenate([_random(name, dtype, rng), np.array(EDGES[name], dtype)])
    _check(name, _nabla(name, nabla.tensor(x)), _torch(name, torch.tensor(x)), dtype)


def test_ndtr_lower_tail_is_relatively_accurate():
    x = np.linspace(-37.0, -1.0, 701)
    want = 0.5 * torch.special.erfc(torch.tensor(-x) / math.sqrt(2.0)).numpy()
    got = np.asarray(special.ndtr(nabla.tensor(x))._data)
    # torch's erfc takes the rounded x / sqrt 2: an error of about x^2 ulps, 2e-13 at -37
    np.testing.assert_allclose(got, want, rtol=5e-13, atol=0)
    assert np.all(got > 0)  # finite log_ndtr needs this: torch's ndtr is 0 below -8.3


def test_log_ndtr_has_no_spurious_inf():
    x = np.array([-1e3, -1e5, -1e150, -3e153])
    got = np.asarray(special.log_ndtr(nabla.tensor(x))._data)
    want = torch.special.log_ndtr(torch.tensor(x)).numpy()
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_ndtri_inverts_ndtr(rng):
    p = np.concatenate([rng.uniform(0, 1, 500), 10.0 ** rng.uniform(-300, -1, 500)])
    x = special.ndtri(nabla.tensor(p))
    back = np.where(p < 0.5, np.asarray(special.ndtr(x)._data), p)
    # d log p / d log x = x phi(x) / Phi(x), about x^2: an ulp of x is x^2 ulps of p (3e-13)
    np.testing.assert_allclose(back, p, rtol=5e-13)


def test_integer_inputs_give_the_default_float():
    for name in DOMAINS:
        got = _nabla(name, nabla.tensor([0, 1]))
        want = _torch(name, torch.tensor([0, 1]))
        _check(name, got, want, np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(DOMAINS))
def test_backward_matches_torch(name, dtype, rng):
    low, high = DOMAINS[name]
    x = rng.uniform(max(low, -30.0), min(high, 30.0), 200).astype(dtype)
    # log_ndtr below -1e3: torch's exp(-(y + x^2/2)) is rounding noise (inf at -1e10), and at
    # -inf nan where nabla's phi / Phi gives the limit inf
    edges = np.array([v for v in EDGES[name] if abs(v) < 1e3], dtype)
    x = np.concatenate([x, edges])
    g = rng.standard_normal(x.shape).astype(dtype)
    n, t = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    _nabla(name, n).backward(nabla.tensor(g))
    _torch(name, t).backward(torch.tensor(g))
    # the rules hold exp(x^2 / 2)-sized factors: float32 differs by a few ulps of x^2
    _check(name, n.grad, t.grad, dtype, rtol=1e-10 if dtype == np.float64 else 1e-4,
           atol=GRAD_ATOL.get((name, dtype), 0.0))


@pytest.mark.parametrize("name", list(DOMAINS))
def test_gradcheck(name, rng):
    low, high = DOMAINS[name]
    if name == "ndtri":
        low, high = 0.02, 0.98
    x = rng.uniform(max(low, -5.0), min(high, 5.0), 8)
    n = nabla.tensor(x, requires_grad=True)
    f = getattr(special, name)
    assert gradcheck(f, (n,), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert gradgradcheck(f, (n,), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradcheck_catches_a_wrong_rule():
    class WrongNdtr(Ndtr):
        @staticmethod
        def backward(ctx, grad):
            return 1.01 * Ndtr.backward(ctx, grad)

    x = nabla.tensor(np.linspace(-2, 2, 5), requires_grad=True)
    assert not gradcheck(WrongNdtr.apply, (x,), raise_exception=False)


def test_xlog1py_matches_torch(rng):
    x = np.array([0.0, -0.0, 0.0, 0.0, 1.0, 1.0, 2.0, math.nan, 0.0, -3.0, math.inf, 0.0])
    y = np.array([math.nan, -1.0, -2.0, 3.0, -1.0, -2.0, 0.5, 1.0, math.inf, 1e-20, 1.0, -1.0])
    for dtype in (np.float32, np.float64):
        a, b = x.astype(dtype), y.astype(dtype)
        na, nb = nabla.tensor(a, requires_grad=True), nabla.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        nz, tz = special.xlog1py(na, nb), torch.special.xlog1py(ta, tb)
        _check("xlog1py", nz, tz, dtype)
        g = rng.standard_normal(x.shape).astype(dtype)
        nz.backward(nabla.tensor(g))
        tz.backward(torch.tensor(g))
        _check("xlog1py grad x", na.grad, ta.grad, dtype)
        _check("xlog1py grad y", nb.grad, tb.grad, dtype)


def test_xlog1py_broadcasts_and_promotes(rng):
    a, b = rng.standard_normal((3, 1)), rng.uniform(-0.9, 3, (4,))
    _check("xlog1py", special.xlog1py(nabla.tensor(a), nabla.tensor(b)),
           torch.special.xlog1py(torch.tensor(a), torch.tensor(b)), np.float64)
    b32 = b.astype(np.float32)
    _check("xlog1py", special.xlog1py(2.0, nabla.tensor(b32)),
           torch.special.xlog1py(2.0, torch.tensor(b32)), np.float32)
    _check("xlog1py", special.xlog1py(nabla.tensor(b32), 3), torch.special.xlog1py(
        torch.tensor(b32), 3), np.float32)
    _check("xlog1py", special.xlog1py(nabla.tensor([1, 2]), nabla.tensor([0, 3])),
           torch.special.xlog1py(torch.tensor([1, 2]), torch.tensor([0, 3])), np.float32)
    for number_first in (True, False):  # a number operand: the gradient of the tensor one
        nb, tb = nabla.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
        pair = (2.5, nb, 2.5, tb) if number_first else (nb, 0.7, tb, 0.7)
        special.xlog1py(*pair[:2]).sum().backward()
        torch.special.xlog1py(*pair[2:]).sum().backward()
        _check("xlog1py grad", nb.grad, tb.grad, np.float64)
    na = nabla.tensor(a, requires_grad=True)
    nb = nabla.tensor(b, requires_grad=True)
    assert gradcheck(special.xlog1py, (na, nb), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert gradgradcheck(special.xlog1py, (na, nb), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_sinc_and_round_are_the_ops():
    assert special.sinc is nabla.sinc and special.round is nabla.round
    x = np.array([0.0, -0.0, 0.5, 1.25, -2.5, 3.5, 1e-9, math.nan, math.inf, 123.456])
    _check("sinc", special.sinc(nabla.tensor(x)), torch.special.sinc(torch.tensor(x)),
           np.float64, rtol=1e-15)
    _check("round", special.round(nabla.tensor(x)), torch.special.round(torch.tensor(x)),
           np.float64, rtol=0)
    _check("round", special.round(nabla.tensor(x), decimals=2),
           torch.special.round(torch.tensor(x), decimals=2), np.float64, rtol=1e-15)


UNARY = ["ndtr", "log_ndtr", "ndtri", "erfcx", "bessel_j0", "bessel_j1", "bessel_y0",
         "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
         "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
         "spherical_bessel_j0", "airy_ai"]
BINARY = ["xlog1py", "zeta", "chebyshev_polynomial_t", "shifted_chebyshev_polynomial_w",
          "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
          "legendre_polynomial_p"]


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_shapes_0d_empty_and_views(name, rng):
    """0-d, empty and transposed (non-contiguous) inputs, with broadcasting for two operands."""
    a = rng.uniform(0.1, 0.9, (3, 2))
    cases = [(np.array(0.3), np.array(2.0)), (np.zeros((0, 3)), np.full(3, 2.0)),
             (a.T, np.array([[2.0], [3.0]]))]
    for x, n in cases:
        args = (x,) if name in UNARY else (x, n)
        got = getattr(special, name)(*map(nabla.tensor, args))
        want = getattr(torch.special, name)(*map(torch.tensor, args))
        assert tuple(got.shape) == tuple(want.shape), name
        np.testing.assert_allclose(np.asarray(got._data), want.numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=name)
