"""The harness of the port tests: PyTorch tutorial programs run on torch and on nabla, compared.

A port test takes a program from a PyTorch tutorial or from pytorch/examples and writes it once,
as functions of the framework's names, exactly as the script would use them after
``import torch; from torch import nn; import torch.nn.functional as F; from torch import optim;
from torch.utils import data``. It runs the program with ``TORCH`` and then with ``NABLA`` and
asserts that both runs give the same losses, accuracies, outputs and states.

How to write one:

1. Write the program as ``def program(torch, nn, F, optim, data, twin, **inputs)``. Split it the
   way the tutorial is split: a function that defines the model classes (they subclass the
   library's ``nn.Module``, so they are defined inside a function of ``nn``), a train function,
   an evaluate function, and the program that ties them together. Keep the tutorial's names.
2. Randomness the libraries cannot share goes through the ``twin`` (a :class:`Twin`):
   ``twin.model(m)`` gives both runs the same initial weights (torch's, copied into nabla's
   twin; the calls are matched by their order, and nabla's names and layouts must equal
   torch's); ``twin.randn(*shape)`` / ``twin.randn_like(t)`` give both runs the same noise where
   the program would draw fresh noise; ``twin.random`` is a ``random.Random`` seeded alike in both
   runs. Data come from NumPy with a fixed seed (the small makers below); shuffling and dropout
   are off where results are compared.
3. Return what the tutorial prints or plots: a dict of numbers, strings, tensors and lists of
   them. Copy a tensor (``.numpy().copy()``) if the program changes it in place later.
4. In the test: ``want, got = run_both(program, dtype, **inputs)`` (``dtype`` is the default
   dtype of both runs) then ``assert_agree(want, got, dtype, tolerances)`` with the tightest of
   FEW_STEPS, MANY_STEPS and CONV_TRAINING that the program meets, plus an assertion that the
   program did its job (the loss fell, the accuracy beats guessing). A run that cannot be
   compared (dropout masks, sampling) goes through ``run_nabla`` and asserts only that it trains.

Every test draws its data from the ``rng`` fixture and its torch initial weights from the seed
conftest.py derives from the test's id: moving or renaming a test changes both, so every
assertion must hold for any seed. Try a new test under a few dozen seeds: a value that ends near
0 needs a tolerance against its scale, not a relative one; "the loss fell" compares epoch means,
not one batch with another.
"""

import contextlib
import random

import numpy as np
import torch
import torch.nn
import torch.nn.functional
import torch.optim
import torch.utils.data
from conftest import TOLERANCES

import nabla
import nabla.nn
import nabla.nn.functional
import nabla.optim
import nabla.utils.data

TORCH = (torch, torch.nn, torch.nn.functional, torch.optim, torch.utils.data)
NABLA = (nabla, nabla.nn, nabla.nn.functional, nabla.optim, nabla.utils.data)

# Tolerances of whole runs, per dtype of the results. Over a run, float32's rounding differences
# (summation order, fused kernels) pass through every optimizer step and grow: a few steps of a
# small model stay within conftest's bounds; hundreds of steps, or convolutions trained through
# batch norm, need looser float32 bounds. float64 stays tight everywhere.
FEW_STEPS = {np.dtype(np.float32): TOLERANCES[np.dtype(np.float32)],
             np.dtype(np.float64): TOLERANCES[np.dtype(np.float64)]}
MANY_STEPS = {np.dtype(np.float32): {"rtol": 2e-4, "atol": 1e-5},
              np.dtype(np.float64): TOLERANCES[np.dtype(np.float64)]}
CONV_TRAINING = {np.dtype(np.float32): {"rtol": 2e-3, "atol": 2e-4},
                 np.dtype(np.float64): TOLERANCES[np.dtype(np.float64)]}


class Twin:
    """What a program needs from its test so that the torch run and the nabla run start alike.

    Args:
        seed: seeds the shared noise (``randn``) and ``random``.
        copy: False for a run that is not compared: ``model`` then returns the module as it is.
        jitter: names of parameters shifted by 1e-2 * N(0, 1) in the torch run before they are
            recorded, to move a start off a point where the gradient has a kink.
    """

    def __init__(self, seed: int = 0, copy: bool = True, jitter: tuple = ()) -> None:
        self.seed, self.copy, self.jitter = seed, copy, jitter
        self.saved: list[dict] = []
        self.start(torch)

    def start(self, lib) -> None:
        """Begin a run with ``lib`` (the torch or nabla module): calls are counted afresh."""
        self.lib, self.calls, self.noise_calls = lib, 0, 0
        self.random = random.Random(self.seed)

    def model(self, module):
        """Torch run: record the module's ``state_dict``. nabla run: load the record (strict)."""
        if not self.copy:
            return module
        if self.lib is torch:
            with torch.no_grad():
                for name in self.jitter:
                    p = module.get_parameter(name)
                    p.add_(1e-2 * torch.randn(p.shape, dtype=p.dtype))
            self.saved.append({k: v.detach().numpy().copy()
                               for k, v in module.state_dict().items()})
        else:
            state = self.saved[self.calls]
            module.load_state_dict({k: nabla.tensor(v.copy()) for k, v in state.items()})
        self.calls += 1
        return module

    def randn(self, *shape):
        """Standard normal noise of ``shape`` in the default dtype, the same in both runs."""
        rng = np.random.default_rng(self.seed + 1000 * self.noise_calls)
        self.noise_calls += 1
        lib = self.lib
        dtype = np.float64 if lib.get_default_dtype() == lib.float64 else np.float32
        return lib.from_numpy(rng.standard_normal(shape).astype(dtype))

    def randn_like(self, like):
        """``randn`` of ``like``'s shape and dtype."""
        return self.randn(*like.shape).to(like.dtype)


@contextlib.contextmanager
def default_dtype(lib, dtype):
    """``lib``'s default dtype set to ``dtype`` (np.float32 or np.float64) for the block."""
    old = lib.get_default_dtype()
    lib.set_default_dtype(lib.float64 if np.dtype(dtype) == np.float64 else lib.float32)
    try:
        yield
    finally:
        lib.set_default_dtype(old)


def plain(value):
    """A program's result as plain values: tensors become NumPy copies, inside dicts, lists and
    tuples too; other values stay as they are."""
    if isinstance(value, (torch.Tensor, nabla.Tensor)):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def run_both(program, dtype=np.float32, twin: Twin | None = None, **inputs) -> list:
    """``program(*TORCH, twin, **inputs)``, then ``program(*NABLA, twin, **inputs)``, each with
    its library's default dtype set to ``dtype``; returns both results as plain values."""
    twin = twin or Twin()
    results = []
    for libs in (TORCH, NABLA):
        twin.start(libs[0])
        with default_dtype(libs[0], dtype):
            results.append(plain(program(*libs, twin, **inputs)))
    return results


def run_nabla(program, dtype=np.float32, seed: int = 0, **inputs):
    """``program`` on nabla alone (nothing copied), for runs whose randomness cannot be shared;
    returns its result as plain values."""
    twin = Twin(seed=seed, copy=False)
    twin.start(nabla)
    with default_dtype(nabla, dtype):
        return plain(program(*NABLA, twin, **inputs))


def assert_agree(want, got, dtype=np.float64, tolerances=FEW_STEPS, path: str = "result"):
    """torch's result ``want`` and nabla's ``got`` agree: dicts (same keys), lists and tuples
    (same lengths) element by element; strings, bools and None equal; integers equal and of an
    integer kind in both; floats (scalars and arrays, same shape) to ``tolerances[dtype]``."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and want.keys() == got.keys(), (
            f"{path}: keys {list(got)} != torch's {list(want)}")
        for key in want:
            assert_agree(want[key], got[key], dtype, tolerances, f"{path}[{key!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(want) == len(got), f"{path}: length {len(got)} != torch's {len(want)}"
        for i, (a, b) in enumerate(zip(want, got, strict=True)):
            assert_agree(a, b, dtype, tolerances, f"{path}[{i}]")
    elif want is None or isinstance(want, (str, bool)):
        assert want == got, f"{path}: {got!r} != torch's {want!r}"
    else:
        a, b = np.asarray(want), np.asarray(got)
        assert a.shape == b.shape, f"{path}: shape {b.shape} != torch's {a.shape}"
        if a.dtype.kind in "biu":
            assert b.dtype.kind in "biu" and np.array_equal(a, b), f"{path}: {b} != torch's {a}"
        else:
            np.testing.assert_allclose(b, a, err_msg=path, **tolerances[np.dtype(dtype)])


def learnable_images(n: int, seed: int, shape=(28, 28), classes: int = 10):
    """MNIST-shaped data that a linear model can learn: pixels in [0, 1), mostly 0 as in MNIST;
    each class lights a fixed random 15% of the pixels, plus a few noise pixels.

    Returns:
        images (n, *shape) float32 and labels (n,) int64.
    """
    rng = np.random.default_rng(seed)
    prototypes = np.random.default_rng(1234).random((classes, *shape)) < 0.15
    y = rng.integers(0, classes, n)
    x = prototypes[y] * rng.uniform(0.5, 1.0, (n, *shape))
    x += (rng.random((n, *shape)) < 0.03) * rng.random((n, *shape))
    return np.minimum(x, 1.0).astype(np.float32), y


def fake_names(seed: int, n_per_class: int = 6) -> dict:
    """Synthetic 'names' of three 'languages', each drawing on its own letters."""
    rng = np.random.default_rng(seed)
    alphabets = {"Ab": "abcdefgh", "Cd": "ijklmnop", "Ef": "qrstuvwxyz"}
    return {cat: ["".join(rng.choice(list(letters), size=rng.integers(3, 7))).capitalize()
                  for _ in range(n_per_class)]
            for cat, letters in alphabets.items()}


def token_stream(seed: int, n_tokens: int = 330, ntoken: int = 12):
    """A token stream (int64) with structure to learn: mostly 'next = 2 * previous + 1 (mod
    ntoken)', else a random token."""
    rng = np.random.default_rng(seed)
    ids = [int(rng.integers(ntoken))]
    for _ in range(n_tokens - 1):
        ids.append((2 * ids[-1] + 1) % ntoken if rng.random() < 0.8 else int(rng.integers(ntoken)))
    return np.array(ids, dtype=np.int64)
