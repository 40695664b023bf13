"""Window functions (ops/windows.py), dtype queries (promote_types, can_cast, finfo, iinfo in
dtype.py) and the creation functions asarray and scalar_tensor against PyTorch: values, dtypes,
memory sharing, requires_grad, and the errors."""

import numpy as np
import pytest
import torch
from conftest import assert_close, numpy_dtype

import nabla

TORCH_DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
                torch.float16, torch.float32, torch.float64]


# -- windows -------------------------------------------------------------------------------------
WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_window_matches_torch(name, periodic, dtype):
    for length in [0, 1, 2, 3, 8, 33]:
        out = getattr(nabla, name)(length, periodic, dtype=numpy_dtype(dtype))
        assert_close(out, getattr(torch, name)(length, periodic, dtype=dtype), what=name)
        assert not out.requires_grad


def test_window_parameters_and_defaults():
    assert_close(nabla.hamming_window(9, False, 0.5, 0.4), torch.hamming_window(9, False, 0.5, 0.4))
    assert_close(nabla.hamming_window(7, alpha=0.6, beta=0.3),
                 torch.hamming_window(7, True, 0.6, 0.3))
    for beta in [0.0, 2.5, -3.0, 40.0]:
        assert_close(nabla.kaiser_window(10, True, beta), torch.kaiser_window(10, True, beta))
        assert_close(nabla.kaiser_window(7, beta=beta, periodic=False, dtype=nabla.float64),
                     torch.kaiser_window(7, False, beta, dtype=torch.float64))
    # the default dtype, and a leaf that requires grad
    nabla.set_default_dtype(nabla.float64)
    try:
        assert nabla.hann_window(4).dtype == nabla.float64
    finally:
        nabla.set_default_dtype(nabla.float32)
    w = nabla.blackman_window(5, requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.dtype == nabla.float32


@pytest.mark.parametrize("name", WINDOWS)
def test_window_errors(name):
    fn = getattr(nabla, name)
    with pytest.raises(RuntimeError, match=f"{name}: window_length must be non-negative"):
        fn(-1)
    with pytest.raises(RuntimeError, match=f"{name}: only floating dtypes"):
        fn(4, dtype=nabla.int64)
    with pytest.raises(TypeError, match=f"{name}: window_length must be an int"):
        fn(4.0)


# -- promote_types, can_cast, finfo, iinfo -------------------------------------------------------
def test_promote_types_and_can_cast_match_torch():
    for a in TORCH_DTYPES:
        for b in TORCH_DTYPES:
            na, nb = numpy_dtype(a), numpy_dtype(b)
            assert nabla.promote_types(na, nb) == numpy_dtype(torch.promote_types(a, b)), (a, b)
            assert nabla.can_cast(na, nb) == torch.can_cast(a, b), (a, b)
    assert nabla.promote_types(nabla.int64, nabla.float16) == nabla.float16  # unlike NumPy
    with pytest.raises(TypeError, match="promote_types: expected a dtype"):
        nabla.promote_types(None, nabla.float32)
    with pytest.raises(TypeError, match="can_cast: expected a dtype"):
        nabla.can_cast(nabla.float32, "not a dtype")


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_finfo_matches_torch(dtype):
    ours, theirs = nabla.finfo(numpy_dtype(dtype)), torch.finfo(dtype)
    for attr in ["bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"]:
        assert getattr(ours, attr) == getattr(theirs, attr), attr
        assert type(getattr(ours, attr)) is type(getattr(theirs, attr)), attr
    assert repr(ours) == repr(theirs)
    assert ours == nabla.finfo(numpy_dtype(dtype))
    assert ours != nabla.finfo(nabla.float32 if dtype == torch.float16 else nabla.float16)


def test_finfo_default_and_errors():
    assert nabla.finfo() == nabla.finfo(nabla.float32)
    assert nabla.finfo().eps == torch.finfo().eps
    with pytest.raises(TypeError, match="finfo: expected a floating dtype"):
        nabla.finfo(nabla.int32)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8, torch.int16, torch.int32,
                                   torch.int64])
def test_iinfo_matches_torch(dtype):
    ours, theirs = nabla.iinfo(numpy_dtype(dtype)), torch.iinfo(dtype)
    for attr in ["bits", "max", "min", "dtype"]:
        assert getattr(ours, attr) == getattr(theirs, attr), attr
        assert type(getattr(ours, attr)) is type(getattr(theirs, attr)), attr
    assert repr(ours) == repr(theirs)


def test_iinfo_errors():
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype"):
        nabla.iinfo(nabla.float32)
    with pytest.raises(TypeError, match="iinfo: bool is not supported"):
        nabla.iinfo(nabla.bool)


# -- asarray, scalar_tensor ----------------------------------------------------------------------
def _address(t) -> int:
    return t._data.__array_interface__["data"][0]


def test_asarray_shares_numpy_arrays_as_torch():
    a = np.arange(6.0)[::2]  # non-contiguous: still shared
    assert np.shares_memory(nabla.asarray(a).numpy(), a)
    assert np.shares_memory(torch.asarray(a).numpy(), a)
    assert nabla.asarray(a).dtype == nabla.float64
    assert not np.shares_memory(nabla.asarray(a, copy=True).numpy(), a)
    assert not np.shares_memory(nabla.asarray(a, dtype=nabla.float32).numpy(), a)
    assert nabla.asarray(np.arange(3, dtype=np.int32)).dtype == nabla.int32
    for lib in (nabla, torch):
        with pytest.raises(ValueError, match="alias"):
            lib.asarray(a, dtype=lib.float32, copy=False)
        with pytest.raises(ValueError, match="alias"):
            lib.asarray([1, 2], copy=False)
    shared = nabla.asarray(a, requires_grad=True)
    assert shared.requires_grad and np.shares_memory(shared.detach().numpy(), a)


def test_asarray_of_tensors_as_torch():
    x = nabla.arange(3.0)
    assert nabla.asarray(x) is x
    assert _address(nabla.asarray(x, copy=True)) != _address(x)
    assert nabla.asarray(x, dtype=nabla.float64).dtype == nabla.float64
    with pytest.raises(ValueError, match="alias"):
        nabla.asarray(x, dtype=nabla.float64, copy=False)
    leaf = nabla.arange(3.0, requires_grad=True)
    assert nabla.asarray(leaf) is leaf and leaf.requires_grad
    assert nabla.asarray(leaf, requires_grad=False) is leaf and not leaf.requires_grad  # torch's
    z = nabla.arange(3.0, requires_grad=True) * 2
    assert nabla.asarray(z) is z
    assert nabla.asarray(z, requires_grad=True) is z
    detached = nabla.asarray(z, requires_grad=False)
    assert detached is not z and detached.grad_fn is None and not detached.requires_grad
    copied = nabla.asarray(z, dtype=nabla.float64)  # in the graph, as torch's ToCopy
    assert copied.grad_fn is not None and copied.dtype == nabla.float64
    copied.sum().backward()
    cloned = nabla.asarray(z, copy=True)
    assert cloned.grad_fn is not None and _address(cloned) != _address(z)
    plain = nabla.arange(3.0)
    assert nabla.asarray(plain, requires_grad=True) is plain and plain.requires_grad


def test_asarray_of_python_data_as_torch():
    for data in [[1, 2.5], [1, 2], 3.0, True, [[1, 2], [3, 4]]]:
        assert_close(nabla.asarray(data), torch.asarray(data))
    assert_close(nabla.asarray(np.float64(3.0)), torch.asarray(np.float64(3.0)))
    assert_close(nabla.asarray([nabla.tensor(1.0), nabla.tensor(2.0)]),
                 torch.asarray([torch.tensor(1.0), torch.tensor(2.0)]))
    assert_close(nabla.asarray([1, 2], dtype=nabla.float64),
                 torch.asarray([1, 2], dtype=torch.float64))
    assert nabla.asarray([1.0, 2.0], requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="floating"):
        nabla.asarray([1, 2], requires_grad=True)


def test_scalar_tensor_matches_torch():
    for value in [3, 2.5, True, -1e10]:
        assert_close(nabla.scalar_tensor(value), torch.scalar_tensor(value))
    assert_close(nabla.scalar_tensor(3, dtype=nabla.int64),
                 torch.scalar_tensor(3, dtype=torch.int64))
    assert_close(nabla.scalar_tensor(nabla.tensor(2)), torch.scalar_tensor(torch.tensor(2)))
    s = nabla.scalar_tensor(1.5, requires_grad=True)
    assert s.requires_grad and s.is_leaf and s.shape == ()
    with pytest.raises(TypeError, match="scalar_tensor: expected a number"):
        nabla.scalar_tensor([1, 2])
