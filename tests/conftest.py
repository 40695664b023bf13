"""Shared test fixtures: seeds, tolerances (in one place) and the PyTorch comparison helpers."""

import os
import zlib

import numpy as np
import pytest
import torch

import nabla

# The tests run small arrays: one BLAS thread and one torch thread are faster, and the two thread
# pools then cannot spin against each other on a small machine.
torch.set_num_threads(1)
try:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:  # installed with scikit-learn (the 'datasets' extra); only a speed matter
    pass

# Tolerances per dtype, used by every comparison with PyTorch. float32 results differ from
# PyTorch's by summation order and fused kernels, hence the looser bounds.
TOLERANCES = {
    np.dtype(np.float32): {"rtol": 1e-4, "atol": 1e-5},
    np.dtype(np.float64): {"rtol": 1e-7, "atol": 1e-9},
}
# Tolerances of nabla.autograd.gradcheck / gradgradcheck (float64 central differences).
GRADCHECK_TOL = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}

_TORCH_TO_NUMPY = {
    torch.float16: np.dtype(np.float16),
    torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
    torch.int8: np.dtype(np.int8),
    torch.uint8: np.dtype(np.uint8),
    torch.int16: np.dtype(np.int16),
    torch.int32: np.dtype(np.int32),
    torch.int64: np.dtype(np.int64),
    torch.bool: np.dtype(np.bool_),
}


def tolerance(dtype) -> dict:
    """rtol/atol for comparing results of ``dtype`` (integers and bools compare exactly)."""
    dtype = np.dtype(dtype)
    return TOLERANCES.get(dtype, {"rtol": 0.0, "atol": 0.0})


def numpy_dtype(torch_dtype) -> np.dtype:
    return _TORCH_TO_NUMPY[torch_dtype]


def to_torch(t, requires_grad: bool | None = None) -> torch.Tensor:
    """A PyTorch copy of a nabla tensor (or array); keeps ``requires_grad`` unless overridden."""
    arr = t._data if isinstance(t, nabla.Tensor) else np.asarray(t)
    out = torch.from_numpy(np.array(arr, copy=True, order="C"))
    if requires_grad is None:
        requires_grad = isinstance(t, nabla.Tensor) and t.requires_grad
    return out.requires_grad_(requires_grad) if requires_grad else out


def assert_close(actual, expected, dtype=None, what: str = "") -> None:
    """Assert a nabla tensor equals a PyTorch tensor: same shape, same dtype, close values.

    Args:
        actual: the nabla Tensor.
        expected: the torch.Tensor.
        dtype: the dtype whose tolerances apply (default: the expected tensor's).
        what: a label for the failure message.
    """
    label = f"{what}: " if what else ""
    assert isinstance(actual, nabla.Tensor), f"{label}expected a nabla Tensor, got {type(actual)}"
    want = expected.detach().numpy(force=True)  # force: PyTorch may return a ZeroTensor
    assert tuple(actual.shape) == tuple(want.shape), (
        f"{label}shape {tuple(actual.shape)} != PyTorch's {tuple(want.shape)}")
    assert actual.dtype == want.dtype, f"{label}dtype {actual.dtype} != PyTorch's {want.dtype}"
    tol = tolerance(dtype if dtype is not None else want.dtype)
    np.testing.assert_allclose(np.asarray(actual._data), want, equal_nan=True,
                               err_msg=f"{label}values differ from PyTorch", **tol)


def twin_inputs(shapes, dtype, rng) -> tuple:
    """Random arrays of ``shapes`` as nabla and as PyTorch tensors that require grad."""
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return ([nabla.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def check_against_torch(nf, tf, shapes, kwargs, dtype, rng) -> None:
    """nf and tf on the same random inputs: outputs equal, and every input's gradient for one
    random upstream gradient. PyTorch computes in float64 from the same inputs and its results
    are rounded to ``dtype``: a convolution's bias gradient sums ~1000 terms, and where the sum
    cancels to ~0.1, PyTorch's own float32 rounding put it past atol (1 draw in 250)."""
    nx, tx = twin_inputs(shapes, dtype, rng)
    tx = [t.detach().double().requires_grad_() for t in tx]
    ny, ty = nf(*nx, **kwargs), tf(*tx, **kwargs)
    rounded = getattr(torch, np.dtype(dtype).name)
    assert_close(ny, ty.to(rounded), what="output")
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g, dtype=torch.float64))
    for i, (a, b) in enumerate(zip(nx, tx, strict=True)):
        assert_close(a.grad, b.grad.to(rounded), what=f"grad of argument {i}")


def _seed_for(request) -> int:
    """The test's seed: from its id, plus $NABLA_TEST_SEED if set (to run the suite under other
    seeds and find assertions that only hold for some)."""
    return zlib.crc32((request.node.nodeid + os.environ.get("NABLA_TEST_SEED", "")).encode())


@pytest.fixture(autouse=True)
def _seed_everything(request):
    """Every test starts from a seed of its own (stable across runs, different per test)."""
    seed = _seed_for(request)
    nabla.manual_seed(seed)
    torch.manual_seed(seed)
    yield


@pytest.fixture
def rng(request) -> np.random.Generator:
    """A NumPy generator seeded from the test's id (reproducible, distinct per test)."""
    return np.random.default_rng(_seed_for(request))


@pytest.fixture(params=["sample_major", "position_major"])
def layout(request, monkeypatch):
    """Stride-1 convolutions order their columns (sample, position) or, for short rows,
    (position, sample) (see nabla/nn/functional/_im2col.py): a test using this fixture runs
    in both orders."""
    limit = 0 if request.param == "sample_major" else 1 << 30
    monkeypatch.setattr(nabla.nn.functional._im2col, "_POSITION_MAJOR_MAX", limit)
    return request.param


# -- a nabla layer and its PyTorch twin, run side by side ---------------------------------------
def perturb(tmod) -> None:
    """Random parameters and float buffers, so that weight = 1, bias = 0 hide nothing."""
    with torch.no_grad():
        for p in tmod.parameters():
            p.copy_(torch.randn_like(p))
        for name, b in tmod.named_buffers():
            if b.is_floating_point():
                b.copy_(torch.rand_like(b) + (0.5 if "var" in name else 0.0))


def run_twins(nmod, tmod, shapes, dtype, rng, steps: int = 1, shift: float = 0.0) -> None:
    """Forward and backward ``steps`` times on both (inputs of ``shapes``, N(shift, 4)); compare
    outputs, the gradients of the inputs and of every parameter, then the buffers."""
    for step in range(steps):
        xs = [rng.standard_normal(s) * 2 + shift for s in shapes]
        tx = [torch.tensor(x, dtype=dtype, requires_grad=True) for x in xs]
        nx = [nabla.tensor(x.astype(tx[0].detach().numpy().dtype), requires_grad=True)
              for x in xs]
        ty, ny = tmod(*tx), nmod(*nx)
        assert_close(ny, ty, what=f"output (step {step})")
        g = rng.standard_normal(tuple(ty.shape))
        for p in tmod.parameters():
            p.grad = None
        nmod.zero_grad()
        ty.backward(torch.tensor(g, dtype=dtype))
        ny.backward(nabla.tensor(g.astype(ny.dtype)))
        for i, (a, b) in enumerate(zip(nx, tx, strict=True)):
            assert_close(a.grad, b.grad, what=f"grad of input {i}")
        pairs = zip(tmod.named_parameters(), nmod.named_parameters(), strict=True)
        for (name, tp), (nname, np_) in pairs:
            assert name == nname
            assert_close(np_.grad, tp.grad, what=f"grad of {name}")
    for (name, tb), (nname, nb) in zip(tmod.named_buffers(), nmod.named_buffers(), strict=True):
        assert name == nname
        assert_close(nb, tb, what=f"buffer {name}")
