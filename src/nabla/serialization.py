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
    structure = {"format": _MAGIC, "version": _VERSION, "obj": _encode(obj, arrays, "obj")}
    path = _fspath(path, "nabla.save")
    if os.path.isdir(path):
        raise IsADirectoryError(f"nabla.save: {path!r} is a folder; give a file path such as "
                                f"{os.path.join(path, 'model.npz')!r}")
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
    path = _fspath(path, "nabla.load")
    if not os.path.exists(path):
        raise FileNotFoundError(f"nabla.load: no such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"nabla.load: {path!r} is a folder, not a file written by "
                                f"nabla.save")
    read = _read_safetensors if path.endswith(".safetensors") else _read_npz
    arrays, structure = read(path)
    if not isinstance(structure, dict) or structure.get("format") != _MAGIC:
        raise ValueError(f"nabla.load: {path!r} is not a file written by nabla.save")
    if structure.get("version", 0) > _VERSION:
        raise ValueError(f"nabla.load: {path!r} was written by a newer nabla (format version "
                         f"{structure['version']}; this one reads up to {_VERSION}): upgrade "
                         f"nabla")
    try:
        return _decode(structure["obj"], arrays)
    except (KeyError, IndexError, TypeError) as err:
        raise _corrupt(path, err) from None


def _fspath(path, who: str) -> str:
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"{who}: path must be a file path (str or os.PathLike), got "
                        f"{type(path).__name__}; file objects are not supported") from None
    return os.fsdecode(path)


def _corrupt(path: str, err: Exception) -> ValueError:
    return ValueError(f"nabla.load: {path!r} is truncated or corrupt ({type(err).__name__}: "
                      f"{err}); write it again with nabla.save")


_ALLOWED = "dicts, lists, tuples, tensors, arrays, numbers, strings and None"


def _unsupported(obj, where: str) -> TypeError:
    """The error for an object nabla.save cannot store, with what to store instead."""
    if hasattr(obj, "state_dict"):
        hint = "; save its .state_dict() instead"
    elif isinstance(obj, (set, frozenset)):
        hint = "; store sorted(...) of it as a list"
    elif callable(obj):
        hint = "; code is never stored: save the values it uses"
    else:
        hint = ""
    return TypeError(f"nabla.save: cannot store an object of type {type(obj).__name__} at "
                     f"{where}{hint}. nabla.save stores {_ALLOWED}.")


def _encode(obj, arrays: list, where: str):
    """JSON-ready structure; arrays are appended to ``arrays`` and referenced by index.
    ``where`` is the key path of ``obj`` (``obj['model']['layers'][1]``) for the error."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, Tensor):
        arrays.append(_c_order(obj._data, where))
        return {"__tensor__": len(arrays) - 1, "requires_grad": obj.requires_grad}
    if isinstance(obj, (numpy.ndarray, numpy.generic)):
        arrays.append(_c_order(numpy.asarray(obj), where))
        return {"__array__": len(arrays) - 1, "scalar": isinstance(obj, numpy.generic)}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, arrays, f"{where}[{k!r}]") for k, v in obj.items()}
        return {"__dict__": [[_encode(k, arrays, f"a key of {where}"),
                              _encode(v, arrays, f"{where}[{k!r}]")] for k, v in obj.items()]}
    raise _unsupported(obj, where)


def _c_order(array, where: str = "an array"):
    """A C-contiguous array of the same shape (0-d stays 0-d, unlike ascontiguousarray)."""
    array = numpy.asarray(array)
    if array.dtype.kind == "O":  # NumPy would pickle it, and load (no pickle) would refuse
        raise TypeError(f"nabla.save: cannot store {where}, an array of Python objects (dtype "
                        f"object); convert it to numbers or strings. nabla.save stores "
                        f"{_ALLOWED}.")
    return array if array.flags.c_contiguous else array.copy(order="C")


def _read_npz(path: str):
    with open(path, "rb") as f:
        head = f.read(4)
    if head != b"PK\x03\x04":  # the zip signature that every .npz starts with
        what = "it is empty" if not head else f"it is not a .npz archive (it starts {head!r})"
        raise ValueError(f"nabla.load: {path!r} is not a file written by nabla.save: {what}")
    try:
        with numpy.load(path, allow_pickle=False) as data:
            files = list(data.files)
            raw = bytes(data["__structure__"]) if "__structure__" in files else None
            arrays = {int(k[1:]): data[k] for k in files if k != "__structure__"} if raw else {}
        structure = json.loads(raw.decode()) if raw is not None else None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as err:
        raise _corrupt(path, err) from None
    if structure is None:
        torch_file = any(name.endswith("data.pkl") for name in files)
        hint = "a PyTorch file: read it with torch.load" if torch_file else \
            "a plain .npz reads with numpy.load"
        raise ValueError(f"nabla.load: {path!r} is not a file written by nabla.save: a zip "
                         f"archive without its __structure__ entry ({hint})")
    return arrays, structure


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


def _atomic_write(path: str, payload: bytes, who: str = "nabla.save") -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename over ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".nabla-", suffix=".tmp", dir=folder)
    except OSError as err:  # keep the subclass (PermissionError, ...) for except clauses
        raise type(err)(f"{who}: cannot write {path!r} ({err}); its folder must be creatable "
                        f"and writable") from None
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

    try:
        with safe_open(path, framework="numpy") as f:
            meta = f.metadata() or {}
        if "nabla" not in meta:
            raise ValueError(f"nabla.load: {path!r} is not a file written by nabla.save: a "
                             f"safetensors file without its metadata (read it with "
                             f"safetensors.numpy.load_file)")
        arrays = {int(k[1:]): v for k, v in load_file(path).items()}
        return arrays, json.loads(meta["nabla"])
    except ValueError:
        raise
    except Exception as err:  # safetensors' own SafetensorError is no ValueError
        raise _corrupt(path, err) from None
