"""nabla.onnx.export of rounding (floor, ceil, trunc, round, frac, div with a rounding mode),
trigonometric and hyperbolic functions, atan2, hypot, log2 / log10 / exp2, logaddexp, logit, xlogy,
copysign, fmax / fmin, sinc, nan_to_num, signbit, isposinf / isneginf: onnxruntime computes
what nabla does (values, shapes, dtypes), special values included.
"""

import numpy as np
import pytest
from test_onnx_more import _matches, _randn

import nabla

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _floats(*values):
    return nabla.tensor(np.array(values, np.float32))


def _halves(*shape, seed=5):
    """Multiples of 0.5 of both signs (ties for round), and -0.0."""
    a = np.random.default_rng(seed).integers(-8, 9, shape) / 2
    a.reshape(-1)[0] = -0.0
    return nabla.tensor(a.astype(np.float32))


def _special():
    return _floats(0.0, -0.0, 1.0, -1.0, 2.5, -3.5, np.inf, -np.inf, np.nan, 1e-30, -7e5)


ROUNDING = [
    ("floor_ceil_trunc", lambda x: (x.floor(), x.ceil(), x.trunc(), x.frac(), x.long().floor(),
                                    x.int().ceil(), x.long().trunc()),
     lambda: [_halves(3, 5) * 1.3]),
    ("round", lambda x: (x.round(), nabla.round(x * 1.37, decimals=2),
                         nabla.round(x * 123.4, decimals=-1), x.long().round(),
                         nabla.round(x.double() * 0.001, decimals=3)),
     lambda: [_halves(4, 5)]),
    ("round_special", lambda x: (x.round(), x.floor(), x.trunc(), x.frac()),
     lambda: [_special()]),
    ("div_rounding", lambda x, y: (nabla.div(x, y, rounding_mode="floor"),
                                   nabla.div(x, y, rounding_mode="trunc"),
                                   nabla.div(x, 0.7, rounding_mode="trunc"),
                                   nabla.div(x.long(), y.long() + 5, rounding_mode="trunc"),
                                   nabla.div(x.long(), -3, rounding_mode="floor")),
     lambda: [_halves(3, 4) * 3, _halves(4, seed=6) + 0.25]),
]


@pytest.mark.parametrize("name, fn, make", ROUNDING, ids=[c[0] for c in ROUNDING])
def test_rounding_matches_onnxruntime(name, fn, make):
    _matches(fn, make())


def _unit(*shape, seed=7):
    return nabla.tensor(np.random.default_rng(seed).uniform(-0.95, 0.95, shape).astype(np.float32))


TRIG = [
    ("trigonometric", lambda x: (x.tan(), x.sinh(), x.cosh(), x.asin(), x.acos(), x.atan(),
                                 x.asinh(), (x.abs() + 1).acosh(), x.atanh()),
     lambda: [_unit(3, 5)]),
    ("trig_of_integers", lambda a: (a.atan(), a.sinh(), nabla.atan2(a, a + 1)),
     lambda: [nabla.randint(-3, 4, (5,))]),
    ("atan2", lambda y, x: (nabla.atan2(y, x), nabla.atan2(x, y), nabla.atan2(y, 2.0)),
     lambda: [_randn(4, 5), _randn(5)]),
    ("atan2_special", lambda y, x: (nabla.atan2(y, x), nabla.atan2(x, y)),
     lambda: [_floats(0.0, -0.0, 0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.inf, -np.inf, 2.0),
              _floats(0.0, 0.0, -0.0, -0.0, -0.0, -0.0, np.inf, np.inf, -np.inf, -np.inf,
                      -np.inf)]),
    ("hypot", lambda x, y: (nabla.hypot(x, y), nabla.hypot(y, 2.0)),
     lambda: [_floats(3.0, 0.0, -0.0, 1e30, -1e-30, np.inf, 2.0, 5.0),
              _floats(4.0, 0.0, 1.0, 1e30, 1e-30, 1.0, -np.inf, -12.0)]),
]


@pytest.mark.parametrize("name, fn, make", TRIG, ids=[c[0] for c in TRIG])
def test_trigonometry_matches_onnxruntime(name, fn, make):
    _matches(fn, make())


def _wide():
    """float64 values over many scales, special ones among them."""
    a = np.concatenate([np.random.default_rng(8).uniform(-0.99, 0.99, 12),
                        [0.0, -0.0, 1e-9, -3e-5, 0.09, 0.11, 0.5, -0.5, 1.0, -1.0, np.nan]])
    return nabla.tensor(a)


def test_float64_forms():
    """onnxruntime has no float64 kernel for Tan, Sinh, Cosh, Asin, Acos, Atan, Asinh, Acosh,
    Atanh: their compositions in float64 agree with nabla to ~1e-14."""

    def fn(x):
        big = x * 1e3
        return (x.tan(), x.sinh(), x.cosh(), x.asin(), x.acos(), x.atan(), big.atan(),
                (x * 1e200).atan(), x.asinh(), (big * 1e160).asinh(), (x.abs() + 1).acosh(),
                (big.abs() + 1).acosh(), x.atanh(), nabla.atan2(x, x.flip(0)), big.sinh())

    _matches(fn, [_wide()], tol=1e-13)


LOGEXP = [
    ("log2_log10_exp2", lambda x: (x.log2(), x.log10(), x.exp2(), x.double().log2(),
                                   nabla.tensor([1, 2, 8, 1024]).log2()),
     lambda: [_randn(3, 4).abs() * 100]),
    ("log2_exact", lambda x: x.log2().floor(),
     lambda: [_floats(1, 2, 4, 8, 2**20, 2**-30, 10, 100, 1000, 1e-5)]),
    ("logaddexp", lambda x, y: (nabla.logaddexp(x, y), nabla.logaddexp(x * 40, y),
                                nabla.logaddexp(x.double() - 800, y.double())),
     lambda: [_randn(3, 4), _randn(4)]),
    ("logaddexp_special", lambda x, y: nabla.logaddexp(x, y),
     lambda: [_floats(np.inf, -np.inf, -np.inf, np.inf, 0.0, -50.0, np.nan),
              _floats(np.inf, -np.inf, 1.0, -np.inf, -40.0, -50.0, 1.0)]),
    ("logit", lambda p: (p.logit(), p.logit(eps=0.1), nabla.logit(p * 0 + 1, 1e-6)),
     lambda: [nabla.rand(4, 5)]),
    ("xlogy", lambda x, y: (nabla.xlogy(x, y), nabla.xlogy(x * 0, y * 0), nabla.xlogy(x, 2.0),
                            nabla.xlogy(x.long(), y)),
     lambda: [_halves(3, 4).abs(), nabla.rand(4) + 0.1]),
]


@pytest.mark.parametrize("name, fn, make", LOGEXP, ids=[c[0] for c in LOGEXP])
def test_log_exp_match_onnxruntime(name, fn, make):
    _matches(fn, make())


SIGNS = [
    ("copysign", lambda x, y: (nabla.copysign(x, y), nabla.copysign(x, -1.0),
                               nabla.copysign(x, 0.0), nabla.copysign(x.long(), y.long())),
     lambda: [_randn(3, 4), _halves(4)]),
    ("fmax_fmin", lambda x, y: (nabla.fmax(x, y), nabla.fmin(x, y), nabla.fmax(x.long(), 1)),
     lambda: [_special()[:8], _floats(1.0, np.nan, np.nan, 0.0, -2.0, np.nan, 3.0, np.inf)]),
    ("sinc", lambda x: (nabla.sinc(x), nabla.sinc(x * 0), nabla.sinc(x.long())),
     lambda: [_halves(3, 4) * 1.1]),
    ("nan_to_num", lambda x: (x.nan_to_num(), x.nan_to_num(1.5, 100.0, -200.0),
                              x.nan_to_num(posinf=1e300), x.double().nan_to_num()),
     lambda: [_special()]),
    ("tests", lambda x: (nabla.signbit(x), nabla.isposinf(x), nabla.isneginf(x),
                         nabla.signbit(x.long()), nabla.isposinf(x.long())),
     lambda: [_special()]),
]


@pytest.mark.parametrize("name, fn, make", SIGNS, ids=[c[0] for c in SIGNS])
def test_signs_and_replacements_match_onnxruntime(name, fn, make):
    _matches(fn, make())


def test_dynamic_batch():
    def fn(x, y):
        return (x.floor(), x.round(decimals=1), nabla.atan2(x, y), x.abs().log2(),
                nabla.logaddexp(x, y), nabla.copysign(x, y), nabla.fmax(x, y), x.nan_to_num())

    _matches(fn, [_randn(3, 4), _randn(3, 4)], dynamic=True, other=[_randn(6, 4), _randn(6, 4)])
