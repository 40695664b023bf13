"""nabla.onnx.export of Tensor.unfold, as_strided, roll, repeat, tril / triu and
nn.functional.unfold: onnxruntime computes what nabla does, also for another batch size (and,
for Tensor.unfold and roll, another size of the dim they work along).
"""

import numpy as np
import pytest
from test_onnx_more import _matches, _randn

import nabla
import nabla.nn.functional as F

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _ints(*shape):
    return nabla.tensor(np.random.default_rng(3).integers(-9, 10, shape))


VIEWS = [
    ("unfold", lambda x: (x.unfold(1, 2, 2), x.unfold(1, 3, 1), x.unfold(0, 2, 1),
                          x.unfold(-1, 5, 3), x.unfold(1, 5, 1), x.unfold(2, 0, 2),
                          x.long().unfold(2, 2, 1)),
     lambda: [_randn(3, 5, 6)]),
    ("unfold_views", lambda x: (x.unfold(0, 3, 2) * 2, x.T.unfold(0, 2, 1), x[0].unfold(0, 4, 4)),
     lambda: [_randn(7, 4)]),
    ("as_strided", lambda x: (x.as_strided((3, 3), (1, 1)), x.as_strided((2, 2, 2), (6, 1, 2), 1),
                              x.as_strided((4,), (0,), 5), x.T.as_strided((2, 3), (3, 1)),
                              x.long().as_strided((2, 2), (4, 1))),
     lambda: [_randn(3, 4)]),
    ("roll", lambda x: (x.roll(1, 0), x.roll(-2, 1), x.roll((1, 7), (0, 1)), x.roll(3),
                        x.roll((1, 2), (1, 1)), x.roll(0, -1), x.long().roll(2, 0)),
     lambda: [_randn(3, 4)]),
    ("repeat", lambda x: (x.repeat(2, 1), x.repeat(1, 3, 2), x.repeat(2, 1, 1, 2),
                          x.long().repeat(1, 2)),
     lambda: [_randn(3, 4)]),
    ("tril_triu", lambda x: (x.tril(), x.triu(), x.tril(1), x.triu(-1), x.tril(-5), x.triu(7),
                             x.long().tril(), (x > 0).triu(1)),
     lambda: [_randn(2, 3, 4)]),
    ("im2col", lambda x: (F.unfold(x, 2), F.unfold(x, (2, 3), stride=2, padding=1),
                          F.unfold(x, 3, dilation=2, padding=(2, 1), stride=(1, 2))),
     lambda: [_randn(2, 3, 6, 7)]),
]


@pytest.mark.parametrize("name, fn, make", VIEWS, ids=[c[0] for c in VIEWS])
def test_views_match_onnxruntime(name, fn, make):
    _matches(fn, make())


def test_tril_of_integers():
    _matches(lambda a: (a.tril(), a.int().triu(1)), [_ints(4, 4)])


def test_dynamic_batch():
    def fn(x):
        return (x.unfold(0, 2, 1), x.unfold(1, 2, 2), x.roll(1, 0), x.roll(-1, 2),
                x.repeat(2, 1, 1), x.tril(), x.triu(1), F.unfold(x[:, None], 2, padding=1))

    _matches(fn, [_randn(3, 4, 5)], dynamic=True, other=[_randn(6, 4, 5)])


def test_fold_at_opset_18():
    def fn(cols):
        return (F.fold(cols, (5, 6), 2), F.fold(cols[:, :, :12], (5, 6), 2, stride=2, padding=1),
                F.fold(cols[:, :, :18], (4, 6), (2, 2), dilation=(1, 2), padding=(0, 1)))

    _matches(fn, [_randn(2, 12, 20)], opset=18)
    _matches(lambda x: F.fold(F.unfold(x, 3, padding=1), (5, 6), 3, padding=1),
             [_randn(2, 3, 5, 6)], opset=18, dynamic=True, other=[_randn(4, 3, 5, 6)])
    with pytest.raises(nabla.onnx.ExportError, match="fold .*opset 17 .*opset_version=18"):
        nabla.onnx.export(lambda c: F.fold(c, (5, 6), 2), _randn(2, 12, 20), None)
