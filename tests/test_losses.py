"""Losses vs PyTorch: forward, backward with random upstream gradients, float64 finite
differences, double backward, extreme inputs and the errors for wrong targets."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conftest import assert_close

import nabla
import nabla.nn.functional.loss as F

REDUCTIONS = ["mean", "sum", "none"]
# torch warns that kl_div's 'mean' will change meaning; nabla matches today's behaviour
pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
DTYPES = [np.float32, np.float64]


# -- sample inputs: (args as arrays, which args require grad, kwargs) ---------------------------
def _regression(rng, dtype):
    return [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))], [True, True], {}


def _class_index(shape, weight=True, eps=0.0, ignore=True):
    def make(rng, dtype):
        c = shape[1]
        x = rng.standard_normal(shape) * 2
        t = rng.integers(0, c, (shape[0],) + shape[2:])
        kwargs = {"label_smoothing": eps}
        if ignore:
            t.flat[1] = -100
            kwargs["ignore_index"] = -100
        if weight:
            kwargs["weight"] = rng.random(c) + 0.1
        return [x, t], [True, False], kwargs
    return make


def _class_probs(shape, eps=0.0):
    def make(rng, dtype):
        t = rng.random(shape)
        t /= t.sum(1, keepdims=True)
        kwargs = {"weight": rng.random(shape[1]) + 0.1, "label_smoothing": eps}
        return [rng.standard_normal(shape), t], [True, True], kwargs
    return make


def _nll(rng, dtype):
    x = np.log(rng.dirichlet(np.ones(5), size=6))
    t = rng.integers(0, 5, 6)
    t[2] = 3
    return [x, t], [True, False], {"weight": rng.random(5) + 0.1, "ignore_index": 3}


def _bce(rng, dtype):
    x = rng.uniform(0.05, 0.95, (4, 3))
    return [x, rng.random((4, 3))], [True, True], {"weight": rng.random(3)}


def _bce_logits(pos_weight):
    def make(rng, dtype):
        kwargs = {"weight": rng.random((4, 1))}
        if pos_weight:
            kwargs["pos_weight"] = rng.random(3) * 3
        return [rng.standard_normal((4, 3)) * 3, rng.random((4, 3))], [True, True], kwargs
    return make


def _kl(log_target):
    def make(rng, dtype):
        x = np.log(rng.dirichlet(np.ones(4), size=3))
        t = rng.dirichlet(np.ones(4), size=3)
        return [x, np.log(t) if log_target else t], [True, True], {"log_target": log_target}
    return make


def _ranking(rng, dtype):
    y = np.where(rng.random(8) > 0.5, 1.0, -1.0)
    return [rng.standard_normal(8), rng.standard_normal(8), y], [True, True, True], \
        {"margin": 0.3}


def _cosine(rng, dtype):
    y = np.array([1, -1, 1, -1, -1])
    return [rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), y], [True, True, False], \
        {"margin": -0.2}


CASES = {
    "mse_loss": ("mse_loss", _regression),
    "l1_loss": ("l1_loss", _regression),
    "smooth_l1_loss": ("smooth_l1_loss", lambda r, d: (*_regression(r, d)[:2], {"beta": 0.6})),
    "smooth_l1_beta0": ("smooth_l1_loss", lambda r, d: (*_regression(r, d)[:2], {"beta": 0.0})),
    "huber_loss": ("huber_loss", lambda r, d: (*_regression(r, d)[:2], {"delta": 0.7})),
    "mse_weighted": ("mse_loss", lambda r, d: (*_regression(r, d)[:2],
                                                {"weight": r.random((4, 3))})),
    "l1_weighted": ("l1_loss", lambda r, d: (*_regression(r, d)[:2],
                                              {"weight": r.random((4, 3))})),
    "huber_weighted": ("huber_loss", lambda r, d: (*_regression(r, d)[:2],
                                                    {"delta": 0.7, "weight": r.random((4, 3))})),
    "ce_NC": ("cross_entropy", _class_index((6, 5))),
    "ce_NCL": ("cross_entropy", _class_index((3, 4, 5))),
    "ce_NC_smooth": ("cross_entropy", _class_index((6, 5), eps=0.1)),
    "ce_NCL_smooth_noweight": ("cross_entropy", _class_index((3, 4, 5), weight=False, eps=0.3)),
    "ce_plain": ("cross_entropy", _class_index((6, 5), weight=False, ignore=False)),
    "ce_plain_smooth": ("cross_entropy", _class_index((6, 5), weight=False, eps=0.2,
                                                      ignore=False)),
    "ce_ignore_a_class": ("cross_entropy", lambda r, d: (
        [r.standard_normal((6, 5)), np.array([0, 2, 2, 4, 1, 2])], [True, False],
        {"ignore_index": 2})),
    "ce_ignore_absent_class": ("cross_entropy", lambda r, d: (
        [r.standard_normal((6, 5)), np.array([0, 3, 1, 4, 1, 0])], [True, False],
        {"ignore_index": 2})),
    "ce_probs": ("cross_entropy", _class_probs((6, 5))),
    "ce_probs_NCL_smooth": ("cross_entropy", _class_probs((3, 4, 5), eps=0.2)),
    "nll_loss": ("nll_loss", _nll),
    "bce": ("binary_cross_entropy", _bce),
    "bce_logits": ("binary_cross_entropy_with_logits", _bce_logits(False)),
    "bce_logits_pos_weight": ("binary_cross_entropy_with_logits", _bce_logits(True)),
    "kl_div": ("kl_div", _kl(False)),
    "kl_div_log_target": ("kl_div", _kl(True)),
    "margin_ranking": ("margin_ranking_loss", _ranking),
    "cosine_embedding": ("cosine_embedding_loss", _cosine),
}


def _build(case, rng, dtype):
    """The same inputs as nabla and torch tensors (floats in ``dtype``, integers int64)."""
    name, make = CASES[case]
    arrays, grads, kwargs = make(rng, dtype)
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
        else:
            n_kw[k] = t_kw[k] = v
    return name, n_args, t_args, n_kw, t_kw


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_forward_backward_vs_torch(case, reduction, dtype, rng):
    name, n_args, t_args, n_kw, t_kw = _build(case, rng, dtype)
    ours = getattr(F, name)(*n_args, reduction=reduction, **n_kw)
    theirs = getattr(TF, name)(*t_args, reduction=reduction, **t_kw)
    assert_close(ours, theirs, what=f"{case} loss")
    upstream = rng.standard_normal(tuple(theirs.shape)).astype(dtype)
    ours.backward(nabla.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    for i, (a, b) in enumerate(zip(n_args, t_args, strict=True)):
        if b.requires_grad:
            assert_close(a.grad, b.grad, what=f"{case} grad of argument {i}")


def test_kl_div_batchmean_vs_torch(rng):
    x = np.log(rng.dirichlet(np.ones(4), size=3))
    t = rng.dirichlet(np.ones(4), size=3)
    xn, xt = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = F.kl_div(xn, nabla.tensor(t), reduction="batchmean")
    theirs = TF.kl_div(xt, torch.tensor(t), reduction="batchmean")
    assert_close(ours, theirs)
    ours.backward()
    theirs.backward()
    assert_close(xn.grad, xt.grad)


# -- float64 finite differences and double backward ---------------------------------------------
def _directional_check(fn, inputs, rng, eps=1e-6):
    """Compare the analytic gradient of sum(fn(*inputs) * u) along a random direction v with
    the central difference (f(x + eps v) - f(x - eps v)) / (2 eps), in float64."""
    out = fn(*inputs)
    u = rng.standard_normal(out.shape)
    grads = nabla.autograd.grad(out, inputs, nabla.tensor(u))
    dirs = [rng.standard_normal(x.shape) for x in inputs]
    analytic = sum(float((g._data * d).sum()) for g, d in zip(grads, dirs, strict=True))

    def f(sign):
        pairs = zip(inputs, dirs, strict=True)
        shifted = [nabla.tensor(x._data + sign * eps * d) for x, d in pairs]
        return float((fn(*shifted)._data * u).sum())

    numeric = (f(1) - f(-1)) / (2 * eps)
    assert abs(analytic - numeric) <= 1e-5 + 1e-4 * abs(numeric), (analytic, numeric)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_finite_differences(case, reduction, rng):
    name, n_args, _, n_kw, _ = _build(case, rng, np.float64)
    diff = [a for a in n_args if a.requires_grad]
    fixed = {i: a for i, a in enumerate(n_args) if not a.requires_grad}

    def fn(*xs):
        it = iter(xs)
        args = [fixed[i] if i in fixed else next(it) for i in range(len(n_args))]
        return getattr(F, name)(*args, reduction=reduction, **n_kw)

    _directional_check(fn, diff, rng)


def test_finite_difference_check_can_fail(rng):
    """The helper rejects a wrong rule: a gradient that is off by a factor of 2."""
    class Wrong(nabla.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2 x grad

    x = nabla.tensor(rng.standard_normal(4), requires_grad=True)
    with pytest.raises(AssertionError):
        _directional_check(Wrong.apply, [x], rng)


@pytest.mark.parametrize("case", ["ce_NC", "ce_plain", "ce_NCL_smooth_noweight", "ce_NC_smooth",
                                  "ce_probs", "ce_probs_NCL_smooth", "nll_loss", "mse_loss",
                                  "l1_loss",
                                  "bce_logits_pos_weight", "bce", "huber_loss", "kl_div",
                                  "kl_div_log_target", "margin_ranking", "cosine_embedding"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_double_backward_vs_torch(case, reduction, rng):
    name, n_args, t_args, n_kw, t_kw = _build(case, rng, np.float64)
    ours = getattr(F, name)(*n_args, reduction=reduction, **n_kw)
    theirs = getattr(TF, name)(*t_args, reduction=reduction, **t_kw)
    u = rng.standard_normal(tuple(theirs.shape))
    (gn,) = nabla.autograd.grad(ours, [n_args[0]], nabla.tensor(u), create_graph=True)
    (gt,) = torch.autograd.grad(theirs, [t_args[0]], torch.tensor(u), create_graph=True)
    assert_close(gn, gt, what="first derivative")
    v = rng.standard_normal(gt.shape)
    if not gn.requires_grad:  # a loss linear in its inputs: the first derivative is constant
        if gt.requires_grad:
            (gt * torch.tensor(v)).sum().backward()
        assert all(b.grad is None or not b.grad.any() for b in t_args if b.requires_grad)
        return
    (gn * nabla.tensor(v)).sum().backward()
    (gt * torch.tensor(v)).sum().backward()
    for i, (a, b) in enumerate(zip(n_args, t_args, strict=True)):
        if b.requires_grad:
            if a.grad is None:  # no path: the gradient is zero (torch may hold explicit zeros)
                assert b.grad is None or not b.grad.any(), f"argument {i} has no gradient"
                continue
            assert_close(a.grad, b.grad, what=f"second derivative w.r.t. argument {i}")


# -- extreme values -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_huge_logits(dtype, reduction):
    x = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 1e4], [0.0, 0.0, 1e4]], dtype)
    t = np.array([1, 0, 2])
    xn, xt = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = F.cross_entropy(xn, nabla.tensor(t), reduction=reduction)
    theirs = TF.cross_entropy(xt, torch.tensor(t), reduction=reduction)
    assert np.all(np.isfinite(ours._data))
    assert_close(ours, theirs)
    up = np.ones(theirs.shape, dtype)
    ours.backward(nabla.tensor(up))
    theirs.backward(torch.tensor(up))
    assert_close(xn.grad, xt.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_extremes(dtype):
    x = np.array([-100.0, 100.0, -100.0, 100.0, -1e4, 1e4], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0], dtype)
    xn, xt = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = F.binary_cross_entropy_with_logits(xn, nabla.tensor(t), reduction="none")
    theirs = TF.binary_cross_entropy_with_logits(xt, torch.tensor(t), reduction="none")
    assert_close(ours, theirs)
    assert ours._data[0] == pytest.approx(100.0)
    ours.sum().backward()
    theirs.sum().backward()
    assert_close(xn.grad, xt.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_clamps_log_at_minus_100(dtype):
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.3], dtype)
    xn, xt = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = F.binary_cross_entropy(xn, nabla.tensor(t), reduction="none")
    theirs = TF.binary_cross_entropy(xt, torch.tensor(t), reduction="none")
    assert_close(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    assert_close(xn.grad, xt.grad)


def test_cross_entropy_all_ignored_is_nan_with_zero_gradient():
    x = nabla.tensor(np.ones((2, 3)), requires_grad=True)
    loss = F.cross_entropy(x, nabla.tensor([-100, -100]))
    ref = TF.cross_entropy(torch.ones(2, 3, dtype=torch.float64), torch.tensor([-100, -100]))
    assert np.isnan(loss.item()) and torch.isnan(ref)
    loss.backward(nabla.tensor(1.0, dtype=nabla.float64))
    assert np.all(x.grad._data == 0)


def test_unbatched_inputs_vs_torch(rng):
    x = rng.standard_normal(5)
    for target in (np.array(3), rng.dirichlet(np.ones(5))):
        xn, xt = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        for reduction in REDUCTIONS:
            ours = F.cross_entropy(xn, nabla.tensor(target), reduction=reduction)
            theirs = TF.cross_entropy(xt, torch.tensor(target), reduction=reduction)
            assert_close(ours, theirs)
    logp = np.log(rng.dirichlet(np.ones(5)))
    assert_close(F.nll_loss(nabla.tensor(logp), nabla.tensor(2), reduction="none"),
                 TF.nll_loss(torch.tensor(logp), torch.tensor(2), reduction="none"))


def test_mixup_soft_targets_match_mixed_index_losses(rng):
    """CE with lam * onehot(a) + (1 - lam) * onehot(b) equals the mixed class-index losses."""
    x = nabla.tensor(rng.standard_normal((4, 3)))
    a, b, lam = np.array([0, 1, 2, 0]), np.array([2, 2, 1, 1]), 0.3
    soft = lam * np.eye(3)[a] + (1 - lam) * np.eye(3)[b]
    mixed = lam * F.cross_entropy(x, nabla.tensor(a)) + \
        (1 - lam) * F.cross_entropy(x, nabla.tensor(b))
    assert F.cross_entropy(x, nabla.tensor(soft)).item() == pytest.approx(mixed.item())


def test_no_graph_without_grad(rng):
    x = nabla.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    with nabla.no_grad():
        loss = F.cross_entropy(x, nabla.tensor([0, 1, 2]))
    assert loss.grad_fn is None and not loss.requires_grad


# -- errors -------------------------------------------------------------------------------------
def test_cross_entropy_rejects_float_index_target():
    with pytest.raises(TypeError, match=r"cross_entropy.*\(4,\).*\(4, 3\).*target\.long\(\)"):
        F.cross_entropy(nabla.zeros(4, 3), nabla.zeros(4))


def test_cross_entropy_rejects_wrong_target_shape():
    with pytest.raises(ValueError, match=r"cross_entropy: expected target of shape \(4,\) for "
                                         r"input of shape \(4, 3\).*\(4, 2\)"):
        F.cross_entropy(nabla.zeros(4, 3), nabla.zeros(4, 2, dtype=nabla.int64))
    with pytest.raises(ValueError, match=r"cross_entropy.*\(2, 5\).*transpose\(1, 2\)"):
        F.cross_entropy(nabla.zeros(2, 5, 3), nabla.zeros(2, 5, dtype=nabla.int64))


def test_class_target_out_of_range():
    with pytest.raises(IndexError, match=r"nll_loss: target 3 is out of bounds for 3 classes"):
        F.nll_loss(nabla.zeros(2, 3), nabla.tensor([0, 3]))
    with pytest.raises(IndexError, match=r"cross_entropy: target -1"):
        F.cross_entropy(nabla.zeros(2, 3), nabla.tensor([0, -1]))
    with pytest.raises(IndexError, match=r"cross_entropy: target 5 is out of bounds"):
        F.cross_entropy(nabla.zeros(2, 3), nabla.tensor([5, 1]), ignore_index=1)
    # ignored targets may lie anywhere, and a class-valued ignore_index still masks
    x = nabla.tensor([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    for t, ignore in (([0, -7], -7), ([2, 1], 1)):
        torch_loss = TF.cross_entropy(torch.tensor(x.numpy()), torch.tensor(t),
                                      ignore_index=ignore)
        loss = F.cross_entropy(x, nabla.tensor(t), ignore_index=ignore)
        np.testing.assert_allclose(loss.item(), torch_loss.item(), rtol=1e-6)


def test_class_target_range_is_checked_when_a_trace_replays():
    model = lambda x, y: F.cross_entropy(x, y)  # noqa: E731
    traced = nabla.jit.trace(model, (nabla.zeros(2, 3), nabla.tensor([0, 1])))
    with pytest.raises(IndexError, match=r"cross_entropy: target 3 is out of bounds"):
        traced(nabla.zeros(2, 3), nabla.tensor([0, 3]))


def test_bad_weight_and_reduction():
    with pytest.raises(ValueError, match=r"cross_entropy: weight must be .* shape \(3,\)"):
        F.cross_entropy(nabla.zeros(2, 3), nabla.tensor([0, 1]), weight=nabla.ones(4))
    with pytest.raises(ValueError, match=r"mse_loss: reduction must be one of"):
        F.mse_loss(nabla.zeros(2), nabla.zeros(2), reduction="avg")


def test_binary_losses_check_shapes_and_range():
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target of shape "
                                         r"\(4,\) must have the same shape as input \(4, 1\)"):
        F.binary_cross_entropy_with_logits(nabla.zeros(4, 1), nabla.zeros(4))
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: all elements of input should "
                                           r"be between 0 and 1.*sigmoid"):
        F.binary_cross_entropy(nabla.tensor([0.5, 1.5]), nabla.tensor([0.0, 1.0]))


# -- modules ------------------------------------------------------------------------------------
MODULE_CASES = [
    ("L1Loss", {}, "l1_loss"),
    ("MSELoss", {}, "mse_loss"),
    ("SmoothL1Loss", {"beta": 0.6}, "smooth_l1_loss"),
    ("HuberLoss", {"delta": 0.7}, "huber_loss"),
    ("CrossEntropyLoss", {"ignore_index": -100, "label_smoothing": 0.1}, "ce_NCL"),
    ("CrossEntropyLoss", {}, "ce_probs"),
    ("NLLLoss", {"ignore_index": 3}, "nll_loss"),
    ("BCELoss", {}, "bce"),
    ("BCEWithLogitsLoss", {}, "bce_logits_pos_weight"),
    ("KLDivLoss", {"log_target": True}, "kl_div_log_target"),
    ("CosineEmbeddingLoss", {"margin": -0.2}, "cosine_embedding"),
    ("MarginRankingLoss", {"margin": 0.3}, "margin_ranking"),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("cls, options, case", MODULE_CASES)
def test_modules_vs_torch(cls, options, case, reduction, rng):
    import nabla.nn as nn

    _, n_args, t_args, n_kw, t_kw = _build(case, rng, np.float64)
    buffers = {k: (n_kw[k], t_kw[k]) for k in ("weight", "pos_weight") if k in n_kw}
    theirs_mod = getattr(torch.nn, cls)(reduction=reduction, **options,
                                        **{k: v[1] for k, v in buffers.items()})
    ours_mod = getattr(nn, cls)(reduction=reduction, **options,
                                **{k: v[0] for k, v in buffers.items()})
    assert sorted(ours_mod.state_dict()) == sorted(theirs_mod.state_dict())
    assert repr(ours_mod) == repr(theirs_mod)
    ours, theirs = ours_mod(*n_args), theirs_mod(*t_args)
    assert_close(ours, theirs)
    u = rng.standard_normal(tuple(theirs.shape))
    ours.backward(nabla.tensor(u))
    theirs.backward(torch.tensor(u))
    assert_close(n_args[0].grad, t_args[0].grad)


def test_module_weight_buffer_loads_from_torch_state_dict(rng):
    import nabla.nn as nn

    w = rng.random(4) + 0.1
    ours = nn.CrossEntropyLoss(weight=nabla.ones(4, dtype=nabla.float64))
    ours.load_state_dict({"weight": nabla.tensor(w)})
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    assert_close(ours(nabla.tensor(x), nabla.tensor(t)),
                 torch.nn.CrossEntropyLoss(weight=torch.tensor(w))(torch.tensor(x),
                                                                   torch.tensor(t)))


def test_legacy_size_average_and_reduce():
    import nabla.nn as nn

    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.NLLLoss(reduce=False).reduction == "none"
    assert nn.L1Loss(size_average=True, reduce=True).reduction == "mean"
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(ValueError, match="MSELoss: reduction must be one of"):
        nn.MSELoss(reduction="batchmean")


def test_regression_broadcast_warns_and_matches_torch(rng):
    x, y = rng.standard_normal((4, 1)), rng.standard_normal((4, 3))
    xn, xt = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with pytest.warns(UserWarning, match=r"mse_loss: using a target size \(4, 3\)"):
        ours = F.mse_loss(xn, nabla.tensor(y))
    with pytest.warns(UserWarning):
        theirs = TF.mse_loss(xt, torch.tensor(y))
    assert_close(ours, theirs)
    ours.backward()
    theirs.backward()
    assert_close(xn.grad, xt.grad)
    with pytest.raises(ValueError, match=r"l1_loss: weight of shape \(3,\) must have"):
        F.l1_loss(nabla.zeros(2, 3), nabla.zeros(2, 3), weight=nabla.ones(3))


def test_float64_weights_and_targets_keep_a_float32_loss(rng):
    x = nabla.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    w64 = nabla.tensor(rng.random(3))
    t = nabla.tensor([0, 2, 1, 1])
    for loss in (F.cross_entropy(x, t, weight=w64, label_smoothing=0.1),
                 F.nll_loss(x, t, weight=w64),
                 F.binary_cross_entropy_with_logits(x, nabla.tensor(rng.random((4, 3))),
                                                    pos_weight=w64)):
        assert loss.dtype == np.float32
        x.grad = None
        loss.backward()
        assert x.grad.dtype == np.float32


def test_cross_entropy_backward_twice_with_retain_graph_and_transposed_logits(rng):
    """(N, L, C) logits passed as a transposed view; two backward passes accumulate."""
    logits = rng.standard_normal((2, 5, 4))
    t = rng.integers(0, 4, (2, 5))
    xn, xt = nabla.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    ours = F.cross_entropy(xn.transpose(1, 2), nabla.tensor(t), label_smoothing=0.2)
    theirs = TF.cross_entropy(xt.transpose(1, 2), torch.tensor(t), label_smoothing=0.2)
    assert_close(ours, theirs)
    for _ in range(2):
        ours.backward(retain_graph=True)
        theirs.backward(retain_graph=True)
    assert_close(xn.grad, xt.grad)
