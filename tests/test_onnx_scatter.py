"""nabla.onnx.export of scatter (a tensor or a value), scatter_add and index_add: onnxruntime
computes what nabla does (values, shapes, dtypes), and the ops still without a conversion are
named.
"""

import pytest
from test_onnx_more import _index, _matches, _randn

import nabla

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


SCATTER = [
    ("scatter", lambda x, i, s: (x.scatter(0, i, s), x.scatter(1, i.T[:2], s.T),
                                 x.scatter(-1, i[:1, :2], value=1.5)),
     lambda: [_randn(3, 4), _index([0, 1, 2, 0], [1, 2, 0, 1]), _randn(3, 4)]),
    ("scatter_add", lambda x, i, s: (x.scatter_add(0, i, s), x.scatter_add(1, i[:1], s[:2])),
     lambda: [_randn(3, 4), _index([0, 2, 2, 0], [2, 2, 0, -1]), _randn(3, 4)]),
    ("scatter_add_int", lambda x, i: x.long().scatter_add(1, i, i), lambda: [
        _randn(2, 5) * 4, _index([0, 0, 4], [1, 3, 1])]),
    ("index_add", lambda x, i, s: (x.index_add(0, i, s), x.index_add(1, i[:2], s.T[:, :2],
                                                                     alpha=-0.5)),
     lambda: [_randn(3, 3), _index(2, 0, 2, -1), _randn(4, 3)]),
    ("index_add_constant_index", lambda x: x.index_add(1, [0, 2, 0], x[:, :3] * 2),
     lambda: [_randn(2, 3, 4)]),
]


@pytest.mark.parametrize("name, fn, make", SCATTER, ids=[c[0] for c in SCATTER])
def test_scatters_match_onnxruntime(name, fn, make):
    nabla.manual_seed(0)
    _matches(fn, make())


@pytest.mark.parametrize("fn, name", [
    (lambda x: nabla.bucketize(x, nabla.tensor([-1.0, 0.0, 1.0])), "searchsorted"),
    (lambda x: x.nonzero(), "nonzero"),
])
def test_unsupported_ops_are_named(fn, name):
    with pytest.raises(nabla.onnx.ExportError, match=f"{name}.*no ONNX conversion yet"):
        nabla.onnx.export(fn, nabla.randn(3, 4), None)
