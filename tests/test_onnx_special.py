"""nabla.onnx.export of erf, erfc, the normal CDF, erfinv, i0 / i1 / i0e / i1e, frexp, ldexp,
nextafter, gcd and lcm: onnxruntime computes what nabla does (float32 and float64, special
values, exact where nabla is exact).
"""

import numpy as np
import pytest
from test_onnx_more import _matches, _randn

import nabla
import nabla.nn.functional as F
import nabla.special  # noqa: F401 (i0e, i1, i1e)

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _floats(*values, dtype=np.float32):
    return nabla.tensor(np.array(values, dtype))


def _spread(dtype=np.float32):
    """Values over many scales with 0, -0.0, inf, -inf, NaN, subnormals and powers of two."""
    info = np.finfo(dtype)
    a = np.concatenate([np.random.default_rng(9).standard_normal(10) * 10.0 ** np.arange(-5, 5),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -2.0, 0.5, 1024.0, 3.0,
                         float(info.tiny), float(info.smallest_subnormal) * 3, float(info.max),
                         -float(info.max), 2.0**-20]])
    return nabla.tensor(a.astype(dtype))


def _open_unit(dtype=np.float32):
    a = np.concatenate([np.linspace(-0.999, 0.999, 21), [0.0, -0.0, 1.0, -1.0, 1.5, np.nan,
                                                         1 - 1e-6, -0.49, 0.51]])
    return nabla.tensor(a.astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_family(dtype):
    x = nabla.tensor((np.linspace(-7, 7, 57)).astype(dtype))
    _matches(lambda x: (nabla.erf(x), nabla.erfc(x), F.gelu(x), nabla.erf(x.long())), [x],
             tol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erfinv(dtype):
    tol = 1e-6 if dtype == np.float32 else 1e-12
    _matches(lambda x: (nabla.erfinv(x), nabla.erfinv(nabla.tensor([0, 1, -1]))),
             [_open_unit(dtype)], tol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bessel(dtype):
    x = nabla.tensor(np.concatenate([np.linspace(-30, 30, 61), [0.5, 19.99, 20.0, 20.01, 700.0,
                                                                 -800.0, np.nan]]).astype(dtype))
    tol = 1e-6 if dtype == np.float32 else 1e-12
    _matches(lambda x: (nabla.i0(x), nabla.special.i0e(x), nabla.special.i1(x),
                        nabla.special.i1e(x)), [x], tol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_frexp_ldexp_exact(dtype):
    def fn(x, e):
        m, k = nabla.frexp(x)
        return (m, k, nabla.ldexp(m, k), nabla.ldexp(x, e), nabla.ldexp(x, 3),
                nabla.ldexp(x, e.to(x.dtype) * 0.5))

    exponents = np.random.default_rng(2).integers(-40, 40, 25)
    exponents[:3] = [-2000, 2000, 130]
    _matches(fn, [_spread(dtype), nabla.tensor(exponents.astype(np.int32))], tol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nextafter_exact(dtype):
    x = _spread(dtype)
    y = nabla.tensor(np.resize(np.array([np.inf, -np.inf, 0.0, 5.0, -5.0, np.nan], dtype), 25))
    _matches(lambda x, y: (nabla.nextafter(x, y), nabla.nextafter(x, x),
                           nabla.nextafter(x, -x), nabla.nextafter(y, x)), [x, y], tol=0)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8])
def test_gcd_lcm(dtype):
    info = np.iinfo(dtype)
    fib = [1, 1]
    while fib[-1] + fib[-2] <= info.max:
        fib.append(fib[-1] + fib[-2])
    a = np.concatenate([np.random.default_rng(4).integers(-60, 60, 12), [0, 0, 7, fib[-1]]])
    b = np.concatenate([np.random.default_rng(5).integers(-60, 60, 12), [0, 9, 0, fib[-2]]])
    a, b = nabla.tensor(a.astype(dtype)), nabla.tensor(b.astype(dtype))
    lcm = (lambda a, b: nabla.lcm(a[:-1], b[:-1])) if dtype == np.int8 else nabla.lcm
    _matches(lambda a, b: (nabla.gcd(a, b), lcm(a, b)), [a, b], tol=0)


def test_dynamic_batch():
    def fn(x):
        return (nabla.erf(x), nabla.erfinv(x.tanh()), nabla.i0(x), *nabla.frexp(x),
                nabla.nextafter(x, x * 0))

    _matches(fn, [_randn(3, 4)], dynamic=True, other=[_randn(5, 4)])


def test_compositions():
    """trapezoid, cumulative_trapezoid, vander, renorm and the window functions are built
    from ops that export (a window is a constant of the file)."""

    def fn(y, x):
        return (nabla.trapezoid(y), nabla.trapezoid(y, x), nabla.trapezoid(y, dx=0.5, dim=0),
                nabla.cumulative_trapezoid(y, x), nabla.vander(x), nabla.vander(x, 3, True),
                y.renorm(2, 0, 1.0), y.renorm(1, 1, 0.5), y * nabla.hann_window(5),
                y * nabla.kaiser_window(5, beta=3.0), y * nabla.blackman_window(5, False))

    _matches(fn, [_randn(4, 5), _randn(5)])
    _matches(lambda y: (nabla.trapezoid(y), y.renorm(2, 0, 1.0)), [_randn(4, 5)], dynamic=True,
             other=[_randn(7, 5)])
