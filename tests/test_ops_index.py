"""Indexing ops (index.py) against PyTorch: ``x[key]`` with every kind of key, gather/scatter,
index_select/index_add, masked_select, take_along_dim; forward, backward with random upstream
gradients (float32, float64), repeated indices, float64 finite differences, double backward,
views; the errors are in test_ops_index_errors.py."""

import numpy as np
import pytest
import torch
from test_ops_shape import DTYPES, check, fd_check, transposed

import nabla


def _key(lib, key):
    """The key with its arrays as ``lib`` tensors (tuples stay tuples, lists stay lists)."""
    def part(k):
        if isinstance(k, np.ndarray):
            return nabla.tensor(k) if lib is nabla else torch.from_numpy(k)
        return k
    return tuple(part(k) for k in key) if isinstance(key, tuple) else part(key)


def _getitem(key):
    return lambda lib, x: x[_key(lib, key)]


I = np.array  # noqa: E741  (short for index arrays in the table)
GETITEM = [
    ("int", 1, (4, 3)), ("negative int", -1, (4, 3)), ("two ints: 0-d", (2, -1), (4, 3)),
    ("slices with steps", (slice(1, None, 2), slice(None, None, -1 + 3)), (5, 4)),
    ("negative slice bounds", (slice(-3, -1), slice(None, -1)), (4, 3)),
    ("None and Ellipsis", (None, Ellipsis, 0, None), (2, 3, 4)),
    ("empty slice", slice(2, 2), (4, 3)), ("0-d, empty key", (), ()),
    ("0-d, Ellipsis", Ellipsis, ()), ("0-d, None", None, ()),
    ("bool mask", "mask", (4, 3)), ("bool rows", I([True, False, True, True]), (4, 3)),
    ("bool mask of dims 1-2", (slice(None), "mask12"), (2, 3, 4)),
    ("all-false mask", I([False] * 4), (4, 3)),
    ("int array, duplicates", I([0, 2, 0, 3, 2]), (4, 3)),
    ("negative int array", I([-1, 0, -1]), (4, 3)),
    ("two int arrays, duplicates", (I([0, 0, 3]), I([1, 1, 2])), (4, 3)),
    ("broadcast int arrays", (I([[0], [3]]), I([1, 1, 2])), (4, 3)),
    ("2-d int array after slice", (slice(None), I([[2, 2], [0, 1]])), (4, 3)),
    ("int array between slices", (slice(1, None), I([0, 0, 2]), slice(None)), (3, 4, 2)),
    ("split int arrays (moved to front)", (I([0, 1, 1]), slice(None), I([1, 1, 0])), (2, 3, 2)),
    ("int and int array", (1, I([2, 0, 2])), (3, 4)),
    ("int, slice, int array: ints first as PyTorch", (0, slice(None), I([1, 2])), (3, 4, 5)),
    ("slice, int, slice, int array", (slice(None), 0, slice(None), I([1, 0])), (3, 4, 5, 2)),
    ("list", [0, 2, 2], (4, 3)), ("list of bools", [True, False, True], (3, 2)),
    ("empty list", [], (4, 3)), ("int array and Ellipsis", (Ellipsis, I([1, 1])), (2, 3, 2)),
]


def _make_key(key, shape, rng):
    if isinstance(key, str):  # masks depend on the shape: drawn here
        return rng.random(shape) < 0.5 if key == "mask" else rng.random(shape[1:]) < 0.5
    if isinstance(key, tuple):
        return tuple(_make_key(k, shape, rng) for k in key)
    return key


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,key,shape", GETITEM, ids=[g[0] for g in GETITEM])
def test_getitem(name, key, shape, dtype, rng):
    key = _make_key(key, shape, rng)
    check(_getitem(key), rng.standard_normal(shape).astype(dtype), rng=rng)


@pytest.mark.parametrize("key", [(slice(1, None), 1), (I([2, 0, 2]), slice(None, None, 2))])
def test_getitem_non_contiguous(key, rng):
    x = transposed(rng, 4, 3)
    assert not x.flags.c_contiguous
    check(_getitem(key), x, rng=rng)


def test_getitem_tensor_keys(rng):
    """0-d integer tensors index like ints; a boolean tensor mask; an int64 tensor."""
    x = rng.standard_normal((4, 3))
    check(lambda lib, a: a[lib.tensor(2), lib.tensor(-1)], x, rng=rng)
    check(lambda lib, a: a[np.int64(1), np.array(2)], x, rng=rng)
    check(lambda lib, a: a[a > 0], x, rng=rng)
    check(lambda lib, a: a[lib.tensor([3, 3, 0])][:, lib.tensor(1)], x, rng=rng)


def _src(lib, src, index):
    """PyTorch's backward fails for a src larger than index ("invalid gradient ... expected shape
    compatible"): torch gets src cut to index's shape, the same function of src."""
    if lib is nabla:
        return src
    return src[tuple(slice(0, n) for n in index.shape)]


CASES = [
    ("gather dim 1, duplicates", lambda lib, x, i: lib.gather(x, 1, i),
     lambda r: [r.standard_normal((3, 4)), r.integers(0, 4, (3, 5))]),
    ("gather dim 0, index smaller", lambda lib, x, i: x.gather(0, i),
     lambda r: [r.standard_normal((3, 4)), r.integers(0, 3, (2, 2))]),
    ("gather dim -1, 3-d, transposed", lambda lib, x, i: lib.gather(x.transpose(0, 2), -1, i),
     lambda r: [r.standard_normal((4, 3, 2)), r.integers(0, 4, (2, 3, 6))]),
    ("gather empty index", lambda lib, x, i: lib.gather(x, 1, i),
     lambda r: [r.standard_normal((3, 4)), np.zeros((3, 0), np.int64)]),
    ("gather 1-d", lambda lib, x, i: lib.gather(x, 0, i),
     lambda r: [r.standard_normal(5), r.integers(0, 5, 9)]),
    ("gather 0-d", lambda lib, x, i: lib.gather(x, 0, i),
     lambda r: [r.standard_normal(()), np.array(0)]),
    ("scatter_add 0-d", lambda lib, x, i, s: lib.scatter_add(x, -1, i, s),
     lambda r: [r.standard_normal(()), np.array(0), r.standard_normal(())]),
    # a 0-d index, input or src counts as 1-D (the one-hot idiom scatter_(0, tensor(y), value=1))
    ("gather 0-d index", lambda lib, x, i: lib.gather(x, 0, i),
     lambda r: [r.standard_normal(5), np.array(3)]),
    ("gather 0-d input, 1-d index", lambda lib, x, i: x.gather(-1, i),
     lambda r: [r.standard_normal(()), np.array([0, 0, 0])]),
    ("scatter 0-d index and src", lambda lib, x, i, s: lib.scatter(x, 0, i, s),
     lambda r: [r.standard_normal(4), np.array(2), r.standard_normal(())]),
    ("scatter value, 0-d index", lambda lib, x, i: lib.scatter(x, 0, i, value=1.0),
     lambda r: [r.standard_normal(10), np.array(7)]),
    ("scatter_add 0-d index and src", lambda lib, x, i, s: x.scatter_add(0, i, s),
     lambda r: [r.standard_normal(3), np.array(2), r.standard_normal(())]),
    ("scatter_reduce 0-d index", lambda lib, x, i, s: lib.scatter_reduce(x, 0, i, s, "amax"),
     lambda r: [r.standard_normal(3), np.array(1), r.standard_normal(())]),
    ("scatter_add duplicates", lambda lib, x, i, s: lib.scatter_add(x, 1, i, _src(lib, s, i)),
     lambda r: [r.standard_normal((3, 4)), r.integers(0, 4, (3, 6)), r.standard_normal((3, 6))]),
    ("scatter_add src larger", lambda lib, x, i, s: x.scatter_add(0, i, _src(lib, s, i)),
     lambda r: [r.standard_normal((3, 4)), r.integers(0, 3, (2, 3)), transposed(r, 3, 4)]),
    ("scatter_add dim -1, 3-d", lambda lib, x, i, s: lib.scatter_add(x, -1, i, _src(lib, s, i)),
     lambda r: [r.standard_normal((2, 3, 4)), r.integers(0, 4, (2, 2, 3)),
                r.standard_normal((2, 3, 5))]),
    ("scatter unique", lambda lib, x, i, s: lib.scatter(x, 1, i, _src(lib, s, i)),
     lambda r: [r.standard_normal((3, 5)), np.argsort(r.random((3, 5)), 1)[:, :3],
                r.standard_normal((3, 4))]),
    ("scatter value", lambda lib, x, i: lib.scatter(x, 0, i, value=-2.0),
     lambda r: [r.standard_normal((4, 3)), r.integers(0, 4, (2, 3))]),
    ("index_select duplicates", lambda lib, x, i: lib.index_select(x, 0, i),
     lambda r: [r.standard_normal((4, 3)), np.array([0, 2, 2, 1, 0])]),
    ("index_select dim -1, transposed", lambda lib, x, i: x.index_select(-1, i),
     lambda r: [transposed(r, 2, 3, 4), np.array([3, 0, 3])]),
    ("index_select empty", lambda lib, x, i: lib.index_select(x, 1, i),
     lambda r: [r.standard_normal((4, 3)), np.zeros(0, np.int64)]),
    ("index_select 0-d index", lambda lib, x, i: lib.index_select(x, 1, i),
     lambda r: [r.standard_normal((4, 3)), np.array(2)]),
    ("index_add duplicates, alpha", lambda lib, x, i, s: lib.index_add(x, 1, i, s, alpha=-0.5),
     lambda r: [r.standard_normal((3, 4)), np.array([0, 3, 0, 0, 1]),
                r.standard_normal((3, 5))]),
    ("index_add dim 0", lambda lib, x, i, s: lib.index_add(x, 0, i, s),
     lambda r: [r.standard_normal((4, 2)), np.array([1, 1]), transposed(r, 2, 2)]),
    ("masked_select", lambda lib, x, m: lib.masked_select(x, m),
     lambda r: [r.standard_normal((3, 4)), r.random((3, 4)) < 0.5]),
    ("masked_select broadcast", lambda lib, x, m: lib.masked_select(x, m),
     lambda r: [r.standard_normal((3, 1)), r.random((2, 3, 4)) < 0.5]),
    ("take_along_dim", lambda lib, x, i: lib.take_along_dim(x, i, 1),
     lambda r: [r.standard_normal((3, 4)), r.integers(0, 4, (3, 6))]),
    ("take_along_dim broadcast", lambda lib, x, i: lib.take_along_dim(x, i, -1),
     lambda r: [r.standard_normal((1, 3, 4)), r.integers(0, 4, (2, 1, 5))]),
    ("take_along_dim flat", lambda lib, x, i: lib.take_along_dim(x, i),
     lambda r: [r.standard_normal((3, 4)), r.integers(0, 12, (7,))]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,call,make", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, call, make, dtype, rng):
    args = [a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in make(rng)]
    check(call, *args, rng=rng)


@pytest.mark.parametrize("name", ["gather dim 1, duplicates", "scatter_add src larger",
                                  "scatter unique", "index_add duplicates, alpha",
                                  "masked_select broadcast", "take_along_dim broadcast"])
def test_finite_differences(name, rng):
    _, call, make = next(c for c in CASES if c[0] == name)
    fd_check(call, *make(rng), rng=rng)


@pytest.mark.parametrize("key", [(slice(1, None), I([0, 0, 2])), I([True, False, True, True]),
                                 (slice(None, None, 2), 1)])
def test_getitem_finite_differences(key, rng):
    fd_check(_getitem(key), rng.standard_normal((4, 3)), rng=rng)


@pytest.mark.parametrize("name", ["gather dim 1, duplicates", "scatter_add duplicates",
                                  "index_select duplicates", "index_add duplicates, alpha",
                                  "scatter unique", "masked_select"])
def test_double_backward(name, rng):
    _, call, make = next(c for c in CASES if c[0] == name)
    check(call, *make(rng), rng=rng, gradgrad=True)


@pytest.mark.parametrize("key", [(slice(1, None), I([0, 0, 2])), (slice(None, None, 2), -1),
                                 I([[True, False, True], [False, False, True]] * 2)])
def test_getitem_double_backward(key, rng):
    check(_getitem(key), rng.standard_normal((4, 3)), rng=rng, gradgrad=True)


def test_basic_index_is_a_view_and_advanced_is_a_copy():
    x = nabla.randn(4, 3, requires_grad=True)
    for v in (x[1], x[1:3, ::2], x[None, ..., 0], x[2, 1]):
        assert np.shares_memory(v._data, x._data) and v._version is x._version
    for c in (x[[0, 1]], x[x > 0], x[:, np.array([2, 2])]):
        assert not np.shares_memory(c._data, x._data) and c._version is not x._version


def test_setitem_uses_index_key():
    x = nabla.zeros(4, 3)
    x[nabla.tensor([0, 2]), 1] = 5.0
    x[x > 4] += 1.0  # a read-modify-write through a mask
    x[[3]] = nabla.tensor([1.0, 2.0, 3.0])
    t = torch.zeros(4, 3)
    t[torch.tensor([0, 2]), 1] = 5.0
    t[t > 4] += 1.0
    t[[3]] = torch.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x._data, t.numpy())


def test_integer_tensors_keep_dtype():
    x = np.arange(12).reshape(3, 4)
    n, t = nabla.tensor(x), torch.from_numpy(x)
    i = np.array([[2, 0], [1, 1], [3, 3]])
    assert np.array_equal(nabla.gather(n, 1, nabla.tensor(i))._data,
                          torch.gather(t, 1, torch.from_numpy(i)).numpy())
    assert n[[0, 2]].dtype == np.int64 and n[n > 3].tolist() == t[t > 3].tolist()


def test_zero_dim_inputs_as_torch():
    """A 0-d input is one element for scatter and index_add; take_along_dim needs a dim."""
    for lib in (nabla, torch):
        x = lib.tensor(1.0, requires_grad=True)
        s = lib.tensor(5.0, requires_grad=True)
        out = [x.scatter(0, lib.tensor(0), s), x.scatter(0, lib.tensor(0), 3.0),
               x.index_add(0, lib.tensor([0]), s, alpha=2), x.index_add(0, lib.tensor(0), s)]
        sum(out).backward()
        if lib is nabla:
            ours = [o.item() for o in out] + [x.grad.item(), s.grad.item()]
        else:
            assert ours == [o.item() for o in out] + [x.grad.item(), s.grad.item()]
        with pytest.raises(RuntimeError):
            x.index_add(0, lib.tensor([0]), lib.tensor([5.0]))
        with pytest.raises(IndexError, match="(take_along_dim: dim 0 given, but the input is 0-d"
                                             "|no dimensions)"):
            x.take_along_dim(lib.tensor(0), 0)


def test_tensor_methods(rng):
    """The Tensor methods PyTorch has for these ops, with PyTorch's signatures."""
    x, i = rng.standard_normal((3, 4)), np.array([[0, 3], [1, 1], [2, 0]])
    check(lambda lib, a, j: (a.swapaxes(0, 1), a.swapdims(1, 0), a.movedim(0, 1),
                             a.moveaxis((0,), (1,)), a.narrow(1, 1, 2), a.flip(0, 1), a.flip(1),
                             a.flip((0,)), a.roll(1, 0), a.roll((1, 2), (0, 1)),
                             a.scatter(1, j, value=-1.0),
                             a.index_add(0, lib.tensor([2, 2]), a[:2], alpha=2.0),
                             a.masked_select(a > 0), a.take_along_dim(j, 1)),
          x, i, rng=rng)


def _random_key(rng, shape):
    """A random mix of ints, slices with steps, None, Ellipsis, int arrays and boolean masks."""
    key, d, ellipsis = [], 0, False
    length, masks = int(rng.integers(1, 4)), rng.random() < 0.3  # index arrays must broadcast
    while d < len(shape) and (ellipsis or rng.random() < 0.85):
        n, kind = shape[d], rng.integers(0, 6)
        if kind == 0:
            key.append(int(rng.integers(-n, n)))
        elif kind == 1:
            a, b = sorted(rng.integers(-n - 1, n + 2, 2))
            key.append(slice(int(a), int(b), int(rng.integers(1, 3))))
        elif kind == 2:
            key.append(None)
            continue
        elif kind == 3 and not ellipsis:
            key.append(Ellipsis)
            ellipsis = True  # the parts after it index the last dims: generate all of them
            d = max(d, len(shape) - int(rng.integers(0, 3)))
            continue
        elif masks == "done":  # one mask at most, without index arrays: ints instead
            key.append(int(rng.integers(-n, n)))
        elif masks:
            key.append(rng.random(n) < 0.5)
            masks = "done"
        else:
            key.append(rng.integers(-n, n, length))
        d += 1
    return tuple(key)


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_keys_against_torch(dtype, rng):
    for _ in range(60):
        shape = tuple(int(n) for n in rng.integers(1, 5, int(rng.integers(1, 5))))
        key = _random_key(rng, shape)
        check(_getitem(key), rng.standard_normal(shape).astype(dtype), rng=rng)


def test_take(rng):
    x, i = transposed(rng, 3, 4), rng.integers(-12, 12, (2, 5))
    check(lambda lib, a, j: lib.take(a, j), x, i, rng=rng)


def test_setitem_with_a_value_of_the_wrong_shape_names_both_shapes():
    x = nabla.zeros(3, 4)
    with pytest.raises(ValueError, match=r"setitem: cannot write a value of shape \(7,\) into the "
                                         r"selection of shape \(4,\)"):
        x[0] = nabla.randn(7)
    x[0] = nabla.ones(4)  # the right shape still writes
    assert x.sum().item() == 4
