"""Samplers: which sample indices a DataLoader visits, and in which order (PyTorch's API).

Random samplers draw from their ``generator``, or from nabla's global generator when it is None,
so ``nabla.manual_seed(s)`` makes the shuffling of a run reproducible. Each sampler builds its
order as one index array (``_index_array``); iterating yields its elements as Python ints, and
the DataLoader's fast path slices with the array itself, so both paths see the same order.
"""

from collections.abc import Iterable, Iterator, Sequence

import numpy

from nabla.random import Generator, numpy_generator
from nabla.tensor import Tensor


def _check_generator(owner: str, generator) -> None:
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{owner}: generator must be a nabla.Generator or None, got "
                        f"{type(generator).__name__} {generator!r:.40}; for a seed s write "
                        f"generator=nabla.Generator(s)")


class Sampler:
    """Base class: an iterable over dataset indices."""

    def __init__(self, data_source=None) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class _ArraySampler(Sampler):
    """A sampler whose whole order is one index array."""

    def _index_array(self) -> numpy.ndarray:
        raise NotImplementedError

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())


class SequentialSampler(_ArraySampler):
    """Indices 0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def _index_array(self) -> numpy.ndarray:
        return numpy.arange(len(self.data_source))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_ArraySampler):
    """Random indices: a fresh permutation each epoch, or draws with replacement.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw ``num_samples`` indices with replacement.
        num_samples: how many indices per epoch (default len(data_source)); without replacement
            and more than len(data_source), whole permutations are concatenated.
        generator: the random stream (nabla's global generator when None).
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        _check_generator("RandomSampler", generator)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, "
                            f"got replacement={replacement!r}")
        if num_samples is None and len(data_source) == 0:
            raise ValueError("RandomSampler: the dataset is empty (0 samples); there is nothing "
                             "to shuffle")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, "
                             f"got num_samples={self.num_samples!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self) -> numpy.ndarray:
        n, rng = len(self.data_source), numpy_generator(self.generator)
        if n == 0:
            raise ValueError(f"RandomSampler: cannot draw {self.num_samples} samples from an "
                             f"empty dataset")
        if self.replacement:
            return rng.integers(0, n, self.num_samples)
        full, rest = divmod(self.num_samples, n)
        parts = [rng.permutation(n) for _ in range(full)]
        if rest:
            parts.append(rng.permutation(n)[:rest])
        return parts[0] if len(parts) == 1 else numpy.concatenate(parts)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_ArraySampler):
    """The given ``indices`` in a random order (a fresh permutation each epoch)."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        if not hasattr(indices, "__len__"):
            raise TypeError(f"SubsetRandomSampler: indices must be a sequence of indices such "
                            f"as range(100), got {type(indices).__name__} {indices!r}")
        _check_generator("SubsetRandomSampler", generator)
        self.indices = indices
        self.generator = generator

    def _index_array(self) -> numpy.ndarray:
        perm = numpy_generator(self.generator).permutation(len(self.indices))
        return numpy.asarray(self.indices, dtype=numpy.int64)[perm]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_ArraySampler):
    """Indices 0..len(weights)-1 drawn with probability proportional to ``weights``.

    Args:
        weights: non-negative weights, one per sample (need not sum to 1).
        num_samples: how many indices per epoch.
        replacement: draw with replacement (without: each index at most once).
        generator: the random stream (nabla's global generator when None).
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples should be a positive integer "
                             f"value, got num_samples={num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, "
                             f"got replacement={replacement!r}")
        _check_generator("WeightedRandomSampler", generator)
        try:
            w = numpy.asarray(weights._data if isinstance(weights, Tensor) else weights,
                              dtype=numpy.float64)
        except (TypeError, ValueError):
            raise ValueError(f"WeightedRandomSampler: weights must be numbers, got "
                             f"{weights!r:.80}") from None
        if w.ndim != 1 or not numpy.all(numpy.isfinite(w)) or numpy.any(w < 0) or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be a 1-D sequence of finite, "
                             "non-negative numbers with a positive sum")
        if not replacement and num_samples > numpy.count_nonzero(w):
            raise RuntimeError(f"WeightedRandomSampler: cannot draw {num_samples} samples "
                               f"without replacement from {numpy.count_nonzero(w)} non-zero "
                               f"weights")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _index_array(self) -> numpy.ndarray:
        rng = numpy_generator(self.generator)
        return rng.choice(len(self.weights), self.num_samples, replace=self.replacement,
                          p=self.weights / self.weights.sum())

    def __len__(self) -> int:
        return self.num_samples


def _is_array_sampler(sampler) -> bool:
    """True when iterating ``sampler`` means iterating its ``_index_array`` (no override)."""
    return isinstance(sampler, _ArraySampler) and type(sampler).__iter__ is _ArraySampler.__iter__


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: any iterable of indices (a Sampler, a list, a range).
        batch_size: indices per batch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer value, "
                             f"got batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, "
                             f"got drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _index_batches(self) -> Iterator[numpy.ndarray]:
        """The batches as index arrays (the DataLoader's fast path)."""
        if _is_array_sampler(self.sampler):
            order = self._trim(self.sampler._index_array())
            for start in range(0, len(order), self.batch_size):
                yield order[start: start + self.batch_size]
        else:
            for batch in self:
                yield numpy.asarray(batch, dtype=numpy.int64)

    def _trim(self, order: numpy.ndarray) -> numpy.ndarray:
        if self.drop_last:
            return order[: len(order) - len(order) % self.batch_size]
        return order

    def __iter__(self) -> Iterator[list[int]]:
        if _is_array_sampler(self.sampler):
            for batch in self._index_batches():
                yield batch.tolist()
            return
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
