"""``nabla.save`` / ``nabla.load``: nested containers of tensors, arrays, numbers and strings,
stored WITHOUT pickle, so loading a file never executes code.

Format: a NumPy ``.npz`` archive (``allow_pickle=False``) holding each array as ``a<i>`` and the
container structure as JSON in ``__structure__``; paths ending in ``.safetensors`` use the
safetensors format instead (optional extra ``io``), with the structure in its metadata. Files are
written to a temporary name and renamed, so a crash never leaves a half-written file behind.
"""

import io
import json
import os
import tempfile
import zipfile

import numpy

from nabla.tensor import Tensor

_MAGIC = "nabla-save"
_VERSION = 1


def save(obj, path) -> None:
    """Save ``obj`` (dicts, lists, tuples, Tensors, arrays, numbers, strings, None) to ``path``.

    Args:
        obj: the object, e.g. ``model.state_dict()`` or a checkpoint dict.
        path: a file path; ``.safetensors`` selects that format, anything else writes ``.npz`` data.
    """
    arrays = []
    structure = {"format": _MAGIC, "version": _VERSION, "obj": _encode(obj, arrays)}
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        payload = _safetensors_bytes(arrays, structure)
    else:
        buf = io.BytesIO()
        named = {f"a{i}": a for i, a in enumerate(arrays)}
        named["__structure__"] = numpy.frombuffer(json.dumps(structure).encode(), numpy.uint8)
        numpy.savez(buf, **named)
        payload = buf.getvalue()
    _atomic_write(path, payload)


def load(path, map_location=None, weights_only=True):
    """Load what ``save`` wrote. Raises a ValueError naming the file if it is not a nabla file or
    is truncated. ``map_location`` and ``weights_only`` are accepted for PyTorch compatibility."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"nabla.load: no such file: {path!r}")
    try:
        if path.endswith(".safetensors"):
            arrays, structure = _read_safetensors(path)
        else:
            with numpy.load(path, allow_pickle=False) as data:
                structure = json.loads(bytes(data["__structure__"]).decode())
                arrays = {int(k[1:]): data[k] for k in data.files if k != "__structure__"}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as err:
        raise ValueError(
            f"nabla.load: {path!r} is not a file written by nabla.save, or it is truncated or "
            f"corrupt ({type(err).__name__}: {err})"
        ) from None
    if not isinstance(structure, dict) or structure.get("format") != _MAGIC:
        raise ValueError(f"nabla.load: {path!r} is not a file written by nabla.save")
    return _decode(structure["obj"], arrays)


def _encode(obj, arrays: list):
    """JSON-ready structure; arrays are appended to ``arrays`` and referenced by index."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, Tensor):
        arrays.append(_c_order(obj._data))
        return {"__tensor__": len(arrays) - 1, "requires_grad": obj.requires_grad}
    if isinstance(obj, (numpy.ndarray, numpy.generic)):
        arrays.append(_c_order(numpy.asarray(obj)))
        return {"__array__": len(arrays) - 1, "scalar": isinstance(obj, numpy.generic)}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, arrays) for k, v in obj.items()}
        return {"__dict__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    raise TypeError(
        f"nabla.save: cannot store an object of type {type(obj).__name__}; use dicts, lists, "
        "tuples, tensors, arrays, numbers, strings and None"
    )


def _c_order(array):
    """A C-contiguous array of the same shape (0-d stays 0-d, unlike ascontiguousarray)."""
    array = numpy.asarray(array)
    return array if array.flags.c_contiguous else array.copy(order="C")


def _decode(obj, arrays: dict):
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        t = Tensor._make(arrays[obj["__tensor__"]])
        t.requires_grad = obj["requires_grad"]
        return t
    if "__array__" in obj:
        a = arrays[obj["__array__"]]
        return a[()] if obj.get("scalar") else a
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {_hashable(_decode(k, arrays)): _decode(v, arrays) for k, v in obj["__dict__"]}
    return {k: _decode(v, arrays) for k, v in obj.items()}


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _atomic_write(path: str, payload: bytes) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename over ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".nabla-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _safetensors_bytes(arrays: list, structure: dict) -> bytes:
    try:
        from safetensors.numpy import save as st_save
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ImportError("nabla.save: the .safetensors format needs the 'io' extra: "
                          "pip install 'nabla[io]'") from None
    named = {f"a{i}": a for i, a in enumerate(arrays)}
    return st_save(named, metadata={"nabla": json.dumps(structure)})


def _read_safetensors(path: str):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
    if "nabla" not in meta:
        raise ValueError("no nabla metadata")
    arrays = {int(k[1:]): v for k, v in load_file(path).items()}
    return arrays, json.loads(meta["nabla"])
