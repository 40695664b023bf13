"""nabla.onnx.export of the plain steps that used to be lambdas: repeat_interleave with counts in
a tensor (a size the data decide), heaviside, the argmax of adaptive max pooling and the
coordinates of unravel_index. onnxruntime computes what nabla does (values, shapes, dtypes), on
the example and on other inputs (other counts, another batch size where the batch dim is
dynamic); and the same steps still replay under nabla.jit.trace.
"""

import numpy as np
import pytest
from test_jit_more_ops import _leaf, _replays
from test_onnx_more import _matches

import nabla
import nabla.nn.functional as F

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _counts(*values, dtype=np.int64):
    return nabla.tensor(np.array(values, dtype))


def _floats(values, dtype=np.float32):
    return nabla.tensor(np.array(values, dtype))


def _normal(*shape, dtype=np.float32, seed=0):
    return nabla.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def _matches_batches(fn, inputs, other):
    """As ``_matches`` with a dynamic batch dim, which is named in the outputs too (left fixed
    there, onnxruntime's optimizer may fold a Reshape to the example's batch size)."""
    names = [f"x{i}" for i in range(len(inputs))]
    outputs = fn(*inputs)
    outs = [f"y{i}" for i in range(1 if isinstance(outputs, nabla.Tensor) else len(outputs))]
    proto = nabla.onnx.export(fn, tuple(inputs), None, input_names=names, output_names=outs,
                              dynamic_axes={n: [0] for n in names + outs})
    session = ort.InferenceSession(proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    for xs in (inputs, other):
        got = session.run(None, {n: x.numpy() for n, x in zip(names, xs)})
        expected = fn(*xs)
        expected = [expected] if isinstance(expected, nabla.Tensor) else list(expected)
        for g, e in zip(got, expected, strict=True):
            assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, e.shape, g.dtype, e.dtype)
            np.testing.assert_allclose(g, e.numpy(), rtol=1e-6, atol=1e-6)


# -- repeat_interleave with counts in a tensor ----------------------------------------------------
REPEATS = [
    ("dim0", lambda x, r: nabla.repeat_interleave(x, r, 0),
     [_normal(3, 2), _counts(1, 0, 2)], [_normal(3, 2, seed=1), _counts(0, 4, 1)]),
    ("dim1_float64", lambda x, r: x.repeat_interleave(r, dim=1),
     [_normal(2, 4, dtype=np.float64), _counts(2, 1, 0, 3)],
     [_normal(2, 4, dtype=np.float64, seed=1), _counts(0, 0, 0, 1)]),
    ("flattened_int32_counts", lambda x, r: nabla.repeat_interleave(x, r),
     [_normal(2, 3), _counts(1, 2, 0, 1, 3, 1, dtype=np.int32)],
     [_normal(2, 3, seed=1), _counts(0, 0, 0, 0, 0, 0, dtype=np.int32)]),  # nothing repeated
    ("integer_input", lambda x, r: nabla.repeat_interleave(x, r, -1),
     [_counts([1, 2], [3, 4]), _counts(3, 1)], [_counts([5, 6], [7, 8]), _counts(0, 2)]),
    ("counts_alone", lambda r: (nabla.repeat_interleave(r), nabla.repeat_interleave(r * 2)),
     [_counts(1, 0, 2, 1)], [_counts(0, 0, 5, 0)]),
    ("counts_alone_uint8", lambda r: nabla.repeat_interleave(r),
     [_counts(2, 1, dtype=np.uint8)], [_counts(0, 3, dtype=np.uint8)]),
    ("no_counts", lambda r: nabla.repeat_interleave(r), [_counts()], [_counts()]),
]


@pytest.mark.parametrize("name, fn, inputs, other", REPEATS, ids=[c[0] for c in REPEATS])
def test_repeat_interleave_matches_onnxruntime(name, fn, inputs, other):
    _matches(fn, inputs, other=other)


def test_repeat_interleave_with_a_dynamic_batch():
    """One count per row of a dynamic batch, and counts for the columns: the number of rows
    out follows the counts given to the file."""
    def fn(x, r):
        return nabla.repeat_interleave(x, r, 0), nabla.repeat_interleave(x, r[:3], 1)

    inputs = [_normal(4, 3), _counts(2, 0, 1, 3)]
    other = [_normal(6, 3, seed=1), _counts(1, 1, 0, 0, 2, 1)]
    _matches_batches(fn, inputs, other)


def test_repeat_interleave_size_is_symbolic_in_the_file():
    proto = nabla.onnx.export(lambda x, r: (nabla.repeat_interleave(x, r, 0),
                                            nabla.repeat_interleave(r)),
                              (_normal(3, 2), _counts(1, 0, 2)), None,
                              output_names=["rows", "index"])
    shapes = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]
              for o in proto.graph.output}
    assert shapes == {"rows": ["rows_dim_0", 2], "index": ["index_dim_0"]}


# -- heaviside ------------------------------------------------------------------------------------
def _steps(dtype=np.float32):
    """Negative, zero (both signs), positive, NaN and infinite inputs."""
    return _floats([[-1.5, 0.0, 2.0, np.nan], [-0.0, np.inf, -np.inf, 0.0],
                    [3.0, -2.0, 0.0, 1e-30]], dtype)


HEAVISIDE = [
    ("float32", lambda x, v: (nabla.heaviside(x, v), x.heaviside(v[:1]), nabla.heaviside(x, 0.5),
                              nabla.heaviside(x, v.reshape(-1, 1)[:3])),
     [_steps(), _floats([0.25, -1.0, np.nan, 7.0])]),
    ("float64", lambda x, v: (nabla.heaviside(x, v), nabla.heaviside(x[0], v)),
     [_steps(np.float64), _floats([0.5, 0.0, 1.0, -3.0], np.float64)]),
    ("int64", lambda x, v: (nabla.heaviside(x, v), nabla.heaviside(x, 2)),
     [_counts([-3, 0, 5], [0, 0, -1]), _counts(7)]),
    ("int32", lambda x: nabla.heaviside(x, x[:1]), [_counts(-3, 0, 5, dtype=np.int32)]),
    ("bool", lambda x, v: (nabla.heaviside(x, v), nabla.heaviside(x, False)),
     [_floats([True, False, False], bool), _floats([True], bool)]),
    ("0d", lambda x, v: nabla.heaviside(x, v), [_floats(0.0), _floats(3.0)]),
]


@pytest.mark.parametrize("name, fn, inputs", HEAVISIDE, ids=[c[0] for c in HEAVISIDE])
def test_heaviside_matches_onnxruntime(name, fn, inputs):
    _matches(fn, inputs)


def test_heaviside_with_a_dynamic_batch():
    def fn(x, v):
        return nabla.heaviside(x, v[0]), nabla.heaviside(x, 0.5)

    inputs = [_steps(), _normal(5, 4)]
    other = [_floats([[0.0, -1.0, 1.0, 0.0]] * 7), _normal(2, 4, seed=1)]
    _matches_batches(fn, inputs, other)


# -- adaptive max pooling -------------------------------------------------------------------------
def _ties(*shape, seed=1, dtype=np.float32):
    """Small integers as floats: equal maxima inside windows (the first one wins)."""
    return nabla.tensor(np.random.default_rng(seed).integers(0, 3, shape).astype(dtype))


def _with_nans(*shape, seed=2):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    a.reshape(-1)[::7] = np.nan
    a.reshape(-1)[3::11] = np.inf
    return nabla.tensor(a)


ADAPTIVE = [
    ("2d", lambda x: F.adaptive_max_pool2d(x, (2, 3), return_indices=True),
     [_normal(2, 3, 5, 7)]),
    ("2d_ties_no_indices", lambda x: (F.adaptive_max_pool2d(x, 3),
                                      *F.adaptive_max_pool2d(x, (4, None), True)),
     [_ties(2, 2, 7, 5)]),
    ("2d_unbatched_float64", lambda x: F.adaptive_max_pool2d(x, (3, 4), return_indices=True),
     [_normal(3, 5, 6, dtype=np.float64)]),
    ("2d_nan_and_inf", lambda x: F.adaptive_max_pool2d(x, (3, 2), return_indices=True),
     [_with_nans(2, 2, 7, 5)]),
    ("1d", lambda x: (*F.adaptive_max_pool1d(x, 3, return_indices=True),
                      F.adaptive_max_pool1d(x[0], 4)),
     [_ties(2, 3, 10)]),
    ("3d", lambda x: F.adaptive_max_pool3d(x, (2, 3, 2), return_indices=True),
     [_normal(2, 2, 3, 5, 5)]),
    ("module", lambda x: nabla.nn.AdaptiveMaxPool2d((3, 3))(x) * 2, [_normal(1, 2, 7, 8)]),
]


@pytest.mark.parametrize("name, fn, inputs", ADAPTIVE, ids=[c[0] for c in ADAPTIVE])
def test_adaptive_max_pool_matches_onnxruntime(name, fn, inputs):
    other = [nabla.tensor(np.flip(x.numpy(), -1).copy()) for x in inputs]  # other maxima
    _matches(fn, inputs, other=other)


def test_adaptive_max_pool_with_a_dynamic_batch():
    def fn(x):
        return (*F.adaptive_max_pool2d(x, (2, 3), return_indices=True),
                F.adaptive_max_pool1d(x[:, :, 0], 2))

    _matches_batches(fn, [_ties(3, 2, 5, 7)], [_ties(5, 2, 5, 7, seed=4)])


# -- unravel_index --------------------------------------------------------------------------------
UNRAVEL = [
    ("2d", lambda i: nabla.unravel_index(i, (3, 4)), [_counts(0, 5, 11, 7)]),
    ("3d_wrapping", lambda i: nabla.unravel_index(i, (2, 3, 4)),  # outside [0, 24): wraps
     [_counts([0, 23, -1, 24], [-25, 49, 13, -7])]),
    ("int32_and_int", lambda i: (*nabla.unravel_index(i, (5, 1, 7)), *nabla.unravel_index(i, 6)),
     [_counts(3, 34, 0, 17, dtype=np.int32)]),
    ("0d", lambda i: nabla.unravel_index(i, (4, 4)), [_counts(9)]),
]


@pytest.mark.parametrize("name, fn, inputs", UNRAVEL, ids=[c[0] for c in UNRAVEL])
def test_unravel_index_matches_onnxruntime(name, fn, inputs):
    _matches(fn, inputs)


def test_unravel_index_of_an_argmax_with_a_dynamic_batch():
    """The row and column of each sample's largest element."""
    def fn(x):
        return nabla.unravel_index(x.flatten(1).argmax(1), tuple(x.shape[1:]))

    _matches_batches(fn, [_normal(3, 4, 5)], [_normal(6, 4, 5, seed=1)])


# -- the same steps under jit.trace ---------------------------------------------------------------
def test_the_steps_replay_under_jit_trace(rng):
    """Traced on one input and replayed on others (other counts, so other sizes): outputs and
    gradients equal eager nabla's, each step recomputed."""
    def fn(x, r, i):
        rows = nabla.repeat_interleave(x, r, 0)
        pooled, idx = F.adaptive_max_pool2d(x.reshape(1, 1, 4, 3), (3, 2), return_indices=True)
        step = nabla.heaviside(x, x[:1].detach() * 0 + 0.5)
        return (rows * 2, pooled, idx, step, nabla.repeat_interleave(r),
                *nabla.unravel_index(i, (3, 4)))

    def args(r, i):
        return [_leaf(rng, (4, 3)), _counts(*r), _counts(*i)]

    example = args((1, 0, 2, 1), (0, 5, 11))
    others = [args((0, 3, 0, 0), (7, -1, 13)), args((2, 2, 2, 2), (1, 2, 3)),
              args((0, 0, 0, 0), (4, 4, 4))]
    _replays(fn, example, others)
