"""nabla.onnx.export of the index writes: index_copy, index_fill, index_put / put (also with
accumulate and masks), masked_scatter, scatter_reduce / index_reduce (every reduction, with and
without include_self), select_scatter, slice_scatter, diagonal_scatter: onnxruntime computes
what nabla does, also for another batch size where the batch dim is dynamic.
"""

import numpy as np
import pytest
from test_onnx_more import _index, _matches, _randn

import nabla

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _ints(*shape, low=-9, high=10, seed=3):
    return nabla.tensor(np.random.default_rng(seed).integers(low, high, shape))


SLICES = [
    ("index_copy", lambda x, i, s: (x.index_copy(0, i, s), x.index_copy(1, i[:2], s.T[:, :2]),
                                    x.long().index_copy(-1, i[1:], s.long().T[:, 1:])),
     lambda: [_randn(3, 3), _index(2, 0, 1), _randn(3, 3)]),
    ("index_copy_constant_index", lambda x: x.index_copy(1, nabla.tensor([2, 0]), x[:, :2] * 3),
     lambda: [_randn(2, 3, 4)]),
    ("index_fill", lambda x, i, v: (x.index_fill(0, i, -1.5), x.index_fill(1, i[:2], v),
                                    x.index_fill(-1, i, v * 2), x.long().index_fill(0, i, 7)),
     lambda: [_randn(3, 4), _index(2, 0, -1), _randn(())]),
    ("index_fill_3d", lambda x: x.index_fill(1, nabla.tensor([1]), 0.0),
     lambda: [_randn(2, 3, 4)]),
]


@pytest.mark.parametrize("name, fn, make", SLICES, ids=[c[0] for c in SLICES])
def test_slice_writes_match_onnxruntime(name, fn, make):
    _matches(fn, make())


POSITIONS = [
    ("index_put", lambda x, i, j, v: (x.index_put((i, j), v), x.index_put((i,), v),
                                      x.index_put((i[:, None], j), v[:1]),
                                      x.index_put((i, j), v, accumulate=True),
                                      x.index_put((i,), v[:1], accumulate=True)),
     lambda: [_randn(3, 4), _index(0, 2, -1, 0), _index(1, -1, 0, 2), _randn(4)]),
    ("index_put_mask", lambda x, v: (x.index_put((x > 0,), v),
                                     x.index_put((x[:, 0] > 0,), v, accumulate=True),
                                     x.index_put((x[:, 0] > -9, nabla.tensor([1])), v)),
     lambda: [_randn(4, 3), _randn(1)]),
    ("index_put_3d", lambda x, i: x.index_put((i, i), x[0, 0] * 10),
     lambda: [_randn(3, 3, 4), _index(2, 0)]),
    ("index_put_int", lambda x, i: (x.index_put((i,), x[:2]), x.index_put((i,), x[:2], True)),
     lambda: [_ints(4, 3), _index(1, 1)]),
    ("put", lambda x, i, s: (x.put(i, s), x.put(i, s, accumulate=True),
                             x.put(i[:2], s[:2] * 0)),
     lambda: [_randn(3, 4), _index(0, 11, -1, 5, 11), _randn(5)]),
    ("masked_scatter", lambda x, s: (x.masked_scatter(x > 0, s), x.masked_scatter(x > 9, s),
                                     x.masked_scatter(x[0] > 0, s * 2),
                                     x.masked_scatter(x[:, :1] < 0, s)),
     lambda: [_randn(4, 5), _randn(5, 4)]),
    ("masked_scatter_int", lambda x, s: x.masked_scatter(x > 0, s), lambda: [_ints(3, 4),
                                                                            _ints(12, seed=4)]),
]


@pytest.mark.parametrize("name, fn, make", POSITIONS, ids=[c[0] for c in POSITIONS])
def test_position_writes_match_onnxruntime(name, fn, make):
    _matches(fn, make())


def _repeated(*values):
    return nabla.tensor(np.array(values, np.int64))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    x, src = _randn(3, 4), _randn(4, 5)
    i = _repeated([0, 2, 2, 0], [1, 1, 1, 1], [2, 2, 0, 0])
    j = _repeated([0, 3, 3], [3, 0, 2])

    def fn(x, src, i, j):
        return (x.scatter_reduce(0, i, src, reduce, include_self=include_self),
                x.scatter_reduce(1, j, src, reduce, include_self=include_self),
                x.long().scatter_reduce(0, i, (src * 5).long(), reduce,
                                        include_self=include_self))

    opset = 18 if reduce in ("amax", "amin") else 17
    _matches(fn, [x, src, i, j], opset=opset)


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
def test_index_reduce(reduce):
    def fn(x, s, i):
        return (x.index_reduce(0, i, s, reduce), x.index_reduce(1, i[:2], s[:3, :2], reduce,
                                                                include_self=False),
                x.long().index_reduce(0, i, (s * 4).long(), reduce))

    _matches(fn, [_randn(3, 4), _randn(4, 4), _index(2, 0, 2, 1)], opset=18)


def test_amax_reduction_needs_opset_18():
    with pytest.raises(nabla.onnx.ExportError, match="reduce='amax' .* opset 17 .* "
                                                     "opset_version=18"):
        nabla.onnx.export(lambda x: x.scatter_reduce(0, _index([0, 0]), x, "amax"),
                          _randn(2, 2), None)


VIEWS = [
    ("select_scatter", lambda x, s: (nabla.select_scatter(x, s, 0, 1),
                                     nabla.select_scatter(x, s[:3] * 0, 1, -1),
                                     nabla.select_scatter(x.long(), s.long(), 0, 0)),
     lambda: [_randn(3, 4), _randn(4)]),
    ("slice_scatter", lambda x, s: (nabla.slice_scatter(x, s[:, :2], 1, 0, 4, 2),
                                    nabla.slice_scatter(x, s[:1], 0, -1),
                                    nabla.slice_scatter(x, s[:, :1] * 3, 1, -1, None)),
     lambda: [_randn(3, 4), _randn(3, 4)]),
    ("diagonal_scatter", lambda x, s: (nabla.diagonal_scatter(x, s[:3]),
                                       nabla.diagonal_scatter(x, s[:3], 1),
                                       nabla.diagonal_scatter(x, s[:2], -1),
                                       nabla.diagonal_scatter(x.T, s[:1] * 0, 2)),
     lambda: [_randn(3, 4), _randn(4)]),
    ("diagonal_scatter_3d", lambda x, s: nabla.diagonal_scatter(x, s, 0, 2, 0),
     lambda: [_randn(4, 3, 3), _randn(3, 3)]),
]


@pytest.mark.parametrize("name, fn, make", VIEWS, ids=[c[0] for c in VIEWS])
def test_view_writes_match_onnxruntime(name, fn, make):
    _matches(fn, make())


def test_dynamic_batch():
    """The written slices, index arrays, masks and view places follow another batch size."""

    def fn(x, i):
        return (x.index_copy(1, i[:2], x[:, :2] * 2), x.index_fill(0, i[:1], 0.5),
                x.index_put((i,), x[:1] * 3, accumulate=True), x.masked_scatter(x > 0, x * 3),
                x.scatter_reduce(1, i[:, None, None], x, "mean", include_self=False),
                x.index_reduce(0, i[:2], x[:2], "prod"),
                nabla.select_scatter(x, x[:, 0] * 5, 1, 1), nabla.slice_scatter(x, x[1:], 0, 1),
                nabla.diagonal_scatter(x, x[:, 0] * 2, 0, 1, 2))

    inputs = [_randn(3, 4, 3), _index(2, 0, 1)]
    other = [_randn(6, 4, 3), _index(2, 0, 1, 1, 3, 2)]
    _matches(fn, inputs, dynamic=True, other=other)
