"""Splits, k-fold, bootstrap and scalers of nabla.utils.data, against scikit-learn."""

import numpy as np
import pytest
from sklearn import model_selection as skm
from sklearn import preprocessing as skp

import nabla
from nabla.utils.data import (
    KFold,
    MinMaxScaler,
    NotFittedError,
    StandardScaler,
    StratifiedKFold,
    Subset,
    TensorDataset,
    bootstrap,
    split_indices,
    train_val_test_split,
)


# -- train / validation / test ----------------------------------------------------------------
@pytest.mark.parametrize("ratios,sizes", [((0.6, 0.2, 0.2), [60, 20, 20]),
                                          ((4, 3, 3), [40, 30, 30]),
                                          ((0.4, 0.3, 0.3), [40, 30, 30]),
                                          ((0.8, 0.2), [80, 20])])
def test_split_sizes_disjoint_and_complete(ratios, sizes):
    parts = split_indices(100, ratios, seed=0)
    assert [len(p) for p in parts] == sizes
    joined = np.concatenate(parts)
    assert len(np.unique(joined)) == 100 and sorted(joined.tolist()) == list(range(100))


def test_split_rounds_like_sklearn():
    for n in (7, 10, 33, 1797):
        _, test = skm.train_test_split(np.arange(n), test_size=0.3, random_state=0)
        assert len(split_indices(n, (0.7, 0.3), seed=0)[1]) == len(test)


def test_split_seed_and_shuffle():
    a = split_indices(50, seed=3)
    b = split_indices(50, seed=3)
    c = split_indices(50, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    unshuffled = split_indices(10, (4, 3, 3), shuffle=False)
    assert [p.tolist() for p in unshuffled] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    nabla.manual_seed(1)
    d = split_indices(50)
    nabla.manual_seed(1)
    assert np.array_equal(split_indices(50)[0], d[0]), "seed=None follows nabla.manual_seed"


def test_stratified_split_keeps_class_ratios():
    y = np.repeat([0, 1, 2], [500, 300, 200])
    np.random.default_rng(0).shuffle(y)
    parts = split_indices(len(y), (4, 3, 3), stratify=y, seed=0)
    assert [len(p) for p in parts] == [400, 300, 300]
    assert sorted(np.concatenate(parts).tolist()) == list(range(1000))
    for p in parts:
        ratio = np.bincount(y[p], minlength=3) / len(p)
        np.testing.assert_allclose(ratio, [0.5, 0.3, 0.2], atol=1.5 / len(p))
    # uneven classes: each class is split within one sample of its exact share
    y = np.repeat([0, 1, 2, 3], [7, 11, 13, 2])
    parts = split_indices(len(y), (0.6, 0.2, 0.2), stratify=y, seed=1)
    for p, share in zip(parts, (0.6, 0.2, 0.2), strict=True):
        assert np.all(np.abs(np.bincount(y[p], minlength=4) - share * np.bincount(y)) < 1.0 + 1e-9)


def test_train_val_test_split_arrays_and_dataset():
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20) % 2
    t = nabla.tensor(X)
    X_tr, X_va, X_te, y_tr, y_va, y_te, t_tr, t_va, t_te = train_val_test_split(
        X, y, t, ratios=(0.5, 0.25, 0.25), stratify=y, seed=0)
    assert [len(X_tr), len(X_va), len(X_te)] == [10, 5, 5]
    np.testing.assert_array_equal(X_tr[:, 0] // 2 % 2, y_tr)  # rows and labels stay paired
    assert isinstance(t_va, nabla.Tensor)
    np.testing.assert_array_equal(t_va._data, X_va)
    assert abs(y_tr.mean() - 0.5) < 1e-9

    ds = TensorDataset(X, y)
    train, val, test = train_val_test_split(ds, ratios=(4, 3, 3), seed=0)
    assert isinstance(train, Subset) and [len(train), len(val), len(test)] == [8, 6, 6]
    assert set(train.indices).isdisjoint(val.indices) and set(val.indices).isdisjoint(test.indices)
    with pytest.raises(ValueError, match="inconsistent"):
        train_val_test_split(X, y[:5])


# -- k-fold -------------------------------------------------------------------------------------
@pytest.mark.parametrize("n,k", [(10, 3), (23, 5), (6, 6)])
def test_kfold_equals_sklearn(n, k):
    X = np.zeros((n, 2))
    ours = list(KFold(k).split(X))
    theirs = list(skm.KFold(k).split(X))
    assert len(ours) == len(theirs) == k
    for (tr, va), (str_, sva) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(tr, str_)
        np.testing.assert_array_equal(va, sva)


def test_kfold_shuffle_covers_every_sample_once():
    folds = [va for _, va in KFold(4, shuffle=True, random_state=0).split(np.zeros(18))]
    assert sorted(np.concatenate(folds).tolist()) == list(range(18))
    assert not np.array_equal(np.concatenate(folds), np.arange(18))
    again = [va for _, va in KFold(4, shuffle=True, random_state=0).split(np.zeros(18))]
    assert all(np.array_equal(a, b) for a, b in zip(folds, again, strict=True))
    with pytest.raises(ValueError, match="greater than the number of samples"):
        list(KFold(5).split(np.zeros(3)))
    with pytest.raises(ValueError, match="random_state"):
        KFold(3, random_state=0)


@pytest.mark.parametrize("labels", [
    np.array([0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 0, 1, 2, 2]),
    np.array(["b", "a", "b", "b", "c", "a", "a", "b", "c", "c", "a", "b", "b"]),
    np.repeat([3, 1, 2], [20, 13, 8]),
])
def test_stratified_kfold_equals_sklearn(labels):
    X = np.zeros((len(labels), 1))
    ours = list(StratifiedKFold(3).split(X, labels))
    theirs = list(skm.StratifiedKFold(3).split(X, labels))
    for (tr, va), (str_, sva) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(tr, str_)
        np.testing.assert_array_equal(va, sva)


def test_stratified_kfold_shuffle_keeps_ratios():
    y = np.repeat([0, 1], [60, 30])
    for tr, va in StratifiedKFold(3, shuffle=True, random_state=1).split(np.zeros(90), y):
        assert np.bincount(y[va]).tolist() == [20, 10]
        assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 90


# -- bootstrap ----------------------------------------------------------------------------------
def test_bootstrap_out_of_bag():
    idx, oob = bootstrap(1000, seed=0)
    assert idx.shape == (1000,) and len(np.unique(idx)) < 1000
    assert np.intersect1d(idx, oob).size == 0
    assert sorted(set(idx.tolist()) | set(oob.tolist())) == list(range(1000))
    assert abs(len(oob) / 1000 - np.exp(-1)) < 0.05  # about 36.8% are never drawn
    assert np.all(np.diff(oob) > 0)
    idx2, oob2 = bootstrap(1000, seed=0)
    np.testing.assert_array_equal(idx, idx2)
    assert bootstrap(10, n_samples=3, seed=1)[0].shape == (3,)


# -- scalers ------------------------------------------------------------------------------------
def _features(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(3.0, 2.0, (40, 4)) * [1.0, 10.0, 0.1, 1.0]
    X[:, 3] = 7.0  # a constant feature: sklearn gives it scale 1
    return X


@pytest.mark.parametrize("ours,theirs", [
    (MinMaxScaler(), skp.MinMaxScaler()),
    (MinMaxScaler((-1, 2)), skp.MinMaxScaler(feature_range=(-1, 2))),
    (StandardScaler(), skp.StandardScaler()),
    (StandardScaler(with_mean=False), skp.StandardScaler(with_mean=False)),
    (StandardScaler(with_std=False), skp.StandardScaler(with_std=False)),
])
def test_scalers_equal_sklearn(ours, theirs):
    X_train, X_test = _features(0), _features(1)
    np.testing.assert_allclose(ours.fit_transform(X_train), theirs.fit_transform(X_train),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.transform(X_test), theirs.transform(X_test),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X_test)), X_test,
                               rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ours.scale_ if ours.scale_ is not None else 0,
                               theirs.scale_ if theirs.scale_ is not None else 0)


def test_scalers_on_tensors_and_ints():
    X = _features(0).astype(np.float32)
    out = MinMaxScaler().fit(nabla.tensor(X)).transform(nabla.tensor(X))
    assert isinstance(out, nabla.Tensor) and out.dtype == np.float32
    np.testing.assert_allclose(out._data, skp.MinMaxScaler().fit_transform(X), atol=1e-6)
    assert out._data.min() == 0.0 and np.isclose(out._data[:, :3].max(), 1.0)
    ints = np.arange(12).reshape(6, 2)
    assert StandardScaler().fit_transform(ints).dtype == np.float64
    assert StandardScaler().fit_transform(nabla.tensor(ints)).dtype == nabla.get_default_dtype()


def test_scaler_errors():
    with pytest.raises(NotFittedError, match="MinMaxScaler is not fitted yet: call fit"):
        MinMaxScaler().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="StandardScaler is not fitted yet"):
        StandardScaler().inverse_transform(np.zeros((2, 2)))
    scaler = StandardScaler().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="X has 3 features"):
        scaler.transform(np.ones((3, 3)))
    with pytest.raises(ValueError, match="2-D"):
        scaler.transform(np.ones(3))


def test_scaler_is_differentiable_on_tensors_that_require_grad():
    X = nabla.tensor(_features(0)[:, :3], requires_grad=True)
    scaler = StandardScaler().fit(X.detach())
    scaler.transform(X).sum().backward()
    np.testing.assert_allclose(X.grad._data, np.broadcast_to(1 / scaler.scale_, X.shape))
