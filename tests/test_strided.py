"""Strided views and writes into a view's place (ops/strided.py) against PyTorch: Tensor.unfold,
as_strided, split_with_sizes, select_scatter, slice_scatter, diagonal_scatter. Forward and
backward with random upstream gradients (float32, float64), overlapping windows (their gradients
add up), negative dims, non-contiguous inputs; float64 gradcheck and double backward; views
share memory and version; the errors."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close
from test_ops_shape import DTYPES, check, transposed

import nabla
from nabla.autograd import gradcheck

# name, call(lib, *args), args(rng)
CASES = [
    ("unfold overlapping", lambda lib, x: x.unfold(1, 3, 1),
     lambda r: [r.standard_normal((2, 6, 3))]),
    ("unfold step > size", lambda lib, x: x.unfold(-1, 2, 3),
     lambda r: [r.standard_normal((3, 8))]),
    ("unfold step = size", lambda lib, x: x.unfold(0, 2, 2),
     lambda r: [r.standard_normal((7, 2))]),
    ("unfold whole dim", lambda lib, x: x.unfold(-2, 4, 1),
     lambda r: [r.standard_normal((4, 3))]),
    ("unfold more offsets than windows", lambda lib, x: x.unfold(0, 5, 2),
     lambda r: [r.standard_normal((6, 2))]),
    ("unfold twice (2-d patches)", lambda lib, x: x.unfold(1, 2, 1).unfold(2, 3, 2),
     lambda r: [r.standard_normal((2, 4, 5))]),
    ("unfold non-contiguous", lambda lib, x: x.unfold(0, 2, 1),
     lambda r: [transposed(r, 5, 3)]),
    ("unfold empty window", lambda lib, x: x.unfold(0, 0, 1), lambda r: [r.standard_normal(4)]),
    ("unfold 0-d", lambda lib, x: x.unfold(0, 1, 1), lambda r: [r.standard_normal(())]),
    ("as_strided overlapping", lambda lib, x: lib.as_strided(x, (3, 4), (2, 1), 1),
     lambda r: [r.standard_normal((4, 3))]),
    ("as_strided zero stride", lambda lib, x: x.as_strided((2, 2, 3), (0, 3, 1)),
     lambda r: [r.standard_normal((2, 3))]),
    ("as_strided transpose", lambda lib, x: lib.as_strided(x, (3, 4), (1, 3)),
     lambda r: [r.standard_normal((4, 3))]),
    ("as_strided sliding", lambda lib, x: x.as_strided((5, 3), (1, 1), storage_offset=2),
     lambda r: [r.standard_normal(9)]),
    ("as_strided empty", lambda lib, x: lib.as_strided(x, (0, 2), (1, 1), 6),
     lambda r: [r.standard_normal((2, 3))]),
    ("split_with_sizes", lambda lib, x: lib.split_with_sizes(x, [1, 0, 3]),
     lambda r: [r.standard_normal((4, 3))]),
    ("split_with_sizes dim -1", lambda lib, x: x.split_with_sizes([2, 3], dim=-1),
     lambda r: [r.standard_normal((2, 5))]),
    ("select_scatter", lambda lib, x, s: lib.select_scatter(x, s, 0, 2),
     lambda r: [r.standard_normal((4, 3)), r.standard_normal(3)]),
    ("select_scatter negative", lambda lib, x, s: x.select_scatter(s, -1, -3),
     lambda r: [r.standard_normal((2, 4, 3)), r.standard_normal((2, 4))]),
    ("slice_scatter", lambda lib, x, s: lib.slice_scatter(x, s),
     lambda r: [r.standard_normal((4, 3)), r.standard_normal((4, 3))]),
    ("slice_scatter step", lambda lib, x, s: lib.slice_scatter(x, s, 1, 1, None, 2),
     lambda r: [r.standard_normal((3, 6)), r.standard_normal((3, 3))]),
    ("slice_scatter negative", lambda lib, x, s: x.slice_scatter(s, -2, -3, -1),
     lambda r: [r.standard_normal((5, 4, 2)), r.standard_normal((5, 2, 2))]),
    ("slice_scatter non-contiguous", lambda lib, x, s: lib.slice_scatter(x, s, 0, 0, 2),
     lambda r: [transposed(r, 4, 3), transposed(r, 2, 3)]),
    ("diagonal_scatter", lambda lib, x, s: lib.diagonal_scatter(x, s),
     lambda r: [r.standard_normal((3, 3)), r.standard_normal(3)]),
    ("diagonal_scatter offset", lambda lib, x, s: x.diagonal_scatter(s, 1),
     lambda r: [r.standard_normal((3, 5)), r.standard_normal(3)]),
    ("diagonal_scatter below, dims reversed", lambda lib, x, s: lib.diagonal_scatter(x, s, -1,
                                                                                     -1, 1),
     lambda r: [r.standard_normal((2, 4, 3, 5)), r.standard_normal((2, 3, 4))]),
    ("diagonal_scatter empty", lambda lib, x, s: lib.diagonal_scatter(x, s, 3),
     lambda r: [r.standard_normal((2, 3)), r.standard_normal(0)]),
]
NAMES = [c[0] for c in CASES]


def _case(name):
    return next(c for c in CASES if c[0] == name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_against_torch(name, dtype, rng):
    _, call, make = _case(name)
    check(call, *[a.astype(dtype) for a in make(rng)], rng=rng)


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck(name, rng):
    _, call, make = _case(name)
    args = [nabla.tensor(a, requires_grad=True) for a in make(rng)]
    assert gradcheck(lambda *a: call(nabla, *a), args, **GRADCHECK_TOL)


@pytest.mark.parametrize("name", ["unfold overlapping", "unfold more offsets than windows",
                                  "as_strided overlapping", "select_scatter",
                                  "slice_scatter step", "diagonal_scatter below, dims reversed"])
def test_double_backward(name, rng):
    _, call, make = _case(name)
    check(call, *make(rng), rng=rng, gradgrad=True)


def test_overlapping_windows_add_up_their_gradients():
    x = nabla.arange(5.0, requires_grad=True)
    x.unfold(0, 3, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 3, 2, 1])
    y = nabla.arange(4.0, requires_grad=True)
    nabla.as_strided(y, (3, 2), (1, 1)).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [1, 2, 2, 1])


def test_views_share_memory_and_version():
    x = nabla.arange(12.0).reshape(3, 4)
    for v in (x.unfold(1, 2, 2), x.unfold(0, 2, 1), nabla.as_strided(x, (2, 2), (4, 1), 1),
              *nabla.split_with_sizes(x, [1, 2])):
        assert np.shares_memory(v._data, x._data)
        assert v._version is x._version
    x.unfold(1, 2, 2)[0, 1, 0] = 100.0  # windows that do not overlap: writeable, as in PyTorch
    assert x[0, 2].item() == 100.0
    with pytest.raises(RuntimeError, match="memory is read-only"):  # overlapping windows
        x.unfold(1, 3, 1)[0, 0, 1] = 1.0
    assert not x.unfold(1, 3, 1)._data.flags.writeable


def test_as_strided_reads_a_non_contiguous_input_in_row_major_order(rng):
    """nabla's storage of a non-contiguous tensor is its row-major order (PyTorch reads the
    actual storage); so the result is that of the contiguous copy, and it is not a view."""
    a = transposed(rng, 3, 4)
    x = nabla.Tensor(a, requires_grad=True)  # keeps the non-contiguous view
    y = nabla.as_strided(x, (2, 3), (2, 1), 1)
    assert_close(y, torch.as_strided(torch.from_numpy(np.ascontiguousarray(a)), (2, 3), (2, 1), 1))
    assert not np.shares_memory(y._data, x._data)
    assert gradcheck(lambda t: nabla.as_strided(t, (2, 3), (2, 1), 1),
                     (nabla.Tensor(a, requires_grad=True),), **GRADCHECK_TOL)


def test_traced_views_replay(rng):
    def fn(x, s):
        return (x.unfold(1, 3, 2).sum(-1) + nabla.as_strided(x, (4, 2), (3, 1)).sum(1, True),
                nabla.diagonal_scatter(x, s, 1) * nabla.slice_scatter(x, x[:, :1] * 2, 1, 2, 3))

    x = nabla.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    s = nabla.tensor(rng.standard_normal(2), requires_grad=True)
    traced = nabla.jit.trace(fn, (x, s))
    y = nabla.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    for a, b in zip(traced(y, s), fn(y, s), strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)


def test_integer_tensors_keep_their_dtype():
    x = np.arange(12).reshape(3, 4)
    for call in (lambda lib, a: a.unfold(1, 2, 1), lambda lib, a: lib.as_strided(a, (2, 2), (1, 2)),
                 lambda lib, a: lib.slice_scatter(a, a[:, :1] * 0, 1, 3),
                 lambda lib, a: lib.diagonal_scatter(a, a[0, :3]),
                 lambda lib, a: lib.select_scatter(a, a[1] * 2, 0, 0)):
        assert_close(call(nabla, nabla.tensor(x)), call(torch, torch.from_numpy(x)))


def test_src_of_another_dtype_is_cast_as_torch():
    x = np.zeros((3, 2), np.float32)
    for call in (lambda lib, a, s: lib.select_scatter(a, s, 0, 1),
                 lambda lib, a, s: lib.slice_scatter(a, s.reshape(1, 2), 0, 1, 2)):
        assert_close(call(nabla, nabla.tensor(x), nabla.tensor([1.5, 2.0], dtype=nabla.float64)),
                     call(torch, torch.from_numpy(x), torch.tensor([1.5, 2.0],
                                                                   dtype=torch.float64)))


ERRORS = [
    (lambda: nabla.arange(6.0).unfold(0, 7, 1), RuntimeError,
     r"unfold: size 7 must be in \[0, 6\], the size of dimension 0 of input \(6,\)"),
    (lambda: nabla.arange(6.0).unfold(0, 2, 0), RuntimeError, "unfold: step must be positive"),
    (lambda: nabla.zeros(2, 3).unfold(2, 1, 1), IndexError, "unfold: dim 2 is out of range"),
    (lambda: nabla.as_strided(nabla.zeros(6), (3, 3), (1, 2), 1), RuntimeError,
     r"as_strided: size \(3, 3\), stride \(1, 2\) and storage_offset 1 reach element 7 of "
     r"input \(6,\), which has 6 elements"),
    (lambda: nabla.as_strided(nabla.zeros(6), (3,), (-1,)), RuntimeError,
     "as_strided: sizes, strides and storage_offset must be non-negative"),
    (lambda: nabla.as_strided(nabla.zeros(6), (3, 3), (1,)), RuntimeError,
     r"as_strided: size \(3, 3\) and stride \(1,\) must have the same length"),
    (lambda: nabla.split_with_sizes(nabla.zeros(5, 2), [2, 2]), RuntimeError,
     r"split_with_sizes: split_sizes \[2, 2\] must be non-negative and sum exactly to 5"),
    (lambda: nabla.split_with_sizes(nabla.zeros(5), 2), RuntimeError,
     "split_with_sizes: expects a list of sizes"),
    (lambda: nabla.select_scatter(nabla.zeros(2, 3), nabla.ones(2), 1, 3), IndexError,
     "select_scatter: index 3 is out of range for dim 1 with size 3"),
    (lambda: nabla.select_scatter(nabla.zeros(2, 3), nabla.ones(3), 1, 0), RuntimeError,
     r"select_scatter: src of shape \(3,\) must have the shape \(2,\) of the place"),
    (lambda: nabla.slice_scatter(nabla.zeros(3, 3), nabla.ones(3, 1), 1, 0, 2), RuntimeError,
     r"slice_scatter: src of shape \(3, 1\) must have the shape \(3, 2\)"),
    (lambda: nabla.slice_scatter(nabla.zeros(3, 3), nabla.ones(3, 3), 1, 0, 3, -1),
     RuntimeError, "slice_scatter: step must be positive"),
    (lambda: nabla.diagonal_scatter(nabla.zeros(3, 3), nabla.ones(2)), RuntimeError,
     r"diagonal_scatter: src of shape \(2,\) must have the shape \(3,\) of the diagonal"),
    (lambda: nabla.diagonal_scatter(nabla.zeros(3), nabla.ones(3)), RuntimeError,
     "diagonal_scatter: expects a tensor with >= 2 dimensions"),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_name_the_op_and_the_shapes(k):
    call, kind, pattern = ERRORS[k]
    with pytest.raises(kind, match=pattern):
        call()
