"""Integer and bool tensors into float ops (exp, sin, sqrt, erf, ...) give the default float
dtype, as in PyTorch (NumPy alone gives float64, and erf kept the integer dtype)."""

import numpy as np
import pytest
import torch

import nabla

FLOAT_OPS = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin",
             "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "asinh", "acosh",
             "atanh", "sigmoid", "erf", "erfc", "logit", "reciprocal"]


@pytest.mark.parametrize("name", FLOAT_OPS)
@pytest.mark.parametrize("values", [[0, 1, 2, -3], [True, False]])
def test_integer_input_gives_the_default_float(name, values):
    with np.errstate(all="ignore"):  # log(0), asin(2): NumPy warns where PyTorch is silent
        out = getattr(nabla, name)(nabla.tensor(values))
    ref = getattr(torch, name)(torch.tensor(values))
    assert str(out.dtype) == str(ref.dtype).replace("torch.", "")
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)


def test_the_default_dtype_decides():
    nabla.set_default_dtype(nabla.float64)
    try:
        assert nabla.exp(nabla.tensor([1, 2])).dtype == nabla.float64
    finally:
        nabla.set_default_dtype(nabla.float32)
    assert nabla.exp(nabla.tensor([1, 2])).dtype == nabla.float32


@pytest.mark.parametrize("name", ["atan2", "div", "true_divide"])
@pytest.mark.parametrize("a,b", [([1, 2, -3], [3, -4, 5]), ([True, False], [1, 2]),
                                 ([1, 2], [0.5, -2.0])])
def test_binary_float_ops_of_integers_give_the_default_float(name, a, b):
    out = getattr(nabla, name)(nabla.tensor(a), nabla.tensor(b))
    ref = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    assert str(out.dtype) == str(ref.dtype).replace("torch.", "")  # atan2 gave int64 (truncated)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
