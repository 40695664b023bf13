"""ops/arrangement.py, grids.py, statistics.py beyond the op table (tests/op_db.py runs forward,
backward, gradcheck and double backward of repeat_interleave ... corrcoef there): the
one-argument repeat_interleave, tril/triu_indices, unravel_index, broadcast_shapes and logspace
(exact against PyTorch), ties in aminmax, degenerate cov and corrcoef, integer results, the Tensor
methods (forward and backward with random upstream gradients, float32 and float64, float64
gradcheck), and errors that name the op."""

import re
import warnings

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close
from test_ops_shape import DTYPES, check, transposed

import nabla
from nabla.autograd import gradcheck


def _both(fn):
    """``fn(lib)`` for nabla and torch, flattened to lists of outputs."""
    def flat(out):
        return list(out) if isinstance(out, (tuple, list)) else [out]
    return flat(fn(nabla)), flat(fn(torch))


def assert_same(fn):
    """Same outputs (shapes, dtypes, values; exact for integers) in nabla and PyTorch."""
    got, want = _both(fn)
    assert len(got) == len(want), f"{len(got)} outputs, PyTorch gives {len(want)}"
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        assert_close(a, b, what=f"output {i}")


# -- index sets and grids (exact) -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
def test_triangle_indices_match_torch(name):
    for row in (0, 1, 3, 4):
        for col in (0, 2, 5):
            for offset in (-6, -1, 0, 1, 3):
                assert_same(lambda lib, a=(row, col, offset): getattr(lib, name)(*a))
    assert_same(lambda lib: getattr(lib, name)(3, 3, dtype=lib.int32))
    with pytest.raises(RuntimeError, match=f"{name}: row must be non-negative, got -1"):
        getattr(nabla, name)(-1, 3)
    with pytest.raises(RuntimeError, match=f"{name}: dtype must be an integer type"):
        getattr(nabla, name)(3, 3, dtype=nabla.float32)


def test_unravel_index_matches_torch():
    for indices, shape in [([4, 1, 5], (2, 3)), ([[4, 1], [0, 23]], (2, 3, 4)), (4, (2, 3)),
                           ([-1, -7, 6, 13], (2, 3)), ([3], 6), ([0], ()), ([], (2, 3))]:
        assert_same(lambda lib, i=indices, s=shape: lib.unravel_index(
            lib.tensor(i, dtype=lib.int64), s))
    assert_same(lambda lib: lib.unravel_index(lib.tensor([5], dtype=lib.int32), (2, 3)))
    flat = nabla.arange(24).reshape(2, 3, 4)
    coords = nabla.unravel_index(nabla.tensor([7, 18]), flat.shape)
    assert flat[coords].tolist() == [7, 18]
    assert [c.tolist() for c in nabla.unravel_index(5, (2, 3))] == [1, 2]  # a plain int too
    with pytest.raises(TypeError, match="unravel_index: expected 'indices' to be an integer"):
        nabla.unravel_index(nabla.tensor([1.0]), (2, 3))
    with pytest.raises(ValueError, match="unravel_index: shape cannot have negative values"):
        nabla.unravel_index(nabla.tensor([0]), (-1, 2))
    with pytest.raises(RuntimeError, match=r"unravel_index: shape \(0, 2\) has no elements"):
        nabla.unravel_index(nabla.tensor([0]), (0, 2))


def test_broadcast_shapes_matches_torch():
    for shapes in [((2, 1), (3,)), ((2, 1), [3], 3), ((),), (), ((0, 1), (3,)), ((0,), (1,)),
                   ((5, 1, 4), (1, 3, 1), (4,)), (torch.Size([2, 1]), (1, 2))]:
        assert nabla.broadcast_shapes(*shapes) == tuple(torch.broadcast_shapes(*shapes))
    with pytest.raises(RuntimeError, match=r"broadcast_shapes: shape \(4,\) \(argument 2\) does "
                                           r"not broadcast .* size 4 against 3 at dim -1"):
        nabla.broadcast_shapes((2, 3), (1,), (4,))
    with pytest.raises(ValueError, match="broadcast_shapes: shape .* has a negative size"):
        nabla.broadcast_shapes((-1,), (1,))
    with pytest.raises(TypeError, match="broadcast_shapes: shapes must be ints or sequences"):
        nabla.broadcast_shapes(nabla.zeros(2))


def test_logspace_matches_torch():
    for args, kwargs in [((0, 2, 3), {}), ((-5, 5, 11), {}), ((0, 3, 4, 2), {}),
                         ((0, 1, 5), {"base": 2.5, "dtype": "float64"}),
                         ((0, 1, 3), {"dtype": "int64"}), ((1, 2, 1), {}), ((1, 2, 0), {}),
                         ((0, 2, 3), {"base": -2.0}), ((2, -1, 4), {"dtype": "float64"})]:
        def call(lib, args=args, kwargs=kwargs):
            kw = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
            return lib.logspace(*args, **kw)
        assert_same(call)
    assert_same(lambda lib: lib.logspace(lib.tensor(1.0), lib.tensor(2.0), 3))
    x = nabla.logspace(0, 1, 3, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    with pytest.raises(RuntimeError, match="logspace: the number of steps must be non-negative"):
        nabla.logspace(0, 1, -1)


def test_repeat_interleave_of_counts_matches_torch():
    for counts in ([2, 0, 3], [], [1]):
        assert_same(lambda lib, c=counts: lib.repeat_interleave(lib.tensor(c, dtype=lib.int64)))
    assert_same(lambda lib: lib.repeat_interleave(lib.tensor([2, 1], dtype=lib.int32)))
    assert_same(lambda lib: lib.repeat_interleave(lib.tensor([2, 1]), output_size=3))


def test_integer_results_are_exact():
    a, b = np.array([[3, -1, 4], [1, 5, 9]]), np.array([2, 7])
    assert_same(lambda lib: lib.repeat_interleave(lib.tensor(a), lib.tensor([1, 0, 2]), dim=1))
    assert_same(lambda lib: lib.combinations(lib.tensor(b), 2, with_replacement=True))
    assert_same(lambda lib: lib.cartesian_prod(lib.tensor(b), lib.tensor(a[0])))
    assert_same(lambda lib: (lib.diag_embed(lib.tensor(a), 1), lib.diagflat(lib.tensor(b))))
    assert_same(lambda lib: lib.diag_embed(lib.tensor([True, False])))
    assert_same(lambda lib: lib.block_diag(lib.tensor(a), lib.tensor(b)))
    assert_same(lambda lib: lib.block_diag(lib.tensor(a), lib.tensor(2.5, dtype=lib.float64)))
    assert_same(lambda lib: lib.column_stack([lib.tensor(b), lib.tensor([0.5, 1.5])]))
    assert_same(lambda lib: tuple(lib.aminmax(lib.tensor(a), dim=0)))
    assert_same(lambda lib: tuple(lib.aminmax(lib.tensor([True, False]))))
    assert_same(lambda lib: (lib.cov(lib.tensor(a)), lib.corrcoef(lib.tensor(a))))
    assert_same(lambda lib: lib.argwhere(lib.tensor(a) > 2))


# -- gradients the table cannot check --------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_aminmax_ties_split_the_gradient_like_torch(dtype, rng):
    """Tied extremes share the gradient evenly (finite differences are one-sided there)."""
    x = np.array([[1.0, 3.0, 1.0, 3.0], [2.0, 2.0, 2.0, 0.0]], dtype)
    check(lambda lib, x: tuple(lib.aminmax(x)), x, rng=rng)
    check(lambda lib, x: tuple(lib.aminmax(x, dim=1, keepdim=True)), x, rng=rng)
    result = nabla.aminmax(nabla.tensor(x))
    assert type(result).__name__ == "aminmax" and result._fields == ("min", "max")
    assert (float(result.min), float(result.max)) == (0.0, 3.0)


def test_cov_and_corrcoef_degenerate_like_torch():
    for make in (lambda lib: lib.ones(2, 1), lambda lib: lib.ones(2, 0), lambda lib: lib.ones(0),
                 lambda lib: lib.tensor(2.0)):
        with pytest.warns(UserWarning, match="cov: degrees of freedom is <= 0"):
            got = nabla.cov(make(nabla))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = torch.cov(make(torch))
        assert_close(got, want)
    assert_same(lambda lib: lib.cov(lib.ones(0, 3)))
    const = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    assert_same(lambda lib: (lib.corrcoef(lib.tensor(const)), lib.corrcoef(lib.tensor(const[1]))))
    with pytest.raises(RuntimeError, match="cov: weights sum to zero"):
        nabla.cov(nabla.ones(2, 3), fweights=nabla.tensor([0, 0, 0]))
    with pytest.raises(TypeError):
        nabla.cov(nabla.ones(2, 3), correction=0.5)  # an int, as in PyTorch


def test_atleast_returns_one_tensor_or_a_tuple():
    x, y = nabla.tensor(1.0), nabla.ones(2)
    for fn in (nabla.atleast_1d, nabla.atleast_2d, nabla.atleast_3d):
        assert isinstance(fn(x), nabla.Tensor)
        assert isinstance(fn([x]), tuple) and len(fn([x])) == 1
        assert [t.ndim for t in fn(x, y)] == [t.ndim for t in fn((x, y))]
        assert fn() == () and fn([]) == ()
    assert nabla.row_stack is nabla.vstack


# -- the Tensor methods ----------------------------------------------------------------------------
def _a(*shape):
    return lambda r, dtype: [r.standard_normal(shape).astype(dtype)]


# name, call, args(rng, dtype): float arrays are differentiable inputs
METHODS = [
    ("repeat_interleave", lambda lib, x: x.repeat_interleave(2, 1), _a(2, 3)),
    ("repeat_interleave tensor", lambda lib, x, r: x.repeat_interleave(r, dim=0),
     lambda r, dt: [r.standard_normal((3, 2)).astype(dt), np.array([2, 0, 1])]),
    ("repeat_interleave flat", lambda lib, x: x.repeat_interleave(2, output_size=12), _a(2, 3)),
    ("tensor_split", lambda lib, x: x.tensor_split(2, dim=1), _a(2, 5)),
    ("tensor_split indices", lambda lib, x: x.tensor_split([1, 4], 1),
     lambda r, dt: [transposed(r, 2, 5).astype(dt)]),
    ("hsplit", lambda lib, x: x.hsplit(3), _a(2, 6)),
    ("hsplit list", lambda lib, x: x.hsplit([1, 4]), _a(2, 6)),
    ("hsplit indices as varargs", lambda lib, x: x.hsplit(1, 4), _a(2, 6)),
    ("vsplit", lambda lib, x: x.vsplit([2]), _a(4, 2)),
    ("dsplit", lambda lib, x: x.dsplit(2), _a(2, 1, 4)),
    ("rot90", lambda lib, x: (x.rot90(), x.rot90(1, [1, 0]), x.rot90(2, (0, 2))), _a(2, 3, 4)),
    ("fliplr, flipud", lambda lib, x: (x.fliplr(), x.flipud()),
     lambda r, dt: [transposed(r, 3, 4).astype(dt)]),
    ("diag_embed", lambda lib, x: (x.diag_embed(), x.diag_embed(1, 0, 2)), _a(2, 3)),
    ("diagflat", lambda lib, x: (x.diagflat(), x.diagflat(-1)), _a(2, 2)),
    ("aminmax", lambda lib, x: tuple(x.aminmax(dim=0)) + tuple(x.aminmax()), _a(3, 4)),
    ("argwhere", lambda lib, x: (x * (x > 0)).argwhere(), _a(3, 4)),
    ("cov", lambda lib, x, w: (x.cov(), x.cov(correction=0, aweights=w)),
     lambda r, dt: [r.standard_normal((3, 5)).astype(dt), r.uniform(0.5, 2, 5).astype(dt)]),
    ("corrcoef", lambda lib, x: x.corrcoef(), _a(3, 5)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("case", METHODS, ids=[c[0] for c in METHODS])
def test_tensor_methods_match_torch(case, dtype, rng):
    _, call, args = case
    check(call, *args(rng, dtype), rng=rng)


@pytest.mark.parametrize("case", [c for c in METHODS if c[0] != "argwhere"],
                         ids=lambda c: c[0])
def test_tensor_methods_gradcheck(case, rng):
    _, call, args = case
    arrays = args(rng, np.float64)
    floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]

    def fn(*xs):
        full = [nabla.tensor(a) for a in arrays]
        for i, x in zip(floats, xs, strict=True):
            full[i] = x
        out = call(nabla, *full)
        return tuple(out) if isinstance(out, (tuple, list)) else out

    inputs = tuple(nabla.tensor(arrays[i], requires_grad=True) for i in floats)
    assert gradcheck(fn, inputs, **GRADCHECK_TOL)


def test_methods_exist_where_torch_has_them():
    names = ["repeat_interleave", "tensor_split", "hsplit", "vsplit", "dsplit", "rot90",
             "fliplr", "flipud", "diag_embed", "diagflat", "argwhere", "aminmax", "cov",
             "corrcoef"]
    for name in names:
        assert hasattr(torch.Tensor, name) and hasattr(nabla.Tensor, name), name


# -- errors that name the op -----------------------------------------------------------------------
def _x(*shape):
    return nabla.zeros(*shape)


ERRORS = [
    (lambda: nabla.repeat_interleave(_x(2, 3), nabla.tensor([1.0, 2.0]), 0),
     r"repeat_interleave: repeats must be an integer tensor"),
    (lambda: nabla.repeat_interleave(_x(2, 3), nabla.tensor([[1, 2]]), 0),
     r"repeat_interleave: repeats must be a 0-d or 1-d tensor"),
    (lambda: nabla.repeat_interleave(_x(2, 3), nabla.tensor([1, 2, 3]), 0),
     r"repeat_interleave: .* got 3 repeats for 2 slices"),
    (lambda: nabla.repeat_interleave(_x(2, 3), 2, 0, output_size=5),
     r"repeat_interleave: invalid output_size, expected 4 .* got 5"),
    (lambda: nabla.repeat_interleave(nabla.tensor(1.0), 2, 0),
     r"repeat_interleave: a 0-d tensor has no dimension 0"),
    (lambda: nabla.repeat_interleave(nabla.tensor([[1, 2]])),
     r"repeat_interleave: repeat_interleave\(repeats\) expects a 1-D"),
    (lambda: nabla.repeat_interleave(nabla.tensor([1, -2])), r"repeat_interleave: .*negative"),
    (lambda: nabla.repeat_interleave(_x(2, 3), [1, 2], 0),
     r"repeat_interleave: repeats must be an int or an integer tensor, got list"),
    (lambda: nabla.tensor_split(_x(4), nabla.tensor([1.0])),
     r"tensor_split: indices_or_sections must be an integer tensor"),
    (lambda: nabla.tensor_split(_x(4), 2.0), r"tensor_split: indices_or_sections must be"),
    (lambda: nabla.tensor_split(_x(4), 0), r"tensor_split: the number of sections must be"),
    (lambda: nabla.hsplit(_x(2, 3), 2),
     r"hsplit: cannot split dimension 1 of size 3 \(shape \(2, 3\)\) into 2 equal sections"),
    (lambda: nabla.dsplit(_x(2, 3), 1), r"dsplit: requires a tensor with at least 3"),
    (lambda: nabla.rot90(_x(2, 3), 1, (0, 1, 2)), r"rot90: expected 2 rotation dims"),
    (lambda: nabla.rot90(_x(2, 3), 1, (1, -1)), r"rot90: expected rotation dims to be different"),
    (lambda: nabla.rot90(_x(2, 3), 1, (0, 2)), r"rot90: dim 2 is out of range"),
    (lambda: nabla.fliplr(_x(3)), r"fliplr: input must be at least 2-D"),
    (lambda: nabla.broadcast_tensors(_x(2, 3), _x(4)),
     r"broadcast_tensors: shape \(4,\) \(argument 1\) does not broadcast"),
    (lambda: nabla.column_stack([]), r"column_stack: expected a non-empty sequence"),
    (lambda: nabla.column_stack([_x(3), _x(4)]), r"column_stack: cat: sizes must match"),
    (lambda: nabla.diag_embed(nabla.tensor(1.0)), r"diag_embed: expects a tensor of at least 1"),
    (lambda: nabla.diag_embed(_x(2, 3), 0, 0, -3), r"diag_embed: diagonal dimensions cannot"),
    (lambda: nabla.block_diag(_x(2, 2), _x(1, 2, 2)),
     r"block_diag: .* input 1 has shape \(1, 2, 2\)"),
    (lambda: nabla.cartesian_prod(), r"cartesian_prod: expects at least one tensor"),
    (lambda: nabla.cartesian_prod(_x(2), nabla.tensor([1, 2])),
     r"cartesian_prod: expects tensors of one dtype"),
    (lambda: nabla.combinations(_x(2, 2)), r"combinations: expects 1-D tensors, got shape"),
    (lambda: nabla.combinations(_x(3), -1), r"combinations: r must be non-negative"),
    (lambda: nabla.aminmax(_x(0, 3)), r"aminmax: cannot compute aminmax over an empty tensor"),
    (lambda: nabla.aminmax(_x(0, 3), dim=0), r"aminmax: expected reduction dim 0 to have"),
    (lambda: nabla.aminmax(_x(2, 3), dim=2), r"aminmax: dim 2 is out of range"),
    (lambda: nabla.cov(_x(2, 2, 2)), r"cov: expected input to have two or fewer dimensions"),
    (lambda: nabla.cov(nabla.tensor([True, False])), r"cov: bool dtype is not supported"),
    (lambda: nabla.cov(_x(2, 3), fweights=nabla.tensor([1.0, 1.0, 1.0])),
     r"cov: expected fweights to have integral dtype"),
    (lambda: nabla.cov(_x(2, 3), aweights=nabla.tensor([1.0, 1.0])),
     r"cov: expected aweights to have one entry per observation \(3\), got 2"),
    (lambda: nabla.cov(_x(2, 3), aweights=nabla.tensor([1.0, -1.0, 1.0])),
     r"cov: aweights cannot be negative"),
    (lambda: nabla.cov(_x(2, 3), fweights=nabla.tensor([[1, 1, 1]])),
     r"cov: expected fweights to have one or fewer dimensions"),
    (lambda: nabla.corrcoef(_x(2, 2, 2)), r"corrcoef: expected input to have two or fewer"),
]


@pytest.mark.parametrize("call, pattern", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_name_the_op(call, pattern):
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)) as info:
        call()
    assert re.search(pattern, str(info.value)), f"{pattern!r} not in {str(info.value)!r}"
