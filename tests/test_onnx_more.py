"""nabla.onnx.export of comparisons, where / masked_fill, logical ops, argmax / max with a dim,
sort / topk, cumsum / cumprod, gather / index_select / advanced indexing, the losses and
max-pool indices: onnxruntime computes what nabla does (values, shapes and dtypes), also at
another batch size where the batch dim is dynamic, and ops still without a conversion are named.
"""

import numpy as np
import pytest

import nabla
import nabla.nn.functional as F
from nabla import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _matches(fn, inputs, opset=17, dynamic=False, other=None, tol=1e-5):
    """Export ``fn`` on ``inputs``; onnxruntime's outputs equal nabla's on them (and on
    ``other`` inputs, e.g. another batch size, when dims are ``dynamic``)."""
    names = [f"x{i}" for i in range(len(inputs))]
    axes = {n: [0] for n in names} if dynamic else None
    proto = nabla.onnx.export(fn, tuple(inputs), None, input_names=names,
                              opset_version=opset, dynamic_axes=axes)
    session = ort.InferenceSession(proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    for xs in [inputs] + ([other] if other else []):
        got = session.run(None, {n: x.numpy() for n, x in zip(names, xs)})
        expected = fn(*xs)
        expected = [expected] if isinstance(expected, nabla.Tensor) else list(expected)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            e = e.numpy()
            assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, e.shape, g.dtype, e.dtype)
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


def _randn(*shape):
    return nabla.randn(*shape)


def _ties(*shape):
    """Small integers as floats: equal values along every dim (ties to break)."""
    return nabla.tensor(np.random.default_rng(1).integers(0, 3, shape).astype(np.float32))


def _special(*shape):
    """Normal values with a NaN, +inf and -inf among them."""
    a = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    a.reshape(-1)[:3] = [np.nan, np.inf, -np.inf]
    return nabla.tensor(a)


def _index(*values):
    return nabla.tensor(np.array(values, np.int64))


COMPARE = [
    ("compare", lambda x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y),
     lambda: [_ties(3, 4), _ties(4)]),
    ("compare_scalars", lambda x: (x > 0.5, 1 <= x, x == 1.0, x != 2), lambda: [_ties(3, 4)]),
    ("compare_int_with_float", lambda a: (a > 1.5, a == 1, a < nabla.tensor(2.0)),
     lambda: [nabla.randint(0, 4, (3, 4))]),
    ("logical", lambda x, y: (nabla.logical_and(x > 0, y > 0), nabla.logical_or(x, y > 1),
                              nabla.logical_xor(x > 0, y < 0), nabla.logical_not(x > 0),
                              (x > 0) & (y > 0), (x > 0) | (y > 0), (x > 0) ^ (y > 0), ~(x > 0)),
     lambda: [_randn(3, 4), _randn(3, 1)]),
    ("tests", lambda x: (x.isnan(), x.isinf(), x.isfinite(), nabla.isnan((x > 0).long())),
     lambda: [_special(4, 5)]),
    ("all_any", lambda x: ((x > 0).all(), (x > -1).any(1), nabla.all(x > -1, (0, 2), True),
                           nabla.any(x, dim=2)), lambda: [_randn(3, 4, 5)]),
    ("where", lambda c, x, y: (nabla.where(c > 0, x, y), nabla.where(c > 0, x, 0.5),
                               nabla.where(x < 0, 1.0, y)),
     lambda: [_randn(3, 1), _randn(3, 4), _randn(4)]),
    ("masked_fill", lambda x, m: (x.masked_fill(m > 0, -1.0), x.masked_fill(x < 0, 0.0)),
     lambda: [_randn(3, 4), _randn(4)]),
]

PICK = [
    ("argmax", lambda x: (x.argmax(1), x.argmin(0, keepdim=True), x.argmax(),
                          x.argmin(keepdim=True), x.argmax(-1, keepdim=True)),
     lambda: [_ties(4, 5, 3)]),
    ("max_dim", lambda x: (*x.max(1), *x.min(0, keepdim=True), *x.max(-1)),
     lambda: [_ties(4, 5, 3)]),
    ("max_dim_0d", lambda x: (*x.max(0), *x.min(-1, keepdim=True)), lambda: [_randn()]),
    ("sort", lambda x: (*x.sort(1), *x.sort(0, descending=True), x.argsort(-1)),
     lambda: [_ties(4, 6)]),
    ("topk", lambda x: (*x.topk(2, 1), *x.topk(3, 0, largest=False), *x.topk(1)),
     lambda: [_ties(4, 6)]),
    ("cumsum", lambda x: (x.cumsum(0), x.cumsum(-1), x.long().cumsum(1)),
     lambda: [_randn(3, 4, 5) * 3]),
    ("cumprod", lambda x: (x.cumprod(0), x.cumprod(1), x.cumprod(2), x.long().cumprod(1)),
     lambda: [nabla.tensor(np.round(np.random.default_rng(3).normal(0, 1.5, (3, 4, 5)))
                           .astype(np.float32))]),  # zeros and negatives
    ("gather", lambda x, i: (x.gather(1, i), x.gather(0, i[:2, :1]),
                             nabla.take_along_dim(x, i, 1)),
     lambda: [_randn(3, 5), _index([0, 4, -1, 2], [1, 1, 0, 3], [2, 0, 4, 4])]),
    ("index_select", lambda x, i: (x.index_select(0, i), x.index_select(2, i[:2])),
     lambda: [_randn(4, 2, 3), _index(2, 0, 2, -1)]),
    ("integer_index", lambda x, i: (x[i], x[:, i], x[..., i[:2]], x[i, :, i], x[:, i, i],
                                    x[1:, [0, 2]], x[[0, -1], [1, 2]], x[:, :, [0, 1], [2, 4]]),
     lambda: [_randn(3, 3, 4, 5), _index([0, 2], [-1, 1])]),
    ("index_by_argmax", lambda x: x[:, x.argmax(0)], lambda: [_randn(3, 4)]),
    ("boolean_mask", lambda x: (x[x > 0], x[x[:, 0, 0] > 0], x[:, x[0, :, 0] > 0],
                                x.masked_select(x[0] > 0)),
     lambda: [_randn(3, 4, 5)]),
]


@pytest.mark.parametrize("name, fn, make", COMPARE + PICK, ids=[c[0] for c in COMPARE + PICK])
def test_ops_match_onnxruntime(name, fn, make):
    nabla.manual_seed(0)
    _matches(fn, make())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_class_losses(reduction):
    nabla.manual_seed(0)
    x, w = nabla.randn(6, 4), nabla.rand(4)
    t = _index(0, 3, 1, -100, 2, 3)

    def losses(x, t):
        return (F.cross_entropy(x, t, reduction=reduction),
                F.cross_entropy(x, t.clamp(min=0), w, ignore_index=1, reduction=reduction),
                F.cross_entropy(x, t, w, reduction=reduction, label_smoothing=0.2),
                F.cross_entropy(x, t, reduction=reduction, label_smoothing=0.1),
                F.nll_loss(x.log_softmax(1), t, w, reduction=reduction),
                F.nll_loss(x.log_softmax(1), t, reduction=reduction))

    _matches(losses, [x, t])
    spatial, w3 = (nabla.randn(2, 3, 4, 5), nabla.randint(0, 3, (2, 4, 5))), nabla.rand(3)
    _matches(lambda x, t: (F.cross_entropy(x, t, w3, reduction=reduction,
                                           label_smoothing=0.1),
                           F.nll_loss(x, t, reduction=reduction)), list(spatial))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_probability_and_regression_losses(reduction):
    nabla.manual_seed(0)
    x, y, w = nabla.randn(5, 4) * 3, nabla.rand(5, 4), nabla.rand(4)

    def losses(x, y):
        return (F.mse_loss(x, y, reduction=reduction), F.l1_loss(x, y, reduction=reduction),
                F.huber_loss(x, y, reduction=reduction, delta=0.5),
                F.smooth_l1_loss(x, y, reduction=reduction, beta=0.3),
                F.binary_cross_entropy_with_logits(x, y, reduction=reduction),
                F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=w),
                F.binary_cross_entropy(x.sigmoid(), y, w, reduction=reduction),
                F.cross_entropy(x, y.softmax(1), w, reduction=reduction, label_smoothing=0.1))

    _matches(losses, [x, y])
    with pytest.warns(UserWarning, match="broadcast"):  # a broadcast target, as nabla warns
        _matches(lambda x, y: F.mse_loss(x, y[0], reduction=reduction), [x, y])


def test_losses_in_float64_at_opset_18():
    nabla.manual_seed(0)
    x, w = nabla.randn(5, 4, dtype=nabla.float64), nabla.rand(4, dtype=nabla.float64)
    _matches(lambda x, t: (F.cross_entropy(x, t, w, label_smoothing=0.1),
                           F.nll_loss(x, t, w), F.mse_loss(x, x.tanh(), reduction="sum"),
                           F.binary_cross_entropy_with_logits(x, x.sigmoid(), pos_weight=w)),
             [x, _index(0, 3, 1, -100, 2)], opset=18, tol=1e-10)


def test_binary_cross_entropy_clamps_log_zero():
    x = nabla.tensor(np.array([[0.0, 1.0, 0.3]], np.float32))
    _matches(lambda x, y: F.binary_cross_entropy(x, y, reduction="none"),
             [x, nabla.tensor(np.array([[1.0, 0.0, 0.5]], np.float32))])


@pytest.mark.parametrize("pool, shape", [
    (lambda x: F.max_pool2d(x, 2, return_indices=True), (2, 3, 6, 5)),
    (lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True), (2, 3, 7, 8)),
    (lambda x: F.max_pool2d(x, (2, 3), dilation=2, return_indices=True), (1, 2, 8, 9)),
    (lambda x: F.max_pool3d(x, 2, return_indices=True), (2, 2, 4, 5, 4)),
])
def test_max_pool_indices(pool, shape):
    nabla.manual_seed(0)
    _matches(pool, [nabla.randn(*shape)])


class _Ranker(nn.Module):
    """Scores, a mask, the top classes and a loss: a model with a dynamic batch dim."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 6)

    def forward(self, x, t):
        y = self.linear(x)
        y = y.masked_fill(y < -1, -1.0).cumsum(1) + y.cumprod(0)[:1] * 0.01
        top = y.topk(3, 1)
        order = y.sort(1, descending=True)
        picked = y.gather(1, t.unsqueeze(1)).squeeze(1) + y[x[:, 0] > -10, 0]
        return (top.values, top.indices, order.indices, y.argmax(1), picked,
                F.cross_entropy(y, t, reduction="none"), y.max(1).values > 0)


@pytest.mark.parametrize("opset", [17, 18])
def test_model_with_a_dynamic_batch(opset):
    nabla.manual_seed(0)
    model = _Ranker().eval()
    inputs = [nabla.randn(5, 4), nabla.randint(0, 6, (5,))]
    other = [nabla.randn(8, 4), nabla.randint(0, 6, (8,))]
    with nabla.no_grad():
        _matches(model, inputs, opset=opset, dynamic=True, other=other)


@pytest.mark.parametrize("opset", [17, 18])
def test_reductions_at_both_opsets(opset):
    nabla.manual_seed(0)
    _matches(lambda x: ((x > 0).all(1), (x > 0).any((0, 2), keepdim=True), x.cumprod(1),
                        *x.max(2)), [nabla.randn(3, 4, 5)], opset=opset)


def test_index_tensors_are_inputs_of_the_graph():
    """An index given as an input stays an input: other indices give other rows."""
    rng = np.random.default_rng(0)
    table = nabla.tensor(rng.standard_normal((5, 3)).astype(np.float32))

    def fn(x, idx, mask):
        return x[idx] * 2, x[idx % 2, 1:], x[mask]

    idx = nabla.tensor(rng.integers(0, 5, 4))
    mask = nabla.tensor(np.array([True, False, True, True, False]))
    _matches(fn, [table, idx, mask],
             other=[table, nabla.tensor(rng.integers(0, 5, 4)),
                    nabla.tensor(np.array([False, True, True, False, True]))])


@pytest.mark.parametrize("fn, name", [  # (kthvalue, floor_divide, ...: test_onnx_scatter.py)
    (lambda x: x.nonzero(), "nonzero"),
    (lambda x: nabla.isclose(x, x * 2), "isclose"),
    (lambda x: x[nabla.tensor([0, 1]), None], "an index mixing arrays with None"),
])
def test_unsupported_ops_are_named(fn, name):
    with pytest.raises(nabla.onnx.ExportError, match=f"{name}.*(no ONNX conversion yet)"):
        nabla.onnx.export(fn, nabla.randn(3, 4), None)


def test_nested_outputs_are_flattened_in_order():
    """A model returning (y, (h, c)), as an LSTM language model does, gives three graph
    outputs, as torch.onnx.export flattens them."""
    from nabla.models import CharLM

    model = CharLM(12, embed_dim=8, hidden_size=16).eval()
    tokens = nabla.randint(0, 12, (2, 5))
    proto = nabla.onnx.export(model, (tokens,), None, input_names=["tokens"])
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"tokens": tokens.numpy()})
    with nabla.no_grad():
        logits, (h, c) = model(tokens)
    assert len(got) == 3
    for g, e in zip(got, (logits, h, c)):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(nabla.onnx.ExportError, match=r"\(nested\) tuples or lists of Tensors, "
                                                     r"got dict"):
        nabla.onnx.export(lambda x: {"y": x * 2}, tokens.float(), None)
