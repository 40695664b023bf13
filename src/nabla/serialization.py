"""``nabla.save`` / ``nabla.load``: nested containers of tensors, arrays, numbers and strings,
stored WITHOUT pickle, so loading a file never executes code.

``save``/``load`` take a file path or a binary file object (``io.BytesIO``, ``open(p, "wb")``).
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


def save(obj, f) -> None:
    """Save ``obj`` (dicts, lists, tuples, Tensors, arrays, numbers, strings, None) to ``f``.

    Args:
        obj: the object, e.g. ``model.state_dict()`` or a checkpoint dict.
        f: a file path (``.safetensors`` selects that format, anything else writes ``.npz`` data;
            written atomically) or a binary file object such as ``io.BytesIO`` (``.npz`` data).
    """
    arrays = []
    structure = {"format": _MAGIC, "version": _VERSION, "obj": _encode(obj, arrays, "obj")}
    if hasattr(f, "write"):
        _write_to(f, _npz_bytes(arrays, structure))
        return
    path = _fspath(f, "nabla.save")
    if os.path.isdir(path):
        raise IsADirectoryError(f"nabla.save: {path!r} is a folder; give a file path such as "
                                f"{os.path.join(path, 'model.npz')!r}")
    if path.endswith(".safetensors"):
        _atomic_write(path, _safetensors_bytes(arrays, structure))
    else:
        _atomic_write(path, _npz_bytes(arrays, structure))


def load(f, map_location=None, weights_only=True):
    """Load what ``save`` wrote, from a file path or a binary file object (read from its current
    position). Raises a ValueError naming the file if it is not a nabla file or is truncated.
    ``map_location`` and ``weights_only`` are accepted for PyTorch compatibility."""
    if hasattr(f, "read"):
        name, raw = _read_from(f)
        read = _read_npz if raw[:4] == _ZIP or len(raw) < 9 or raw[8:9] != b"{" \
            else _read_safetensors
    else:
        name = _fspath(f, "nabla.load")
        if not os.path.exists(name):
            raise FileNotFoundError(f"nabla.load: no such file: {name!r}")
        if os.path.isdir(name):
            raise IsADirectoryError(f"nabla.load: {name!r} is a folder, not a file written by "
                                    f"nabla.save")
        with open(name, "rb") as file:
            raw = file.read()
        read = _read_safetensors if name.endswith(".safetensors") else _read_npz
    arrays, structure = read(raw, name)
    if not isinstance(structure, dict) or structure.get("format") != _MAGIC:
        raise ValueError(f"nabla.load: {name!r} is not a file written by nabla.save")
    if structure.get("version", 0) > _VERSION:
        raise ValueError(f"nabla.load: {name!r} was written by a newer nabla (format version "
                         f"{structure['version']}; this one reads up to {_VERSION}): upgrade "
                         f"nabla")
    try:
        return _decode(structure["obj"], arrays)
    except (KeyError, IndexError, TypeError) as err:
        raise _corrupt(name, err) from None


def _write_to(f, payload: bytes) -> None:
    try:
        f.write(payload)
    except TypeError:
        raise TypeError(f"nabla.save: cannot write bytes to {_name_of(f)!r}: open the file in "
                        "binary mode ('wb')") from None


def _read_from(f) -> tuple:
    """(a name for messages, the bytes) of a file object."""
    raw = f.read()
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TypeError(f"nabla.load: {_name_of(f)!r} gave {type(raw).__name__}, not bytes: open "
                        "the file in binary mode ('rb')")
    return _name_of(f), bytes(raw)


def _name_of(f) -> str:
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"<{type(f).__name__}>"


def _fspath(path, who: str) -> str:
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"{who}: expected a file path (str or os.PathLike) or a binary file "
                        f"object, got {type(path).__name__}") from None
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


def _encode(obj, arrays: list, where: str, open_containers: set | None = None):
    """JSON-ready structure; arrays are appended to ``arrays`` and referenced by index.
    ``where`` is the key path of ``obj`` (``obj['model']['layers'][1]``) for the error;
    ``open_containers`` holds the ids of the containers being encoded around it (a cycle check)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, Tensor):
        arrays.append(_c_order(obj._data, where))
        return {"__tensor__": len(arrays) - 1, "requires_grad": obj.requires_grad}
    if isinstance(obj, (numpy.ndarray, numpy.generic)):
        arrays.append(_c_order(numpy.asarray(obj), where))
        return {"__array__": len(arrays) - 1, "scalar": isinstance(obj, numpy.generic)}
    if not isinstance(obj, (tuple, list, dict)):
        raise _unsupported(obj, where)
    open_containers = set() if open_containers is None else open_containers
    if id(obj) in open_containers:
        raise ValueError(f"nabla.save: {where} holds the container it is in (a reference "
                         f"cycle), which a file cannot store; break the cycle before saving")
    open_containers.add(id(obj))
    try:
        return _encode_container(obj, arrays, where, open_containers)
    finally:
        open_containers.discard(id(obj))


def _encode_container(obj, arrays: list, where: str, open_containers: set):
    def encode(value, at):
        return _encode(value, arrays, at, open_containers)

    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if all(isinstance(k, str) and not k.startswith("__") for k in obj):
        return {k: encode(v, f"{where}[{k!r}]") for k, v in obj.items()}
    return {"__dict__": [[encode(k, f"a key of {where}"), encode(v, f"{where}[{k!r}]")]
                         for k, v in obj.items()]}


def _c_order(array, where: str = "an array"):
    """A C-contiguous array of the same shape (0-d stays 0-d, unlike ascontiguousarray)."""
    array = numpy.asarray(array)
    if array.dtype.kind == "O":  # NumPy would pickle it, and load (no pickle) would refuse
        raise TypeError(f"nabla.save: cannot store {where}, an array of Python objects (dtype "
                        f"object); convert it to numbers or strings. nabla.save stores "
                        f"{_ALLOWED}.")
    return array if array.flags.c_contiguous else array.copy(order="C")


def _npz_bytes(arrays: list, structure: dict) -> bytes:
    buf = io.BytesIO()
    named = {f"a{i}": a for i, a in enumerate(arrays)}
    named["__structure__"] = numpy.frombuffer(json.dumps(structure).encode(), numpy.uint8)
    numpy.savez(buf, **named)
    return buf.getvalue()


_ZIP = b"PK\x03\x04"  # the zip signature that every .npz starts with


def _read_npz(raw: bytes, name: str):
    if raw[:4] != _ZIP:
        what = "it is empty" if not raw else f"it is not a .npz archive (it starts {raw[:4]!r})"
        raise ValueError(f"nabla.load: {name!r} is not a file written by nabla.save: {what}")
    try:
        with numpy.load(io.BytesIO(raw), allow_pickle=False) as data:
            files = list(data.files)
            text = bytes(data["__structure__"]) if "__structure__" in files else None
            arrays = {int(k[1:]): data[k] for k in files if k != "__structure__"} if text else {}
        structure = json.loads(text.decode()) if text is not None else None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as err:
        raise _corrupt(name, err) from None
    if structure is None:
        torch_file = any(file.endswith("data.pkl") for file in files)
        hint = "a PyTorch file: read it with torch.load" if torch_file else \
            "a plain .npz reads with numpy.load"
        raise ValueError(f"nabla.load: {name!r} is not a file written by nabla.save: a zip "
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


def _read_safetensors(raw: bytes, name: str):
    """A safetensors file: 8 bytes giving the JSON header's length, the header (with nabla's
    structure in its ``__metadata__``), then the arrays' bytes."""
    from safetensors.numpy import load as st_load

    try:
        loaded = st_load(raw)  # first: it checks the header and sizes
        header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
        meta = header.get("__metadata__") or {}
        if "nabla" not in meta:
            raise ValueError(f"nabla.load: {name!r} is not a file written by nabla.save: a "
                             f"safetensors file without its metadata (read it with "
                             f"safetensors.numpy.load_file)")
        return {int(k[1:]): v for k, v in loaded.items()}, json.loads(meta["nabla"])
    except ValueError:
        raise
    except Exception as err:  # safetensors' own SafetensorError is no ValueError
        raise _corrupt(name, err) from None
