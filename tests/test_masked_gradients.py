"""Ops that let some elements through and block others (relu, clamp, where, max, pooling) and
piecewise-constant ops (sign, floor): a blocked element's gradient is 0 in PyTorch even when
the incoming gradient is infinite or NaN, where a product with a 0/1 mask gives NaN (0 * inf).
The classic case is ``sqrt(relu(x))`` or ``sqrt(d.clamp(min=0))`` (distances): sqrt's gradient
at 0 is inf, and only the select keeps the blocked elements' gradients finite.

Each case runs backward from an upstream gradient with inf, -inf and NaN in both frameworks
and compares bit for bit (NaN = NaN), in fast mode and with create_graph=True (the rules' graph
path), float32 and float64. Some PyTorch rules multiply (amax, leaky_relu with slope 0, prelu's
blocked side): those cases check that nabla multiplies too. Then NaN inputs: which branch a NaN
takes, in the value and in the gradient. (hardsigmoid and hardswish, composed of ``where``, give
a NaN input the middle branch's gradient and hardswish an infinite upstream gradient a NaN;
PyTorch's fused rules give 0 and a signed infinity.)
"""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import nabla
import nabla.nn.functional as NF

X = np.array([-2.0, -0.5, 0.0, 0.5, 1.0, 2.0, 7.0, -7.0])
G = np.array([np.inf, np.nan, -np.inf, np.nan, np.inf, -np.inf, np.nan, 1.5])


def _consts(lib, dtype, values):
    return lib.tensor(np.asarray(values, dtype=dtype))


CASES = {
    "relu": lambda L, F, x, c: L.relu(x),
    "clamp": lambda L, F, x, c: x.clamp(-1, 1),
    "clamp_min": lambda L, F, x, c: x.clamp(min=0),
    "clamp_max": lambda L, F, x, c: x.clamp(max=0.5),
    "clamp_tensor_bounds": lambda L, F, x, c: L.clamp(x, c(np.full(8, -1.0)), c(np.full(8, 1.0))),
    "clip": lambda L, F, x, c: L.clip(x, -1, 1),
    "maximum": lambda L, F, x, c: L.maximum(x, c(np.zeros(8))),
    "maximum_ties": lambda L, F, x, c: L.maximum(x, c(X)),
    "minimum": lambda L, F, x, c: L.minimum(x, c(np.zeros(8))),
    "where": lambda L, F, x, c: L.where(x > 0, x, c(np.zeros(8))),
    "where_other": lambda L, F, x, c: L.where(x > 0, c(np.zeros(8)), x),
    "masked_fill": lambda L, F, x, c: x.masked_fill(x < 0, 0.0),
    "hardtanh": lambda L, F, x, c: F.hardtanh(x),
    "relu6": lambda L, F, x, c: F.relu6(x),
    "threshold": lambda L, F, x, c: F.threshold(x, 0.1, 0.0),
    "hardsigmoid": lambda L, F, x, c: F.hardsigmoid(x),
    "hardshrink": lambda L, F, x, c: F.hardshrink(x, 1.0),
    "softshrink": lambda L, F, x, c: F.softshrink(x, 1.0),
    "sign": lambda L, F, x, c: x.sign(),
    "floor": lambda L, F, x, c: x.floor(),
    "ceil": lambda L, F, x, c: x.ceil(),
    "round": lambda L, F, x, c: x.round(),
    "trunc": lambda L, F, x, c: x.trunc(),
    "div_floor": lambda L, F, x, c: L.div(x, c(np.full(8, 0.7)), rounding_mode="floor"),
    "copysign_sign_operand": lambda L, F, x, c: L.copysign(c(np.full(8, 2.0)), x),
    "max_all": lambda L, F, x, c: x.max().expand(8),
    "min_all": lambda L, F, x, c: x.min().expand(8),
    "max_dim": lambda L, F, x, c: x.reshape(2, 4).max(1)[0].repeat(4),
    "amax_multiplies": lambda L, F, x, c: x.reshape(2, 4).amax(1).repeat(4),
    "max_pool1d": lambda L, F, x, c: F.max_pool1d(x.reshape(1, 1, 8), 2).reshape(4).repeat(2),
    "max_pool2d": lambda L, F, x, c: F.max_pool2d(x.reshape(1, 1, 2, 4), 2).reshape(2).repeat(4),
    "leaky_relu_slope_0_multiplies": lambda L, F, x, c: F.leaky_relu(x, 0.0),
    "prelu_multiplies": lambda L, F, x, c: F.prelu(x.reshape(1, 8), c(np.array([0.0]))),
}


def _grad(lib, F, case, dtype, create_graph):
    x = lib.tensor(X.astype(dtype), requires_grad=True)
    y = CASES[case](lib, F, x, lambda v: _consts(lib, dtype, v))
    g = lib.tensor(np.resize(G, tuple(y.shape)).astype(dtype))
    y.backward(g, create_graph=create_graph)
    grad = x.grad.detach() if lib is torch else x.grad
    return np.asarray(grad.numpy())


@pytest.mark.parametrize("create_graph", [False, True], ids=["fast", "graph"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(CASES))
def test_blocked_elements_get_torchs_gradient_from_an_infinite_or_nan_one(case, dtype,
                                                                           create_graph):
    want = _grad(torch, TF, case, dtype, create_graph)
    got = _grad(nabla, NF, case, dtype, create_graph)
    assert np.array_equal(got, want, equal_nan=True), f"nabla {got}\ntorch {want}"


# A NaN input: PyTorch's rules test "x <= 0" (false for NaN) where one might test "x > 0", so a
# NaN takes the pass-through branch and keeps its gradient; sign(NaN) is 0. (hardtanh, relu6 and
# softshrink are left out: PyTorch passes a NaN's gradient in float32 and blocks it in float64;
# nabla passes it in both.)
NAN_INPUT_CASES = {
    "sign": lambda L, F, x, c: x.sign(),
    "abs": lambda L, F, x, c: x.abs(),
    "l1_loss": lambda L, F, x, c: F.l1_loss(x, c(np.zeros(8)), reduction="none"),
    "relu": lambda L, F, x, c: L.relu(x),
    "elu": lambda L, F, x, c: F.elu(x),
    "selu": lambda L, F, x, c: F.selu(x),
    "celu": lambda L, F, x, c: F.celu(x),
    "threshold": lambda L, F, x, c: F.threshold(x, 0.0, -1.0),
    "clamp": lambda L, F, x, c: x.clamp(-1, 0.5),
    "leaky_relu": lambda L, F, x, c: F.leaky_relu(x, 0.1),
    "maximum": lambda L, F, x, c: L.maximum(x, c(np.zeros(8))),
    "minimum": lambda L, F, x, c: L.minimum(x, c(np.zeros(8))),
    "maximum_other": lambda L, F, x, c: L.maximum(c(np.where(np.arange(8) % 2, np.nan, 0.0)), x),
    "minimum_other": lambda L, F, x, c: L.minimum(c(np.where(np.arange(8) % 2, np.nan, 0.0)), x),
}
X_NAN = np.array([np.nan, 1.0, -2.0, 0.0, np.nan, -0.5, 0.5, 3.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(NAN_INPUT_CASES))
def test_a_nan_input_gets_torchs_value_and_gradient(case, dtype):
    results = []
    for lib, F in ((torch, TF), (nabla, NF)):
        x = lib.tensor(X_NAN.astype(dtype), requires_grad=True)
        y = NAN_INPUT_CASES[case](lib, F, x, lambda v, lib=lib: _consts(lib, dtype, v))
        y.backward(lib.ones(tuple(y.shape), dtype=y.dtype))
        results.append((np.asarray(y.detach().numpy()), np.asarray(x.grad.detach().numpy())))
    (want_y, want_g), (got_y, got_g) = results
    tol = dict(rtol=1e-6 if dtype == np.float32 else 1e-12, atol=0, equal_nan=True)
    np.testing.assert_allclose(got_y, want_y, err_msg="value", **tol)
    np.testing.assert_allclose(got_g, want_g, err_msg="grad", **tol)


# Points where the derivative's formula is 0 * inf or 0 / 0 and PyTorch defines the gradient.
DEGENERATE = {
    "pow_exponent_0": (np.zeros(2), lambda L, x: x ** 0),
    "pow_tensor_exponent_0": (np.zeros(2), lambda L, x: L.pow(x, L.tensor([0.0, 2.0]).double())),
    "atan2_origin_y": (np.zeros(2), lambda L, x: L.atan2(x, L.zeros(2).double())),
    "atan2_origin_x": (np.zeros(2), lambda L, x: L.atan2(L.zeros(2).double(), x)),
    "norm_of_zeros": (np.zeros(3), lambda L, x: x.norm()),
    "normalize_zeros": (np.zeros((2, 3)), lambda L, x: L.nn.functional.normalize(x, dim=1)),
    "cdist_to_itself": (np.ones((2, 3)), lambda L, x: L.cdist(x, x)),
    "logsumexp_of_minus_infs": (np.full(3, -np.inf), lambda L, x: x.logsumexp(0)),
    "softmax_with_minus_inf": (np.array([-np.inf, 0.0, 1.0]), lambda L, x: x.log_softmax(0)),
}


@pytest.mark.parametrize("case", list(DEGENERATE))
def test_degenerate_points_get_torchs_gradient(case):
    x0, f = DEGENERATE[case]
    grads = []
    for lib in (torch, nabla):
        x = lib.tensor(x0, requires_grad=True)
        y = f(lib, x)
        y.backward(lib.ones(tuple(y.shape), dtype=y.dtype))
        grads.append(np.asarray(x.grad.detach().numpy()))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=0, equal_nan=True)


# Hinge losses exactly at their kink: PyTorch passes the gradient where it clamps (margin
# ranking, cosine embedding, hinge embedding, triplet) and blocks it where its kernel tests z > 0
# (multi-margin, multilabel margin).
KINKS = {
    "margin_ranking": (np.array([0.0, 1.0]), lambda L, F, x: F.margin_ranking_loss(
        x, L.tensor([0.0, 2.0]).double(), L.tensor([1.0, -1.0]).double())),
    "cosine_embedding": (np.zeros((2, 3)), lambda L, F, x: F.cosine_embedding_loss(
        x, L.ones(2, 3).double(), L.tensor([1, -1]))),
    "hinge_embedding": (np.array([1.0, 0.5]), lambda L, F, x: F.hinge_embedding_loss(
        x, L.tensor([-1.0, -1.0]).double())),
    "triplet": (np.array([[0.0, 0.0]]), lambda L, F, x: F.triplet_margin_loss(
        x, L.tensor([[1.0, 0.0]]).double(), L.tensor([[2.0, 0.0]]).double(), eps=0.0)),
    "multi_margin": (np.array([[0.0, 1.0, 1.0]]), lambda L, F, x: F.multi_margin_loss(
        x, L.tensor([1]))),
    "multilabel_margin": (np.array([[0.0, 1.0, 1.0]]), lambda L, F, x: F.multilabel_margin_loss(
        x, L.tensor([[1, -1, 0]]))),
}


@pytest.mark.parametrize("case", list(KINKS))
def test_hinge_losses_at_their_kink_follow_torch(case):
    x0, f = KINKS[case]
    grads = []
    for lib, F in ((torch, TF), (nabla, NF)):
        x = lib.tensor(x0, requires_grad=True)
        f(lib, F, x).backward()
        grads.append(np.asarray(x.grad.detach().numpy()))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6, atol=1e-12)


# Special values where an op's value or gradient once differed from PyTorch's (or crashed).
VALUES = {
    "polygamma_nan": (np.array([np.nan, 0.5, 3.0]), lambda L, x: L.polygamma(1, x)),
    "digamma_signed_zero": (np.array([0.0, -0.0, 0.5]), lambda L, x: L.digamma(x)),
    "lgamma_exact_and_inf": (np.array([1.0, 2.0, -np.inf, np.inf, 0.5]), lambda L, x: L.lgamma(x)),
    "logit_outside_01": (np.array([-1.0, 0.25, 2.0]), lambda L, x: L.logit(x)),
    "pow_exponent_at_base_0": (np.array([-1.0, 0.0, 2.0, -np.inf]), lambda L, x: L.pow(0.0, x)),
    "pow_negative_base": (np.array([-2.0, 2.0]), lambda L, x: L.pow(x.detach(), x)),
    "hypot_huge_and_tiny": (np.array([1e200, 1e-300, 3.0, -5.0]),
                            lambda L, x: L.hypot(x, L.tensor([1e200, 1e-300, 4.0, 12.0]).double())),
}


@pytest.mark.parametrize("case", list(VALUES))
def test_special_values_match_torch(case):
    x0, f = VALUES[case]
    got = []
    for lib in (torch, nabla):
        x = lib.tensor(x0, requires_grad=True)
        y = f(lib, x)
        y.backward(lib.ones(tuple(y.shape), dtype=y.dtype))
        got.append((np.asarray(y.detach().numpy()), np.asarray(x.grad.detach().numpy())))
    (want_y, want_g), (y, g) = got
    # 1e-9: torch's trigamma(0.5) is 3e-10 off pi^2 / 2, nabla's exact
    np.testing.assert_allclose(y, want_y, rtol=1e-9, atol=0, equal_nan=True, err_msg="value")
    np.testing.assert_allclose(g, want_g, rtol=1e-9, atol=0, equal_nan=True, err_msg="grad")


def test_xlogy_of_nan_and_of_integers_and_sinc_of_inf_match_torch():
    x, y = np.array([0.0, 0.0, 1.0]), np.array([np.nan, 0.0, np.nan])
    np.testing.assert_array_equal(nabla.xlogy(nabla.tensor(x), nabla.tensor(y)).numpy(),
                                  torch.xlogy(torch.tensor(x), torch.tensor(y)).numpy())
    for b in (3, nabla.tensor([3, 3, 3])):  # integers give the default float, as PyTorch
        got = nabla.xlogy(nabla.tensor([0, 1, 2]), b)
        assert got.dtype == nabla.float32
        np.testing.assert_allclose(got.numpy(), [0.0, np.log(3), 2 * np.log(3)], rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's "invalid value in sin" no longer escapes
        assert np.isnan(nabla.sinc(nabla.tensor([np.inf, -np.inf])).numpy()).all()


def test_trigamma_of_infinities_matches_torch():
    """(it raised before; higher orders at +-inf are PyTorch artifacts, nan at +inf for n = 2,
    so only n = 1 is compared)"""
    x = np.array([np.inf, -np.inf, np.nan])
    want = torch.polygamma(1, torch.tensor(x)).numpy()
    np.testing.assert_array_equal(nabla.polygamma(1, nabla.tensor(x)).numpy(), want)


def test_sqrt_of_a_clamped_distance_has_finite_gradients():
    """The case that matters in practice: squared distances clamped at 0 before the sqrt."""
    a = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    for lib in (torch, nabla):
        x = lib.tensor(a, requires_grad=True)
        d2 = (x[:, None, :] - x[None, :, :]).pow(2).sum(-1) - 1e-3  # the diagonal < 0
        d2.clamp(min=0).sqrt().sum().backward()
        assert np.isfinite(np.asarray(x.grad.numpy())).all(), lib.__name__


def test_max_of_all_elements_sends_the_gradient_to_the_nans_as_torch():
    x0 = np.array([1.0, np.nan, 3.0, np.nan])
    grads = []
    for lib in (torch, nabla):
        x = lib.tensor(x0, requires_grad=True)
        x.max().backward()
        grads.append(np.asarray(x.grad.numpy()))
    np.testing.assert_array_equal(grads[1], grads[0])
    np.testing.assert_array_equal(grads[1], [0.0, 0.5, 0.0, 0.5])


def test_all_finite_sees_every_kind_of_non_finite_value():
    from nabla.backend import all_finite

    for dtype in (np.float16, np.float32, np.float64):
        a = np.ones((3, 5), dtype)
        assert all_finite(a) and all_finite(a[:, ::2]) and all_finite(np.ones(0, dtype))
        for bad in (np.inf, -np.inf, np.nan):
            b = a.copy()
            b[2, 3] = bad
            assert not all_finite(b) and not all_finite(b.T)
