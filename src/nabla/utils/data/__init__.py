"""Data loading with PyTorch's API (``from nabla.utils.data import DataLoader, TensorDataset``),
plus what the curriculum's generalization chapter needs: train / validation / test splits,
k-fold cross-validation, bootstrapping and feature scaling, and the built-in data sets."""

from nabla.utils.data import datasets
from nabla.utils.data.dataloader import (
    DataLoader,
    default_collate,
    default_convert,
    get_worker_info,
)
from nabla.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from nabla.utils.data.datasets import (
    CIFAR10,
    DATASETS,
    MNIST,
    MNIST1D,
    Digits,
    FashionMNIST,
    get_dataset,
    load_digits,
    load_mnist1d,
    make_moons,
    make_ring_of_gaussians,
    make_sine_sequences,
    make_spirals,
    read_cifar10_batch,
    read_idx,
)
from nabla.utils.data.preprocessing import MinMaxScaler, NotFittedError, StandardScaler
from nabla.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from nabla.utils.data.split import (
    KFold,
    StratifiedKFold,
    bootstrap,
    split_indices,
    train_val_test_split,
)

__all__ = [
    # PyTorch's torch.utils.data
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
    "random_split", "DataLoader", "default_collate", "default_convert", "get_worker_info",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler",
    # generalization tools (scikit-learn conventions)
    "train_val_test_split", "split_indices", "KFold", "StratifiedKFold", "bootstrap",
    "MinMaxScaler", "StandardScaler", "NotFittedError",
    # built-in data sets
    "datasets", "DATASETS", "get_dataset", "Digits", "load_digits", "MNIST1D", "load_mnist1d",
    "make_spirals", "make_moons", "make_sine_sequences", "make_ring_of_gaussians",
    "read_idx", "read_cifar10_batch", "MNIST", "FashionMNIST", "CIFAR10",
]
