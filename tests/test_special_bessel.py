"""nabla.special's Bessel family and airy_ai: against mpmath's arbitrary-precision values (the
accuracy), against torch.special in float32 and float64 (random inputs and the edge values nan,
+-inf, +-0, negatives), and without gradient as PyTorch's.

Tolerances against torch (float64): PyTorch's CPU kernels for J0, J1, Y0, Y1 lose up to ~1e-6
absolute between 5 and 25 (J0(5.00118) is off by 3.8e-7 from mpmath) and airy_ai up to 5e-6
near x = -2.1; nabla's are within a few 1e-16 there, which test_accuracy_against_mpmath holds
them to. Elsewhere both agree to rounding. Far out (|x| > 25) both lose ulp(z) of the phase z of
the oscillation (x, or 2/3 |x|^1.5 for Ai), so the comparison there is relative to the
amplitude.
"""

import math

import numpy as np
import pytest
import torch

import nabla
from nabla import special

mpmath = pytest.importorskip("mpmath")

NAMES = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
         "airy_ai"]
OSCILLATING = {"bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "spherical_bessel_j0",
               "airy_ai"}
POSITIVE_ONLY = {"bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
                 "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"}
TORCH_ATOL64 = {"bessel_j0": 2e-6, "bessel_j1": 2e-6, "bessel_y0": 2e-6, "bessel_y1": 2e-6,
                "airy_ai": 1e-5}  # torch's own error (see above)
EDGES = [math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, 1.0, 1e-300, -1e-300, 2.0, 25.0,
         -25.0, 1.0 - 2 ** -53, 700.0, 720.0, -10.0, 103.0]

_EXACT = {
    "bessel_j0": lambda x: mpmath.besselj(0, x), "bessel_j1": lambda x: mpmath.besselj(1, x),
    "bessel_y0": lambda x: mpmath.bessely(0, x), "bessel_y1": lambda x: mpmath.bessely(1, x),
    "modified_bessel_i0": lambda x: mpmath.besseli(0, x),
    "modified_bessel_i1": lambda x: mpmath.besseli(1, x),
    "modified_bessel_k0": lambda x: mpmath.besselk(0, x),
    "modified_bessel_k1": lambda x: mpmath.besselk(1, x),
    "scaled_modified_bessel_k0": lambda x: mpmath.besselk(0, x) * mpmath.exp(x),
    "scaled_modified_bessel_k1": lambda x: mpmath.besselk(1, x) * mpmath.exp(x),
    "spherical_bessel_j0": lambda x: mpmath.sin(x) / x if x != 0 else mpmath.mpf(1),
    "airy_ai": mpmath.airyai,
}


def _domain(name, rng, size):
    """Random points: a wide uniform draw plus small magnitudes (series regions)."""
    high = 30.0 if name in OSCILLATING else 40.0
    x = np.concatenate([rng.uniform(-high, high, size), rng.uniform(-2.5, 2.5, size // 2),
                        np.sign(rng.uniform(-1, 1, size // 4)) * 10 ** rng.uniform(-8, 0,
                                                                                size // 4)])
    return np.abs(x) if name in POSITIVE_ONLY else x


def _amplitude(name, x):
    """The scale an error is measured against: the envelope of an oscillating function
    (sqrt(2/(pi x)) for J and Y, 1/|x| for sin(x)/x, |x|^-1/4/sqrt(pi) for Ai(x < 0)),
    else 1 (|value| is added by the caller)."""
    a = np.abs(x)
    with np.errstate(divide="ignore"):
        if name.startswith("bessel_"):
            return np.where(a > 1, np.sqrt(2 / (np.pi * a)), 1.0)
        if name == "spherical_bessel_j0":
            return np.where(a > 1, 1 / a, 1.0)
        if name == "airy_ai":
            return np.where(x < -1, a ** -0.25 / np.sqrt(np.pi), 0.0)
    return np.zeros_like(x)


@pytest.mark.parametrize("name", NAMES)
def test_accuracy_against_mpmath(name, rng):
    x = _domain(name, rng, 120)
    got = np.asarray(getattr(special, name)(nabla.tensor(x))._data)
    with mpmath.workdps(40):
        exact = np.array([float(_EXACT[name](mpmath.mpf(float(v)))) for v in x])
    scale = np.abs(exact) + _amplitude(name, x)
    # Ai holds exp(-z) (x > 1) or cos(z - pi/4) (x < -10), z = 2/3 |x|^1.5: z's rounding
    # (itself a few roundings of x) costs up to about 2z ulps of the value (or amplitude)
    ulps = 8 + ((4 / 3) * np.abs(x) ** 1.5 if name == "airy_ai" else 0)
    np.testing.assert_array_less(np.abs(got - exact), ulps * 2.3e-16 * scale + 1e-300,
                                 err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_matches_torch(name, dtype, rng):
    x = np.concatenate([_domain(name, rng, 600), EDGES]).astype(dtype)
    got = getattr(special, name)(nabla.tensor(x))
    want = getattr(torch.special, name)(torch.tensor(x)).numpy()
    a = np.asarray(got._data)
    assert a.dtype == want.dtype and not got.requires_grad
    np.testing.assert_array_equal(np.isnan(a), np.isnan(want), err_msg=f"{name}: nan")
    # torch's float32 Ai is 0 past x = 25.8 (Cephes's cutoff) where Ai is a float32 subnormal
    exact = (np.isinf(want) | (want == 0)) & (np.abs(x) < 100) & ~(np.abs(a) < 1e-37)
    np.testing.assert_array_equal(a[exact], want[exact], err_msg=f"{name}: edges")
    fine = ~np.isnan(want) & ~np.isinf(want)
    scale = np.abs(want) + _amplitude(name, x.astype(np.float64))
    if dtype == np.float64:
        bound = 1e-13 * scale + TORCH_ATOL64.get(name, 0.0) + 1e-300
    else:  # torch works in float32 (nabla in float64, then rounds)
        bound = 3e-6 * scale + (1e-5 if name in TORCH_ATOL64 else 0.0) + 1e-38
    np.testing.assert_array_less(np.abs(a[fine] - want[fine]), bound[fine], err_msg=name)


@pytest.mark.parametrize("name", NAMES)
def test_edges_match_torch_exactly(name):
    x = np.array([math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, 1e-300])
    got = np.asarray(getattr(special, name)(nabla.tensor(x))._data)
    want = getattr(torch.special, name)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0, equal_nan=True, err_msg=name)
    zeros = want == 0
    np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]), err_msg=name)


@pytest.mark.parametrize("name", NAMES)
def test_no_gradient_and_integer_inputs(name):
    x = nabla.tensor([0.5, 1.5], requires_grad=True)
    y = getattr(special, name)(x)
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError):
        y.sum().backward()
    ints = getattr(special, name)(nabla.tensor([1, 2]))
    want = getattr(torch.special, name)(torch.tensor([1, 2]))
    assert str(ints.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(ints._data), want.numpy(), rtol=1e-5)


def test_modified_bessel_i_are_the_differentiable_ops_values(rng):
    x = nabla.tensor(rng.uniform(-30, 30, 50))
    for plain, op in ((special.modified_bessel_i0, nabla.i0), (special.modified_bessel_i1,
                                                              special.i1)):
        np.testing.assert_array_equal(np.asarray(plain(x)._data), np.asarray(op(x)._data))
