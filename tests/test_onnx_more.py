"""nabla.onnx.export of comparisons, where / masked_fill, logical ops, argmax / max with a dim,
sort / topk, cumsum / cumprod, gather / index_select / advanced indexing (also mixed with None
and ints), nonzero / argwhere / where(condition), unique, bincount, one_hot, isclose, flip, the
losses and max-pool indices: onnxruntime computes what nabla does (values, shapes and dtypes),
also on other inputs (another batch size where the batch dim is dynamic, other data where the
data decides a size), and ops still without a conversion are named.
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
     lambda: [_randn(3, 5), _index([0, 4, 3, 2], [1, 1, 0, 3], [2, 0, 4, 4])]),
    ("index_select", lambda x, i: (x.index_select(0, i), x.index_select(2, i[:2])),
     lambda: [_randn(4, 2, 3), _index(2, 0, 2, 3)]),
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


def _floats(values, dtype=np.float32):
    return nabla.tensor(np.array(values, dtype))


# (name, fn, inputs, other inputs): the other inputs give results of other sizes (other
# counts of nonzero, unique or bincount values), so a size or value frozen at export fails
FOUND = [
    ("nonzero", lambda x: (x.nonzero(), nabla.argwhere(x), *nabla.where(x > 0),
                           *x.nonzero(as_tuple=True), (x > 0).nonzero()),
     [_floats([[1, 0, -0.0], [np.nan, 2, 0]])], [_floats([[0, 3, 1], [4, 0, 5]])]),
    ("nonzero_int_bool_0d", lambda i, b, s: (i.nonzero(), b.nonzero(), s.nonzero(),
                                             nabla.argwhere(s > 0), *nabla.where(s)),
     [_index([[0, 2, 0, 0]] * 3), nabla.tensor(np.eye(3, dtype=bool)), _floats(2.0)],
     [_index([[1, 2, 0, 3]] * 3), nabla.tensor(np.ones((3, 3), bool)), _floats(0.0)]),
    ("unique", lambda x: (nabla.unique(x), *nabla.unique(x, return_inverse=True,
                                                          return_counts=True),
                          *x.unique(return_counts=True), *x.unique(return_inverse=True)),
     [_floats([[2, np.nan, 1, 2], [np.inf, 1, np.nan, np.inf], [-np.inf, 0, -0.0, 2]])],
     [_floats([[3, 3, 1, 2], [0, 1, 5, np.nan], [7, 0, 7, 7]])]),
    ("unique_float64", lambda x: nabla.unique(x, return_inverse=True, return_counts=True),
     [_floats([[1, 1e-300, 1], [0, 1e-300, 5]], np.float64)],
     [_floats([[4, 4, 4]] * 2, np.float64)]),
    ("unique_int_bool", lambda i, b: (*i.unique(return_inverse=True, return_counts=True),
                                      *b.unique(return_inverse=True, return_counts=True),
                                      i.int().unique(), i.to(nabla.uint8).unique()),
     [_index([3, -1, 3, 0, 3]), nabla.tensor(np.array([True, True]))],
     [_index([5, 5, 2, 9, -7]), nabla.tensor(np.array([False, True]))]),
    ("bincount", lambda i, w: (i.bincount(), i.bincount(w), nabla.bincount(i, minlength=7),
                               i.bincount(w.double(), minlength=2), i.bincount(i * 2),
                               i.int().bincount()),
     [_index(1, 4, 1, 0), _floats([0.5, 1.25, -2, 3])], [_index(2, 2, 9, 2), _randn(4)]),
    ("one_hot", lambda i: (F.one_hot(i % 5, 5), F.one_hot(i[0], num_classes=7),
                           F.one_hot((i % 6).to(nabla.uint8), 6) * 2, F.one_hot(i)),
     [_index([0, 4, 1], [2, 2, 3])], [_index([3, 3, 0], [1, 6, 4])]),  # 7 classes
    ("isclose", lambda x, y: (nabla.isclose(x, y), nabla.isclose(x, y, rtol=0.1, atol=0.0),
                              nabla.isclose(x, y, equal_nan=True), nabla.isclose(x, 1.0),
                              nabla.isclose(x, float("nan"), equal_nan=True),
                              nabla.isclose(x, y[0], atol=0.5), nabla.isclose(x.isnan().long(), y)),
     [_floats([[1, 2, np.nan, np.inf], [1e-9, -np.inf, 3, 1.05]]),
      _floats([[1 + 1e-6, 2.2, np.nan, np.inf], [0, np.inf, np.nan, 1.0]])],
     [_randn(2, 4), _randn(2, 4)]),
    ("isclose_float64", lambda x, y: (nabla.isclose(x, y), nabla.isclose(x, y, 1e-9, 1e-12),
                                      nabla.isclose(x.float(), y)),
     [_floats([1, 1 + 1e-10, 2, 0], np.float64), _floats([1, 1, 2 + 1e-4, 1e-13], np.float64)],
     [_floats([3, 0, 1, 1], np.float64), _floats([3, 1e-12, 1, 1 + 1e-8], np.float64)]),
]

# sizes the data decides, then used: indexed from the end, reshaped, reduced, used as indices
AFTER = [
    ("after_unique", lambda x: (nabla.unique(x)[-1], nabla.unique(x)[-2:].flip(0),
                                nabla.unique(x).reshape(-1, 1) * 2, nabla.unique(x).sum(),
                                x[x > 0][1:]),
     [_floats([3, 1, 3, 0, 2])], [_floats([5, 5, 4, 1, 6])]),
    ("index_by_nonzero", lambda x: (x[nabla.where(x > 0)], x[x.nonzero()[:, 0]],
                                    x.flatten()[nabla.unique((x > 0).long().flatten())]),
     [_floats([[1, -2, 3], [-1, -1, 4]])], [_floats([[-1, 2, -3], [1, 5, 4]])]),
]


@pytest.mark.parametrize("name, fn, inputs, other", FOUND + AFTER,
                         ids=[c[0] for c in FOUND + AFTER])
def test_found_and_counted_match_onnxruntime(name, fn, inputs, other):
    _matches(fn, inputs, other=other)


def test_data_dependent_sizes_are_symbolic_in_the_file():
    """The dims whose size the data decides are named, not fixed at the example's size."""
    x = _floats([[1, 0, 2], [2, 0, 0]])
    proto = nabla.onnx.export(lambda x: (x.nonzero(), x.unique(return_inverse=True), x * 2,
                                         x[x > 0] + 1, x.long().flatten().bincount()),
                              (x,), None, output_names=["nz", "u", "inv", "y", "m", "b"])
    shapes = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]
              for o in proto.graph.output}
    assert shapes == {"nz": ["nz_dim_0", 2], "u": ["u_dim_0"], "inv": [2, 3], "y": [2, 3],
                      "m": ["m_dim_0"], "b": ["b_dim_0"]}


FLIP = [
    ("flip", lambda x: (x.flip(0), x.flip((0, 2)), nabla.flip(x, -1), x.flip((-1, 1, 0)),
                        nabla.fliplr(x), nabla.flipud(x), x[:, 1:].flip(1)),
     lambda: [_randn(3, 4, 5)]),
    ("flip_0d_and_empty", lambda x, e: (x.flip(()), x.flip([]), e.flip(1), e.flip(0)),
     lambda: [_randn(), _randn(2, 0, 3)]),
    ("flip_int", lambda i: (i.flip(0) * 3, i.flip(-1)), lambda: [_index([0, 1, 2], [3, 4, 5])]),
]

# indices mixing arrays with None and ints (ints apply first, as PyTorch places the dims)
MIXED = [
    ("index_none", lambda x, i: (x[None, i], x[i, None], x[i, None, i], x[None, :, i],
                                 x[i, i, None], x[None, i, :, None, i], x[:, None, i],
                                 x[i[:, None], None, i]),
     lambda: [_randn(3, 3, 4), _index(2, 0, -1)]),
    ("index_int", lambda x, i: (x[0, i], x[i, 1], x[0, :, i], x[-1, i, -2], x[i, 0, i],
                                x[None, 0, i]),
     lambda: [_randn(3, 3, 4), _index(2, 0, -1)]),
    ("mask_none", lambda x: (x[x[:, 0] > 0, None], x[None, x[:, 0] > 0], x[None, x > 0],
                             x[:, None, x[0] > 0], x[x > 0, None]),
     lambda: [_randn(4, 3)]),
]


@pytest.mark.parametrize("name, fn, make", FLIP + MIXED, ids=[c[0] for c in FLIP + MIXED])
def test_flip_and_mixed_indices_match_onnxruntime(name, fn, make):
    nabla.manual_seed(0)
    inputs = make()
    nabla.manual_seed(1)
    _matches(fn, inputs, other=make())


def test_flip_and_negative_indices_with_a_dynamic_batch():
    """Flip, x[-1] and x[-2:] on the batch dim are read from its end at any batch size."""
    nabla.manual_seed(0)
    _matches(lambda x: (x.flip(0), x[-1], x[-2:], x[:-1, 0], x[-3::-1]), [_randn(4, 3)],
             dynamic=True, other=[_randn(6, 3)])


def test_quantile_along_a_dim_on_other_data():
    """quantile's positions come from the dim's size, not the values: other data (a NaN row
    included) gives nabla's quantiles. (Its index is broadcast to the example's other dims, so
    a dynamic batch is refused by export's check.)"""
    rng = np.random.default_rng(5)
    x, other = (nabla.tensor(rng.standard_normal((3, 5)).astype(np.float32)) for _ in range(2))
    other[1, 2] = float("nan")

    def fn(x):
        return (x.quantile(0.3, 1), x.quantile(nabla.tensor([0.25, 0.9]), 1, True),
                x.quantile(0.5, -1, interpolation="nearest"),
                x.quantile(0.7, 0, interpolation="higher"))

    _matches(fn, [x], other=[other])
    with pytest.raises(nabla.onnx.ExportError, match="uses a size computed in Python"):
        nabla.onnx.export(fn, (x,), None, input_names=["x"], dynamic_axes={"x": [0]})


@pytest.mark.parametrize("fn, name", [  # (kthvalue, floor_divide, ...: test_onnx_scatter.py)
    (lambda x: nabla.matrix_exp(x[:, :3]), "MatrixExp"),
    (lambda x: nabla.histogram(x, nabla.tensor([-1.0, 0.0, 1.0])).hist, "histogram"),
    (lambda x: x[True, nabla.tensor([0, 1])], "an index mixing arrays with a Python bool"),
])
def test_unsupported_ops_are_named(fn, name):
    with pytest.raises(nabla.onnx.ExportError, match=f"{name}.*(no ONNX conversion yet)"):
        nabla.onnx.export(fn, nabla.randn(3, 4), None)


def test_unique_of_uint64_and_allclose_are_refused():
    with pytest.raises(nabla.onnx.ExportError, match="unique of uint64.*int64 first"):
        nabla.onnx.export(lambda x: x.unique(), nabla.tensor(np.array([3, 1], np.uint64)), None)
    with pytest.raises(nabla.onnx.ExportError, match="must return a Tensor.*got bool"):
        nabla.onnx.export(lambda x: nabla.allclose(x, x * 2), nabla.randn(3), None)


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
