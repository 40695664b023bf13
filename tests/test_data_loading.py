"""nabla.utils.data: datasets, samplers, DataLoader and default_collate, against PyTorch."""

from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import nabla
from nabla.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)


def _data(n=23, d=3):
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64) % 4
    return X, y


def _rows(batches, k=0):
    return np.concatenate([b[k]._data for b in batches])


class Slow(Dataset):
    """A map-style dataset without a fast path: samples go through __getitem__."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __getitem__(self, i):
        return nabla.tensor(self.X[i]), int(self.y[i])

    def __len__(self):
        return len(self.X)


# -- DataLoader -----------------------------------------------------------------------------------
@pytest.mark.parametrize("drop_last", [False, True])
def test_batches_match_torch_without_shuffle(drop_last):
    X, y = _data()
    ours = list(DataLoader(TensorDataset(X, y), batch_size=5, drop_last=drop_last))
    theirs = list(tud.DataLoader(tud.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
                                 batch_size=5, drop_last=drop_last))
    assert len(ours) == len(theirs) == len(DataLoader(TensorDataset(X, y), batch_size=5,
                                                         drop_last=drop_last))
    for a, b in zip(ours, theirs, strict=True):
        assert isinstance(a, list) and len(a) == 2
        for u, v in zip(a, b, strict=True):
            assert u.dtype == v.numpy().dtype
            np.testing.assert_array_equal(u._data, v.numpy())


def test_len_and_last_batch():
    X, y = _data(23)
    assert len(DataLoader(TensorDataset(X, y), batch_size=5)) == 5
    assert len(DataLoader(TensorDataset(X, y), batch_size=5, drop_last=True)) == 4
    sizes = [len(b[0]) for b in DataLoader(TensorDataset(X, y), batch_size=5)]
    assert sizes == [5, 5, 5, 5, 3]


def test_shuffle_is_a_permutation_and_reproducible_with_generator():
    X, y = _data(50)
    ds = TensorDataset(X, y)

    def order(gen):
        return _rows(DataLoader(ds, batch_size=7, shuffle=True, generator=gen))[:, 0]

    a, b = order(nabla.Generator(3)), order(nabla.Generator(3))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, X[:, 0]), "shuffle=True kept the original order"
    np.testing.assert_array_equal(np.sort(a), X[:, 0])
    assert not np.array_equal(a, order(nabla.Generator(4)))


def test_shuffle_without_generator_follows_manual_seed_and_reshuffles_each_epoch():
    X, y = _data(40)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True)
    nabla.manual_seed(11)
    first, second = _rows(loader)[:, 0], _rows(loader)[:, 0]
    assert not np.array_equal(first, second), "each epoch should draw a new order"
    nabla.manual_seed(11)
    np.testing.assert_array_equal(_rows(loader)[:, 0], first)


@pytest.mark.parametrize("shuffle,drop_last", [(False, False), (True, False), (True, True)])
def test_fast_path_equals_generic_path(shuffle, drop_last):
    X, y = _data(31)
    fast = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=shuffle, drop_last=drop_last,
                      generator=nabla.Generator(5))
    slow = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=shuffle, drop_last=drop_last,
                      generator=nabla.Generator(5), collate_fn=lambda b: default_collate(b))
    assert fast.dataset._fast_arrays() is not None
    pairs = list(zip(fast, slow, strict=True))
    assert len(pairs) == len(fast)
    for a, b in pairs:
        for u, v in zip(a, b, strict=True):
            assert u.shape == v.shape and u.dtype == v.dtype
            np.testing.assert_array_equal(u._data, v._data)


def test_fast_path_through_subset_and_samplers():
    X, y = _data(30)
    ds = TensorDataset(X, y)
    train, _ = random_split(ds, [20, 10], generator=nabla.Generator(0))
    assert train._fast_arrays() is not None
    batches = list(DataLoader(train, batch_size=6))
    np.testing.assert_array_equal(_rows(batches), X[train.indices])
    sampler = SubsetRandomSampler([1, 3, 5, 7], generator=nabla.Generator(2))
    got = _rows(DataLoader(ds, batch_size=3, sampler=sampler))[:, 0]
    assert sorted(got.tolist()) == [X[i, 0] for i in (1, 3, 5, 7)]
    bs = [[0, 2], [4], [29, 1]]
    got = [b[1]._data.tolist() for b in DataLoader(ds, batch_sampler=bs)]
    assert got == [[y[0], y[2]], [y[4]], [y[29], y[1]]]


def test_generic_path_on_custom_dataset_and_batch_size_none():
    X, y = _data(10)
    batches = list(DataLoader(Slow(X, y), batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert batches[0][1].dtype == np.int64 and batches[0][0].dtype == np.float32
    np.testing.assert_array_equal(_rows(batches), X)
    single = list(DataLoader(Slow(X, y), batch_size=None))
    assert len(single) == 10 and single[3][1] == y[3]


def test_requires_grad_tensors_skip_the_fast_path():
    X = nabla.tensor(np.ones((4, 2), np.float32), requires_grad=True)
    ds = TensorDataset(X, nabla.tensor([0, 1, 0, 1]))
    assert ds._fast_arrays() is None


def test_iterable_dataset_batching_and_len():
    class Stream(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    batches = [b._data.tolist() for b in DataLoader(Stream(7), batch_size=3)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(DataLoader(Stream(7), batch_size=3)) == 3
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    chained = [b._data.tolist() for b in DataLoader(Stream(2) + Stream(3), batch_size=5)]
    assert chained == [[0, 1, 0, 1, 2]] and isinstance(Stream(1) + Stream(1), ChainDataset)
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(3), shuffle=True)


def test_argument_errors():
    X, y = _data(8)
    ds = TensorDataset(X, y)
    with pytest.raises(ValueError, match="num_workers=2 is not supported"):
        DataLoader(ds, num_workers=2)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=SequentialSampler(ds))
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(X, y[:5])


# -- samplers -------------------------------------------------------------------------------------
def test_samplers():
    ds = list(range(10))
    assert list(SequentialSampler(ds)) == list(range(10))
    perm = list(RandomSampler(ds, generator=nabla.Generator(1)))
    assert sorted(perm) == list(range(10))
    assert perm == list(RandomSampler(ds, generator=nabla.Generator(1)))
    many = list(RandomSampler(ds, num_samples=25, generator=nabla.Generator(1)))
    assert len(many) == 25 and sorted(many[:20]) == sorted(list(range(10)) * 2)
    drawn = list(RandomSampler(ds, replacement=True, num_samples=200, generator=nabla.Generator(1)))
    assert len(drawn) == 200 and len(set(drawn)) < 200 and set(drawn) <= set(ds)
    assert all(isinstance(i, int) for i in perm + drawn)


def test_weighted_random_sampler():
    w = [0.0, 1.0, 0.0, 3.0]
    draws = np.array(list(WeightedRandomSampler(w, 4000, generator=nabla.Generator(0))))
    assert set(draws.tolist()) == {1, 3}
    assert abs((draws == 3).mean() - 0.75) < 0.03
    no_rep = list(WeightedRandomSampler(w, 2, replacement=False, generator=nabla.Generator(0)))
    assert sorted(no_rep) == [1, 3]
    with pytest.raises(RuntimeError, match="without replacement"):
        WeightedRandomSampler(w, 3, replacement=False)


def test_batch_sampler_matches_torch():
    for drop_last in (False, True):
        ours = list(BatchSampler(range(10), 3, drop_last))
        theirs = list(tud.BatchSampler(range(10), 3, drop_last))
        assert ours == theirs
        assert len(BatchSampler(range(10), 3, drop_last)) == len(theirs)
    ours = list(BatchSampler(SequentialSampler(range(10)), 4, False))
    assert ours == list(tud.BatchSampler(tud.SequentialSampler(range(10)), 4, False))


# -- datasets -------------------------------------------------------------------------------------
def test_subset_concat_and_random_split():
    X, y = _data(10)
    ds = TensorDataset(X, y)
    sub = Subset(ds, [4, 2])
    assert len(sub) == 2 and sub[1][1].item() == y[2]
    cat = ds + Subset(ds, [0, 1])
    assert isinstance(cat, ConcatDataset) and len(cat) == 12
    assert cat[10][1].item() == y[0] and cat[-1][1].item() == y[1]

    parts = random_split(ds, [3, 7], generator=nabla.Generator(0))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    again = random_split(ds, [3, 7], generator=nabla.Generator(0))
    assert again[0].indices == parts[0].indices
    # fractions: floors, then the remainder round-robin from the first (PyTorch's rule)
    theirs = tud.random_split(range(11), [0.5, 0.3, 0.2])
    ours = random_split(TensorDataset(np.zeros(11)), [0.5, 0.3, 0.2])
    assert [len(p) for p in ours] == [len(p) for p in theirs] == [6, 3, 2]
    rounded = random_split(TensorDataset(np.zeros(100)), [0.55, 0.34, 0.11])  # sums to 1 + 2e-16
    assert [len(p) for p in rounded] == [55, 34, 11]
    with pytest.raises(ValueError, match="does not equal"):
        random_split(ds, [3, 8])


# -- default_collate ------------------------------------------------------------------------------
Point = namedtuple("Point", ["x", "label"])


def _to_torch(sample):
    if isinstance(sample, nabla.Tensor):
        return torch.from_numpy(sample._data.copy())
    if isinstance(sample, dict):
        return {k: _to_torch(v) for k, v in sample.items()}
    if isinstance(sample, Point):
        return Point(*(_to_torch(v) for v in sample))
    if isinstance(sample, (list, tuple)):
        return type(sample)(_to_torch(v) for v in sample)
    return sample


def _assert_same(ours, theirs, float_dtype_of_python_floats=np.float32):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, nabla.Tensor)
        want = theirs.numpy()
        if theirs.dtype == torch.float64 and ours.dtype == float_dtype_of_python_floats:
            want = want.astype(ours.dtype)  # Python floats: default dtype (PyTorch: float64)
        assert ours.dtype == want.dtype and ours.shape == want.shape
        np.testing.assert_array_equal(ours._data, want)
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and ours.keys() == theirs.keys()
        for k in theirs:
            _assert_same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _assert_same(a, b)
    else:
        assert ours == theirs


def test_default_collate_nested_matches_torch():
    batch = [
        {"image": nabla.tensor(np.full((2, 2), i, np.float32)),
         "label": i, "weight": 0.5 * i, "name": f"s{i}", "flag": i % 2 == 0,
         "array": np.arange(3, dtype=np.int32) + i, "scalar": np.float64(i),
         "pair": (i, nabla.tensor([i, i + 1])), "list": [1.0 * i, 2 * i],
         "point": Point(nabla.tensor([float(i)]), i)}
        for i in range(3)
    ]
    ours = default_collate(batch)
    theirs = tud.default_collate([_to_torch(b) for b in batch])
    # Python floats: nabla gives the default float dtype, PyTorch float64
    assert ours["weight"].dtype == nabla.get_default_dtype()
    assert ours["label"].dtype == np.int64 and ours["flag"].dtype == np.bool_
    assert ours["array"].dtype == np.int32 and ours["scalar"].dtype == np.float64
    assert isinstance(ours["pair"], list) and isinstance(ours["point"], Point)
    _assert_same(ours, theirs)


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([nabla.zeros(2), nabla.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found"):
        default_collate([object(), object()])


def test_fast_path_is_taken_for_tensor_datasets(monkeypatch):
    X, y = _data(12)
    ds = TensorDataset(X, y)

    def no_items(self, index):
        raise AssertionError("the fast path should not call __getitem__")

    loader = DataLoader(random_split(ds, [8, 4])[0], batch_size=3, shuffle=True)
    monkeypatch.setattr(TensorDataset, "__getitem__", no_items)
    assert sum(len(b[0]) for b in loader) == 8
    with pytest.raises(AssertionError, match="should not call"):
        next(iter(DataLoader(ds, batch_size=3, collate_fn=default_collate.__call__)))
