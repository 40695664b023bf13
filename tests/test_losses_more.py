"""The losses of ``loss_more`` (functional and modules) vs PyTorch: forward, backward with random
upstream gradients, float64 gradcheck, extreme inputs and the errors for bad shapes."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL, assert_close

import nabla
import nabla.nn as nn
import nabla.nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float32, np.float64]


class Fn:
    """A callable kwarg: the nabla and the torch version."""

    def __init__(self, ours, theirs):
        self.ours, self.theirs = ours, theirs


# -- sample inputs: (args as arrays, which args require grad, kwargs) ---------------------------
def _gaussian(var_shape, shape=(4, 3), target_shape=None, full=False, tiny=False):
    def make(rng):
        var = rng.uniform(0.2, 2.0, var_shape)
        if tiny:  # below eps: clamped in value, the gradient still flows (as PyTorch)
            var.flat[::2] = 1e-8
        target = rng.standard_normal(target_shape or shape)
        return [rng.standard_normal(shape), target, var], [True, True, True], {"full": full}
    return make


def _poisson(log_input, full, zeros=True):
    def make(rng):
        x = rng.standard_normal((4, 3)) if log_input else rng.uniform(0.5, 3.0, (4, 3))
        t = rng.integers(2, 7, (4, 3)).astype(float)
        if zeros:  # off Stirling's mask; counts of 1 would sit on its edge
            t[0, :2] = 0.0
        # PyTorch's target gradient is NaN at 0 with full=True (0 * log 0 in the masked branch);
        # ours is finite there (test_poisson_full_target_grad_at_zero)
        return [x, t], [True, not (full and zeros)], {"log_input": log_input, "full": full}
    return make


def _signs(rng, shape):
    return np.where(rng.random(shape) > 0.5, 1.0, -1.0)


def _hinge(target_shape):
    def make(rng):
        return [rng.standard_normal((4, 3)) * 2, _signs(rng, target_shape)], [True, False], \
            {"margin": 0.8}
    return make


def _soft_margin(shape):
    def make(rng):
        return [rng.standard_normal(shape) * 3, _signs(rng, shape)], [True, False], {}
    return make


def _ml_soft(shape, weight):
    def make(rng):
        kwargs = {"weight": rng.random(shape[-1]) + 0.1} if weight else {}
        return [rng.standard_normal(shape) * 3, (rng.random(shape) > 0.5) * 1.0], \
            [True, True], kwargs
    return make


def _multi_margin(shape, p, weight):
    def make(rng):
        t = rng.integers(0, shape[-1], shape[:-1])
        kwargs = {"p": p, "margin": 0.7}
        if weight:
            kwargs["weight"] = rng.random(shape[-1]) + 0.1
        return [rng.standard_normal(shape), t], [True, False], kwargs
    return make


def _ml_margin(batched):
    def make(rng):
        t = np.array([[3, 0, -1, -1, -1], [1, -1, 2, 2, 2], [-1, 0, 0, 0, 0], [0, 1, 2, 3, 4],
                      [4, 4, -1, 0, 0]])
        x = rng.standard_normal((5, 5))
        return ([x, t] if batched else [x[0], t[0]]), [True, False], {}
    return make


def _triplet(shapes, **kwargs):
    def make(rng):
        return [rng.standard_normal(s) for s in shapes], [True, True, True], dict(kwargs)
    return make


def _cos_dist(ours):
    mod = F if ours else TF
    return lambda a, b: 1 - mod.cosine_similarity(a, b)


CASES = {  # case: (functional name, module class name, sample maker, gradcheck?)
    "gaussian": ("gaussian_nll_loss", "GaussianNLLLoss", _gaussian((4, 3)), True),
    "gaussian_full_var_N": ("gaussian_nll_loss", "GaussianNLLLoss", _gaussian((4,), full=True),
                            True),
    "gaussian_var_N1": ("gaussian_nll_loss", "GaussianNLLLoss", _gaussian((4, 1)), True),
    "gaussian_var_mid1": ("gaussian_nll_loss", "GaussianNLLLoss",
                          _gaussian((2, 1, 4), shape=(2, 3, 4)), True),
    "gaussian_target_bcast": ("gaussian_nll_loss", "GaussianNLLLoss",
                              _gaussian((4, 3), target_shape=(3,)), True),
    "gaussian_tiny_var": ("gaussian_nll_loss", "GaussianNLLLoss", _gaussian((4, 3), tiny=True),
                          False),  # clamped: finite differences see a constant
    "poisson": ("poisson_nll_loss", "PoissonNLLLoss", _poisson(True, False), True),
    "poisson_full": ("poisson_nll_loss", "PoissonNLLLoss", _poisson(True, True), True),
    "poisson_full_no_zeros": ("poisson_nll_loss", "PoissonNLLLoss",
                              _poisson(True, True, zeros=False), True),
    "poisson_rates_full": ("poisson_nll_loss", "PoissonNLLLoss", _poisson(False, True), True),
    "poisson_rates": ("poisson_nll_loss", "PoissonNLLLoss", _poisson(False, False), True),
    "hinge": ("hinge_embedding_loss", "HingeEmbeddingLoss", _hinge((4, 3)), True),
    "hinge_bcast": ("hinge_embedding_loss", "HingeEmbeddingLoss", _hinge((3,)), True),
    "soft_margin": ("soft_margin_loss", "SoftMarginLoss", _soft_margin((4, 3)), True),
    "soft_margin_1d": ("soft_margin_loss", "SoftMarginLoss", _soft_margin((7,)), True),
    "ml_soft": ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss",
                _ml_soft((4, 5), False), True),
    "ml_soft_weight": ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss",
                       _ml_soft((4, 5), True), True),
    "ml_soft_1d": ("multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss",
                   _ml_soft((5,), True), True),
    "multi_margin_p1": ("multi_margin_loss", "MultiMarginLoss", _multi_margin((6, 4), 1, False),
                        True),
    "multi_margin_p2_w": ("multi_margin_loss", "MultiMarginLoss", _multi_margin((6, 4), 2, True),
                          True),
    "multi_margin_1d": ("multi_margin_loss", "MultiMarginLoss", _multi_margin((4,), 1, True),
                        True),
    "ml_margin": ("multilabel_margin_loss", "MultiLabelMarginLoss", _ml_margin(True), True),
    "ml_margin_1d": ("multilabel_margin_loss", "MultiLabelMarginLoss", _ml_margin(False), True),
    "triplet": ("triplet_margin_loss", "TripletMarginLoss", _triplet([(5, 4)] * 3, margin=0.5),
                True),
    "triplet_p1_swap": ("triplet_margin_loss", "TripletMarginLoss",
                        _triplet([(5, 4)] * 3, p=1, swap=True), True),
    "triplet_1d": ("triplet_margin_loss", "TripletMarginLoss", _triplet([(4,)] * 3), True),
    "triplet_bcast": ("triplet_margin_loss", "TripletMarginLoss",
                      _triplet([(5, 4), (1, 4), (5, 4)], margin=2.0), True),
    "triplet_dist": ("triplet_margin_with_distance_loss", "TripletMarginWithDistanceLoss",
                     _triplet([(5, 4)] * 3, margin=1.5), True),
    "triplet_dist_cos_swap": ("triplet_margin_with_distance_loss",
                              "TripletMarginWithDistanceLoss",
                              _triplet([(5, 4)] * 3, swap=True, margin=0.7,
                                       distance_function=Fn(_cos_dist(True), _cos_dist(False))),
                              True),
}


def _build(case, rng, dtype):
    """The same inputs as nabla and torch tensors (floats in ``dtype``, integers int64)."""
    name, module, make, _ = CASES[case]
    arrays, grads, kwargs = make(rng)
    n_args, t_args = [], []
    for a, g in zip(arrays, grads, strict=True):
        a = np.asarray(a)
        a = a.astype(dtype) if a.dtype.kind == "f" else a.astype(np.int64)
        n_args.append(nabla.tensor(a, requires_grad=g))
        t_args.append(torch.tensor(a, requires_grad=g))
    n_kw, t_kw = {}, {}
    for k, v in kwargs.items():
        if isinstance(v, np.ndarray):
            n_kw[k], t_kw[k] = nabla.tensor(v.astype(dtype)), torch.tensor(v.astype(dtype))
        elif isinstance(v, Fn):
            n_kw[k], t_kw[k] = v.ours, v.theirs
        else:
            n_kw[k] = t_kw[k] = v
    return name, module, n_args, t_args, n_kw, t_kw


def _compare(case, ours, theirs, n_args, t_args, rng, dtype):
    assert_close(ours, theirs, what=f"{case} loss")
    upstream = rng.standard_normal(tuple(theirs.shape)).astype(dtype)
    ours.backward(nabla.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    for i, (a, b) in enumerate(zip(n_args, t_args, strict=True)):
        if b.requires_grad:
            assert_close(a.grad, b.grad, what=f"{case} grad of argument {i}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_functional_vs_torch(case, reduction, dtype, rng):
    name, _, n_args, t_args, n_kw, t_kw = _build(case, rng, dtype)
    ours = getattr(F, name)(*n_args, reduction=reduction, **n_kw)
    theirs = getattr(TF, name)(*t_args, reduction=reduction, **t_kw)
    _compare(case, ours, theirs, n_args, t_args, rng, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_module_vs_torch(case, reduction, dtype, rng):
    _, module, n_args, t_args, n_kw, t_kw = _build(case, rng, dtype)
    ours = getattr(nn, module)(reduction=reduction, **n_kw)(*n_args)
    theirs = getattr(torch.nn, module)(reduction=reduction, **t_kw)(*t_args)
    _compare(case, ours, theirs, n_args, t_args, rng, dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][3]])
def test_gradcheck(case, reduction, rng):
    name, _, n_args, _, n_kw, _ = _build(case, rng, np.float64)
    diff = [i for i, a in enumerate(n_args) if a.requires_grad]

    def fn(*xs):
        args = list(n_args)
        for i, x in zip(diff, xs, strict=True):
            args[i] = x
        return getattr(F, name)(*args, reduction=reduction, **n_kw)

    inputs = [n_args[i] for i in diff]
    assert nabla.autograd.gradcheck(fn, inputs, **GRADCHECK_TOL)


@pytest.mark.parametrize("case", ["soft_margin", "ml_soft", "multi_margin_p1"])
def test_deprecated_size_average_and_reduce(case, rng):
    name, module, n_args, t_args, n_kw, t_kw = _build(case, rng, np.float64)
    for legacy in [{"size_average": False}, {"reduce": False}, {"size_average": True}]:
        ours = getattr(F, name)(*n_args, **legacy, **n_kw)
        theirs = getattr(TF, name)(*t_args, **legacy, **t_kw)
        assert_close(ours, theirs, what=f"{case} {legacy}")
        ours = getattr(nn, module)(**legacy, **n_kw)(*n_args)
        theirs = getattr(torch.nn, module)(**legacy, **t_kw)(*t_args)
        assert_close(ours, theirs, what=f"{case} module {legacy}")


# -- extreme inputs -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_margin_is_stable_at_100(dtype):
    x = np.array([100.0, -100.0, 100.0, -100.0], dtype=dtype)
    y = np.array([-1.0, 1.0, 1.0, -1.0], dtype=dtype)
    xn = nabla.tensor(x, requires_grad=True)
    loss = F.soft_margin_loss(xn, nabla.tensor(y), reduction="sum")
    loss.backward()
    # the float64 reference: torch's log1p(exp(-y x)) is exact there; in float32 it overflows
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    ref = TF.soft_margin_loss(xt, torch.tensor(y.astype(np.float64)), reduction="sum")
    ref.backward()
    assert np.isfinite(loss._data) and np.isfinite(xn.grad._data).all()
    np.testing.assert_allclose(loss._data, ref.item(), rtol=1e-6)
    np.testing.assert_allclose(xn.grad._data, xt.grad.numpy(), rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilabel_soft_margin_is_stable_at_100(dtype):
    x = np.array([[100.0, -100.0], [-100.0, 100.0]], dtype=dtype)
    y = np.array([[0.0, 1.0], [1.0, 1.0]], dtype=dtype)
    xn = nabla.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    loss = F.multilabel_soft_margin_loss(xn, nabla.tensor(y))
    ref = TF.multilabel_soft_margin_loss(xt, torch.tensor(y))
    loss.backward()
    ref.backward()
    assert_close(loss, ref)
    assert_close(xn.grad, xt.grad)


def test_gaussian_zero_var_is_clamped(rng):
    x, t = rng.standard_normal(4), rng.standard_normal(4)
    v = np.array([0.0, 1e-9, 0.5, 2.0])
    ours = F.gaussian_nll_loss(nabla.tensor(x), nabla.tensor(t), nabla.tensor(v))
    theirs = TF.gaussian_nll_loss(torch.tensor(x), torch.tensor(t), torch.tensor(v))
    assert np.isfinite(ours._data)
    assert_close(ours, theirs)


def test_poisson_large_targets_full(rng):
    x = rng.standard_normal(5)
    t = np.array([0.0, 1.0, 2.0, 50.0, 1e4])
    ours = F.poisson_nll_loss(nabla.tensor(x), nabla.tensor(t), full=True, reduction="none")
    theirs = TF.poisson_nll_loss(torch.tensor(x), torch.tensor(t), full=True, reduction="none")
    assert_close(ours, theirs)


def test_poisson_full_target_grad_at_zero():
    """d/dt of exp(x) - t x at t = 0 (Stirling's term is masked there): -x, finite."""
    x = nabla.tensor(np.array([0.3, -1.2]))
    t = nabla.tensor(np.array([0.0, 0.0]), requires_grad=True)
    F.poisson_nll_loss(x, t, full=True, reduction="sum").backward()
    np.testing.assert_allclose(t.grad._data, -x._data)


# -- errors -------------------------------------------------------------------------------------
def _t(*shape, dtype=np.float64):
    return nabla.tensor(np.ones(shape, dtype=dtype))


def _i(values):
    return nabla.tensor(np.array(values, dtype=np.int64))


ERRORS = {
    "gaussian_var_shape": (lambda: F.gaussian_nll_loss(_t(4, 3), _t(4, 3), _t(3)), ValueError,
                           "gaussian_nll_loss", "(3,)"),
    "gaussian_var_negative": (lambda: F.gaussian_nll_loss(_t(4), _t(4), -_t(4)), ValueError,
                              "gaussian_nll_loss", "negative"),
    "gaussian_target_shape": (lambda: F.gaussian_nll_loss(_t(4, 3), _t(4), _t(4, 3)),
                              ValueError, "gaussian_nll_loss", "(4,)"),
    "gaussian_reduction": (lambda: F.gaussian_nll_loss(_t(4), _t(4), _t(4), reduction="avg"),
                           ValueError, "gaussian_nll_loss", "'avg'"),
    "poisson_shape": (lambda: F.poisson_nll_loss(_t(4, 3), _t(4)), ValueError,
                      "poisson_nll_loss", "(4, 3)"),
    "hinge_shape": (lambda: F.hinge_embedding_loss(_t(4, 3), _t(4)), ValueError,
                    "hinge_embedding_loss", "(4,)"),
    "soft_margin_shape": (lambda: F.soft_margin_loss(_t(4, 3), _t(2, 2)), ValueError,
                          "soft_margin_loss", "(2, 2)"),
    "ml_soft_shape": (lambda: F.multilabel_soft_margin_loss(_t(4, 3), _t(4)), ValueError,
                      "multilabel_soft_margin_loss", "(4, 3)"),
    "multi_margin_p": (lambda: F.multi_margin_loss(_t(4, 3), _i([0, 1, 2, 0]), p=3),
                       ValueError, "multi_margin_loss", "p=3"),
    "multi_margin_target_shape": (lambda: F.multi_margin_loss(_t(4, 3), _i([0, 1, 2])),
                                  ValueError, "multi_margin_loss", "(4,)"),
    "multi_margin_target_range": (lambda: F.multi_margin_loss(_t(4, 3), _i([0, 1, 2, 3])),
                                  IndexError, "multi_margin_loss", "[0, 3)"),
    "multi_margin_target_float": (lambda: F.multi_margin_loss(_t(4, 3), _t(4)), TypeError,
                                  "multi_margin_loss", "target.long()"),
    "multi_margin_weight": (lambda: F.multi_margin_loss(_t(4, 3), _i([0, 1, 2, 0]),
                                                        weight=_t(4)),
                            ValueError, "multi_margin_loss", "(3,)"),
    "multi_margin_3d": (lambda: F.multi_margin_loss(_t(2, 3, 4), _i([0, 1])), ValueError,
                        "multi_margin_loss", "(2, 3, 4)"),
    "ml_margin_shape": (lambda: F.multilabel_margin_loss(_t(4, 3), _i([1, -1, 0])), ValueError,
                        "multilabel_margin_loss", "padded with -1"),
    "ml_margin_range": (lambda: F.multilabel_margin_loss(_t(3), _i([5, -1, 0])), IndexError,
                        "multilabel_margin_loss", "out of range"),
    "triplet_ndim": (lambda: F.triplet_margin_loss(_t(4, 3), _t(3), _t(3)), RuntimeError,
                     "triplet_margin_loss", "(4, 3)"),
    "triplet_bcast": (lambda: F.triplet_margin_loss(_t(4, 3), _t(2, 3), _t(4, 3)), ValueError,
                      "triplet_margin_loss", "(2, 3)"),
    "triplet_dist_margin": (lambda: F.triplet_margin_with_distance_loss(_t(3), _t(3), _t(3),
                                                                        margin=0.0),
                            ValueError, "triplet_margin_with_distance_loss", "margin"),
    "triplet_dist_ndim": (lambda: F.triplet_margin_with_distance_loss(_t(4, 3), _t(4, 3), _t(3)),
                          RuntimeError, "triplet_margin_with_distance_loss", "(3,)"),
    "module_multi_margin_p": (lambda: nn.MultiMarginLoss(p=3), ValueError, "MultiMarginLoss",
                              "p=3"),
    "module_triplet_margin": (lambda: nn.TripletMarginLoss(margin=-1.0), ValueError,
                              "TripletMarginLoss", "margin"),
    "module_reduction": (lambda: nn.SoftMarginLoss(reduction="avg"), ValueError,
                         "SoftMarginLoss", "'avg'"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_name_the_loss(case):
    call, exc, name, detail = ERRORS[case]
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    assert message.startswith(name + ":") or message.startswith(name + " "), message
    assert detail in message, message
