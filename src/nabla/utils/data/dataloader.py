"""DataLoader: batches of samples from a dataset, with PyTorch's arguments and behaviour.

The fast path: when the dataset is a ``TensorDataset`` (or a ``Subset`` of one) and the default
collate is used, each batch is one fancy-index per array (``x[idx]``) instead of ``batch_size``
calls to ``__getitem__`` followed by a stack. The batches are identical; only the speed differs.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy

from nabla import dtype as _dt
from nabla.tensor import Tensor
from nabla.utils.data.dataset import Dataset, IterableDataset
from nabla.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _check_generator,
)

_BAD_KINDS = "SUaO"  # strings, bytes and objects cannot become tensors


def _collate_error(what) -> TypeError:
    return TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                     f"dicts or lists; found {what}")


def _stack_tensors(batch: Sequence[Tensor]) -> Tensor:
    odd = next((i for i, t in enumerate(batch) if not isinstance(t, Tensor)), None)
    if odd is not None:
        raise TypeError(f"default_collate: entry {odd} of the batch is "
                        f"{type(batch[odd]).__name__}, but entry 0 is a Tensor; every sample "
                        f"must have the same structure")
    if any(t.requires_grad for t in batch):
        from nabla import ops  # keep the graph: stack as a differentiable op

        return ops.stack(list(batch))
    try:
        return Tensor._make(numpy.stack([t._data for t in batch]))
    except ValueError:
        shapes = [list(t.shape) for t in batch]
        bad = next(i for i, s in enumerate(shapes) if s != shapes[0])
        raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, but "
                           f"got {shapes[0]} at entry 0 and {shapes[bad]} at entry {bad}") from None


def _numbers(batch: Sequence) -> Tensor:
    """Python numbers -> a tensor: ints become int64, floats the default float dtype."""
    arr = numpy.asarray(batch)
    if arr.dtype.kind not in "biuf":
        odd = next(i for i, b in enumerate(batch) if not isinstance(b, (bool, int, float)))
        raise TypeError(f"default_collate: entry {odd} of the batch is "
                        f"{type(batch[odd]).__name__}, but entry 0 is a number; every sample "
                        f"must have the same structure")
    if arr.dtype.kind == "f":
        arr = arr.astype(_dt.get_default_dtype())
    elif arr.dtype.kind in "iu":
        arr = arr.astype(numpy.int64)
    return Tensor._make(arr)


def default_collate(batch: Sequence):
    """Merge a list of samples into a batch, keeping the samples' structure.

    Tensors and arrays are stacked along a new first dimension; numbers become a 1-D tensor
    (ints int64, Python floats the default float dtype: PyTorch would give float64); dicts,
    named tuples and sequences are collated field by field (a tuple becomes a list, as in
    PyTorch); strings are returned as a list.

    Args:
        batch: a list of samples of the same structure.

    Returns:
        The batch, with tensors of shape (len(batch), ...) at the leaves.
    """
    if len(batch) == 0:
        raise IndexError("default_collate: the batch is empty; it needs at least one sample")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, numpy.ndarray):
        if elem.dtype.kind in _BAD_KINDS:
            raise _collate_error(f"arrays of dtype {elem.dtype}")
        return _stack_tensors([Tensor._make(numpy.asarray(b)) for b in batch])
    if isinstance(elem, numpy.generic):
        if elem.dtype.kind in _BAD_KINDS:
            raise _collate_error(f"numpy scalars of dtype {elem.dtype}")
        return Tensor._make(numpy.asarray(batch))  # numpy scalars keep their dtype
    if isinstance(elem, (bool, int, float)):
        return _numbers(batch)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        collated = {key: default_collate(_field(batch, key)) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        return _collate_sequences(batch)
    raise _collate_error(type(elem).__name__)


def _collate_sequences(batch: Sequence):
    """Samples that are sequences of equal length, collated position by position: a list of
    the collated columns (a tuple gives a list, as PyTorch; other types are rebuilt)."""
    elem = batch[0]
    size = len(elem)
    if any(len(e) != size for e in batch):
        raise RuntimeError("default_collate: each element in list of batch should be of "
                           "equal size")
    columns = [default_collate(list(s)) for s in zip(*batch, strict=True)]
    if isinstance(elem, tuple):
        return columns
    try:
        return type(elem)(columns)
    except TypeError:
        return columns


def _field(batch: Sequence, key) -> list:
    """``[d[key] for d in batch]``, naming the sample that lacks the key."""
    out = []
    for i, d in enumerate(batch):
        if not isinstance(d, Mapping) or key not in d:
            has = sorted(map(str, d)) if isinstance(d, Mapping) else type(d).__name__
            raise KeyError(f"default_collate: sample {i} has no key {key!r} (it has {has}); "
                           f"every sample needs the keys of the first")
        out.append(d[key])
    return out


def default_convert(data):
    """Without batching (``batch_size=None``): arrays become tensors, the rest is kept."""
    if isinstance(data, numpy.ndarray | numpy.generic) and data.dtype.kind not in _BAD_KINDS:
        return Tensor._make(numpy.asarray(data))
    if isinstance(data, Mapping):
        return {key: default_convert(v) for key, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data


def get_worker_info():
    """Always None: nabla loads data in the main process (PyTorch returns None there too)."""
    return None


def _check_arguments(dataset, sampler, batch_sampler, collate_fn, generator) -> None:
    """Refuse at construction what would fail at the first batch with Python's words."""
    if not isinstance(dataset, IterableDataset) and not hasattr(dataset, "__getitem__"):
        raise TypeError(f"DataLoader: dataset must be a Dataset (with __getitem__ and __len__) "
                        f"or an IterableDataset, got {type(dataset).__name__}")
    for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
        if value is not None and not hasattr(value, "__iter__"):
            raise TypeError(f"DataLoader: {name} must be an iterable of indices (a Sampler or a "
                            f"list), got {type(value).__name__}")
    _check_generator("DataLoader", generator)
    if collate_fn is not None and not callable(collate_fn):
        raise TypeError(f"DataLoader: collate_fn must be a function of a list of samples, got "
                        f"{type(collate_fn).__name__}")


class DataLoader:
    """Iterate over a dataset in batches.

    Args:
        dataset: a map-style ``Dataset`` (anything with ``__getitem__`` and ``__len__``) or an
            ``IterableDataset``.
        batch_size: samples per batch; None yields single samples, not collated.
        shuffle: reshuffle every epoch (a ``RandomSampler`` with ``generator``).
        sampler: the order of indices (exclusive with ``shuffle``).
        batch_sampler: yields lists of indices (exclusive with batch_size, shuffle, sampler,
            drop_last).
        num_workers: must be 0: batches are made in the main process.
        collate_fn: merges a list of samples into a batch (``default_collate``).
        drop_last: drop the last, incomplete batch.
        generator: the random stream for shuffling; nabla's global generator when None, so
            ``nabla.manual_seed`` makes the order reproducible.

    ``pin_memory``, ``timeout``, ``worker_init_fn``, ``prefetch_factor`` and the other worker
    options are accepted so that PyTorch scripts run unchanged; they have no effect.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | None = None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers != 0:
            raise ValueError(
                f"DataLoader: num_workers={num_workers} is not supported; nabla makes batches "
                "in the main process, so pass num_workers=0 (a TensorDataset is batched by "
                "array slicing, which is fast without workers)")
        _check_arguments(dataset, sampler, batch_sampler, collate_fn, generator)
        self.dataset = dataset
        self.num_workers = 0
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 "and batch_sampler options")
        else:
            sampler, batch_sampler, batch_size, drop_last = self._samplers(
                dataset, batch_size, shuffle, sampler, batch_sampler, drop_last, generator)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        self._auto_collation = batch_size is not None or batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @staticmethod
    def _samplers(dataset, batch_size, shuffle, sampler, batch_sampler, drop_last, generator):
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        return sampler, batch_sampler, batch_size, drop_last

    def __iter__(self) -> Iterator:
        if self._iterable:
            return self._iter_stream()
        if not self._auto_collation:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        fast = None
        if self.collate_fn is default_collate and isinstance(self.dataset, Dataset):
            fast = self.dataset._fast_arrays()
        if fast is not None:
            return self._iter_fast(*fast)
        return self._iter_batches()

    def _iter_fast(self, arrays, index) -> Iterator[list[Tensor]]:
        if isinstance(self.batch_sampler, BatchSampler):
            batches = self.batch_sampler._index_batches()
        else:
            batches = (numpy.asarray(b, dtype=numpy.int64) for b in self.batch_sampler)
        for idx in batches:
            try:
                rows = idx if index is None else index[idx]
                batch = [Tensor._make(a[rows]) for a in arrays]
            except IndexError:
                raise self._out_of_range(idx, index, len(arrays[0])) from None
            yield batch

    def _out_of_range(self, idx, index, size: int) -> IndexError:
        n = len(self.dataset)
        bad = idx[(idx >= n) | (idx < -n)]
        if bad.size:
            return IndexError(f"DataLoader: the sampler gave index {int(bad[0])}, but the "
                              f"dataset has {n} samples; sampler indices must lie in [0, {n})")
        rows = index[idx]
        bad = rows[(rows >= size) | (rows < -size)]
        return IndexError(f"DataLoader: the Subset holds index {int(bad[0])}, but the dataset "
                          f"under it has {size} samples")

    def _iter_batches(self) -> Iterator:
        getitems = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            samples = getitems(indices) if getitems else [self.dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError when the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self._auto_collation else self.sampler)
