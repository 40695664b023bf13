"""detect_anomaly: the first op whose output or gradient is NaN/Inf raises, naming the op, its
input shapes, whether its inputs were already non-finite, and the line that created it."""

import warnings

import numpy as np
import pytest

import nabla
from nabla.autograd import Function, detect_anomaly, is_anomaly_enabled, set_detect_anomaly


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def test_forward_nan_names_op_shapes_cause_and_line():
    x = nabla.tensor([1.0, -1.0, 2.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError) as info:
        y = x * 2
        y.log()  # the culprit: log of a negative number
    msg = str(info.value)
    assert "Log (forward) produced 1 NaN/Inf" in msg
    assert "(3,)" in msg
    assert "inputs were finite, so this op produced them" in msg
    assert "test_anomaly.py" in msg and "y.log()" in msg


def test_overflow_names_the_dtype_limit_and_the_remedies():
    x = nabla.tensor([1e20, 1.0], requires_grad=True)  # float32: 1e40 does not fit
    with detect_anomaly(), pytest.raises(FloatingPointError) as info:
        x * x
    msg = str(info.value)
    assert "Mul (forward)" in msg and "float32's largest value, 3.4e+38" in msg
    assert "clip gradients" in msg


def test_non_finite_inputs_point_upstream():
    data = nabla.tensor([1.0, float("nan")])
    w = nabla.tensor([2.0, 3.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError, match="already non-finite"):
        data * w


def test_backward_nan_names_the_rule_and_forward_line():
    z = nabla.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = z.sqrt()  # finite forward; d sqrt / dz is infinite at 0
        with pytest.raises(FloatingPointError) as info:
            y.backward(nabla.ones(2))
    msg = str(info.value)
    assert "SqrtBackward returned 1 NaN/Inf" in msg
    assert "gradient of its input 0 (shape (2,))" in msg
    assert "flowing into it was finite" in msg
    assert "y = z.sqrt()" in msg


def test_the_same_code_without_anomaly_mode_runs_silently():
    z = nabla.tensor([0.0, 4.0], requires_grad=True)
    z.sqrt().backward(nabla.ones(2))
    assert np.isinf(z.grad.numpy()[0])


def test_finite_programs_pass_and_modes_nest_and_restore():
    x = nabla.randn(4, 3, requires_grad=True)
    assert not is_anomaly_enabled()
    with detect_anomaly():
        assert is_anomaly_enabled()
        (x.tanh() * x).sum().backward()
        with detect_anomaly(check_nan=False):
            nabla.tensor([-1.0]).log()  # traced but not checked
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)


def test_user_functions_are_checked_too():
    class BadExp(Function):
        @staticmethod
        def forward(ctx, x):
            return x.exp() * float("inf")

        @staticmethod
        def backward(ctx, grad):
            return grad

    # the op inside the Function's forward is caught first, at the user's line
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"Mul \(forward\).*inf"):
        BadExp.apply(nabla.ones(2, requires_grad=True))
