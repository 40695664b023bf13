"""nabla.onnx.export of scatter / scatter_add / index_add, kthvalue / median, cummax / cummin /
logcumsumexp, floor_divide / remainder / fmod, integer bitwise ops (opset 18) and the kl_div,
margin ranking and cosine embedding losses: onnxruntime computes what nabla does (values,
shapes, dtypes), and the ops still without a conversion are named.
"""

import numpy as np
import pytest
from test_onnx_more import _index, _matches, _randn, _ties

import nabla
import nabla.nn.functional as F

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _floats(*values):
    return nabla.tensor(np.array(values, np.float32))


SCATTER = [
    ("scatter", lambda x, i, s: (x.scatter(0, i, s), x.scatter(1, i.T[:2], s.T),
                                 x.scatter(-1, i[:1, :2], value=1.5)),
     lambda: [_randn(3, 4), _index([0, 1, 2, 0], [1, 2, 0, 1]), _randn(3, 4)]),
    ("scatter_add", lambda x, i, s: (x.scatter_add(0, i, s), x.scatter_add(1, i[:1], s[:2])),
     lambda: [_randn(3, 4), _index([0, 2, 2, 0], [2, 2, 0, 1]), _randn(3, 4)]),
    ("scatter_add_int", lambda x, i: x.long().scatter_add(1, i, i), lambda: [
        _randn(2, 5) * 4, _index([0, 0, 4], [1, 3, 1])]),
    ("index_add", lambda x, i, s: (x.index_add(0, i, s), x.index_add(1, i[:2], s.T[:, :2],
                                                                     alpha=-0.5)),
     lambda: [_randn(3, 3), _index(2, 0, 2, 1), _randn(4, 3)]),
    ("index_add_constant_index", lambda x: x.index_add(1, [0, 2, 0], x[:, :3] * 2),
     lambda: [_randn(2, 3, 4)]),
]


@pytest.mark.parametrize("name, fn, make", SCATTER, ids=[c[0] for c in SCATTER])
def test_scatters_match_onnxruntime(name, fn, make):
    nabla.manual_seed(0)
    _matches(fn, make())


def _with_nan(*shape):
    """Normal values, a NaN in some rows (nabla's median and cummax propagate it)."""
    a = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    a[0, 1] = a[-1, -1] = np.nan
    return nabla.tensor(a)


PICK = [
    ("kthvalue", lambda x: (*x.kthvalue(2, 1), *x.kthvalue(1, 0, keepdim=True),
                            *x.kthvalue(6, -1), *x.long().kthvalue(3, 1)),
     lambda: [_ties(4, 6)]),
    ("median", lambda x: (*x.median(1), *x.median(0, keepdim=True), x.median(),
                          *x[:, :5].median(1), *x.long().median(-1)),
     lambda: [_ties(4, 6)]),
    ("median_3d", lambda x: (*x.median(1), *x.median(2, keepdim=True)),
     lambda: [_randn(3, 4, 5)]),
    ("median_nan", lambda x: (*x.median(1), *x.median(0), x.median()),
     lambda: [_with_nan(4, 5)]),
    ("cummax", lambda x: (*x.cummax(1), *x.cummin(0), *x.cummax(-1), *x.long().cummin(2),
                          *(x > 1).cummax(1)),
     lambda: [_ties(3, 4, 5)]),
    ("cummax_nan", lambda x: (*x.cummax(1), *x.cummin(1), *x.cummax(0)),
     lambda: [_with_nan(3, 6)]),
    ("quantile", lambda x: (x.quantile(0.3, 1), x.quantile(nabla.tensor([0.5, 0.9]), 0, True),
                            x.quantile(0.7, 1, interpolation="midpoint"), x.quantile(0.25)),
     lambda: [_with_nan(4, 5)]),
    ("logcumsumexp", lambda x: (x.logcumsumexp(0), x.logcumsumexp(-1),
                                x.double().logcumsumexp(1) * 3),
     lambda: [_randn(3, 4, 5) * 30]),
    ("logcumsumexp_infinite", lambda x: (x.logcumsumexp(1), x.logcumsumexp(0)),
     lambda: [_floats([-np.inf, -np.inf, 0.0], [np.inf, 2.0, -np.inf],
                      [-np.inf, -np.inf, -np.inf])]),
]


@pytest.mark.parametrize("name, fn, make", PICK, ids=[c[0] for c in PICK])
def test_picks_match_onnxruntime(name, fn, make):
    nabla.manual_seed(0)
    _matches(fn, make())


def _signed(*shape, scale=5.0):
    """Values of both signs, some of them whole multiples of the divisors below."""
    a = np.random.default_rng(5).integers(-12, 13, shape) / 2
    return nabla.tensor((a * scale / 5).astype(np.float32))


ARITH = [
    ("floor_divide", lambda x, y: (x // y, x // 0.3, x // -2.5, 7.0 // y,
                                   nabla.floor_divide(x, 1), x.double() // 0.1),
     lambda: [_signed(4, 6), _signed(6, scale=2.0) + 0.25]),
    ("floor_divide_int", lambda a, b: (a // b, a // 3, a // -4, -9 // b, a.int() // b.int()),
     lambda: [nabla.randint(-20, 20, (3, 5)), _index(3, -2, 7, -5, 1)]),
    ("floor_divide_by_zero", lambda x: (x // 0.0, x // -0.0), lambda: [_signed(2, 5)]),
    ("remainder", lambda x, y: (x % y, x % 0.3, x % -2.5, nabla.remainder(7.0, y),
                                x.remainder(1)),
     lambda: [_signed(4, 6), _signed(6, scale=2.0) + 0.25]),
    ("remainder_int", lambda a, b: (a % b, a % 3, a % -4, nabla.remainder(a.int(), -7)),
     lambda: [nabla.randint(-20, 20, (3, 5)), _index(3, -2, 7, -5, 1)]),
    ("fmod", lambda x, y, a, b: (x.fmod(y), x.fmod(-0.3), a.fmod(b), a.fmod(-3)),
     lambda: [_signed(4, 6), _signed(6, scale=2.0) + 0.25, nabla.randint(-20, 20, (3, 5)),
              _index(3, -2, 7, -5, 1)]),
]


@pytest.mark.parametrize("name, fn, make", ARITH, ids=[c[0] for c in ARITH])
def test_divisions_match_onnxruntime(name, fn, make):
    nabla.manual_seed(0)
    _matches(fn, make())


def test_bitwise_ops_of_integers_at_opset_18():
    def bitwise(a, b):
        return (a & b, a | 6, a ^ b, ~a, nabla.bitwise_and(a.int(), b.int()),
                ~b.to(nabla.int16), b.to(nabla.uint8) ^ 5, (a > 0) & (b > 0), ~(a > 0))

    _matches(bitwise, [nabla.randint(-50, 50, (3, 4)), nabla.randint(0, 50, (4,))], opset=18)
    with pytest.raises(nabla.onnx.ExportError, match="bitwise_xor of integers .* opset 17 "
                                                     ".* pass opset_version=18"):
        nabla.onnx.export(lambda a: a ^ 3, nabla.randint(0, 5, (3,)), None)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
def test_kl_div(reduction):
    nabla.manual_seed(0)
    x, y = nabla.randn(4, 5), nabla.rand(4, 5)
    y = y * (y > 0.2)  # zero probabilities: 0 log 0 is 0

    def losses(x, y):
        return (F.kl_div(x.log_softmax(1), y, reduction=reduction),
                F.kl_div(x.log_softmax(1), y.log_softmax(1), reduction=reduction,
                         log_target=True),
                F.kl_div(x.log_softmax(1), y[0], reduction=reduction))  # broadcast target

    _matches(losses, [x, y])
    other = [nabla.randn(7, 5), nabla.rand(7, 5)]
    _matches(losses, [x, y], dynamic=True, other=other)  # batchmean divides by the batch


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_ranking_and_embedding_losses(reduction):
    nabla.manual_seed(0)
    x1, x2 = nabla.randn(6, 3), nabla.randn(6, 3)
    t = _floats(1, -1, 1, 1, -1, -1)

    def losses(x1, x2, t):
        return (F.margin_ranking_loss(x1[:, 0], x2[:, 0], t, reduction=reduction),
                F.margin_ranking_loss(x1[:, 1], x2[:, 2], t, margin=0.5, reduction=reduction),
                F.cosine_embedding_loss(x1, x2, t, reduction=reduction),
                F.cosine_embedding_loss(x1, x2, t, margin=-0.2, reduction=reduction))

    _matches(losses, [x1, x2, t])


def test_dynamic_batch():
    """Sizes along a dynamic dim are read from the input's shape: median's middle, cummax's
    table, index_add's expanded index."""
    nabla.manual_seed(0)

    def fn(x, i):
        return (*x.median(0), x.median(), *x.cummax(0), x.logcumsumexp(0), *x.kthvalue(2, 1),
                x.index_add(1, i[:2], x[:, :2]), x.scatter_add(1, i[:, None], x[:, :1]))

    inputs = [nabla.randn(5, 3), nabla.randint(0, 3, (5,))]
    other = [nabla.randn(8, 3), nabla.randint(0, 3, (8,))]
    _matches(fn, inputs, dynamic=True, other=other)


@pytest.mark.parametrize("fn, name", [
    (lambda x: x.digamma(), "Digamma"),
    (lambda x: nabla.polygamma(1, x), "Polygamma"),
])
def test_unsupported_ops_are_named(fn, name):
    with pytest.raises(nabla.onnx.ExportError, match=f"{name}.*no ONNX conversion yet"):
        nabla.onnx.export(fn, nabla.randn(3, 4), None)
