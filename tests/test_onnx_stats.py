"""nabla.onnx.export of var / std (corrections, keepdim), prod, logsumexp (infinite rows),
vector norms (and normalize, cosine similarity, pairwise and cdist distances built on them),
nanmean, dot, einsum, cross, and the writes into zeros of diag_embed and setitem: onnxruntime
computes what nabla does, also for another batch size where the batch dim is dynamic.
"""

import numpy as np
import pytest
from test_onnx_more import _matches, _randn

import nabla
import nabla.nn.functional as F

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _floats(*values):
    return nabla.tensor(np.array(values, np.float32))


REDUCE = [
    ("var_std", lambda x: (x.var(), x.var(1), x.var((0, 2), keepdim=True), x.std(0),
                           x.std(1, correction=0), x.var(-1, correction=2), x.std(),
                           nabla.var_mean(x, 1)[0], nabla.std_mean(x, 0)[0]),
     lambda: [_randn(3, 4, 5)]),
    ("prod", lambda x: (x.prod(), x.prod(1), x.prod(0, keepdim=True), x.long().prod(1),
                        x.int().prod(), (x > 0).prod(1)),
     lambda: [_randn(3, 4) * 2]),
    ("logsumexp", lambda x: (x.logsumexp(1), x.logsumexp((0, 1)), x.logsumexp(0, True),
                             (x * 60).logsumexp(1)),
     lambda: [_randn(3, 4)]),
    ("logsumexp_infinite", lambda x: (x.logsumexp(1), x.logsumexp(0)),
     lambda: [_floats([-np.inf, -np.inf, 0.0], [np.inf, 2.0, -np.inf],
                      [-np.inf, -np.inf, -np.inf])]),
    ("nanmean", lambda x: (x.nanmean(), x.nanmean(1), x.nanmean(0, keepdim=True)),
     lambda: [_floats([np.nan, 1.0, 2.0], [np.nan, np.nan, np.nan], [3.0, -1.0, np.nan])]),
]


@pytest.mark.parametrize("name, fn, make", REDUCE, ids=[c[0] for c in REDUCE])
def test_reductions_match_onnxruntime(name, fn, make):
    _matches(fn, make())


NORMS = [
    ("norm", lambda x: (x.norm(), x.norm(dim=1), x.norm(1, 0), x.norm(3, 1, keepdim=True),
                        x.norm(0.5), x.norm(0, 1), nabla.linalg.vector_norm(x, 0),
                        x.norm(float("inf"), 1)),
     lambda: [_randn(3, 4) * (nabla.rand(3, 4) > 0.3)]),
    ("distances", lambda x, y: (F.normalize(x), F.normalize(x, p=1, dim=0),
                                F.cosine_similarity(x, y), F.pairwise_distance(x, y),
                                nabla.cdist(x, y), F.triplet_margin_loss(x, y, y * 2)),
     lambda: [_randn(4, 5), _randn(4, 5)]),
]


@pytest.mark.parametrize("name, fn, make", NORMS, ids=[c[0] for c in NORMS])
def test_norms_match_onnxruntime(name, fn, make):
    _matches(fn, make())


PRODUCTS = [
    ("dot", lambda a, b: (nabla.dot(a, b), nabla.dot(a.long(), b.long()), a.dot(b) * 2),
     lambda: [_randn(5) * 3, _randn(5) * 3]),
    ("einsum", lambda x, y: (nabla.einsum("ij,kj->ik", x, y), nabla.einsum("ij->j", x),
                             nabla.einsum("bi,bi->b", x, y), nabla.einsum("ii->i", x[:, :3]),
                             nabla.einsum("Ab,Cb->AC", x, y), nabla.einsum("...j,j->...", x, y[0])),
     lambda: [_randn(3, 4), _randn(3, 4)]),
    ("cross", lambda a, b: (nabla.cross(a, b), nabla.linalg.cross(a.T, b.T, dim=0),
                            nabla.linalg.cross(a, b[:1]), nabla.cross(a.double(), b.double(), 1)),
     lambda: [_randn(4, 3), _randn(4, 3)]),
]


@pytest.mark.parametrize("name, fn, make", PRODUCTS, ids=[c[0] for c in PRODUCTS])
def test_products_match_onnxruntime(name, fn, make):
    _matches(fn, make())


def test_writes_into_zeros():
    """diag_embed, diag and diagflat place values into zeros."""

    def fn(x):
        return (nabla.diag_embed(x), nabla.diag_embed(x, 1), nabla.diag_embed(x, -1, 0, 2),
                nabla.diag(x[0]), nabla.diag(x[0], -2), nabla.diagflat(x[:2]))

    _matches(fn, [_randn(3, 4)])


def test_dynamic_batch():
    def fn(x):
        return (x.var(1), x.std(0), x.prod(1), x.logsumexp(1), x.norm(dim=1), x.norm(3, 0),
                F.normalize(x), x.nanmean(0), nabla.einsum("bi,bj->ij", x, x),
                nabla.cross(x[:, :3], x[:, 1:], dim=1))

    _matches(fn, [_randn(3, 4)], dynamic=True, other=[_randn(7, 4)])


def test_det():
    _matches(lambda a: (nabla.linalg.det(a), nabla.det(a[0])), [_randn(3, 4, 4)])
