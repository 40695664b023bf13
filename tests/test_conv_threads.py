"""The convolutions' two-thread chunk loop: the same bits with threads on or off, an off switch,
errors propagated, and safe use from several user threads at once."""

import threading

import numpy as np
import pytest

import nabla
import nabla.nn.functional as F
from nabla.nn.functional import _im2col, _parallel


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few KB, so that even small test convolutions are split many ways (and
    across threads, however little work they hold)."""
    monkeypatch.setattr(_im2col, "_CHUNK_BYTES", 1 << 12)
    monkeypatch.setattr(_im2col, "_THREAD_MIN_MACS", 0)
    saved = _parallel.get_num_threads()
    yield
    _parallel.set_num_threads(saved)


def _conv_grads(arrays, **kw):
    x, w, b, g = (nabla.tensor(a, requires_grad=i < 3) for i, a in enumerate(arrays))
    y = F.conv2d(x, w, b, **kw)
    y.backward(g)
    return [y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]


@pytest.mark.parametrize("kw", [{"padding": 1}, {"stride": 2, "padding": 1},
                                {"groups": 2, "dilation": 2}])
def test_threads_give_identical_bits(small_chunks, kw, layout):
    rng = np.random.default_rng(0)
    shapes = [(7, 4, 9, 8), (6, 4 // kw.get("groups", 1), 3, 3), (6,)]
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    y = F.conv2d(*(nabla.tensor(a) for a in arrays), **kw)
    arrays.append(rng.standard_normal(y.shape).astype(np.float32))
    _parallel.set_num_threads(1)
    off = _conv_grads(arrays, **kw)
    _parallel.set_num_threads(2)
    for _ in range(3):
        for a, b in zip(off, _conv_grads(arrays, **kw)):
            np.testing.assert_array_equal(a, b)


def test_switch_off_runs_in_the_calling_thread(small_chunks):
    seen = []
    _parallel.set_num_threads(1)
    _parallel.map_chunks(lambda i: seen.append(threading.get_ident()), list(range(6)))
    assert set(seen) == {threading.get_ident()}
    _parallel.set_num_threads(2)
    seen.clear()
    out = _parallel.map_chunks(lambda i: seen.append(threading.get_ident()) or i * i,
                               list(range(6)))
    assert out == [i * i for i in range(6)]  # results in item order
    assert len(set(seen)) == 2
    with pytest.raises(ValueError, match="positive"):
        _parallel.set_num_threads(0)


def test_error_in_a_chunk_propagates(small_chunks):
    _parallel.set_num_threads(2)

    def fail_late(i):
        if i == 5:
            raise RuntimeError("chunk 5")
        return i

    with pytest.raises(RuntimeError, match="chunk 5"):
        _parallel.map_chunks(fail_late, list(range(6)))
    assert _parallel.map_chunks(lambda i: i, [1, 2, 3]) == [1, 2, 3]  # helper still works


def test_calls_from_several_user_threads(small_chunks):
    _parallel.set_num_threads(2)
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in
              ((5, 3, 10, 10), (4, 3, 3, 3), (4,), (5, 4, 10, 10))]
    want = _conv_grads(arrays, padding=1)
    got, errors = [], []

    def work():
        try:
            for _ in range(5):
                got.append(_conv_grads(arrays, padding=1))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(got) == 20
    for result in got:
        for a, b in zip(want, result):
            np.testing.assert_array_equal(a, b)


def test_blas_runs_on_one_thread_while_the_chunks_are_split(small_chunks):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    _parallel.set_num_threads(2)
    seen = []

    def record(item):
        seen.extend(info["num_threads"] for info in threadpoolctl.threadpool_info()
                    if info["user_api"] == "blas")
        return item

    with threadpoolctl.threadpool_limits(2, "blas"):
        assert _parallel.map_chunks(record, [1, 2, 3, 4]) == [1, 2, 3, 4]
        after = [info["num_threads"] for info in threadpoolctl.threadpool_info()
                 if info["user_api"] == "blas"]
    assert seen and set(seen) == {1}
    assert set(after) == {2}  # restored when the split ends


def test_small_convolutions_stay_on_the_calling_thread(monkeypatch):
    """Below about 50M multiply-adds a pass is not split: LeNet's convolutions run on one
    thread, the 3x3 benchmark convolution on two."""
    from nabla.nn.utils.conv_utils import make_geom

    def geom(hw, k, pad):
        return make_geom("conv2d", hw, (k, k), (1, 1), (pad,) * 4, (1, 1), 1)

    assert not _im2col.worth_threads(64, 1, 6, geom((28, 28), 5, 2))  # LeNet conv1
    assert not _im2col.worth_threads(64, 6, 16, geom((14, 14), 5, 0))  # LeNet conv2
    assert _im2col.worth_threads(32, 32, 64, geom((32, 32), 3, 1))

    def no_helper():
        raise AssertionError("a small convolution used the helper thread")

    monkeypatch.setattr(_parallel, "_helper", no_helper)
    x = nabla.tensor(np.ones((64, 1, 28, 28), np.float32), requires_grad=True)
    w = nabla.tensor(np.ones((6, 1, 5, 5), np.float32), requires_grad=True)
    F.conv2d(x, w, padding=2).sum().backward()
    assert x.grad is not None and w.grad is not None


def test_public_set_num_threads_like_torch(small_chunks):
    """nabla.set_num_threads / get_num_threads, as torch's: the number also limits BLAS."""
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return {info["num_threads"] for info in threadpoolctl.threadpool_info()
                if info["user_api"] == "blas"}

    before = blas_threads()
    try:
        nabla.set_num_threads(1)
        assert nabla.get_num_threads() == 1 and blas_threads() == {1}
        seen = []
        _parallel.map_chunks(lambda i: seen.append(threading.get_ident()), list(range(4)))
        assert set(seen) == {threading.get_ident()}  # one thread: no split either
        nabla.set_num_threads(2)
        assert nabla.get_num_threads() == 2 and blas_threads() == {2}
    finally:
        threadpoolctl.threadpool_limits(max(before), "blas")
    with pytest.raises(ValueError, match="positive"):
        nabla.set_num_threads(0)
