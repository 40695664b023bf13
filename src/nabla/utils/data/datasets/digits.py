"""scikit-learn's 8x8 handwritten digits: 1,797 images, 10 classes, shipped with scikit-learn
(nothing is downloaded). Small enough to train an MLP or a tiny CNN in seconds."""

import importlib.util
import os
from collections.abc import Callable

import numpy

from nabla.utils.data.datasets.base import ArrayDataset
from nabla.utils.data.split import split_indices

_CACHE: dict = {}


def _digits_csv() -> str | None:
    """Where scikit-learn keeps digits.csv.gz, found without importing scikit-learn (slow)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")
    return path if os.path.isfile(path) else None


def _raw_digits() -> tuple[numpy.ndarray, numpy.ndarray]:
    """Images (1797, 8, 8) with values 0..16, and labels; read once per process."""
    if "digits" not in _CACHE:
        path = _digits_csv()
        if path is not None:  # rows of 64 pixels and the label, as scikit-learn reads them
            table = numpy.loadtxt(path, delimiter=",", dtype=numpy.float32)
            images, labels = table[:, :-1].reshape(-1, 8, 8), table[:, -1]
        else:
            try:
                from sklearn.datasets import load_digits as sk_load_digits
            except ImportError as err:
                raise ImportError("the digits data set ships with scikit-learn: "
                                  "pip install 'nabla[datasets]'") from err
            bunch = sk_load_digits()
            images, labels = bunch.images, bunch.target
        _CACHE["digits"] = (images.astype(numpy.float32), labels.astype(numpy.int64))
    return _CACHE["digits"]


def load_digits(test_fraction: float = 0.2, seed: int = 0, flatten: bool = True,
                normalize: bool = True) -> tuple[numpy.ndarray, ...]:
    """The digits, split into train and test sets that keep the class proportions.

    Args:
        test_fraction: share of the images in the test set.
        seed: seed of the split (the same seed gives the same split).
        flatten: images as 64 features (N, 64); otherwise (N, 1, 8, 8) for convolutions.
        normalize: scale pixels from 0..16 to [0, 1].

    Returns:
        ``(X_train, y_train, X_test, y_test)``: float32 images and int64 labels.
    """
    if not 0 <= test_fraction < 1:
        raise ValueError(f"load_digits: test_fraction must be in [0, 1), got {test_fraction}")
    images, labels = _raw_digits()
    X = images / 16.0 if normalize else images.copy()
    X = X.reshape(len(X), 64) if flatten else X[:, None, :, :]
    train, test = split_indices(len(labels), (1 - test_fraction, test_fraction),
                                stratify=labels, seed=seed)
    return X[train], labels[train], X[test], labels[test]


class Digits(ArrayDataset):
    """The 8x8 digits as a dataset of ``(image, label)``; see ``load_digits`` for the arguments.

    Samples are float32 tensors of shape (64,) (or (1, 8, 8) with ``flatten=False``) and int64
    labels. The train and test sets of one ``seed`` are disjoint.
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, train: bool = True, flatten: bool = True, normalize: bool = True,
                 test_fraction: float = 0.2, seed: int = 0, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        X_train, y_train, X_test, y_test = load_digits(test_fraction, seed, flatten, normalize)
        self.train = train
        super().__init__(X_train if train else X_test, y_train if train else y_test,
                         transform, target_transform)
