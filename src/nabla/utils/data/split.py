"""Splitting data to measure generalization: train / validation / test, k-fold, bootstrap.

Conventions follow scikit-learn (``train_test_split``, ``KFold``, ``StratifiedKFold``): the
splitters return index arrays, and without shuffling ``KFold`` and ``StratifiedKFold`` give the
very same folds as scikit-learn. Randomness comes from ``seed`` (an int, a ``nabla.Generator`` or
a NumPy Generator); None draws from nabla's global generator, so ``nabla.manual_seed`` fixes it.
"""

import math
import numbers
import warnings
from collections.abc import Iterator, Sequence

import numpy

from nabla.random import Generator, numpy_generator
from nabla.tensor import Tensor
from nabla.utils.data.dataset import Dataset, Subset


def _rng(seed) -> numpy.random.Generator:
    if seed is None or isinstance(seed, Generator):
        return numpy_generator(seed)
    if isinstance(seed, numpy.random.Generator):
        return seed
    if not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, a nabla.Generator, a NumPy Generator or None, "
                        f"got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return numpy.random.default_rng(seed)


def _labels(y, who: str) -> numpy.ndarray:
    y = numpy.asarray(y._data if isinstance(y, Tensor) else y)
    if y.ndim != 1:
        raise ValueError(f"{who}: expected 1-D class labels of shape (N,), got shape {y.shape}")
    return y


def _count(who: str, name: str, value, low: int = 0) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{who}: {name} must be an integer >= {low}, got {value!r}")


def _check_ratios(who: str, ratios) -> None:
    if not isinstance(ratios, (Sequence, numpy.ndarray)) or isinstance(ratios, str):
        raise TypeError(f"{who}: ratios must be 2 or 3 proportions (train, [val,] test) such as "
                        f"(0.8, 0.2), got {type(ratios).__name__} {ratios!r}")
    if not all(isinstance(r, numbers.Real) for r in ratios):
        raise TypeError(f"{who}: ratios must be numbers, got {tuple(ratios)}")
    if len(ratios) not in (2, 3) or not all(0 <= r < math.inf for r in ratios) \
            or sum(ratios) <= 0:
        raise ValueError(f"{who}: ratios: give 2 or 3 non-negative proportions (train, [val,] "
                         f"test), got {tuple(ratios)}")


def _part_sizes(n: int, ratios: Sequence[float], who: str) -> list[int]:
    """Sizes of the parts: every part after the first gets ceil(n * share), the first the rest
    (scikit-learn rounds the test size up the same way)."""
    _count(who, "n", n)
    _check_ratios(who, ratios)
    total = float(sum(ratios))
    # round() first so that 0.3 * 10 (= 3.0000000000000004) gives 3, not 4
    rest = [math.ceil(round(n * r / total, 9)) for r in ratios[1:]]
    if sum(rest) > n or (ratios[0] > 0 and sum(rest) == n):
        raise ValueError(f"{who}: ratios {tuple(ratios)} leave no samples for training out of "
                         f"{n}; use more samples or a larger training share")
    return [n - sum(rest), *rest]


def _allocate(class_counts: numpy.ndarray, sizes: list[int]) -> numpy.ndarray:
    """A (classes, parts) table of counts with the given row and column sums, proportional to
    both: floors first, then the leftovers go to the cells with the largest remainders."""
    n = class_counts.sum()
    exact = class_counts[:, None] * numpy.asarray(sizes)[None, :] / n
    table = numpy.floor(exact).astype(numpy.int64)
    remainder = exact - table
    row_left = class_counts - table.sum(1)
    col_left = numpy.asarray(sizes) - table.sum(0)
    for flat in numpy.argsort(-remainder, axis=None, kind="stable"):
        c, p = divmod(int(flat), len(sizes))
        if row_left[c] > 0 and col_left[p] > 0:
            table[c, p] += 1
            row_left[c] -= 1
            col_left[p] -= 1
    for c in range(len(class_counts)):  # any leftovers not matched by remainders
        for p in range(len(sizes)):
            take = min(row_left[c], col_left[p])
            table[c, p] += take
            row_left[c] -= take
            col_left[p] -= take
    return table


def split_indices(n: int, ratios: Sequence[float] = (0.6, 0.2, 0.2), stratify=None,
                  shuffle: bool = True, seed=None) -> list[numpy.ndarray]:
    """Index arrays of the parts of a train / (validation /) test split of n samples.

    Args:
        n: number of samples.
        ratios: proportions of the parts, normalized by their sum: (0.6, 0.2, 0.2) and (3, 1, 1)
            are the same; two entries give (train, test).
        stratify: class labels of shape (n,): each part then keeps the class proportions.
        shuffle: shuffle before splitting; without it the parts are consecutive blocks (with
            ``stratify``, consecutive within each class).
        seed: int, ``nabla.Generator`` or None (nabla's global generator).

    Returns:
        One sorted-if-unshuffled int64 index array per part.
    """
    return _split(n, ratios, stratify, shuffle, seed, "split_indices")


def _split(n: int, ratios, stratify, shuffle: bool, seed, who: str) -> list[numpy.ndarray]:
    sizes = _part_sizes(n, ratios, who)
    rng = _rng(seed) if shuffle else None
    if stratify is None:
        order = rng.permutation(n) if shuffle else numpy.arange(n)
        bounds = numpy.cumsum([0, *sizes])
        return [order[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    y = _labels(stratify, who)
    if len(y) != n:
        raise ValueError(f"{who}: stratify: expected {n} labels, got {len(y)}")
    classes, y_idx = numpy.unique(y, return_inverse=True)
    table = _allocate(numpy.bincount(y_idx), sizes)
    parts = [[] for _ in sizes]
    for c in range(len(classes)):
        members = numpy.flatnonzero(y_idx == c)
        if shuffle:
            members = rng.permutation(members)
        bounds = numpy.cumsum([0, *table[c]])
        for p in range(len(sizes)):
            parts[p].append(members[bounds[p]: bounds[p + 1]])
    out = []
    for p in parts:
        idx = numpy.concatenate(p).astype(numpy.int64)
        out.append(rng.permutation(idx) if shuffle else numpy.sort(idx))
    return out


def _take(a, idx: numpy.ndarray):
    if isinstance(a, Tensor):
        return a[idx] if a.requires_grad else Tensor._make(a._data[idx])
    if isinstance(a, numpy.ndarray):
        return a[idx]
    return [a[i] for i in idx.tolist()]  # lists and other sequences


def train_val_test_split(*arrays, ratios: Sequence[float] = (0.6, 0.2, 0.2), stratify=None,
                         shuffle: bool = True, seed=None) -> list:
    """Split arrays (or one dataset) into train / validation / test parts.

    ``train_val_test_split(X, y, ratios=(4, 3, 3), stratify=y, seed=0)`` returns
    ``[X_train, X_val, X_test, y_train, y_val, y_test]`` (each input's parts in turn, as
    scikit-learn's ``train_test_split``); given a single ``Dataset`` it returns
    ``[train, val, test]`` as ``Subset``s. Two ratios give train and test parts only.

    Args:
        *arrays: arrays, tensors or lists with the same first dimension N, or one Dataset.
        ratios: proportions, normalized by their sum (the default is 60/20/20).
        stratify: class labels of shape (N,) to keep class proportions in every part.
        shuffle: shuffle before splitting.
        seed: int, ``nabla.Generator`` or None (nabla's global generator).
    """
    if not arrays:
        raise ValueError("train_val_test_split: give at least one array or a dataset")
    who = "train_val_test_split"
    if len(arrays) == 1 and isinstance(arrays[0], Dataset):
        dataset = arrays[0]
        parts = _split(len(dataset), ratios, stratify, shuffle, seed, who)
        return [Subset(dataset, p.tolist()) for p in parts]
    for i, a in enumerate(arrays):
        if not hasattr(a, "__len__") or getattr(a, "ndim", 1) == 0:
            raise TypeError(f"{who}: argument {i} is {type(a).__name__}, not an array of "
                            f"samples; give arrays, tensors or lists of N samples")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"{who}: inconsistent numbers of samples: {[len(a) for a in arrays]}")
    parts = _split(n, ratios, stratify, shuffle, seed, who)
    return [_take(a, p) for a in arrays for p in parts]


class KFold:
    """K-fold cross-validation: k consecutive folds, each the validation set once.

    The first ``n % n_splits`` folds hold one extra sample (scikit-learn's rule).

    Args:
        n_splits: number of folds, at least 2.
        shuffle: shuffle the samples before cutting the folds.
        random_state: seed (int, ``nabla.Generator`` or None) when shuffling.
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state=None) -> None:
        if not isinstance(n_splits, int) or n_splits < 2:
            raise ValueError(f"{type(self).__name__}: k-fold cross-validation requires at least "
                             f"one train/test split, n_splits=2 or more, got {n_splits!r}")
        if not shuffle and random_state is not None:
            raise ValueError(f"{type(self).__name__}: setting a random_state has no effect "
                             f"since shuffle is False; leave random_state=None or shuffle")
        self.n_splits, self.shuffle, self.random_state = n_splits, shuffle, random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def _test_folds(self, n: int, y) -> numpy.ndarray:
        """The fold number of every sample."""
        sizes = numpy.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        folds = numpy.repeat(numpy.arange(self.n_splits), sizes)
        order = _rng(self.random_state).permutation(n) if self.shuffle else numpy.arange(n)
        out = numpy.empty(n, dtype=numpy.int64)
        out[order] = folds
        return out

    def split(self, X, y=None, groups=None) -> Iterator[tuple[numpy.ndarray, numpy.ndarray]]:
        """Yield ``(train_idx, val_idx)`` index arrays (sorted), one pair per fold."""
        if not hasattr(X, "__len__"):
            raise TypeError(f"{type(self).__name__}.split: X must be the samples (an array or a "
                            f"sequence of N items), got {type(X).__name__}")
        n = len(X)
        if self.n_splits > n:
            raise ValueError(f"{type(self).__name__}: cannot have number of splits "
                             f"n_splits={self.n_splits} greater than the number of samples: "
                             f"n_samples={n}")
        folds = self._test_folds(n, y)
        for k in range(self.n_splits):
            yield numpy.flatnonzero(folds != k), numpy.flatnonzero(folds == k)


class StratifiedKFold(KFold):
    """K-fold cross-validation whose folds keep the class proportions of ``y``.

    Samples of each class are dealt to the folds in blocks, sizes chosen round-robin over the
    sorted labels; classes are numbered by first appearance. This is scikit-learn's algorithm,
    so unshuffled folds equal scikit-learn's.
    """

    def _test_folds(self, n: int, y) -> numpy.ndarray:
        if y is None:
            raise ValueError("StratifiedKFold.split: give the class labels y")
        y = _labels(y, "StratifiedKFold.split")
        if len(y) != n:
            raise ValueError(f"StratifiedKFold.split: X has {n} samples but y has {len(y)}")
        _, first, inverse = numpy.unique(y, return_index=True, return_inverse=True)
        by_appearance = numpy.argsort(numpy.argsort(first))
        y_enc = by_appearance[inverse]
        counts = numpy.bincount(y_enc)
        if numpy.all(self.n_splits > counts):
            raise ValueError(f"StratifiedKFold: n_splits={self.n_splits} cannot be greater than "
                             f"the number of members in each class (the largest of the "
                             f"{len(counts)} classes has {counts.max()}); use fewer splits")
        if self.n_splits > counts.min():
            warnings.warn(f"StratifiedKFold: the least populated class in y has only "
                          f"{counts.min()} members, which is less than n_splits={self.n_splits}",
                          stacklevel=3)
        y_sorted = numpy.sort(y_enc)
        per_fold = numpy.stack([numpy.bincount(y_sorted[k:: self.n_splits], minlength=len(counts))
                                for k in range(self.n_splits)])
        rng = _rng(self.random_state) if self.shuffle else None
        folds = numpy.empty(n, dtype=numpy.int64)
        for c in range(len(counts)):
            fold_of_member = numpy.repeat(numpy.arange(self.n_splits), per_fold[:, c])
            if self.shuffle:
                rng.shuffle(fold_of_member)
            folds[y_enc == c] = fold_of_member
        return folds


def bootstrap(n: int, n_samples: int | None = None,
              seed=None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Draw a bootstrap sample: ``n_samples`` indices from 0..n-1 with replacement.

    About 1 - 1/e (63.2%) of the samples are drawn when n_samples = n; the rest, out of bag,
    are a free validation set (as in bagging).

    Args:
        n: number of samples to draw from.
        n_samples: size of the bootstrap sample (default n).
        seed: int, ``nabla.Generator`` or None (nabla's global generator).

    Returns:
        ``(indices, out_of_bag)``: the drawn indices (shape (n_samples,), with repeats) and the
        sorted indices never drawn.
    """
    _count("bootstrap", "n", n, low=1)
    n_samples = n if n_samples is None else n_samples
    _count("bootstrap", "n_samples", n_samples)
    indices = _rng(seed).integers(0, n, n_samples)
    drawn = numpy.zeros(n, dtype=bool)
    drawn[indices] = True
    return indices, numpy.flatnonzero(~drawn)
