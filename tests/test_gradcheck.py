"""gradcheck and gradgradcheck themselves: they pass on correct rules, and they FAIL on wrong
ones, reporting the worst element. Includes the case an all-ones upstream gradient misses."""

import re

import numpy as np
import pytest
import torch

import nabla
from nabla.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def _leaf(array) -> nabla.Tensor:
    return nabla.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


class SoftmaxWrongRule(Function):
    """softmax along the last dim with a classic mistake in the rule: the factor y is missing,
    grad - sum(grad * y) instead of y * (grad - sum(grad * y)). For grad = ones both give 0
    (sum(y) = 1), so a check with an all-ones upstream gradient cannot tell them apart."""

    @staticmethod
    def forward(ctx, x):
        e = nabla.exp(x - x.detach().amax(-1, keepdim=True))
        y = e / e.sum(-1, keepdim=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - (grad * y).sum(-1, keepdim=True)


class SoftmaxRightRule(Function):
    @staticmethod
    def forward(ctx, x):
        e = nabla.exp(x - x.detach().amax(-1, keepdim=True))
        y = e / e.sum(-1, keepdim=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(-1, keepdim=True))


class CubeWrongSecondDerivative(Function):
    """y = x**3 with a first derivative that is right at the point (3 x**2) but built from a
    detached x, so its own derivative (6 x) is lost: only gradgradcheck can see it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x.detach() ** 2


def test_passes_on_correct_ops(rng):
    x, y = _leaf(rng.standard_normal((3, 4))), _leaf(rng.uniform(0.5, 2, (4,)))
    assert gradcheck(lambda a, b: (a * b).exp() / b + a.tanh(), (x, y))
    assert gradcheck(SoftmaxRightRule.apply, (x,))
    assert gradgradcheck(lambda a, b: (a * b).sin() / b, (x, y))
    assert gradgradcheck(SoftmaxRightRule.apply, (x,))


def test_wrong_softmax_rule_fails_and_names_the_worst_element(rng):
    x = _leaf(rng.standard_normal((2, 3)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(SoftmaxWrongRule.apply, (x,))
    msg = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "input 0" in msg and "shape (2, 3)" in msg
    m = re.search(r"element \((\d+), (\d+)\):\n  analytical (\S+) vs numerical (\S+)", msg)
    assert m, msg
    # the reported element really is the worst: recompute both sides independently
    row, col, analytical, numerical = int(m[1]), int(m[2]), float(m[3]), float(m[4])
    v = np.random.default_rng(0).standard_normal((2, 3))  # gradcheck's default upstream (seed 0)
    (wrong,) = nabla.autograd.grad(SoftmaxWrongRule.apply(x), x, nabla.tensor(v))
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    (right,) = torch.autograd.grad(torch.softmax(xt, -1), xt, torch.tensor(v))
    err = np.abs(wrong.numpy() - right.numpy())
    assert np.unravel_index(err.argmax(), err.shape) == (row, col)
    assert analytical == pytest.approx(wrong.numpy()[row, col], rel=1e-8)
    assert numerical == pytest.approx(right.numpy()[row, col], rel=1e-6)
    assert "worst Jacobian entry: d output[0][" in msg  # small: the output element is named


def test_all_ones_upstream_gradient_misses_the_wrong_softmax(rng):
    x = _leaf(rng.standard_normal((2, 3)))
    ones = nabla.ones(2, 3, dtype=nabla.float64)
    assert gradcheck(SoftmaxWrongRule.apply, (x,), grad_outputs=(ones,))  # blind spot
    with pytest.raises(GradcheckError):
        gradcheck(SoftmaxWrongRule.apply, (x,))  # random upstream gradient: caught
    assert not gradcheck(SoftmaxWrongRule.apply, (x,), raise_exception=False)


def test_report_names_the_output(rng):
    x = _leaf(rng.standard_normal((2, 3)))
    with pytest.raises(GradcheckError, match=r"d output\[1\]\[\d, \d\] / d input\[0\]"):
        gradcheck(lambda t: (t * 2, SoftmaxWrongRule.apply(t)), (x,))


def test_wrong_second_derivative_passes_gradcheck_fails_gradgradcheck(rng):
    x = _leaf(rng.uniform(0.5, 2, (3,)))
    assert gradcheck(CubeWrongSecondDerivative.apply, (x,))
    with pytest.raises(GradcheckError, match="gradgradcheck: the second derivative is wrong"):
        gradgradcheck(CubeWrongSecondDerivative.apply, (x,))


def test_wrong_by_a_tiny_factor_is_caught(rng):
    x = _leaf(rng.standard_normal((4,)))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(ExpSlightlyWrong.apply, (x,))


class ExpSlightlyWrong(Function):
    """exp with a rule off by 1%: above gradcheck's rtol of 0.1%."""

    @staticmethod
    def forward(ctx, x):
        y = nabla.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * 1.01


def test_requires_float64_inputs():
    x = nabla.randn(3, requires_grad=True)  # float32
    with pytest.raises(ValueError, match=r"input 0 requires grad but has dtype float32.*double"):
        gradcheck(nabla.exp, (x,))
    # inputs that need no grad may have any dtype
    idx = nabla.tensor([0, 2])
    assert gradcheck(lambda t, i: t[i], (_leaf([1.0, 2.0, 3.0]), idx))


def test_non_reentrant_backward_is_reported(rng):
    x = _leaf(rng.standard_normal((3,)))
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(NoisyBackward.apply, (x,))


class NoisyBackward(Function):
    """A backward that returns a different answer each time."""

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        return grad + nabla.randn(*grad.shape, dtype=nabla.float64) * 1e-3


def test_report_names_the_output_when_the_jacobian_is_too_big_to_build(rng):
    x = _leaf(rng.standard_normal((65,)))  # 65 x 65 x 65 Jacobian entries: above the limit

    def f(t):
        return t * 2, SoftmaxWrongRule.apply(t.reshape(1, 65).expand(65, 65))

    with pytest.raises(GradcheckError, match=r"the output that disagrees most: output 1"):
        gradcheck(f, (x,))


def test_gradgradcheck_rejects_a_wrong_number_of_grad_outputs(rng):
    x = _leaf(rng.standard_normal((3,)))
    v = _leaf(rng.standard_normal((3,)))
    with pytest.raises(ValueError, match="2 grad_outputs for 1 floating outputs"):
        gradgradcheck(nabla.tanh, (x,), (v, v))
    assert gradgradcheck(nabla.tanh, (x,), (v,))
