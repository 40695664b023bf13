"""nabla.special's zeta and orthogonal polynomials against torch.special, in float32 and float64:
values on random grids and at the edges (n < 0, non-integer and huge n, |x| = 1, |x| > 1, +-inf,
+-0), zeta's gradient in q (and PyTorch's refusal in x), and no gradient for the polynomials.

Tolerances: PyTorch's recurrences are compiled with fused multiply-adds, nabla's are not, so
results differ by rounding, which the recurrence amplifies where terms cancel (near a root of
p_n). Values are compared relatively (1e-9) with an absolute floor of 1e-12 times an envelope
of the recurrence: the same recurrence on |x| with every sign made positive, which bounds the
terms that can cancel (for Chebyshev with |x| < 1 and large n, the closed form cos(n acos x) is
used by both, whose rounding error is about n^2 ulps of 1).
"""

import math

import numpy as np
import pytest
import torch

import nabla
from nabla import special
from nabla.autograd import gradcheck

RTOL = {np.float64: 1e-9, np.float32: 1e-4}
FLOOR = {np.float64: 1e-12, np.float32: 1e-5}

CHEBYSHEV = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
             "chebyshev_polynomial_w"]
SHIFTED = ["shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w"]
OTHERS = ["hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
          "legendre_polynomial_p"]
POLYNOMIALS = CHEBYSHEV + SHIFTED + OTHERS


def _envelope(name, x, n):
    """A bound on the magnitude of the recurrence's terms at (x, n), elementwise (float64)."""
    a = np.abs(2 * x - 1) if name.startswith("shifted") else np.abs(x)
    top = int(max(n.max(), 1))
    p, q = np.ones_like(a), 2 * a + 1
    out = np.where(n <= 1, 2 * a + 1, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, top):
            if "chebyshev" in name:
                p, q = q, 2 * a * q + p
            elif name == "hermite_polynomial_h":
                p, q = q, 2 * a * q + 2 * k * p
            elif name == "hermite_polynomial_he":
                p, q = q, a * q + k * p
            elif name == "laguerre_polynomial_l":
                p, q = q, ((2 * k + 1 + a) * q + k * p) / (k + 1)
            else:
                p, q = q, ((2 * k + 1) * a * q + k * p) / (k + 1)
            out = np.where(n == k + 1, q, out)
    if "chebyshev" in name:  # the closed forms: rounding of about n^2 ulps of 1
        out = np.where((a < 1) & (n > 6), 4.0 * (n + 1) ** 2, out)
    return out


def _compare(name, x, n, dtype):
    nx, nn = nabla.tensor(x.astype(dtype)), nabla.tensor(n.astype(dtype))
    got = getattr(special, name)(nx, nn)
    want = getattr(torch.special, name)(torch.tensor(x.astype(dtype)),
                                        torch.tensor(n.astype(dtype))).numpy()
    a = np.asarray(got._data)
    assert a.dtype == want.dtype and a.shape == want.shape, name
    assert not got.requires_grad
    with np.errstate(invalid="ignore"):  # n = nan or huge: the result is 0, no envelope needed
        degree = np.where(np.abs(n) < 1e6, np.trunc(n), 0.0)
    atol = FLOOR[dtype] * _envelope(name, x.astype(np.float64), degree)
    finite = np.isfinite(want)
    np.testing.assert_array_equal(a[~finite], want[~finite], err_msg=name)
    diff = np.abs(a[finite] - want[finite])
    bound = RTOL[dtype] * np.abs(want[finite]) + atol[finite]
    assert np.all(diff <= bound), (name, np.max(diff - bound))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_random(name, dtype, rng):
    low, high = (0.0, 1.0) if name in SHIFTED else (-1.0, 1.0)
    span = high - low
    x = np.concatenate([rng.uniform(low, high, 300), rng.uniform(low - span, high + span, 100)])
    top = 40 if dtype == np.float32 else 120  # float32: torch forms n acos(x) in float32
    n = rng.integers(-2, top, x.shape).astype(np.float64)
    _compare(name, x, n, dtype)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_edges(name):
    x = np.array([1.0, -1.0, 0.0, -0.0, 0.5, 2.0, -2.0, math.inf, -math.inf, 1e-300, 3.0])
    n = np.array([-3.0, -0.5, 0.0, 0.7, 1.0, 1.9, 2.0, 3.0, 7.0, 8.0, 9.0, 10.0, 31.0, 100.0,
                  -math.inf, math.inf, 1e30, math.nan])
    X, N = np.meshgrid(x, n)
    _compare(name, X, N, np.float64)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_nan_x_and_broadcasting(name, rng):
    """At x = nan PyTorch's scalar-n path reads uninitialized memory (U, W, Laguerre, Legendre:
    6.95e-310 or -5.5e303), so nabla is held to the math: 1 at n = 0, nan above."""
    f = getattr(special, name)
    got = np.asarray(f(nabla.tensor([math.nan] * 3), nabla.tensor([0.0, 1.0, 5.0]))._data)
    np.testing.assert_array_equal(got, [1.0, math.nan, math.nan])
    x, n = rng.uniform(0, 1, (3, 1)), np.arange(4.0)
    want = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n))
    np.testing.assert_allclose(np.asarray(f(nabla.tensor(x), nabla.tensor(n))._data),
                               want.numpy(), rtol=1e-12, atol=1e-14)
    scalar = getattr(torch.special, name)(torch.tensor(x), 3)
    np.testing.assert_allclose(np.asarray(f(nabla.tensor(x), 3)._data), scalar.numpy(),
                               rtol=1e-12, atol=1e-14)
    ints = f(nabla.tensor([0, 1, 2]), nabla.tensor([3, 3, 3]))
    want = getattr(torch.special, name)(torch.tensor([0, 1, 2]), torch.tensor([3, 3, 3]))
    assert str(ints.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(ints._data), want.numpy(), rtol=1e-6)


def test_polynomials_have_no_gradient():
    x = nabla.tensor([0.3, 0.6], requires_grad=True)
    for name in POLYNOMIALS:
        y = getattr(special, name)(x, 3)
        assert not y.requires_grad and y.grad_fn is None, name
    with pytest.raises(RuntimeError):
        special.chebyshev_polynomial_t(x, 3).sum().backward()


def test_polynomials_known_values():
    x = nabla.tensor([0.5])
    assert float(special.chebyshev_polynomial_t(x, 1000000)._data[0]) == pytest.approx(-0.5)
    assert float(special.hermite_polynomial_h(nabla.tensor([2.0]), 3)._data[0]) == 40.0
    assert float(special.legendre_polynomial_p(nabla.tensor([-1.0]), 3)._data[0]) == -1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zeta_matches_torch(dtype, rng):
    x = np.concatenate([rng.uniform(1.0, 30.0, 600), rng.uniform(1.0, 1.01, 50),
                        rng.integers(2, 10, 100).astype(np.float64),
                        [math.nan, math.inf, -math.inf, 1.0, 0.5, 2, 2, 2, 2, 2, 2, 2, 2, 3,
                         2.5, 2, 2, 1e300, 60, 100, 1000, 2]])
    q = np.concatenate([rng.uniform(0.0, 20.0, 600), 10 ** rng.uniform(-5, 12, 50),
                        rng.uniform(-20.0, 0.0, 100),
                        [1, 1, 1, 1, 1, math.nan, math.inf, -math.inf, 0, -0.0, -1, -2.5,
                         1e-300, -2.5, -2.5, 1e8, 1e9, 1, 1, 1, 1, 1e-20]])
    with np.errstate(over="ignore"):  # 1e300 in float32: inf
        x, q = x.astype(dtype), q.astype(dtype)
    got = special.zeta(nabla.tensor(x), nabla.tensor(q))
    want = torch.special.zeta(torch.tensor(x), torch.tensor(q)).numpy()
    # the same Euler-Maclaurin sum as torch's Cephes code: rounding only (float32: torch works
    # in float32, where pow(q, -x) of a large q already loses ~x ulps)
    rtol = 1e-13 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(np.asarray(got._data), want, rtol=rtol, atol=0, equal_nan=True)
    assert np.asarray(got._data).dtype == want.dtype


def test_zeta_gradient_in_q_and_none_in_x(rng):
    x = nabla.tensor(rng.uniform(1.5, 5.0, 6))
    q = nabla.tensor(rng.uniform(0.5, 4.0, 6), requires_grad=True)
    tq = torch.tensor(q._data, requires_grad=True)
    g = rng.standard_normal(6)
    special.zeta(x, q).backward(nabla.tensor(g))
    torch.special.zeta(torch.tensor(x._data), tq).backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(q.grad._data), tq.grad.numpy(), rtol=1e-12)
    assert gradcheck(lambda q: special.zeta(x, q), (q,), eps=1e-6, atol=1e-6, rtol=1e-4)
    xs = nabla.tensor(x._data, requires_grad=True)
    with pytest.raises(NotImplementedError, match="zeta"):
        special.zeta(xs, q).sum().backward()
    # numbers on either side, as torch
    a = special.zeta(2.0, nabla.tensor([1.0, 2.0]))
    np.testing.assert_allclose(np.asarray(a._data), [math.pi ** 2 / 6, math.pi ** 2 / 6 - 1],
                               rtol=1e-6)
    b = special.zeta(nabla.tensor([2, 4]), 1)
    want = torch.special.zeta(torch.tensor([2, 4]), 1)
    np.testing.assert_allclose(np.asarray(b._data), want.numpy(), rtol=1e-6)
    assert str(b.dtype).endswith(str(want.dtype).split(".")[-1])
