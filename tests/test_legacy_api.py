"""torch's older top-level API in nabla, against PyTorch: typed constructors (FloatTensor & co),
Size, range, typename, the default-device / matmul-precision / anomaly / inference-mode
settings, and the top-level in-place functions (torch.exp_(x), ...), fill and zero_."""

import math
import warnings

import numpy as np
import pytest
import torch
from conftest import assert_close

import nabla

TYPED = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
         "CharTensor", "ByteTensor", "BoolTensor"]


# -- typed constructors --------------------------------------------------------------------------
def test_tensor_class_called_on_a_list_gives_the_default_float_dtype():
    # torch.Tensor([0]) is the legacy float constructor: old scripts start a running loss with it
    for data in ([0], [[1, 2]], (3,), [True, False], [0.5]):
        assert_close(nabla.Tensor(data), torch.Tensor(data))
    nabla.set_default_dtype(nabla.float64)
    try:
        assert nabla.Tensor([1, 2]).dtype == nabla.float64
    finally:
        nabla.set_default_dtype(nabla.float32)
    # unlike torch.Tensor, an array keeps its dtype: nabla wraps its own arrays with Tensor(...)
    assert nabla.Tensor(np.array([1, 2])).dtype == nabla.int64
    loss = nabla.Tensor([0])
    loss += nabla.tensor(0.25, requires_grad=True) * 2
    assert loss.dtype == nabla.float32 and loss.requires_grad


@pytest.mark.parametrize("name", TYPED)
def test_typed_constructors(name):
    n, t = getattr(nabla, name), getattr(torch, name)
    assert_close(n([1, 0, 3]), t([1, 0, 3]))
    assert_close(n([[1.7, 2.2]]), t([[1.7, 2.2]]))
    assert_close(n(np.array([1, 2])), t(np.array([1, 2])))
    a, b = n(2, 3), t(2, 3)  # sizes: uninitialised
    assert a.shape == tuple(b.shape) and a.dtype == b.numpy().dtype
    assert n((2, 3)).shape == (2, 3) and n(nabla.zeros(4, 1).shape).shape == (4, 1)
    assert n().shape == tuple(t().shape) == (0,)
    x = n([1, 1])
    assert n(x) is x
    assert isinstance(x, n) and isinstance(x, nabla.Tensor)
    assert nabla.typename(x) == torch.typename(t([1, 1])).replace("torch.", "nabla.")


def test_typed_constructor_isinstance_and_errors():
    assert isinstance(nabla.zeros(2), nabla.FloatTensor)
    assert not isinstance(nabla.zeros(2, dtype=nabla.float64), nabla.FloatTensor)
    assert not isinstance(np.zeros(2, np.float32), nabla.FloatTensor)
    with pytest.raises(TypeError, match="DoubleTensor: expected a tensor of dtype float64"):
        nabla.DoubleTensor(nabla.ones(2))
    with pytest.raises(TypeError, match="FloatTensor: expected sizes"):
        nabla.FloatTensor(2.5)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "BoolTensor", "ByteTensor"])
def test_tensor_type_names_and_converts_like_torch(name):
    x, t = nabla.tensor([1.5, -2.0]), torch.tensor([1.5, -2.0])
    assert x.type() == t.type().replace("torch.", "nabla.") == "nabla.FloatTensor"
    for kind in (f"torch.{name}", f"nabla.{name}", getattr(nabla, name)):
        y, ref = x.type(kind), t.type(f"torch.{name}")
        assert y.type() == ref.type().replace("torch.", "nabla.")
        np.testing.assert_array_equal(y.numpy(), ref.numpy())
    assert x.type(nabla.float64).dtype == nabla.float64
    with pytest.raises(ValueError, match="unknown tensor type 'torch.Foo'"):
        x.type("torch.Foo")


def test_typename():
    assert nabla.typename(nabla.ones(2)) == "nabla.FloatTensor"
    assert nabla.typename(3.0) == torch.typename(3.0) == "float"
    assert nabla.typename(None) == torch.typename(None)
    assert nabla.typename(nabla.nn.Linear(2, 2)).endswith(".Linear")


# -- Size ----------------------------------------------------------------------------------------
def test_size():
    s, r = nabla.Size([2, 3, 4]), torch.Size([2, 3, 4])
    assert s == r == (2, 3, 4) and isinstance(s, tuple)
    assert s.numel() == r.numel() == 24 and nabla.Size([]).numel() == 1
    assert isinstance(s[1:], nabla.Size) and s[1:] == (3, 4)
    assert isinstance(s[0], int)
    assert isinstance(s + (5,), nabla.Size) and s + (5,) == (2, 3, 4, 5)
    assert repr(s) == "nabla.Size([2, 3, 4])"
    assert nabla.zeros(2, 3, 4).shape == s  # shape stays a plain tuple, equal to a Size
    assert nabla.ones(s).shape == (2, 3, 4)


# -- range ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,kwargs", [((0, 4), {}), ((0, 1, 0.25), {}), ((1, 4), {}),
                                         ((0, 5, 2), {}), ((3, -1, -1), {}),
                                         ((0, 4), {"dtype": "int64"}),
                                         ((0.5, 2.1, 0.3), {"dtype": "float64"})])
def test_range_is_inclusive(args, kwargs):
    tkw = {k: getattr(torch, v) for k, v in kwargs.items()}
    nkw = {k: getattr(nabla, v) for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.range is deprecated there
        ref = torch.range(*args, **tkw)
    assert_close(nabla.range(*args, **nkw), ref)


def test_range_errors_and_grad():
    with pytest.raises(RuntimeError, match="range: upper bound and larger bound"):
        nabla.range(0, 4, -1)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'end'"):
        nabla.range(5)
    assert nabla.range(0, 2, requires_grad=True).requires_grad


# -- settings ------------------------------------------------------------------------------------
def test_default_device():
    assert nabla.get_default_device() == "cpu" and nabla.get_default_device().type == "cpu"
    nabla.set_default_device("cpu")
    nabla.set_default_device(nabla.device("cpu"))
    nabla.set_default_device(None)
    with pytest.raises(RuntimeError, match="set_default_device: nabla allocates tensors on the "
                                           "CPU only, got 'cuda'"):
        nabla.set_default_device("cuda")


def test_float32_matmul_precision_is_recorded():
    assert nabla.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    try:
        for value in ("high", "medium", "highest"):
            nabla.set_float32_matmul_precision(value)
            assert nabla.get_float32_matmul_precision() == value
    finally:
        nabla.set_float32_matmul_precision("highest")
    with pytest.raises(RuntimeError, match="precision must be 'highest', 'high' or 'medium'"):
        nabla.set_float32_matmul_precision("low")


def test_anomaly_switches():
    assert not nabla.is_anomaly_enabled() and not nabla.is_anomaly_check_nan_enabled()
    try:
        nabla.set_anomaly_enabled(True)
        assert nabla.is_anomaly_enabled() and nabla.is_anomaly_check_nan_enabled()
        nabla.set_anomaly_enabled(True, check_nan=False)
        assert nabla.is_anomaly_enabled() and not nabla.is_anomaly_check_nan_enabled()
    finally:
        nabla.set_anomaly_enabled(False)
    assert not nabla.is_anomaly_enabled()
    with nabla.autograd.detect_anomaly():
        assert nabla.is_anomaly_enabled() == nabla.autograd.is_anomaly_enabled()


def test_inference_mode_is_reported():
    assert not nabla.is_inference_mode_enabled()
    with nabla.inference_mode():
        assert nabla.is_inference_mode_enabled() and not nabla.is_grad_enabled()
        with nabla.inference_mode(False):
            assert not nabla.is_inference_mode_enabled()
        x = nabla.ones(2, requires_grad=True) * 2
        assert not x.requires_grad and not x.is_inference()  # nabla does not mark tensors
    assert not nabla.is_inference_mode_enabled() and nabla.is_grad_enabled()

    @nabla.inference_mode
    def bare():
        return nabla.is_inference_mode_enabled(), nabla.is_grad_enabled()

    @nabla.inference_mode()
    def called():
        return nabla.is_inference_mode_enabled()

    assert bare() == (True, False) and called() and not nabla.is_inference_mode_enabled()


# -- top-level in-place functions ----------------------------------------------------------------
UNARY = ["abs_", "ceil_", "cos_", "cosh_", "deg2rad_", "erf_", "erfc_", "exp2_", "exp_",
         "expm1_", "fix_", "floor_", "frac_", "i0_", "neg_", "negative_", "rad2deg_",
         "reciprocal_", "round_", "sin_", "sinc_", "sinh_", "square_", "tan_", "trunc_",
         "atan_", "arctan_", "asinh_", "arcsinh_"]
UNIT = ["acos_", "arccos_", "asin_", "arcsin_", "atanh_", "arctanh_"]  # arguments in (-1, 1)
POSITIVE = ["log_", "log10_", "log1p_", "log2_", "sqrt_", "rsqrt_", "acosh_", "arccosh_",
            "logit_"]


@pytest.mark.parametrize("name", UNARY + UNIT + POSITIVE)
def test_unary_in_place_functions(name, rng):
    a = rng.uniform(-0.9, 0.9, (3, 4))
    if name in POSITIVE:
        a = np.abs(a) + (1.1 if name in ("acosh_", "arccosh_") else 0.05)
    if name == "logit_":
        a = a / (a.max() + 0.1)
    x, t = nabla.tensor(a), torch.tensor(a)
    assert getattr(nabla, name)(x) is x
    getattr(torch, name)(t)
    assert_close(x, t)


def test_in_place_functions_with_arguments(rng):
    a = rng.standard_normal((3, 4))
    calls = {
        "clamp_": ((-0.5, 0.5), {}), "clip_": ((None, 0.2), {}), "clamp_max_": ((0.1,), {}),
        "clamp_min_": ((-0.1,), {}), "fill_": ((2.5,), {}), "xlogy_": ((2.0,), {}),
        "nan_to_num_": ((0.0, 1.0, -1.0), {}), "logit_": ((0.1,), {}),
        "round_": ((), {"decimals": 1}), "ldexp_": ((torch.tensor(2),), {}),
    }
    for name, (args, kwargs) in calls.items():
        base = np.abs(a) / 4 if name == "logit_" else a
        x, t = nabla.tensor(base), torch.tensor(base)
        nargs = tuple(nabla.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v
                      for v in args)
        assert getattr(nabla, name)(x, *nargs, **kwargs) is x, name
        getattr(torch, name)(t, *args, **kwargs)
        assert_close(x, t, what=name)
    i, ti = nabla.tensor([12, 18]), torch.tensor([12, 18])
    for name in ("gcd_", "lcm_"):
        getattr(nabla, name)(i, nabla.tensor([8, 4]))
        getattr(torch, name)(ti, torch.tensor([8, 4]))
        assert_close(i, ti, what=name)
    x, t = nabla.tensor(a[:, 0].copy()), torch.tensor(a[:, 0].copy())
    m, v = rng.standard_normal((3, 2)), rng.standard_normal(2)
    nabla.addmv_(x, nabla.tensor(m), nabla.tensor(v), beta=0.5, alpha=2)
    torch.addmv_(t, torch.tensor(m), torch.tensor(v), beta=0.5, alpha=2)
    assert_close(x, t)
    x, t = nabla.zeros(4), torch.zeros(4)
    nabla.index_put_(x, (nabla.tensor([0, 2]),), nabla.tensor([1.0, 2.0]))
    torch.index_put_(t, (torch.tensor([0, 2]),), torch.tensor([1.0, 2.0]))
    assert_close(x, t)


def test_fill_zero_detach_and_conj():
    x, t = nabla.ones(2, 3), torch.ones(2, 3)
    assert_close(nabla.fill(x, 2.5), torch.fill(t, 2.5))
    assert_close(nabla.fill(x, nabla.tensor(4.0)), torch.fill(t, torch.tensor(4.0)))
    assert x.tolist() == [[1.0] * 3] * 2  # fill is out of place
    v = nabla.tensor(3.0, requires_grad=True)
    nabla.fill(x, v).sum().backward()
    assert v.grad.item() == 6.0
    with pytest.raises(RuntimeError, match="fill: value must be a number or a 0-d tensor"):
        nabla.fill(x, nabla.ones(2))
    assert nabla.zero_(x) is x and not x._data.any()
    y = nabla.ones(2, requires_grad=True) * 2
    assert nabla.detach_(y) is y and y.grad_fn is None and not y.requires_grad
    assert nabla.conj_physical_(x) is x


def test_in_place_functions_record_the_graph():
    x = nabla.tensor([0.5, 1.0], requires_grad=True)
    y = x * 1.0
    nabla.exp_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, np.exp([0.5, 1.0]), rtol=1e-6)
    assert math.isclose(float(nabla.sin_(nabla.tensor(0.0))), 0.0)


def test_constants_are_torchs():
    for name in ("pi", "e", "inf", "nan", "newaxis"):
        ours, theirs = getattr(nabla, name), getattr(torch, name)
        assert ours is None if theirs is None else math.isclose(ours, theirs) or (
            math.isnan(ours) and math.isnan(theirs))
    assert nabla.ones(3)[nabla.newaxis, :, nabla.newaxis].shape == (1, 3, 1)
    np.testing.assert_allclose(nabla.cos(nabla.tensor(nabla.pi)).item(), -1.0)
