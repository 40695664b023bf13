"""The nn.functional ops that torch also exposes at top level (torch.conv2d, torch.batch_norm,
torch.dropout, torch.embedding, torch.kl_div, torch.sigmoid_, ...), each called as torch's
top-level function is called, against that function: outputs, and the gradients of every input
for a random upstream gradient. Where torch's top-level signature differs from F's (argument
order, `train`, integer reductions, embedding's table first), nabla's wrapper follows torch."""

import numpy as np
import pytest
import torch
from conftest import assert_close

import nabla


class Inputs:
    """Makes the same random tensors for nabla and for torch (one seed, one order of calls)."""

    def __init__(self, lib, seed: int) -> None:
        self.lib, self.rng, self.made = lib, np.random.default_rng(seed), []

    def _make(self, array, grad: bool):
        t = self.lib.tensor(array, requires_grad=grad)
        self.made.append(t)
        return t

    def __call__(self, *shape, grad: bool = True):
        return self._make(self.rng.standard_normal(shape), grad)

    def positive(self, *shape):
        return self._make(self.rng.uniform(0.2, 2.0, shape), False)

    def uniform(self, *shape):
        return self._make(self.rng.uniform(0.0, 1.0, shape), False)

    def signs(self, *shape):
        return self._make(self.rng.choice([-1.0, 1.0], shape), False)

    def ints(self, high: int, *shape):
        return self._make(self.rng.integers(0, high, shape), False)


def _log_probs(L, a):
    return L.log_softmax(a(3, 4), dim=1)


CASES = {
    "conv1d": lambda L, a: L.conv1d(a(2, 3, 8), a(4, 3, 3), a(4), 1, 1),
    "conv2d": lambda L, a: L.conv2d(a(1, 2, 5, 5), a(3, 2, 3, 3), None, 2, 1),
    "conv3d": lambda L, a: L.conv3d(a(1, 2, 4, 4, 4), a(2, 2, 2, 2, 2)),
    "conv_transpose1d": lambda L, a: L.conv_transpose1d(a(2, 3, 5), a(3, 2, 3), a(2), 2, 1, 1),
    "conv_transpose2d": lambda L, a: L.conv_transpose2d(a(1, 2, 4, 4), a(2, 3, 3, 3), None, 2),
    "conv_transpose3d": lambda L, a: L.conv_transpose3d(a(1, 2, 3, 3, 3), a(2, 1, 2, 2, 2)),
    "max_pool1d": lambda L, a: L.max_pool1d(a(2, 3, 9), 3, 2, 1),
    "max_pool2d": lambda L, a: L.max_pool2d(a(1, 2, 6, 6), 2),
    "max_pool3d": lambda L, a: L.max_pool3d(a(1, 1, 4, 4, 4), 2, 2),
    "avg_pool1d": lambda L, a: L.avg_pool1d(a(2, 3, 8), 3, 2, 1, False, False),
    "adaptive_avg_pool1d": lambda L, a: L.adaptive_avg_pool1d(a(2, 3, 7), 3),
    "adaptive_max_pool1d": lambda L, a: L.adaptive_max_pool1d(a(2, 3, 7), 3),
    "cosine_similarity": lambda L, a: L.cosine_similarity(a(4, 5), a(4, 5), 1, 1e-8),
    "pairwise_distance": lambda L, a: L.pairwise_distance(a(4, 5), a(4, 5), 1.5),
    "pdist": lambda L, a: L.pdist(a(5, 3), 2),
    "pixel_shuffle": lambda L, a: L.pixel_shuffle(a(1, 8, 2, 3), 2),
    "pixel_unshuffle": lambda L, a: L.pixel_unshuffle(a(1, 2, 4, 6), 2),
    "channel_shuffle": lambda L, a: L.channel_shuffle(a(1, 6, 2, 2), 3),
    "selu": lambda L, a: L.selu(a(3, 4)),
    "celu": lambda L, a: L.celu(a(3, 4), 0.7),
    "prelu": lambda L, a: L.prelu(a(2, 3, 4), a(3)),
    "rrelu": lambda L, a: L.rrelu(a(3, 4), 0.1, 0.3, False),
    "threshold": lambda L, a: L.threshold(a(3, 4), 0.1, -1.0),
    "hardshrink": lambda L, a: L.hardshrink(a(3, 4), 0.3),
    "bilinear": lambda L, a: L.bilinear(a(4, 3), a(4, 5), a(2, 3, 5), a(2)),
    "group_norm": lambda L, a: L.group_norm(a(2, 6, 5), 3, a(6), a(6), 1e-5),
    "layer_norm": lambda L, a: L.layer_norm(a(2, 3, 4), [3, 4], a(3, 4), a(3, 4), 1e-5),
    "rms_norm": lambda L, a: L.rms_norm(a(2, 3, 4), [4], a(4), 1e-6),
    "instance_norm": lambda L, a: L.instance_norm(a(2, 3, 5), a(3), a(3), None, None, True, 0.1,
                                                  1e-5, False),
    "batch_norm": lambda L, a: L.batch_norm(a(4, 3, 5), a(3), a(3), a(3, grad=False),
                                            a.positive(3), True, 0.2, 1e-5, False),
    "batch_norm eval": lambda L, a: L.batch_norm(a(4, 3), a(3), None, a(3, grad=False),
                                                 a.positive(3), False, 0.1, 1e-3, False),
    "dropout": lambda L, a: L.dropout(a(3, 4), 0.3, False),
    "alpha_dropout": lambda L, a: L.alpha_dropout(a(3, 4), 0.3, False),
    "feature_alpha_dropout": lambda L, a: L.feature_alpha_dropout(a(2, 3, 4), 0.3, False),
    "embedding": lambda L, a: L.embedding(a(10, 4), a.ints(10, 3, 5), 2),
    "embedding without padding": lambda L, a: L.embedding(a(6, 3), a.ints(6, 7)),
    "kl_div": lambda L, a: L.kl_div(_log_probs(L, a), a.uniform(3, 4), 0),
    "kl_div log_target": lambda L, a: L.kl_div(a(3, 4), a(3, 4), 2, log_target=True),
    "cosine_embedding_loss": lambda L, a: L.cosine_embedding_loss(a(4, 5), a(4, 5), a.signs(4),
                                                                  0.1, 2),
    "margin_ranking_loss": lambda L, a: L.margin_ranking_loss(a(5), a(5), a.signs(5), 0.2, 0),
    "hinge_embedding_loss": lambda L, a: L.hinge_embedding_loss(a(3, 4), a.signs(3, 4), 1.0, 1),
    "triplet_margin_loss": lambda L, a: L.triplet_margin_loss(a(4, 5), a(4, 5), a(4, 5), 1.0,
                                                              2.0, 1e-6, True, 1),
    "poisson_nll_loss": lambda L, a: L.poisson_nll_loss(a(3, 4), a.positive(3, 4), True, True,
                                                        1e-8, 1),
    "binary_cross_entropy_with_logits": lambda L, a: L.binary_cross_entropy_with_logits(
        a(3, 4), a.uniform(3, 4), a.positive(4), a.positive(4), 2),
    "ctc_loss": lambda L, a: L.ctc_loss(L.log_softmax(a(6, 2, 4), dim=2), a.ints(3, 2, 3) + 1,
                                        [6, 5], [3, 2], 0, 0, False),
}

# in place: on a non-leaf (x * 1), so the gradient reaches the leaf through the write
IN_PLACE = {
    "relu_": lambda L, x: L.relu_(x),
    "sigmoid_": lambda L, x: L.sigmoid_(x),
    "tanh_": lambda L, x: L.tanh_(x),
    "selu_": lambda L, x: L.selu_(x),
    "celu_": lambda L, x: L.celu_(x, 0.5),
    "threshold_": lambda L, x: L.threshold_(x, 0.1, 2.0),
    "rrelu_": lambda L, x: L.rrelu_(x, 0.1, 0.3, False),
    "dropout_": lambda L, x: L.dropout_(x, 0.4, False),
    "alpha_dropout_": lambda L, x: L.alpha_dropout_(x, 0.4, False),
    "feature_alpha_dropout_": lambda L, x: L.feature_alpha_dropout_(x, 0.4, False),
}


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("case", list(CASES))
def test_alias_matches_torch_top_level(case):
    nin, tin = Inputs(nabla, 7), Inputs(torch, 7)
    nout, tout = CASES[case](nabla, nin), CASES[case](torch, tin)
    assert isinstance(nout, tuple) == isinstance(tout, tuple)
    for n, t in zip(nout if isinstance(nout, tuple) else (nout,),
                    tout if isinstance(tout, tuple) else (tout,), strict=True):
        assert_close(n, t, what=case)
    g = np.random.default_rng(1).standard_normal(tuple(_first(tout).shape))
    _first(nout).backward(nabla.tensor(g))
    _first(tout).backward(torch.tensor(g))
    for i, (n, t) in enumerate(zip(nin.made, tin.made, strict=True)):
        assert_close(n, t, what=f"{case}: input {i} after the call")  # running stats too
        if t.requires_grad:
            assert_close(n.grad, t.grad, what=f"{case}: grad of input {i}")


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_alias_matches_torch_top_level(name):
    a = np.random.default_rng(3).standard_normal((2, 3, 4))
    nleaf, tleaf = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    nx, tx = nleaf * 1.0, tleaf * 1.0
    assert IN_PLACE[name](nabla, nx) is nx
    assert IN_PLACE[name](torch, tx) is tx
    assert_close(nx, tx)
    g = np.random.default_rng(4).standard_normal(a.shape)
    nx.backward(nabla.tensor(g))
    tx.backward(torch.tensor(g))
    assert_close(nleaf.grad, tleaf.grad)


def test_dropout_aliases_in_training_drop_and_rescale():
    x = nabla.ones(200, 50)
    out = nabla.dropout(x, 0.25, True)
    values = set(np.unique(out.numpy()).tolist())
    assert values == {0.0, float(np.float32(1.0 / 0.75))}
    assert abs((out.numpy() == 0).mean() - 0.25) < 0.02
    y = nabla.ones(200, 50)
    assert nabla.dropout_(y, 0.25, True) is y and set(np.unique(y.numpy()).tolist()) == values
    z = nabla.ones(100, 40, 3)
    assert nabla.feature_alpha_dropout_(z, 0.5, True) is z
    assert np.all(z.numpy() == z.numpy()[..., :1])  # one draw per (N, C)
    assert len(np.unique(nabla.alpha_dropout(nabla.ones(100, 50), 0.5, True).numpy())) == 2


def test_integer_reductions_as_torch():
    x, t = nabla.randn(3, 4), nabla.rand(3, 4)
    for code, name in enumerate(["none", "mean", "sum"]):
        assert_close(nabla.binary_cross_entropy_with_logits(x, t, reduction=code),
                     torch.binary_cross_entropy_with_logits(torch.tensor(x.numpy()),
                                                            torch.tensor(t.numpy()),
                                                            reduction=code), what=name)
    with pytest.raises(TypeError, match="kl_div: reduction must be 0 .none., 1 .mean. or 2"):
        nabla.kl_div(x, t, "mean")
    with pytest.raises(TypeError, match="margin_ranking_loss: reduction"):
        nabla.margin_ranking_loss(x, x, t, 0.0, 3)
