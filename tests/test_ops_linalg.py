"""matmul, mm, bmm, dot, outer, einsum and norm vs PyTorch: forward, backward with random upstream
gradients, float64 finite differences, double backward, and the shape errors."""

import numpy as np
import pytest
from test_ops_reduce import DTYPES, compare, double_backward, numeric_check, randn

import nabla

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((2, 3, 4), (4, 5)),  # batch @ matrix: folded into one GEMM
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 6)),  # batch dims broadcast both ways
    ((3, 4), (2, 4, 5)),
    ((1, 3, 4), (2, 4, 5)),
    ((1, 1), (1, 1)),
    ((3, 0), (0, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(sa, sb, dtype):
    compare(lambda m, a, b: m.matmul(a, b), [randn(*sa), randn(*sb)], dtype)
    compare(lambda m, a, b: a @ b, [randn(*sa), randn(*sb)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mm_bmm_dot_outer(dtype):
    compare(lambda m, a, b: m.mm(a, b), [randn(3, 4), randn(4, 2)], dtype)
    compare(lambda m, a, b: m.bmm(a, b), [randn(2, 3, 4), randn(2, 4, 2)], dtype)
    compare(lambda m, a, b: m.dot(a, b), [randn(5), randn(5)], dtype)
    compare(lambda m, a, b: m.outer(a, b), [randn(3), randn(4)], dtype)


def test_matmul_gradient_only_to_inputs_that_need_it():
    a, b = nabla.randn(2, 3, 4, requires_grad=True), nabla.randn(4, 5)
    (a @ b).sum().backward()
    assert a.grad.shape == (2, 3, 4) and b.grad is None


@pytest.mark.parametrize("sa,sb,pattern", [
    ((2, 3), (4, 5), r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied: 3 != 4"),
    ((3,), (4,), r"matmul: shapes \(3,\) and \(4,\) cannot be multiplied: 3 != 4"),
    ((2, 2, 3), (3, 3, 4), r"matmul: batch dims .* not broadcastable \(2 vs 3\)"),
    ((), (3,), "matmul: both arguments must be at least 1-D"),
])
def test_matmul_shape_errors(sa, sb, pattern):
    with pytest.raises(ValueError, match=pattern):
        nabla.matmul(nabla.randn(*sa), nabla.randn(*sb))


def test_mm_bmm_dot_outer_shape_errors():
    with pytest.raises(ValueError, match="mm: expected two 2-D tensors"):
        nabla.mm(nabla.randn(2, 3, 4), nabla.randn(4, 5))
    with pytest.raises(ValueError, match="bmm: expected 3-D tensors with the same batch size"):
        nabla.bmm(nabla.randn(2, 3, 4), nabla.randn(3, 4, 5))
    with pytest.raises(ValueError, match="dot: expected two 1-D tensors of equal size"):
        nabla.dot(nabla.randn(3), nabla.randn(4))
    with pytest.raises(ValueError, match="outer: expected 1-D tensors"):
        nabla.outer(nabla.randn(3, 1), nabla.randn(4))


EINSUM_CASES = [
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),  # attention scores
    ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),  # attention output
    ("bi,oij,bj->bo", [(3, 4), (2, 4, 5), (3, 5)]),  # bilinear
    ("ij,jk", [(3, 4), (4, 5)]),  # implicit output
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ij,jk->i", [(3, 4), (4, 5)]),  # k summed within one operand only
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]),
    ("...ij,...jk->...ik", [(1, 2, 3), (4, 3, 2)]),  # ellipsis, broadcast batch
    ("b...,b->...", [(2, 3, 4), (2,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # size-1 dim broadcast against a labelled dim
    ("Ab, bC -> AC", [(2, 3), (3, 4)]),  # spaces, upper case
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum(eq, shapes, dtype):
    compare(lambda m, *xs: m.einsum(eq, *xs), [randn(*s) for s in shapes], dtype)


def test_einsum_accepts_a_list():
    compare(lambda m, a, b: m.einsum("ij,jk->ik", [a, b]), [randn(2, 3), randn(3, 4)], np.float64)


@pytest.mark.parametrize("eq,shapes", [
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iji->j", [(3, 4, 3)]), ("ii,i->i", [(3, 3), (3,)]),
    ("bii->bi", [(2, 3, 3)]),
])
def test_einsum_repeated_subscripts(eq, shapes):
    arrays = [randn(*s) for s in shapes]
    compare(lambda m, *xs: m.einsum(eq, *xs), arrays, np.float64)
    numeric_check(lambda m, *xs: m.einsum(eq, *xs), arrays)
    out = nabla.einsum(eq, *[nabla.tensor(a) for a in arrays])
    assert not np.shares_memory(out._data, arrays[0])  # a copy, not a view of the input


def test_einsum_errors():
    with pytest.raises(ValueError, match="einsum: the equation 'ij,jk' names 2 operand"):
        nabla.einsum("ij,jk", nabla.randn(2, 3))
    with pytest.raises(ValueError, match="einsum: operand 0 has 3 dim"):
        nabla.einsum("ij->i", nabla.randn(2, 3, 4))


NORM_CASES = [
    {}, {"p": 1}, {"p": 3}, {"p": 1.5}, {"p": float("inf")}, {"p": -float("inf")},
    {"p": 2, "dim": 1}, {"p": 2, "dim": (0, 2), "keepdim": True}, {"p": "fro"}, {"p": 3, "dim": -1},
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", NORM_CASES)
def test_norm(kw, dtype):
    compare(lambda m, x: m.norm(x, **kw), [randn(2, 3, 4)], dtype)


def test_norm_of_zeros_has_zero_gradient_and_p0_counts():
    compare(lambda m, x: m.norm(x, dim=1), [np.zeros((2, 3))], np.float64)
    compare(lambda m, x: m.norm(x, 3, dim=1), [np.zeros((2, 3))], np.float64)
    # p < 1: |x|^(p-1) is infinite at a zero entry; the gradient there is 0, as PyTorch's
    compare(lambda m, x: m.norm(x, 0.5, dim=1), [np.array([[0.0, 1.5, -2.0], [0.0] * 3])],
            np.float64)
    compare(lambda m, x: m.norm(x, 0), [np.array([0.0, 1.5, -2.0])], np.float64, grad=False)
    with pytest.raises(RuntimeError, match="norm: expected a floating point tensor"):
        nabla.norm(nabla.tensor([1, 2]))


NUMERIC = {
    "matmul": (lambda m, a, b: m.matmul(a, b), [(2, 1, 2, 3), (2, 3, 2)]),
    "batch_at_matrix": (lambda m, a, b: a @ b, [(2, 2, 3), (3, 2)]),
    "vector_at_batch": (lambda m, a, b: a @ b, [(3,), (2, 3, 2)]),
    "bilinear": (lambda m, a, w, b: m.einsum("bi,oij,bj->bo", a, w, b), [(2, 3), (2, 3, 2),
                                                                         (2, 2)]),
    "einsum_sum_one": (lambda m, a, b: m.einsum("ij,jk->i", a, b), [(2, 3), (3, 2)]),
    "norm3": (lambda m, x: m.norm(x, 3, dim=1), [(2, 3)]),
    "norm2": (lambda m, x: m.norm(x), [(2, 3)]),
}


@pytest.mark.parametrize("name", list(NUMERIC))
def test_finite_differences(name):
    fn, shapes = NUMERIC[name]
    numeric_check(fn, [randn(*s) for s in shapes])


@pytest.mark.parametrize("fn,shape", [
    (lambda m, x: m.matmul(x, x.transpose(-1, -2)), (2, 3, 4)),
    (lambda m, x: m.einsum("bij,bkj->bik", x, x * x), (2, 3, 4)),
    (lambda m, x: m.norm(x, dim=-1), (3, 4)),
    (lambda m, x: m.norm(x, 3), (3, 4)),
])
def test_double_backward_matches_torch(fn, shape):
    double_backward(fn, randn(*shape))


def test_non_contiguous_operands_and_no_graph_under_no_grad():
    compare(lambda m, a, b: a.transpose(0, 1) @ b.transpose(-1, -2), [randn(4, 3), randn(2, 5, 4)],
            np.float64)
    compare(lambda m, a, b: m.einsum("ij,jk->ik", a.transpose(0, 1), b), [randn(4, 3),
                                                                          randn(4, 2)], np.float64)
    a, b = nabla.randn(2, 3, requires_grad=True), nabla.randn(3, 4, requires_grad=True)
    with nabla.no_grad():
        for y in (a @ b, nabla.einsum("ij,jk", a, b), nabla.norm(a), nabla.dot(a[0], b[:, 0])):
            assert not y.requires_grad and y.grad_fn is None


@pytest.mark.parametrize("name", list(NUMERIC))
def test_functions_accept_raw_arrays(name):
    """As the reductions: arrays in, arrays out (for backward rules in the engine's fast mode)."""
    fn, shapes = NUMERIC[name]
    arrays = [randn(*s) for s in shapes]
    out = fn(nabla, *arrays)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, fn(nabla, *[nabla.tensor(a) for a in arrays])._data)
