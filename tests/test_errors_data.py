"""Mistakes with datasets, loaders, samplers, splits, scalers and data files get a clear error
naming the function, the values and the fix (never NumPy's index or broadcasting error, a bare
KeyError or a ZeroDivisionError), and PyTorch refuses the same input where it does."""

import gzip

import numpy as np
import pytest
import torch
import torch.utils.data as td
from test_errors_optim import Case, assert_torch_refuses

import nabla
import nabla.utils.data as nd
from nabla.utils.data import datasets

X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10) % 2


def ours_ds():
    return nd.TensorDataset(nabla.tensor(X), nabla.tensor(Y))


def theirs_ds():
    return td.TensorDataset(torch.tensor(X), torch.tensor(Y))


LOADER_CASES = [
    Case("dataset None", lambda: nd.DataLoader(None), TypeError,
         r"DataLoader: dataset must be a Dataset .*got NoneType",
         lambda: list(td.DataLoader(None))),
    Case("batch_size 0", lambda: nd.DataLoader(ours_ds(), batch_size=0), ValueError,
         r"batch_size should be a positive integer value, got batch_size=0",
         lambda: td.DataLoader(theirs_ds(), batch_size=0)),
    Case("batch_size float", lambda: nd.DataLoader(ours_ds(), batch_size=2.5), ValueError,
         r"batch_size should be a positive integer value, got batch_size=2.5",
         lambda: td.DataLoader(theirs_ds(), batch_size=2.5)),
    Case("sampler and shuffle", lambda: nd.DataLoader(ours_ds(), sampler=range(10),
                                                      shuffle=True), ValueError,
         r"DataLoader: sampler option is mutually exclusive with shuffle",
         lambda: td.DataLoader(theirs_ds(), sampler=range(10), shuffle=True)),
    Case("batch_sampler and batch_size", lambda: nd.DataLoader(
         ours_ds(), batch_size=4, batch_sampler=nd.BatchSampler(range(10), 2, False)),
         ValueError, r"batch_sampler option is mutually exclusive with batch_size",
         lambda: td.DataLoader(theirs_ds(), batch_size=4,
                               batch_sampler=td.BatchSampler(range(10), 2, False))),
    Case("sampler an int", lambda: nd.DataLoader(ours_ds(), sampler=3), TypeError,
         r"DataLoader: sampler must be an iterable of indices .*got int",
         lambda: list(td.DataLoader(theirs_ds(), sampler=3))),
    Case("collate_fn not callable", lambda: nd.DataLoader(ours_ds(), collate_fn=5), TypeError,
         r"DataLoader: collate_fn must be a function of a list of samples, got int",
         lambda: list(td.DataLoader(theirs_ds(), collate_fn=5))),
    Case("generator a seed", lambda: nd.DataLoader(ours_ds(), shuffle=True, generator=5),
         TypeError, r"DataLoader: generator must be a nabla.Generator or None, got int 5.*"
         r"nabla.Generator\(s\)", lambda: list(td.DataLoader(theirs_ds(), shuffle=True,
                                                               generator=5))),
    Case("sampler index out of range", lambda: list(nd.DataLoader(ours_ds(), 2, sampler=[0, 20])),
         IndexError, r"DataLoader: the sampler gave index 20, but the dataset has 10 samples",
         lambda: list(td.DataLoader(theirs_ds(), 2, sampler=[0, 20]))),
    Case("Subset index out of range, batched", lambda: list(nd.DataLoader(
         nd.Subset(ours_ds(), [0, 20]), 2)), IndexError,
         r"DataLoader: the Subset holds index 20, but the dataset under it has 10 samples",
         lambda: list(td.DataLoader(td.Subset(theirs_ds(), [0, 20]), 2))),
    Case("Subset with float indices", lambda: list(nd.DataLoader(
         nd.Subset(ours_ds(), np.array([0.0, 1.7])), 2)), IndexError,
         r"Subset: indices must be integers, got float64",
         lambda: list(td.DataLoader(td.Subset(theirs_ds(), np.array([0.0, 1.7])), 2))),
    Case("shuffling an empty dataset", lambda: nd.DataLoader(
         nd.TensorDataset(nabla.ones(0, 3)), 2, shuffle=True), ValueError,
         r"RandomSampler: the dataset is empty \(0 samples\)",
         lambda: td.DataLoader(td.TensorDataset(torch.ones(0, 3)), 2, shuffle=True)),
]

DATASET_CASES = [
    Case("TensorDataset size mismatch", lambda: nd.TensorDataset(nabla.ones(3, 2), nabla.ones(4)),
         ValueError, r"TensorDataset: size mismatch .*got shapes \(3, 2\), \(4,\)",
         lambda: td.TensorDataset(torch.ones(3, 2), torch.ones(4)), AssertionError),
    Case("TensorDataset of strings", lambda: nd.TensorDataset(np.array(["a", "b"])), TypeError,
         r"TensorDataset: tensor 0 holds <U1 values, not numbers",
         lambda: td.TensorDataset(["a", "b"]), AttributeError),
    Case("TensorDataset index out of range", lambda: ours_ds()[10], IndexError,
         r"TensorDataset: index 10 is out of range for 10 samples \(valid indices: -10 to 9\)",
         lambda: theirs_ds()[10]),
    Case("Subset index out of range", lambda: nd.Subset(ours_ds(), [0, 1])[5], IndexError,
         r"Subset: index 5 is out of range for 2 samples", lambda: td.Subset(theirs_ds(),
                                                                             [0, 1])[5]),
    Case("ConcatDataset index out of range", lambda: (ours_ds() + ours_ds())[25], IndexError,
         r"ConcatDataset: index 25 is out of range for 20 samples",
         lambda: (theirs_ds() + theirs_ds())[25]),
    Case("random_split lengths not summing", lambda: nd.random_split(ours_ds(), [3, 3]),
         ValueError, r"random_split: sum of input lengths \(6\) does not equal the length of "
         r"the input dataset \(10\)", lambda: td.random_split(theirs_ds(), [3, 3])),
    Case("random_split fractions not summing", lambda: nd.random_split(ours_ds(), [0.5, 0.3]),
         ValueError, r"fractions summing to 1, got \[0.5, 0.3\]",
         lambda: td.random_split(theirs_ds(), [0.5, 0.3])),
    Case("random_split lengths an int", lambda: nd.random_split(ours_ds(), 5), TypeError,
         r"random_split: lengths must be a list .*got int 5",
         lambda: td.random_split(theirs_ds(), 5)),
    Case("random_split generator a seed", lambda: nd.random_split(ours_ds(), [5, 5], generator=5),
         TypeError, r"random_split: generator must be a nabla.Generator or None, got int 5",
         lambda: td.random_split(theirs_ds(), [5, 5], generator=5)),
]

SAMPLER_CASES = [
    Case("WeightedRandomSampler negative weight", lambda: nd.WeightedRandomSampler([1, -1], 2),
         ValueError, r"WeightedRandomSampler: weights must be .*non-negative",
         lambda: list(td.WeightedRandomSampler([1, -1], 2)), RuntimeError),
    Case("WeightedRandomSampler num_samples 0", lambda: nd.WeightedRandomSampler([1, 1], 0),
         ValueError, r"WeightedRandomSampler: num_samples should be a positive integer value, "
         r"got num_samples=0", lambda: td.WeightedRandomSampler([1, 1], 0)),
    Case("WeightedRandomSampler weights of strings", lambda: nd.WeightedRandomSampler(["a"], 1),
         ValueError, r"WeightedRandomSampler: weights must be numbers, got \['a'\]",
         lambda: td.WeightedRandomSampler(["a"], 1)),
    Case("RandomSampler with num_samples over nothing", lambda: list(nd.RandomSampler(
         [], num_samples=3)), ValueError,
         r"RandomSampler: cannot draw 3 samples from an empty dataset",
         lambda: list(td.RandomSampler([], num_samples=3)), ZeroDivisionError),
    Case("SubsetRandomSampler of an int", lambda: nd.SubsetRandomSampler(5), TypeError,
         r"SubsetRandomSampler: indices must be a sequence of indices .*got int 5",
         lambda: list(td.SubsetRandomSampler(5))),
]

COLLATE_CASES = [
    Case("shapes differ", lambda: nd.default_collate([nabla.ones(2), nabla.ones(3)]),
         RuntimeError, r"default_collate: stack expects each tensor to be equal size, but got "
         r"\[2\] at entry 0 and \[3\] at entry 1",
         lambda: td.default_collate([torch.ones(2), torch.ones(3)])),
    Case("empty batch", lambda: nd.default_collate([]), IndexError,
         r"default_collate: the batch is empty", lambda: td.default_collate([])),
    Case("dicts with other keys", lambda: nd.default_collate([{"a": 1}, {"b": 2}]), KeyError,
         r"default_collate: sample 1 has no key 'a' \(it has \['b'\]\)",
         lambda: td.default_collate([{"a": 1}, {"b": 2}])),
    Case("a tensor and an int", lambda: nd.default_collate([nabla.ones(2), 3]), TypeError,
         r"default_collate: entry 1 of the batch is int, but entry 0 is a Tensor",
         lambda: td.default_collate([torch.ones(2), 3])),
    Case("a number and a string", lambda: nd.default_collate([1, "a"]), TypeError,
         r"default_collate: entry 1 of the batch is str, but entry 0 is a number",
         lambda: td.default_collate([1, "a"])),
]


@pytest.mark.parametrize("case", LOADER_CASES + DATASET_CASES + SAMPLER_CASES + COLLATE_CASES,
                         ids=repr)
def test_data_mistakes_are_reported(case):
    with pytest.raises(case.error, match=case.match):
        case.ours()
    assert_torch_refuses(case)


# -- nabla's own tools (scikit-learn conventions; no PyTorch twin) ----------------------------

@pytest.mark.parametrize("make, error, match", [
    (lambda: nd.train_val_test_split(X, ratios=0.8), TypeError,
     r"train_val_test_split: ratios must be 2 or 3 proportions .*got float 0.8"),
    (lambda: nd.train_val_test_split(X, ratios=("a", "b")), TypeError,
     r"train_val_test_split: ratios must be numbers"),
    (lambda: nd.train_val_test_split(X, ratios=(float("nan"), 0.5, 0.5)), ValueError,
     r"train_val_test_split: ratios: give 2 or 3 non-negative proportions"),
    (lambda: nd.train_val_test_split(X[:2]), ValueError,
     r"train_val_test_split: ratios \(0.6, 0.2, 0.2\) leave no samples for training out of 2"),
    (lambda: nd.train_val_test_split(X, Y[:5]), ValueError,
     r"train_val_test_split: inconsistent numbers of samples: \[10, 5\]"),
    (lambda: nd.train_val_test_split(5), TypeError,
     r"train_val_test_split: argument 0 is int, not an array of samples"),
    (lambda: nd.train_val_test_split(X, stratify=X), ValueError,
     r"train_val_test_split: expected 1-D class labels .*got shape \(10, 3\)"),
    (lambda: nd.train_val_test_split(X, seed="abc"), TypeError,
     r"seed must be an int, a nabla.Generator, a NumPy Generator or None, got str 'abc'"),
    (lambda: nd.split_indices(10.5), ValueError, r"split_indices: n must be an integer >= 0"),
    (lambda: list(nd.KFold(20).split(X)), ValueError,
     r"KFold: cannot have number of splits n_splits=20 greater than the number of samples: "
     r"n_samples=10"),
    (lambda: list(nd.KFold(3).split(10)), TypeError, r"KFold.split: X must be the samples"),
    (lambda: list(nd.StratifiedKFold(2).split(X, np.arange(10))), ValueError,
     r"StratifiedKFold: n_splits=2 cannot be greater than the number of members in each class "
     r"\(the largest of the 10 classes has 1\)"),
    (lambda: nd.bootstrap(5, -1), ValueError, r"bootstrap: n_samples must be an integer >= 0"),
    (lambda: nd.bootstrap(5.5), ValueError, r"bootstrap: n must be an integer >= 1, got 5.5"),
])
def test_split_mistakes_are_reported(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_stratified_kfold_warns_about_a_class_smaller_than_n_splits():
    with pytest.warns(UserWarning, match=r"least populated class in y has only 1 members"):
        list(nd.StratifiedKFold(5).split(X, np.array([0] * 9 + [1])))


@pytest.mark.parametrize("make, error, match", [
    (lambda: nd.MinMaxScaler().transform(X), nd.NotFittedError,
     r"MinMaxScaler is not fitted yet: call fit\(X_train\) first"),
    (lambda: nd.StandardScaler().fit(X).transform(np.ones((2, 5))), ValueError,
     r"X has 5 features, but StandardScaler is expecting 3 features"),
    (lambda: nd.StandardScaler().fit(np.ones((0, 3))), ValueError,
     r"StandardScaler.fit: X has 0 samples \(shape \(0, 3\)\)"),
    (lambda: nd.MinMaxScaler().fit(np.ones((0, 3))), ValueError,
     r"MinMaxScaler.fit: X has 0 samples"),
    (lambda: nd.MinMaxScaler(1).fit(X), TypeError,
     r"MinMaxScaler: feature_range must be a pair \(min, max\) .*got 1"),
    (lambda: nd.StandardScaler().fit([[1, 2], [3]]), ValueError,
     r"StandardScaler.fit: X is ragged"),
])
def test_scaler_mistakes_are_reported(make, error, match):
    with pytest.raises(error, match=match):
        make()


def _write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("name, data, reader, match", [
    ("header", bytes([0, 0, 8, 3, 0, 0]), nd.read_idx,
     r"read_idx: .*header is truncated: its header announces 3 dimensions \(16 bytes\) but the "
     r"file has 6 bytes"),
    ("data", bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), nd.read_idx,
     r"should hold 5 values of 1 bytes for shape \(5,\), but has 2 data bytes"),
    ("cut.gz", gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))[:-6], nd.read_idx,
     r"read_idx: .*cut.gz is a truncated or corrupt gzip file"),
    ("empty.bin", b"", nd.read_cifar10_batch,
     r"read_cifar10_batch: .* has 0 bytes, not a positive multiple of the 3073-byte record"),
    ("label.bin", bytes([200]) + bytes(3072), nd.read_cifar10_batch,
     r"record 0 of .* has label 200, not a CIFAR-10 class \(0-9\)"),
])
def test_truncated_or_wrong_data_files_are_reported(tmp_path, name, data, reader, match):
    with pytest.raises(ValueError, match=match):
        reader(_write(tmp_path, name, data))


def test_mnist_with_swapped_files_is_reported(tmp_path):
    _write(tmp_path, "t10k-images-idx3-ubyte", bytes([0, 0, 8, 1, 0, 0, 0, 2, 0, 0]))
    _write(tmp_path, "t10k-labels-idx1-ubyte",
           bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]))
    with pytest.raises(ValueError, match=r"MNIST: expected images of shape \(N, 28, 28\) and "
                                         r"labels of shape \(N,\), got \(2,\) .*are the files "
                                         r"swapped"):
        nd.MNIST(tmp_path, train=False)


@pytest.mark.parametrize("make, error, match", [
    (lambda: datasets.get_dataset("mnist"), TypeError,
     r"get_dataset: 'mnist' is read from local files: pass root="),
    (lambda: datasets.load_digits(test_fraction=1.5), ValueError,
     r"load_digits: test_fraction must be in \[0, 1\), got 1.5"),
    (lambda: datasets.make_spirals(10, 0), ValueError,
     r"make_spirals: n_classes must be an integer >= 1, got 0"),
    (lambda: datasets.make_ring_of_gaussians(10, 0), ValueError,
     r"make_ring_of_gaussians: n_modes must be an integer >= 1, got 0"),
    (lambda: datasets.make_moons(-1), ValueError, r"make_moons: n_samples must be an integer"),
    (lambda: datasets.make_sine_sequences(5, 0), ValueError,
     r"make_sine_sequences: seq_len must be an integer >= 1, got 0"),
    (lambda: datasets.make_spirals(10, noise=-1), ValueError,
     r"make_spirals: noise must be a number >= 0, got -1"),
])
def test_dataset_helper_mistakes_are_reported(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_shipped_text_mistakes_are_reported():
    from nabla.data import generate_fables, load_text

    with pytest.raises(FileNotFoundError, match=r"load_text: nabla ships no data file "
                                                r"'fable.txt'; the shipped files are fables.txt"):
        load_text("fable.txt")
    with pytest.raises(ValueError, match=r"generate_fables: n_fables must be a positive "
                                         r"integer, got -1"):
        generate_fables(-1)
