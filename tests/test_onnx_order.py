"""nabla.onnx.export of searchsorted / bucketize, isin, count_nonzero, histc, mode, nanmedian,
nanquantile, msort and unique_consecutive: onnxruntime computes what nabla does (values, shapes,
dtypes), also on other inputs where a dim is dynamic or the data decide a size.
"""

import numpy as np
import pytest
from test_onnx_more import _matches, _randn, _ties

import nabla

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _floats(*values):
    return nabla.tensor(np.array(values, np.float32))


def _with_nan(*shape, seed=4):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    a[0, 1] = a[-1, -1] = a[-1, 0] = np.nan
    return nabla.tensor(a)


def _small_ints(*shape, seed=1, high=3):
    return nabla.tensor(np.random.default_rng(seed).integers(0, high, shape))


EDGES = _floats(-1.0, -0.5, 0.0, 0.0, 0.5, 1.0)

SEARCH = [
    ("searchsorted", lambda x: (nabla.searchsorted(EDGES, x),
                                nabla.searchsorted(EDGES, x, right=True),
                                nabla.searchsorted(EDGES, x, side="right", out_int32=True)),
     lambda: [_floats([-2.0, -1.0, -0.7, 0.0], [0.2, 0.5, 1.0, 3.0])]),
    ("bucketize", lambda x: (nabla.bucketize(x, EDGES), nabla.bucketize(x, EDGES, right=True),
                             nabla.bucketize(x.long(), EDGES.long())),
     lambda: [_randn(3, 5) * 2]),
    ("searchsorted_rows", lambda s, x: (nabla.searchsorted(s, x),
                                        nabla.searchsorted(s, x, right=True)),
     lambda: [_floats([0.0, 1.0, 2.0, 3.0], [-1.0, -1.0, 5.0, 9.0]),
              _floats([0.5, 3.0, -4.0], [-1.0, 6.0, 9.5])]),
    ("searchsorted_sorter", lambda s, x: nabla.searchsorted(s, x, sorter=s.argsort()),
     lambda: [_floats(3.0, -1.0, 2.0, 0.5, 7.0), _randn(2, 4) * 3]),
    ("searchsorted_nan", lambda x: (nabla.searchsorted(_floats(0.0, 1.0, np.nan), x),
                                    nabla.searchsorted(_floats(0.0, 1.0, 2.0), x)),
     lambda: [_floats(-1.0, 0.5, 1.0, 3.0, np.nan)]),
    ("searchsorted_scalar", lambda s: nabla.searchsorted(s, 0.25), lambda: [_floats(0.0, 0.5)]),
    ("isin", lambda x, y: (nabla.isin(x, y), nabla.isin(x, y, invert=True), nabla.isin(x, 1),
                           nabla.isin(2, x), nabla.isin(x.float(), y[:0])),
     lambda: [_small_ints(3, 4, high=5), _small_ints(3, seed=2, high=5)]),
    ("isin_nan", lambda x: (nabla.isin(x, x), nabla.isin(x, _floats(np.nan, 1.0))),
     lambda: [_floats(np.nan, 1.0, 2.0)]),
    ("count_nonzero", lambda x: (nabla.count_nonzero(x), nabla.count_nonzero(x, 1),
                                 nabla.count_nonzero(x, (0, 2)), nabla.count_nonzero(x > 1, -1),
                                 nabla.count_nonzero(x[0, 0, 0])),
     lambda: [_ties(3, 4, 5)]),
]


@pytest.mark.parametrize("name, fn, make", SEARCH, ids=[c[0] for c in SEARCH])
def test_searches_match_onnxruntime(name, fn, make):
    nabla.manual_seed(0)
    _matches(fn, make())


def _on_edges(n):
    """Values that sit on the bin edges of histc(bins=5, min=-1, max=1) and of the data range,
    with NaN, inf and values outside."""
    a = np.concatenate([np.linspace(-1, 1, 11), [0.1, 0.3, -0.7, np.nan, np.inf, -np.inf, 1.5,
                                                  -3.0, 0.2]])
    return nabla.tensor(np.resize(a, n).astype(np.float32))


HISTC = [
    ("histc", lambda x: (nabla.histc(x, 5, -1, 1), nabla.histc(x, 3, 0.1, 0.3),
                         nabla.histc(x, 7, -0.3, 0.9)),
     lambda: [_on_edges(40)]),
    ("histc_random", lambda x: (nabla.histc(x, 10, -2, 2), nabla.histc(x.double(), 6, -1, 3)),
     lambda: [_randn(50)]),
    ("histc_data_range", lambda x: (nabla.histc(x, 10), nabla.histc(x, 3),
                                    nabla.histc(x[:, :1], 4)),
     lambda: [_randn(6, 7)]),
    ("histc_one_value", lambda x: nabla.histc(x * 0 + 2, 4), lambda: [_randn(5)]),
]


@pytest.mark.parametrize("name, fn, make", HISTC, ids=[c[0] for c in HISTC])
def test_histc_matches_onnxruntime(name, fn, make):
    _matches(fn, make())


ORDER = [
    ("mode", lambda x: (*x.mode(1), *x.mode(0, keepdim=True), *x.mode(-1), *x.long().mode(1)),
     lambda: [_ties(4, 7)]),
    ("mode_3d", lambda x: (*x.mode(1), *x.mode(2, keepdim=True)), lambda: [_ties(3, 5, 4)]),
    ("mode_nan", lambda x: (*x.mode(1), *x.mode(0)),
     lambda: [_floats([np.nan, 1, np.nan, 1, 2], [np.nan, np.nan, 3, 3, 3],
                      [2, 1, 1, 2, np.nan], [np.nan, np.nan, np.nan, 0, 0])]),
    ("nanmedian", lambda x: (*x.nanmedian(1), *x.nanmedian(0, keepdim=True), x.nanmedian(),
                             *x.long().nanmedian(1)),
     lambda: [_with_nan(4, 6)]),
    ("nanmedian_all_nan", lambda x: (*x.nanmedian(1), x[1].nanmedian()),
     lambda: [_floats([np.nan, np.nan, np.nan], [1.0, np.nan, 0.0])]),
    ("nanquantile", lambda x: (x.nanquantile(0.3, 1), x.nanquantile(_floats(0.1, 0.5, 1.0), 0),
                               x.nanquantile(0.5, 1, interpolation="nearest"),
                               x.nanquantile(0.25, interpolation="lower"),
                               x.nanquantile(0.8, 0, True, interpolation="midpoint")),
     lambda: [_with_nan(5, 6)]),
    ("msort", lambda x: (nabla.msort(x), nabla.msort(x.long())), lambda: [_ties(5, 3)]),
]


@pytest.mark.parametrize("name, fn, make", ORDER, ids=[c[0] for c in ORDER])
def test_order_statistics_match_onnxruntime(name, fn, make):
    _matches(fn, make())


def _runs(*shape, seed=3):
    """Small integers as floats with long runs of equal neighbours."""
    a = np.random.default_rng(seed).integers(0, 3, shape)
    a = np.repeat(a, 2, axis=-1)[..., :shape[-1]]
    return nabla.tensor(a.astype(np.float32))


UNIQUE = [
    ("unique_consecutive", lambda x: (nabla.unique_consecutive(x),
                                      *nabla.unique_consecutive(x, True, True),
                                      *nabla.unique_consecutive(x.long(), return_counts=True)),
     lambda: [_runs(3, 8)]),
    ("unique_consecutive_dim", lambda x: (*nabla.unique_consecutive(x, True, True, dim=1),
                                          nabla.unique_consecutive(x, dim=0)),
     lambda: [nabla.tensor(np.array([[1, 1, 2, 2, 2, 0], [3, 3, 3, 3, 1, 1]], np.float32))]),
    ("unique_consecutive_nan", lambda x: nabla.unique_consecutive(x, return_counts=True),
     lambda: [_floats(np.nan, np.nan, 1.0, 1.0, np.inf, np.inf)]),
]


@pytest.mark.parametrize("name, fn, make", UNIQUE, ids=[c[0] for c in UNIQUE])
def test_unique_consecutive_matches_onnxruntime(name, fn, make):
    inputs = make()
    _matches(fn, inputs)
    other = [nabla.tensor(np.flip(x.numpy(), -1).copy()) for x in inputs]  # other runs
    _matches(fn, inputs, other=other)


def test_dynamic_batch():
    """The binary search, the isin table, histc's data range, the sort along a dynamic dim and
    the run counts all follow another batch size."""

    def fn(x):
        return (nabla.bucketize(x, EDGES), nabla.isin(x.round(), _floats(0.0, 1.0)),
                nabla.count_nonzero(x > 0, 1), nabla.histc(x, 4), nabla.histc(x, 4, -1, 1),
                *x.mode(0), *x.nanmedian(0), x.nanquantile(0.4, 0),
                *nabla.unique_consecutive((x > 0).long(), return_counts=True, dim=0))

    inputs, other = [_ties(5, 3) - 1], [_ties(9, 3) - 1]
    _matches(fn, inputs, dynamic=True, other=other)
