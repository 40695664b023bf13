"""nn.utils.prune against torch.nn.utils.prune (the pruning tutorial's API): the same masks for
the deterministic methods on copied weights (l1 / ln structured, repeated pruning, global pruning,
custom masks, a user-defined method), the same state_dict keys, outputs and gradients (reaching
weight_orig only through the kept entries), remove, and the random methods' counts."""

import math

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tprune
from conftest import assert_close, run_twins

import nabla
import nabla.nn as nn
import nabla.nn.utils.prune as prune

LAYERS = {
    "Linear": (lambda lib: lib.nn.Linear(6, 5), (4, 6)),
    "Conv2d": (lambda lib: lib.nn.Conv2d(3, 4, 3), (2, 3, 5, 5)),
}


def _twins(kind="Linear", dtype=np.float64):
    make, shape = LAYERS[kind]
    t = make(torch).to(getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn_like(p))  # continuous values: no ties in the magnitudes
    n = make(nabla).to(dtype)
    n.load_state_dict({k: nabla.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return n, t, shape


def _same_state(n, t):
    assert list(n.state_dict()) == list(t.state_dict())
    for key, expected in t.state_dict().items():
        assert_close(n.state_dict()[key], expected, what=key)


def _both(ours, theirs, how, *args, **kwargs):
    getattr(prune, how)(ours, *args, **kwargs)
    getattr(tprune, how)(theirs, *args, **kwargs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("amount", [0.3, 4, 0.0, 1.0])
def test_l1_unstructured_matches_torch(kind, amount, dtype, rng):
    n, t, shape = _twins(kind, dtype)
    _both(n, t, "l1_unstructured", "weight", amount=amount)
    _same_state(n, t)
    assert_close(n.weight, t.weight)
    run_twins(n, t, [shape], t.weight.dtype, rng, steps=2)
    mask = n.weight_mask.numpy()  # no gradient through a pruned entry
    assert np.all(n.weight_orig.grad.numpy()[mask == 0] == 0)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("n_norm", [1, 2, math.inf, -math.inf, "fro"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ln_structured_matches_torch(kind, n_norm, dim, rng):
    n, t, shape = _twins(kind)
    if n_norm == "fro" and kind == "Conv2d":  # a matrix norm over three dims: both refuse
        with pytest.raises(RuntimeError, match="n='fro' is a matrix norm"):
            prune.ln_structured(n, "weight", amount=0.5, n=n_norm, dim=dim)
        return
    _both(n, t, "ln_structured", "weight", amount=0.5, n=n_norm, dim=dim)
    _same_state(n, t)
    run_twins(n, t, [shape], torch.float64, rng)


def test_repeated_pruning_combines_masks_as_torch(rng):
    n, t, shape = _twins("Conv2d")
    _both(n, t, "l1_unstructured", "weight", amount=0.2)
    _both(n, t, "ln_structured", "weight", amount=1, n=2, dim=0)
    _both(n, t, "l1_unstructured", "weight", amount=10)
    _both(n, t, "ln_structured", "weight", amount=0.34, n=1, dim=1)
    _both(n, t, "l1_unstructured", "bias", amount=0.5)
    _same_state(n, t)
    hook = next(iter(n._forward_pre_hooks.values()))
    assert isinstance(hook, prune.PruningContainer) and len(hook) == 4
    assert [type(m).__name__ for m in hook] == ["L1Unstructured", "LnStructured",
                                                "L1Unstructured", "LnStructured"]
    run_twins(n, t, [shape], torch.float64, rng)


def test_importance_scores(rng):
    n, t, _ = _twins()
    scores = rng.standard_normal((5, 6))
    prune.l1_unstructured(n, "weight", 0.5, importance_scores=nabla.tensor(scores))
    tprune.l1_unstructured(t, "weight", 0.5, importance_scores=torch.tensor(scores))
    prune.ln_structured(n, "weight", 1, 2, 0, importance_scores=nabla.tensor(scores))
    tprune.ln_structured(t, "weight", 1, 2, 0, importance_scores=torch.tensor(scores))
    _same_state(n, t)


def test_global_unstructured_matches_torch(rng):
    pairs = [_twins("Conv2d"), _twins("Linear"), _twins("Linear")]
    prune.l1_unstructured(pairs[2][0], "weight", 0.5)  # one already pruned: its mask is kept
    tprune.l1_unstructured(pairs[2][1], "weight", 0.5)
    for lib, which in ((prune, 0), (tprune, 1)):
        params = [(pair[which], "weight") for pair in pairs] + [(pairs[1][which], "bias")]
        lib.global_unstructured(params, pruning_method=lib.L1Unstructured, amount=0.4)
    for n, t, shape in pairs:
        _same_state(n, t)
        run_twins(n, t, [shape], torch.float64, rng)
    total = sum(n.weight_mask.numel() for n, _, _ in pairs) + pairs[1][0].bias_mask.numel()
    zeros = sum(int((n.weight_mask == 0).sum()) for n, _, _ in pairs)
    zeros += int((pairs[1][0].bias_mask == 0).sum())
    assert zeros == 15 + round(0.4 * (total - 15))  # 40% of the entries still kept


def test_custom_from_mask_and_identity_match_torch(rng):
    n, t, shape = _twins()
    mask = (rng.random((5, 6)) > 0.5).astype(np.float64)
    prune.custom_from_mask(n, "weight", mask=nabla.tensor(mask))
    tprune.custom_from_mask(t, "weight", mask=torch.tensor(mask))
    _both(n, t, "identity", "bias")
    _same_state(n, t)
    run_twins(n, t, [shape], torch.float64, rng)


def _foobar(lib):
    class FooBarPruningMethod(lib.nn.utils.prune.BasePruningMethod):
        """The tutorial's method: prune every other entry."""

        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    return FooBarPruningMethod


def test_user_defined_method_matches_torch(rng):
    n, t, shape = _twins()
    _foobar(nabla).apply(n, "bias")
    _foobar(torch).apply(t, "bias")
    _both(n, t, "l1_unstructured", "bias", amount=1)  # combined with it in a container
    _same_state(n, t)
    run_twins(n, t, [shape], torch.float64, rng)
    w = nabla.tensor(rng.standard_normal(6))
    np.testing.assert_array_equal(_foobar(nabla)().prune(w).numpy()[::2], 0)


@pytest.mark.parametrize("kind", LAYERS)
def test_remove_matches_torch(kind, rng):
    n, t, shape = _twins(kind)
    _both(n, t, "l1_unstructured", "weight", amount=0.5)
    _both(n, t, "ln_structured", "weight", amount=1, n=2, dim=0)
    _both(n, t, "l1_unstructured", "bias", amount=1)
    assert prune.is_pruned(n) and prune.is_pruned(nn.Sequential(n))
    orig = n.weight_orig
    _both(n, t, "remove", "weight")
    assert n.weight is orig and isinstance(n.weight, nn.Parameter)
    _same_state(n, t)
    _both(n, t, "remove", "bias")
    assert not prune.is_pruned(n) and not n._forward_pre_hooks
    _same_state(n, t)
    run_twins(n, t, [shape], torch.float64, rng)


def test_training_steps_and_load_state_dict_across(rng):
    n, t, shape = _twins("Conv2d", np.float32)
    _both(n, t, "l1_unstructured", "weight", amount=0.5)
    n_opt = nabla.optim.SGD(n.parameters(), lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        x = rng.standard_normal(shape).astype(np.float32)
        n_opt.zero_grad()
        t_opt.zero_grad()
        (n(nabla.tensor(x)) ** 2).mean().backward()
        (t(torch.tensor(x)) ** 2).mean().backward()
        n_opt.step()
        t_opt.step()
    _same_state(n, t)
    fresh = prune.identity(LAYERS["Conv2d"][0](nabla), "weight")
    fresh.load_state_dict(t.state_dict())
    assert_close(fresh(nabla.tensor(x)), t(torch.tensor(x)))


@pytest.mark.parametrize("amount", [0.25, 3])
def test_random_methods_prune_the_right_counts(amount):
    layer = nn.Conv2d(4, 8, 3)
    prune.random_unstructured(layer, "weight", amount=amount)
    first = layer.weight_mask.numpy().copy()
    expected = amount if isinstance(amount, int) else round(amount * first.size)
    assert (first == 0).sum() == expected
    prune.random_structured(layer, "weight", amount=amount, dim=0)
    mask = layer.weight_mask.numpy()
    assert np.all(mask[first == 0] == 0)  # earlier prunings stay
    dropped = np.all(mask == 0, axis=(1, 2, 3))
    channels = amount if isinstance(amount, int) else round(amount * 8)
    assert dropped.sum() >= channels
    np.testing.assert_array_equal(layer.weight.detach().numpy(),
                                  layer.weight_orig.detach().numpy() * mask)


def test_errors():
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="Invalid type for amount"):
        prune.l1_unstructured(layer, "weight", amount="half")
    with pytest.raises(ValueError, match=r"amount=1.5 should either be a float in the range"):
        prune.l1_unstructured(layer, "weight", amount=1.5)
    with pytest.raises(ValueError, match="amount=7 should be smaller than the number"):
        prune.l1_unstructured(layer, "weight", amount=7)
    assert "weight" in layer._parameters and not prune.is_pruned(layer)  # left as it was
    with pytest.raises(ValueError, match="Structured pruning can only be applied to multi"):
        prune.ln_structured(layer, "bias", amount=1, n=2, dim=0)
    with pytest.raises(IndexError, match="Invalid index 2 for tensor of size"):
        prune.ln_structured(layer, "weight", amount=1, n=2, dim=2)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(layer, "weight")
    with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE'):
        prune.global_unstructured([(layer, "weight")], prune.LnStructured, amount=1, n=2, dim=0)


def test_a_linear_layer_reads_pruned_and_parametrized_weights_and_biases():
    """Linear.forward reads _parameters directly; a pruned bias, a pruned weight or a
    parametrized weight (each moved out of _parameters) still takes effect."""
    torch.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    for change in ("bias", "weight", "parametrize"):
        ours, theirs = nabla.nn.Linear(4, 2), torch.nn.Linear(4, 2)
        ours.load_state_dict({k: nabla.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
        if change == "parametrize":
            nabla.nn.utils.parametrize.register_parametrization(ours, "weight", _Double())
            torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _TorchDouble())
        else:
            nabla.nn.utils.prune.l1_unstructured(ours, change, amount=1)
            torch.nn.utils.prune.l1_unstructured(theirs, change, amount=1)
        np.testing.assert_allclose(ours(nabla.tensor(x)).detach().numpy(),
                                   theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6,
                                   err_msg=change)


class _Double(nabla.nn.Module):
    def forward(self, w):
        return w * 2


class _TorchDouble(torch.nn.Module):
    def forward(self, w):
        return w * 2
