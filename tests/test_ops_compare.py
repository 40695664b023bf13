"""Comparisons, logical ops, isnan/isinf/isfinite, floor_divide, remainder, fmod,
equal/allclose/isclose vs PyTorch: values, dtype (bool), broadcasting, no gradient; remainder's
gradient (fmod's is in the op table)."""

import numpy as np
import pytest
import torch
from test_ops_reduce import DTYPES, compare, numeric_check, randn

import nabla

SPECIAL = np.array([[0.0, -1.5, np.nan, np.inf], [-np.inf, 2.0, 2.0, 1e-30]])


def same(fn, *arrays):
    """fn on nabla and torch tensors of ``arrays`` gives the same values and dtype."""
    out = fn(nabla, *[nabla.tensor(a) for a in arrays])
    ref = fn(torch, *[torch.tensor(np.array(a, copy=True)) for a in arrays])
    want = ref.numpy()
    assert out.dtype == want.dtype and out.shape == want.shape
    np.testing.assert_array_equal(out._data, want)
    return out


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons(name):
    a = np.round(randn(3, 4))
    b = np.round(randn(1, 4))
    same(lambda m, x, y: getattr(m, name)(x, y), a, b)  # broadcasting
    same(lambda m, x: getattr(m, name)(x, 0.0), a)  # a number
    same(lambda m, x, y: getattr(m, name)(x, y), SPECIAL, SPECIAL[::-1])  # nan, inf
    same(lambda m, x: getattr(m, name)(x, 1), np.array(1.0))  # 0-d


def test_operators_and_none():
    x = nabla.tensor([1.0, 2.0, 3.0])
    assert (x == 2).tolist() == [False, True, False]
    assert (x != 2).tolist() == [True, False, True]
    assert (x < 2).tolist() == [True, False, False] and (x >= 2).tolist() == [False, True, True]
    assert (x == None) is False and (x != None) is True  # noqa: E711 - PyTorch's behaviour


def test_comparison_of_unbroadcastable_shapes_names_the_op():
    with pytest.raises(ValueError, match=r"lt: shapes \(2, 3\) and \(4,\) are not broadcastable"):
        nabla.lt(nabla.randn(2, 3), nabla.randn(4))


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_binary(name):
    a = np.array([[0, 1, 2], [3, 0, 0]])
    b = np.array([[True, False, True]])
    same(lambda m, x, y: getattr(m, name)(x, y), a, b)
    same(lambda m, x, y: getattr(m, name)(x, y), a.astype(np.float64), a.T[:1].T)


def test_logical_not_bitwise_not_and_predicates():
    same(lambda m, x: m.logical_not(x), np.array([0.0, 2.0, -1.0]))
    same(lambda m, x: m.bitwise_not(x), np.array([0, 5, -3]))
    same(lambda m, x: m.bitwise_not(x), np.array([True, False]))
    same(lambda m, x: ~x, np.array([True, False]))
    for name in ("isnan", "isinf", "isfinite"):
        same(lambda m, x, name=name: getattr(m, name)(x), SPECIAL)
        same(lambda m, x, name=name: getattr(m, name)(x), np.array([1, 2]))
    with pytest.raises(TypeError, match="bitwise_not: expected an integer or bool tensor"):
        nabla.bitwise_not(nabla.randn(3))


def test_results_carry_no_gradient():
    x = nabla.randn(3, requires_grad=True)
    for y in (x > 0, x == x, nabla.isnan(x), nabla.isclose(x, x), nabla.floor_divide(x, 2)):
        assert not y.requires_grad and y.grad_fn is None


@pytest.mark.parametrize("a,b", [
    (randn(3, 4) * 5, randn(1, 4) * 2),
    (np.array([7, -7, 7, -7, 0]), np.array([3, 3, -3, -3, 2])),
    (np.array([7.5, -7.5, 7.5, -7.5]), np.array([2.0, 2.0, -2.0, -2.0])),
])
def test_floor_divide_and_remainder_forward(a, b):
    same(lambda m, x, y: m.floor_divide(x, y), a, b)
    same(lambda m, x, y: m.remainder(x, y), a, b)
    same(lambda m, x, y: m.fmod(x, y), a, b)
    same(lambda m, x, y: x // y, a, b)
    same(lambda m, x, y: x % y, a, b)
    same(lambda m, x: x % 3, a)


def test_integer_division_by_zero_raises():
    with pytest.raises(ZeroDivisionError, match="floor_divide"):
        nabla.floor_divide(nabla.tensor([1, 2]), 0)
    with pytest.raises(ZeroDivisionError, match="remainder"):
        nabla.remainder(nabla.tensor([1, 2]), nabla.tensor([1, 0]))
    with pytest.raises(ZeroDivisionError, match="fmod"):
        nabla.fmod(nabla.tensor([1, 2]), nabla.tensor([1, 0]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_remainder_gradient(dtype):
    a, b = randn(3, 4) * 5, randn(1, 4) + 3  # away from the jumps of floor(a / b)
    compare(lambda m, x, y: m.remainder(x, y), [a, b], dtype)
    compare(lambda m, x: m.remainder(x, 1.5), [a], dtype)
    numeric_check(lambda m, x, y: m.remainder(x, y), [a, b])


def test_equal_allclose_isclose():
    a = randn(3, 4)
    b = a + 1e-7
    x, y = nabla.tensor(a), nabla.tensor(b)
    assert nabla.equal(x, nabla.tensor(a)) is True and nabla.equal(x, y) is False
    assert nabla.equal(x, nabla.tensor(a[:2])) is False
    assert nabla.allclose(x, y) is torch.allclose(torch.tensor(a), torch.tensor(b)) is True
    assert nabla.allclose(x, y, rtol=0, atol=1e-9) is False
    same(lambda m, p, q: m.isclose(p, q, rtol=1e-3, atol=0.1), SPECIAL, SPECIAL * 1.05)
    same(lambda m, p, q: m.isclose(p, q, equal_nan=True), SPECIAL, SPECIAL)
    assert nabla.allclose(nabla.tensor(SPECIAL), nabla.tensor(SPECIAL), equal_nan=True) is True


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_binary(name):
    same(lambda m, x, y: getattr(m, name)(x, y), np.array([[12, -3, 7]]), np.array([[10], [5]]))
    same(lambda m, x, y: getattr(m, name)(x, y), np.array([True, False, True]),
         np.array([True, True, False]))
    same(lambda m, x: getattr(m, name)(x, 6), np.array([12, -3, 7]))
    with pytest.raises(TypeError, match=f"{name}: expected integer or bool"):
        getattr(nabla, name)(nabla.randn(3), nabla.randn(3))
