"""Built-in data sets: generated (toy sets, MNIST-1D), shipped (digits) or read from local files
(MNIST, Fashion-MNIST, CIFAR-10). Nothing here downloads.

``DATASETS`` maps each name that ``get_dataset`` accepts to a one-line description, so a command
line can list them: ``for name, about in DATASETS.items(): print(name, about)``.
"""

from nabla.utils.data.dataset import Dataset, TensorDataset
from nabla.utils.data.datasets.base import ArrayDataset
from nabla.utils.data.datasets.digits import Digits, load_digits
from nabla.utils.data.datasets.files import (
    CIFAR10,
    MNIST,
    FashionMNIST,
    read_cifar10_batch,
    read_idx,
)
from nabla.utils.data.datasets.mnist1d import MNIST1D, load_mnist1d
from nabla.utils.data.datasets.toy import (
    make_moons,
    make_ring_of_gaussians,
    make_sine_sequences,
    make_spirals,
)
from nabla.utils.data.split import split_indices

DATASETS = {
    "digits": "8x8 handwritten digits from scikit-learn: 1,797 images (64 features), 10 classes",
    "mnist1d": "MNIST-1D, generated offline: 4,000 train / 1,000 test signals of 40, 10 classes",
    "spirals": "three interleaved spiral arms in 2-D: 1,000 points, 3 classes (not linear)",
    "moons": "two interleaving half circles in 2-D with noise 0.2: 1,000 points, 2 classes",
    "sine": "noisy sine windows of 50 steps and the next value: 2,000 sequences (regression)",
    "rings": "eight Gaussians on a circle in 2-D: 2,000 points (for GANs), 8 modes",
    "mnist": "MNIST from local IDX files (root=...): 60,000 / 10,000 images of 28x28, 10 classes",
    "fashion_mnist": "Fashion-MNIST from local IDX files (root=...): 28x28 clothing, 10 classes",
    "cifar10": "CIFAR-10 from local binary batches (root=...): 50,000 / 10,000 RGB 32x32, 10 "
               "classes",
}

_TOYS = {
    "spirals": lambda: make_spirals(1000, 3, noise=0.2, seed=0),
    "moons": lambda: make_moons(1000, noise=0.2, seed=0),
    "sine": lambda: make_sine_sequences(2000, 50, noise=0.05, seed=0),
    "rings": lambda: make_ring_of_gaussians(2000, 8, seed=0),
}


def _toy(name: str, train: bool) -> TensorDataset:
    """A toy set with a fixed seed, cut 80 / 20 into train and test (by class when labelled)."""
    X, y = _TOYS[name]()
    labels = y if y.dtype.kind == "i" else None
    part_train, part_test = split_indices(len(X), (0.8, 0.2), stratify=labels, seed=0)
    idx = part_train if train else part_test
    return TensorDataset(X[idx], y[idx])


def get_dataset(name: str, split: str = "train", **kwargs) -> Dataset:
    """A built-in data set by name (see ``DATASETS``).

    Args:
        name: a key of ``DATASETS``.
        split: 'train' or 'test'.
        **kwargs: passed to the data set's class (``root`` for the file-based sets; ``flatten``,
            ``transform``, ...).

    Returns:
        A map-style dataset of ``(input, target)`` samples.
    """
    if name not in DATASETS:
        raise KeyError(f"get_dataset: unknown data set {name!r}; choose one of "
                       f"{', '.join(DATASETS)}")
    if split not in ("train", "test"):
        raise ValueError(f"get_dataset: split must be 'train' or 'test', got {split!r}")
    train = split == "train"
    if name in _TOYS:
        if kwargs:
            raise TypeError(f"get_dataset: {name!r} takes no options, got {sorted(kwargs)}; "
                            f"call make_{name}... directly to change its parameters")
        return _toy(name, train)
    if name in ("mnist", "fashion_mnist", "cifar10") and "root" not in kwargs:
        raise TypeError(f"get_dataset: {name!r} is read from local files: pass root='folder' "
                        f"with them (nabla never downloads)")
    classes = {"digits": Digits, "mnist1d": MNIST1D, "mnist": MNIST,
               "fashion_mnist": FashionMNIST, "cifar10": CIFAR10}
    return classes[name](train=train, **kwargs)


__all__ = [
    "DATASETS", "get_dataset", "ArrayDataset",
    "Digits", "load_digits", "MNIST1D", "load_mnist1d",
    "make_spirals", "make_moons", "make_sine_sequences", "make_ring_of_gaussians",
    "read_idx", "read_cifar10_batch", "MNIST", "FashionMNIST", "CIFAR10",
]
