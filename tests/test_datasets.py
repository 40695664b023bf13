"""Built-in data sets: digits, MNIST-1D, toy sets, the registry, and the IDX / CIFAR readers on
small files written here (raw and gzipped)."""

import gzip
import random
import struct

import numpy as np
import pytest

import nabla
from nabla.utils.data import (
    CIFAR10,
    DATASETS,
    MNIST,
    MNIST1D,
    DataLoader,
    Digits,
    FashionMNIST,
    get_dataset,
    load_digits,
    load_mnist1d,
    make_moons,
    make_ring_of_gaussians,
    make_sine_sequences,
    make_spirals,
    read_cifar10_batch,
    read_idx,
)


# -- digits -------------------------------------------------------------------------------------
def test_digits_shapes_classes_and_split():
    X_tr, y_tr, X_te, y_te = load_digits()
    assert X_tr.shape == (1437, 64) and X_te.shape == (360, 64)
    assert X_tr.dtype == np.float32 and y_tr.dtype == np.int64
    assert 0.0 <= X_tr.min() and X_tr.max() == 1.0
    assert set(y_tr.tolist()) == set(range(10)) == set(y_te.tolist())
    again = load_digits()
    np.testing.assert_array_equal(again[0], X_tr)
    train, test = Digits(train=True), Digits(train=False, flatten=False)
    assert len(train) == 1437 and len(test) == 360
    x, y = test[0]
    assert x.shape == (1, 8, 8) and y.dtype == np.int64
    # train and test are disjoint and together are scikit-learn's 1,797 images
    from sklearn.datasets import load_digits as sk_load_digits

    sk = sk_load_digits()
    rows = {r.tobytes() + bytes([t]) for r, t in zip(sk.data / 16.0, sk.target, strict=True)}
    ours = [r.astype(np.float64).tobytes() + bytes([t])
            for X, Y in ((X_tr, y_tr), (X_te, y_te)) for r, t in zip(X, Y, strict=True)]
    assert set(ours) == rows and len(ours) == 1797


# -- MNIST-1D -----------------------------------------------------------------------------------
def test_mnist1d_generated_offline_and_deterministic(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the mnist1d package would write its pickle into the cwd
    np_state, py_state = np.random.get_state(), random.getstate()
    X_tr, y_tr, X_te, y_te = load_mnist1d()
    assert X_tr.shape == (4000, 40) and X_te.shape == (1000, 40)
    assert X_tr.dtype == np.float32 and y_tr.dtype == np.int64
    assert set(y_tr.tolist()) == set(range(10)) == set(y_te.tolist())
    assert list(tmp_path.iterdir()) == [], "nothing is written or downloaded"
    # the generator seeds NumPy's and Python's global state; it must be left as found
    assert np.random.get_state()[1].tolist() == np_state[1].tolist()
    assert random.getstate() == py_state
    # deterministic across processes: the generator's default arguments (seed 42) give these
    np.testing.assert_allclose(X_tr[0, :6], [-0.332006, -0.47191, -0.778697, -1.009741,
                                             -0.882353, 0.103935], atol=1e-5)
    assert y_tr[:12].tolist() == [2, 6, 4, 5, 6, 6, 6, 0, 3, 1, 6, 9]
    assert y_te[:12].tolist() == [2, 6, 3, 9, 4, 3, 1, 9, 5, 2, 0, 7]
    assert np.bincount(y_tr).tolist() == [398, 396, 411, 394, 394, 402, 401, 404, 402, 398]
    np.testing.assert_allclose(np.abs(X_te).sum(dtype=np.float64), 29977.8775, rtol=1e-6)
    X_tr[0, 0] = 99.0  # callers get copies: the per-process cache stays intact
    assert load_mnist1d()[0][0, 0] != 99.0
    ds = MNIST1D(train=False, flatten=False)
    assert len(ds) == 1000 and ds[0][0].shape == (1, 40)
    batch = next(iter(DataLoader(MNIST1D(), batch_size=32)))
    assert batch[0].shape == (32, 40) and batch[1].shape == (32,)


# -- toy sets -----------------------------------------------------------------------------------
def test_toy_sets_shapes_and_seeds():
    X, y = make_spirals(301, 3, seed=0)
    assert X.shape == (301, 2) and X.dtype == np.float32 and np.bincount(y).tolist() == [101,
                                                                                          100, 100]
    np.testing.assert_array_equal(make_spirals(301, 3, seed=0)[0], X)
    assert np.abs(X).max() <= 1.0 + 1e-6
    X, y = make_ring_of_gaussians(500, n_modes=8, radius=2.0, std=0.01, seed=0)
    assert X.shape == (500, 2) and set(y.tolist()) <= set(range(8))
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 2.0, atol=0.1)
    X, y = make_sine_sequences(16, seq_len=30, noise=0.0, seed=0)
    assert X.shape == (16, 30, 1) and y.shape == (16, 1) and X.dtype == np.float32
    assert np.abs(X).max() <= 1.0 + 1e-6
    # noise-free: three consecutive values of a sine obey s[t+1] = 2 cos(w) s[t] - s[t-1],
    # so the target is the window's continuation
    s = np.concatenate([X[..., 0], y], axis=1).astype(np.float64)
    two_cos = (s[:, 2:-1] + s[:, :-3]) / s[:, 1:-2]
    good = np.abs(s[:, 1:-2]) > 0.3
    w2 = np.array([np.median(r[m]) for r, m in zip(two_cos, good, strict=True)])
    np.testing.assert_allclose(s[:, -1], w2 * s[:, -2] - s[:, -3], atol=1e-4)


def test_make_moons_equals_sklearn_without_noise():
    from sklearn.datasets import make_moons as sk_make_moons

    for n in (10, 11):
        X, y = make_moons(n, shuffle=False)
        sX, sy = sk_make_moons(n, shuffle=False)
        np.testing.assert_allclose(X, sX, atol=1e-6)
        np.testing.assert_array_equal(y, sy)
    X, y = make_moons(200, noise=0.1, seed=0)
    assert X.shape == (200, 2) and np.bincount(y).tolist() == [100, 100]


# -- registry -----------------------------------------------------------------------------------
def test_registry():
    for name in ("digits", "mnist1d", "spirals", "moons"):
        assert name in DATASETS and isinstance(DATASETS[name], str) and "\n" not in DATASETS[name]
    train, test = get_dataset("spirals", "train"), get_dataset("spirals", "test")
    assert len(train) == 800 and len(test) == 200
    x, y = get_dataset("moons")[0]
    assert x.shape == (2,) and y.dtype == np.int64
    assert len(get_dataset("sine", "test")) == 400
    assert len(get_dataset("digits", "test")) == 360
    with pytest.raises(KeyError, match="choose one of"):
        get_dataset("imagenet")
    with pytest.raises(ValueError, match="split"):
        get_dataset("moons", "val")


# -- IDX and CIFAR files --------------------------------------------------------------------------
_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
          np.float64: 0x0E}


def _write_idx(path, array, compress=False):
    array = np.asarray(array)
    header = struct.pack(">BBBB", 0, 0, _CODES[array.dtype.type], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if compress:
        payload = gzip.compress(payload)
    path.write_bytes(payload)


@pytest.mark.parametrize("dtype", list(_CODES))
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_all_dtypes(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    a = (rng.normal(0, 1000, (3, 4, 5))).astype(dtype)
    path = tmp_path / ("a.idx" + (".gz" if compress else ""))
    _write_idx(path, a, compress)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out, a)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    _write_idx(tmp_path / "short", np.zeros((2, 2), np.uint8))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-1])
    with pytest.raises(ValueError, match="data bytes"):
        read_idx(tmp_path / "short")


def _write_mnist(folder, n_train=5, n_test=3, compress=False):
    rng = np.random.default_rng(1)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        gz = ".gz" if compress else ""
        _write_idx(folder / f"{prefix}-images-idx3-ubyte{gz}", images, compress)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte{gz}", labels, compress)
        out[prefix] = images, labels
    return out


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_from_local_files(tmp_path, compress):
    written = _write_mnist(tmp_path, compress=compress)
    train, test = MNIST(tmp_path), MNIST(tmp_path, train=False, flatten=True)
    assert len(train) == 5 and len(test) == 3
    x, y = train[2]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x._data[0], written["train"][0][2] / 255.0, rtol=1e-6)
    assert y.item() == written["train"][1][2]
    assert test[0][0].shape == (784,)
    np.testing.assert_array_equal(train.targets._data, written["train"][1])


def test_mnist_torchvision_layout_and_missing_files(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    _write_mnist(raw)
    assert len(FashionMNIST(tmp_path)) == 5
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte, train-labels-idx1"):
        MNIST(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="never downloads"):
        MNIST(tmp_path, download=True)


def _cifar_records(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    pixels = rng.integers(0, 256, (n, 3072)).astype(np.uint8)
    return labels, pixels, np.concatenate([labels[:, None], pixels], axis=1).tobytes()


def test_cifar10_from_local_files(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    expected = []
    for i in range(1, 6):
        labels, pixels, raw = _cifar_records(2, i)
        expected.append((labels, pixels))
        data = gzip.compress(raw) if i % 2 else raw
        (folder / (f"data_batch_{i}.bin" + (".gz" if i % 2 else ""))).write_bytes(data)
    labels, pixels, raw = _cifar_records(3, 9)
    (folder / "test_batch.bin").write_bytes(raw)

    images, lab = read_cifar10_batch(folder / "test_batch.bin")
    assert images.shape == (3, 3, 32, 32) and images.dtype == np.uint8
    np.testing.assert_array_equal(images.reshape(3, -1), pixels)
    np.testing.assert_array_equal(lab, labels)

    train, test = CIFAR10(tmp_path), CIFAR10(tmp_path, train=False)
    assert len(train) == 10 and len(test) == 3
    x, y = train[3]  # batch 2, record 1: red plane first, row-major
    assert x.shape == (3, 32, 32) and x.dtype == np.float32
    np.testing.assert_allclose(x._data.reshape(-1), expected[1][1][1] / 255.0, rtol=1e-6)
    assert y.item() == expected[1][0][1]
    (folder / "test_batch.bin").write_bytes(raw[:-1])
    with pytest.raises(ValueError, match="3073-byte record"):
        CIFAR10(tmp_path, train=False)
    with pytest.raises(FileNotFoundError, match="data_batch_1.bin"):
        CIFAR10(tmp_path / "nowhere")


def test_transforms_disable_the_fast_path(tmp_path):
    _write_mnist(tmp_path)
    plain = MNIST(tmp_path, flatten=True)
    doubled = MNIST(tmp_path, flatten=True, transform=lambda x: x * 2.0,
                    target_transform=lambda y: y + 1)
    assert plain._fast_arrays() is not None and doubled._fast_arrays() is None
    a = next(iter(DataLoader(plain, batch_size=5)))
    b = next(iter(DataLoader(doubled, batch_size=5)))
    np.testing.assert_allclose(b[0]._data, 2 * a[0]._data)
    np.testing.assert_array_equal(b[1]._data, a[1]._data + 1)
    assert isinstance(b[0], nabla.Tensor)


def test_mnist1d_disk_cache_round_trip_and_corrupt_file(tmp_path, monkeypatch):
    from nabla.utils.data.datasets import mnist1d as m

    arrays = (np.ones((4, 40), np.float32), np.arange(4), np.zeros((2, 40), np.float32),
              np.arange(2))
    monkeypatch.setattr(m, "CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(m, "_CACHE", {})
    monkeypatch.setattr(m, "_generate", lambda: arrays)
    first = m.load_mnist1d()
    assert (tmp_path / "cache" / m._FILE).exists()
    monkeypatch.setattr(m, "_CACHE", {})
    monkeypatch.setattr(m, "_generate", lambda: pytest.fail("generated again"))
    for a, b in zip(m.load_mnist1d(), first, strict=True):  # read back from disk
        np.testing.assert_array_equal(a, b)
    data = (tmp_path / "cache" / m._FILE).read_bytes()
    (tmp_path / "cache" / m._FILE).write_bytes(data[: len(data) // 2])  # a truncated zip
    monkeypatch.setattr(m, "_CACHE", {})
    monkeypatch.setattr(m, "_generate", lambda: arrays)
    assert m.load_mnist1d()[0].shape == (4, 40)  # a corrupt cache is regenerated
