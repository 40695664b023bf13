"""Datasets with PyTorch's API: map-style (``__getitem__`` + ``__len__``) and iterable.

``TensorDataset`` and ``Subset`` can also hand the ``DataLoader`` their whole arrays
(``_fast_arrays``), so a batch is one fancy-index per array instead of one Python call per sample.
"""

import bisect
import math
import numbers
import warnings
from collections.abc import Iterable, Sequence

import numpy

from nabla.random import Generator, default_generator, numpy_generator
from nabla.tensor import Tensor
from nabla.utils.data.sampler import _check_generator


class Dataset:
    """A map-style dataset: ``dataset[i]`` returns the i-th sample; subclasses define
    ``__getitem__`` and usually ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])

    def _fast_arrays(self):
        """``(arrays, index)`` when sample i is ``tuple(a[index[i]] for a in arrays)`` (index
        None means the identity), else None. The DataLoader then slices whole batches."""
        return None


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define ``__iter__``; the DataLoader batches it."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: "IterableDataset") -> "ChainDataset":
        return ChainDataset([self, other])


def _as_tensor(t) -> Tensor:
    if isinstance(t, Tensor):
        return t
    from nabla.creation import as_tensor

    return as_tensor(t)


def _index_error(owner: str, index, n: int, err: Exception) -> IndexError:
    if isinstance(index, numbers.Integral):
        return IndexError(f"{owner}: index {index} is out of range for {n} samples (valid "
                          f"indices: -{n} to {n - 1})")
    return IndexError(f"{owner}: bad index {index!r} for {n} samples ({err})")


class TensorDataset(Dataset):
    """Samples are rows of tensors that share their first dimension: ``(x[i], y[i], ...)``.

    Args:
        *tensors: tensors (or arrays, wrapped without a copy) of shape (N, ...).
    """

    def __init__(self, *tensors) -> None:
        tensors = tuple(_as_tensor(t) for t in tensors)
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        for i, t in enumerate(tensors):
            if t._data.dtype.kind not in "biufc":
                raise TypeError(f"TensorDataset: tensor {i} holds {t._data.dtype} values, not "
                                f"numbers; encode them as numbers first (e.g. class indices)")
        n = tensors[0].shape[0] if tensors[0].ndim else None
        if any(t.ndim == 0 or t.shape[0] != n for t in tensors):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: size mismatch between tensors: all need the same "
                             f"first dimension, got shapes {shapes}")
        self.tensors = tensors

    def __getitem__(self, index):
        # Reading rows needs no graph unless a tensor requires grad (then index it as an op).
        try:
            return tuple(t[index] if t.requires_grad else Tensor._make(t._data[index])
                         for t in self.tensors)
        except IndexError as err:
            raise _index_error(type(self).__name__, index, len(self), err) from None

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _fast_arrays(self):
        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return None  # a subclass changed what a sample is
        if any(t.requires_grad for t in self.tensors):
            return None  # keep the graph: go through __getitem__
        return tuple(t._data for t in self.tensors), None


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self._index(i) for i in idx]]
        return self.dataset[self._index(idx)]

    def __getitems__(self, indices: list) -> list:
        return [self.dataset[self._index(i)] for i in indices]

    def _index(self, idx):
        try:
            return self.indices[idx]
        except IndexError as err:
            raise _index_error("Subset", idx, len(self), err) from None

    def __len__(self) -> int:
        return len(self.indices)

    def _fast_arrays(self):
        inner = self.dataset._fast_arrays() if isinstance(self.dataset, Dataset) else None
        if inner is None:
            return None
        arrays, index = inner
        mine = numpy.asarray(self.indices)
        if mine.size and mine.dtype.kind not in "iu":  # int64 would truncate 1.7 to 1
            raise IndexError(f"Subset: indices must be integers, got {mine.dtype} values such "
                             f"as {mine.flat[0]!r}")
        mine = mine.astype(numpy.int64, copy=False)
        return arrays, (mine if index is None else index[mine])


class ConcatDataset(Dataset):
    """The samples of several datasets, one after another."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset; "
                                "use ChainDataset")
        self.cumulative_sizes = list(numpy.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise IndexError("ConcatDataset: absolute value of index should not exceed "
                                 "dataset length")
            idx += len(self)
        if idx >= len(self):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for {len(self)} "
                             f"samples (valid indices: -{len(self)} to {len(self) - 1})")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[d - 1] if d > 0 else 0
        return self.datasets[d][idx - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets, chained."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


def _lengths_from_fractions(lengths: Sequence[float], n: int) -> list[int]:
    """Floor each fraction of n, then give the remainder round-robin from the first (PyTorch)."""
    sizes = [int(math.floor(n * f)) for f in lengths]
    for i in range(n - sum(sizes)):
        sizes[i % len(sizes)] += 1
    for i, size in enumerate(sizes):
        if size == 0:
            warnings.warn(f"random_split: length of split at index {i} is 0; this might "
                          f"result in an empty dataset", stacklevel=3)
    return sizes


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: Generator | None = default_generator) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets.

    Args:
        dataset: the dataset to split (length N).
        lengths: the subsets' lengths (ints summing to N) or fractions summing to 1.
        generator: the random stream for the permutation (nabla's global one by default).

    Returns:
        One ``Subset`` per length.
    """
    if not isinstance(lengths, (Sequence, numpy.ndarray)):
        raise TypeError(f"random_split: lengths must be a list of lengths or fractions such as "
                        f"[0.8, 0.2], got {type(lengths).__name__} {lengths!r}")
    _check_generator("random_split", None if generator is default_generator else generator)
    n = len(dataset)
    # fractions summing to 1 up to rounding (PyTorch also demands sum <= 1, so that
    # [0.55, 0.34, 0.11], whose float sum is 1.0000000000000002, fails there)
    if math.isclose(sum(lengths), 1) and not all(isinstance(x, int) for x in lengths):
        if any(f < 0 or f > 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {list(lengths)}")
        lengths = _lengths_from_fractions(lengths, n)
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                         f"summing to 1, got {list(lengths)}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                         f"the length of the input dataset ({n})")
    perm = numpy_generator(generator).permutation(n).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset: offset + int(length)]))
        offset += int(length)
    return out
