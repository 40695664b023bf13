"""Readers for data sets kept in local files: MNIST's IDX format and CIFAR-10's binary batches.

Nothing is downloaded: put the files in a folder and pass it as ``root``. The readers accept
the folder itself or torchvision's layout beneath it (``root/MNIST/raw``,
``root/cifar-10-batches-bin``), so an existing torchvision download works as is.
"""

import gzip
import os
import zlib
from collections.abc import Callable

import numpy

from nabla.utils.data.datasets.base import ArrayDataset

# IDX type codes -> big-endian NumPy dtypes (http://yann.lecun.com/exdb/mnist/)
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: str, who: str) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":  # gzip's magic number, not the file's name, decides
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(f"{who}: {path} is a truncated or corrupt gzip file ({err}); copy it "
                         f"again") from None


def read_idx(path: str | os.PathLike) -> numpy.ndarray:
    """Read an IDX file (raw or gzipped) into an array of native byte order.

    The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then each size as a big-endian
    uint32; the data follow, big-endian, in C order.

    Returns:
        An array of the stored shape and dtype.
    """
    raw = _read_bytes(os.fspath(path), "read_idx")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number "
                         f"{raw[:4].hex() or 'empty'})")
    dtype = numpy.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated: its header announces {ndim} "
                         f"dimensions ({header} bytes) but the file has {len(raw)} bytes")
    shape = tuple(int(s) for s in numpy.frombuffer(raw, ">u4", ndim, offset=4))
    count = int(numpy.prod(shape))
    if len(raw) - header != count * dtype.itemsize:
        raise ValueError(f"read_idx: {path} should hold {count} values of {dtype.itemsize} "
                         f"bytes for shape {shape}, but has {len(raw) - header} data bytes")
    data = numpy.frombuffer(raw, dtype, count, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _find(root: str, names: list[str], subdirs: list[str], what: str) -> list[str]:
    """The paths of ``names`` (each also as ``.gz``) in root or one of its subfolders."""
    for sub in ["", *subdirs]:
        folder = os.path.join(root, sub)
        paths = []
        for name in names:
            found = [p for p in (os.path.join(folder, name), os.path.join(folder, name + ".gz"))
                     if os.path.isfile(p)]
            paths.append(found[0] if found else None)
        if all(paths):
            return paths
    places = ", ".join(os.path.join(root, s) for s in ["", *subdirs])
    raise FileNotFoundError(f"{what}: files not found in {places}. Expected: "
                            f"{', '.join(names)} (raw or .gz). nabla does not download: put "
                            f"the files in that folder.")


def _no_download(download: bool, what: str) -> None:
    if download:
        raise ValueError(f"{what}: download=True is not supported; nabla never downloads. "
                         f"Copy the files into root and pass download=False.")


class MNIST(ArrayDataset):
    """MNIST from the four IDX files in a local folder: 60,000 train and 10,000 test images.

    Samples are ``(image, label)``: float32 (1, 28, 28) in [0, 1] (as torchvision's ToTensor
    gives), or (784,) with ``flatten=True``, and an int64 label.

    Args:
        root: folder with train-images-idx3-ubyte, train-labels-idx1-ubyte,
            t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may end in .gz); also looked
            for in root/MNIST/raw.
        train: the training set, else the test set.
        transform, target_transform: applied to each sample's image / label.
        download: must be False.
        flatten: images as 784 features.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False, flatten: bool = False) -> None:
        name = type(self).__name__
        _no_download(download, name)
        prefix = "train" if train else "t10k"
        images_path, labels_path = _find(
            os.fspath(root), [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"],
            [os.path.join(name, "raw")], name)
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or labels.ndim != 1:
            raise ValueError(f"{name}: expected images of shape (N, 28, 28) and labels of shape "
                             f"(N,), got {images.shape} from {images_path} and {labels.shape} "
                             f"from {labels_path}; are the files swapped or misnamed?")
        if labels.shape != images.shape[:1]:
            raise ValueError(f"{name}: images of shape {images.shape} do not match labels of "
                             f"shape {labels.shape}")
        X = images.astype(numpy.float32) / 255.0
        X = X.reshape(len(X), -1) if flatten else X[:, None, :, :]
        self.root, self.train = root, train
        super().__init__(X, labels.astype(numpy.int64), transform, target_transform)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): MNIST's format and sizes with clothing instead of digits; the
    same files are looked for in root or root/FashionMNIST/raw."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


_CIFAR_RECORD = 1 + 3 * 32 * 32  # one label byte, then the red, green and blue 32x32 planes


def read_cifar10_batch(path: str | os.PathLike) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Read one CIFAR-10 binary batch (raw or gzipped).

    Returns:
        images uint8 of shape (N, 3, 32, 32) and labels int64 of shape (N,).
    """
    raw = numpy.frombuffer(_read_bytes(os.fspath(path), "read_cifar10_batch"), numpy.uint8)
    if raw.size == 0 or raw.size % _CIFAR_RECORD:
        raise ValueError(f"read_cifar10_batch: {path} has {raw.size} bytes, not a positive "
                         f"multiple of the {_CIFAR_RECORD}-byte record (1 label + 3072 pixels)")
    records = raw.reshape(-1, _CIFAR_RECORD)
    labels = records[:, 0].astype(numpy.int64)
    if labels.max() > 9:  # CIFAR-100's binary batches have two label bytes: another layout
        bad = int(numpy.argmax(labels > 9))
        raise ValueError(f"read_cifar10_batch: record {bad} of {path} has label {labels[bad]}, "
                         f"not a CIFAR-10 class (0-9); is it a CIFAR-10 binary batch?")
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


class CIFAR10(ArrayDataset):
    """CIFAR-10 from the binary version's batches in a local folder: 50,000 train and 10,000
    test colour images of 32x32, 10 classes.

    Samples are ``(image, label)``: float32 (3, 32, 32) in [0, 1] and an int64 label.

    Args:
        root: folder with data_batch_1.bin .. data_batch_5.bin and test_batch.bin (each may end
            in .gz); also looked for in root/cifar-10-batches-bin.
        train: the training set (the five data batches), else the test batch.
        transform, target_transform: applied to each sample's image / label.
        download: must be False.
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root: str | os.PathLike, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        _no_download(download, "CIFAR10")
        names = ([f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"])
        paths = _find(os.fspath(root), names, ["cifar-10-batches-bin"], "CIFAR10")
        batches = [read_cifar10_batch(p) for p in paths]
        images = numpy.concatenate([b[0] for b in batches])
        labels = numpy.concatenate([b[1] for b in batches])
        self.root, self.train = root, train
        super().__init__(images.astype(numpy.float32) / 255.0, labels, transform,
                         target_transform)
