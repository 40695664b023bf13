"""nabla.save / nabla.load: round trips without pickle, atomic writes, clear errors."""

import io
import os

import numpy as np
import pytest

import nabla


def _nested():
    return {
        "w": nabla.randn(3, 4, dtype=nabla.float64),
        "b": nabla.zeros(4, requires_grad=True),
        "idx": nabla.arange(5),
        "count": nabla.tensor(3.0),  # 0-d tensors stay 0-d (like an optimizer's step)
        "transposed": nabla.randn(3, 2).T,
        "mask": nabla.tensor([True, False]),
        "arr": np.arange(6, dtype=np.int32).reshape(2, 3),
        "scalar": np.float32(1.5),
        "lr": 0.1, "step": 7, "name": "adam", "none": None, "flag": True,
        "betas": (0.9, 0.999),
        "state": {0: {"exp_avg": nabla.ones(2)}, 1: {}},
        "groups": [{"params": [0, 1], "lr": 1e-3}],
    }


@pytest.mark.parametrize("suffix", [".pt", ".npz", ".safetensors"])
def test_round_trip_preserves_values_types_and_dtypes(tmp_path, suffix):
    obj = _nested()
    path = tmp_path / f"obj{suffix}"
    nabla.save(obj, path)
    back = nabla.load(path)
    assert set(back) == set(obj)
    for key in ("w", "b", "idx", "mask", "count", "transposed"):
        assert isinstance(back[key], nabla.Tensor)
        assert back[key].dtype == obj[key].dtype and back[key].shape == obj[key].shape
        np.testing.assert_array_equal(back[key].numpy() if not back[key].requires_grad
                                      else back[key].detach().numpy(), obj[key].detach().numpy())
    assert back["b"].requires_grad
    assert back["arr"].dtype == np.int32 and back["arr"].shape == (2, 3)
    assert back["scalar"] == np.float32(1.5) and back["scalar"].dtype == np.float32
    assert back["betas"] == (0.9, 0.999) and isinstance(back["betas"], tuple)
    assert back["lr"] == 0.1 and back["step"] == 7 and back["name"] == "adam"
    assert back["none"] is None and back["flag"] is True
    assert list(back["state"]) == [0, 1]  # integer keys survive
    np.testing.assert_array_equal(back["state"][0]["exp_avg"].numpy(), np.ones(2, np.float32))
    assert back["groups"] == [{"params": [0, 1], "lr": 1e-3}]


def test_file_contains_no_pickle(tmp_path):
    path = tmp_path / "obj.pt"
    nabla.save(_nested(), path)
    with np.load(path, allow_pickle=False) as data:  # would raise if anything needed pickle
        assert "__structure__" in data.files


def test_unsupported_object_is_rejected_with_the_fix(tmp_path):
    with pytest.raises(TypeError, match="cannot store an object of type object"):
        nabla.save({"x": object()}, tmp_path / "x.pt")


def test_not_a_nabla_file_and_truncated_file_give_clear_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(ValueError, match="not a file written by nabla.save"):
        nabla.load(bad)
    good = tmp_path / "good.pt"
    nabla.save({"w": nabla.randn(100, 100)}, good)
    data = good.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        nabla.load(cut)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.ones(3))
    with pytest.raises(ValueError, match="not a file written by nabla.save"):
        nabla.load(other)
    with pytest.raises(FileNotFoundError):
        nabla.load(tmp_path / "missing.pt")


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    nabla.save({"v": 1}, path)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        nabla.save({"v": 2}, path)
    monkeypatch.undo()
    assert nabla.load(path) == {"v": 1}  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def _assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, nabla.Tensor):
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def test_file_objects_round_trip_like_torch(tmp_path):
    """torch.save(obj, buffer) / torch.load(buffer): an in-memory buffer, or an open binary file
    read from its current position."""
    obj = _nested()
    buf = io.BytesIO()
    nabla.save(obj, buf)
    buf.seek(0)
    _assert_same(obj, nabla.load(buf))

    path = tmp_path / "two.bin"
    with open(path, "wb") as f:
        f.write(b"header")
        nabla.save({"x": nabla.arange(3)}, f)
    with open(path, "rb") as f:
        assert f.read(6) == b"header"
        np.testing.assert_array_equal(nabla.load(f)["x"].numpy(), [0, 1, 2])


def test_load_reads_a_safetensors_file_object(tmp_path):
    """The format of a file object is recognised from its bytes (npz is a zip archive)."""
    path = tmp_path / "m.safetensors"
    obj = {"w": nabla.randn(2, 3), "step": 4}
    nabla.save(obj, path)
    with open(path, "rb") as f:
        _assert_same(obj, nabla.load(f))


def test_file_objects_in_text_mode_and_foreign_bytes_are_refused(tmp_path):
    with open(tmp_path / "t.txt", "w") as f, \
            pytest.raises(TypeError, match=r"nabla.save: cannot write bytes to .*t.txt.*'wb'"):
        nabla.save({"a": 1}, f)
    with open(tmp_path / "t.txt", "r") as f, \
            pytest.raises(TypeError, match=r"nabla.load: .*t.txt.* gave str, not bytes: .*'rb'"):
        nabla.load(f)
    with pytest.raises(ValueError, match=r"nabla.load: '<BytesIO>' is not a file written by "
                                         r"nabla.save: it is not a .npz archive"):
        nabla.load(io.BytesIO(b"plain text, not nabla"))
    with pytest.raises(ValueError, match=r"'<BytesIO>' is not a file written by nabla.save: it "
                                         r"is empty"):
        nabla.load(io.BytesIO())


def test_a_container_that_holds_itself_is_refused_and_shared_ones_are_copied():
    loop = [1, 2]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"nabla.save: obj\['a'\]\[2\] holds the container it is "
                                         r"in \(a reference cycle\)"):
        nabla.save({"a": loop}, io.BytesIO())
    shared = [1, 2]
    buf = io.BytesIO()
    nabla.save({"a": shared, "b": shared, "c": (shared, shared)}, buf)
    buf.seek(0)
    assert nabla.load(buf) == {"a": [1, 2], "b": [1, 2], "c": ([1, 2], [1, 2])}
