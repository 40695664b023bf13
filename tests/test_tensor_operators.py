"""Python operators on tensors that the op table does not reach: bitwise / logical &, |, ^, ~
and the reflected %, //, & forms; compared with PyTorch."""

import numpy as np
import pytest
import torch

import nabla

CASES = [
    ("bool &", lambda L: L.tensor([True, False, True]) & L.tensor([True, True, False])),
    ("bool |", lambda L: L.tensor([True, False, False]) | L.tensor([False, False, True])),
    ("bool ^", lambda L: L.tensor([True, False, True]) ^ L.tensor([True, True, False])),
    ("bool ~", lambda L: ~L.tensor([True, False])),
    ("int &", lambda L: L.tensor([6, 3, 12]) & 3),
    ("int |", lambda L: L.tensor([6, 3, 12]) | L.tensor([1, 4, 1])),
    ("int ^", lambda L: L.tensor([6, 3, 12]) ^ 5),
    ("int ~", lambda L: ~L.tensor([6, -3])),
    ("reflected &", lambda L: 5 & L.tensor([6, 3])),
    ("reflected |", lambda L: 8 | L.tensor([1, 2])),
    ("reflected ^", lambda L: 1 ^ L.tensor([1, 2])),
    ("reflected %", lambda L: 7 % L.tensor([2, 3, 5])),
    ("reflected //", lambda L: 7 // L.tensor([2, 3, 5])),
    ("float %", lambda L: L.tensor([5.5, -2.5]) % 2),
    ("float //", lambda L: L.tensor([5.5, -2.5]) // 2),
]


@pytest.mark.parametrize("name, op", CASES, ids=[c[0] for c in CASES])
def test_operator_matches_torch(name, op):
    out, ref = op(nabla), op(torch)
    assert out.tolist() == ref.tolist()
    assert str(out.dtype) == str(ref.dtype).replace("torch.", "")


def test_in_place_operator_rebinds_graph_tensors_and_refuses_leaves():
    x = nabla.ones(2, requires_grad=True)
    y = x * 2
    y_before = y
    y += 1  # y is part of a graph: rebinds to a new tensor, y_before keeps its value
    assert y is not y_before and y_before.tolist() == [2.0, 2.0] and y.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x += 1
    with nabla.no_grad():
        x += 1  # allowed without recording, as optimizers do
    assert x.detach().tolist() == [2.0, 2.0]


def test_setitem_places_dimensions_like_getitem_and_torch():
    """Writes use the same placement rules as reads: ints mixed with index arrays follow
    PyTorch, not NumPy (x[0, :, idx] has shape (4, 2) in PyTorch, (2, 4) in NumPy)."""
    from test_ops_index import _key, _random_key  # the random mixed keys that test reads

    rng = np.random.default_rng(0)
    for _ in range(200):
        shape = tuple(int(n) for n in rng.integers(1, 5, int(rng.integers(1, 5))))
        key = _random_key(rng, shape)
        base = rng.standard_normal(shape)
        ours, theirs = nabla.tensor(base.copy()), torch.tensor(base.copy())
        target_shape = tuple(theirs[_key(torch, key)].shape)
        value = rng.standard_normal(target_shape)
        theirs[_key(torch, key)] = torch.tensor(value)
        ours[_key(nabla, key)] = nabla.tensor(value)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=str(key))
    x = nabla.zeros(3, 4, 5)
    x[0, :, [1, 2]] = nabla.ones(4, 2)
    assert x[0, :, [1, 2]].shape == (4, 2) and x.sum().item() == 8


def test_tensor_mm_bmm_check_shapes_and_cumsum_takes_dtype():
    a, b = nabla.ones(2, 3), nabla.ones(3, 4)
    assert a.mm(b).shape == (2, 4)
    assert nabla.ones(2, 2, 3).bmm(nabla.ones(2, 3, 4)).shape == (2, 2, 4)
    with pytest.raises(ValueError, match="mm: expected two 2-D tensors"):
        nabla.ones(2, 2, 3).mm(b)
    out = nabla.tensor([1, 2, 3]).cumsum(0, dtype=nabla.float64)
    ref = torch.tensor([1, 2, 3]).cumsum(0, dtype=torch.float64)
    assert out.tolist() == ref.tolist() and out.dtype == nabla.float64
