"""nn.AdaptiveLogSoftmaxWithLoss vs PyTorch with a copied state_dict: submodule names and
state_dict keys, forward (output, loss) and the gradients of the input and every parameter,
log_prob, predict, unbatched input, gradcheck and the errors."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.nn import AdaptiveLogSoftmaxWithLoss

DTYPES = [np.float32, np.float64]
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def _twins(dtype, in_features=16, n_classes=20, cutoffs=(4, 9, 15), div_value=2.0, **kwargs):
    kwargs["div_value"] = div_value
    tmod = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs),
                                               dtype=TORCH_DTYPE[dtype], **kwargs)
    with torch.no_grad():  # larger weights than the default init: sharper distributions
        for p in tmod.parameters():
            p.normal_(0, 0.7)
    nmod = AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs,
                                      dtype=nabla.float64 if dtype == np.float64 else None,
                                      **kwargs)
    nmod.load_state_dict(tmod.state_dict())
    return nmod, tmod


def _inputs(rng, dtype, shape):
    x = rng.standard_normal(shape).astype(dtype)
    return nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def _compare_grads(nmod, tmod, nx, tx):
    assert_close(nx.grad, tx.grad, what="grad of input")
    for (name, tp), (nname, np_) in zip(tmod.named_parameters(), nmod.named_parameters(),
                                        strict=True):
        assert name == nname
        if tp.grad is None:
            assert np_.grad is None or not np.any(np_.grad.numpy()), name
        else:
            assert_close(np_.grad, tp.grad, what=f"grad of {name}")


def test_adaptive_softmax_structure_matches_torch():
    nmod, tmod = _twins(np.float32, head_bias=True, div_value=1.5)
    ours = {k: tuple(v.shape) for k, v in nmod.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in tmod.state_dict().items()}
    assert list(ours) == list(theirs) and ours == theirs
    assert "tail.2.1.weight" in ours and "head.bias" in ours
    assert repr(nmod) == repr(tmod)
    for attr in ["in_features", "n_classes", "cutoffs", "div_value", "head_bias",
                 "shortlist_size", "n_clusters", "head_size"]:
        assert getattr(nmod, attr) == getattr(tmod, attr), attr
    before = nmod.head.weight.detach().numpy().copy()
    nmod.reset_parameters()
    assert nmod.head.weight.shape == before.shape and not np.allclose(
        nmod.head.weight.detach().numpy(), before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_softmax_forward_backward_matches_torch(rng, dtype, head_bias):
    nmod, tmod = _twins(dtype, head_bias=head_bias)
    nx, tx = _inputs(rng, dtype, (24, 16))
    # every cluster used except the last (its tail gets no gradient), the edges included
    target = np.concatenate([[0, 3, 4, 8, 9, 14], rng.integers(0, 15, 18)])
    nout, tout = nmod(nx, nabla.tensor(target)), tmod(tx, torch.tensor(target))
    assert type(nout).__name__ == "_ASMoutput" and nout._fields == ("output", "loss")
    assert_close(nout.output, tout.output, what="output")
    assert_close(nout.loss, tout.loss, what="loss")
    g = rng.standard_normal(24).astype(dtype)
    ((nout.output * nabla.tensor(g)).sum() + 0.3 * nout.loss).backward()
    ((tout.output * torch.tensor(g)).sum() + 0.3 * tout.loss).backward()
    _compare_grads(nmod, tmod, nx, tx)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_softmax_unbatched(rng, dtype):
    nmod, tmod = _twins(dtype, cutoffs=(5,), n_classes=8)
    nx, tx = _inputs(rng, dtype, (16,))
    nout, tout = nmod(nx, nabla.tensor(6)), tmod(tx, torch.tensor(6))
    assert nout.output.shape == ()
    assert_close(nout.output, tout.output)
    assert_close(nout.loss, tout.loss)
    nout.loss.backward()
    tout.loss.backward()
    _compare_grads(nmod, tmod, nx, tx)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_softmax_log_prob_and_predict(rng, dtype):
    nmod, tmod = _twins(dtype)
    nx, tx = _inputs(rng, dtype, (40, 16))
    nlp, tlp = nmod.log_prob(nx), tmod.log_prob(tx)
    assert_close(nlp, tlp)
    np.testing.assert_allclose(np.exp(nlp.detach().numpy()).sum(1), 1, rtol=1e-5)
    g = rng.standard_normal(tuple(tlp.shape)).astype(dtype)
    nlp.backward(nabla.tensor(g))
    tlp.backward(torch.tensor(g))
    _compare_grads(nmod, tmod, nx, tx)
    pred = nmod.predict(nx)
    assert pred.dtype == np.int64
    np.testing.assert_array_equal(pred.numpy(), tmod.predict(tx).numpy())
    np.testing.assert_array_equal(pred.numpy(), nlp.detach().numpy().argmax(1))
    head = tmod.head(tx).argmax(1).numpy()
    assert (head < 4).any() and (head >= 4).any()  # both of predict's paths ran


def test_adaptive_softmax_predict_all_in_shortlist_or_all_in_clusters(rng):
    nmod, tmod = _twins(np.float64)
    x = nabla.tensor(rng.standard_normal((10, 16)))
    for shortlist in [True, False]:
        bias = np.full(nmod.head_size, -50.0 if shortlist else 50.0)
        bias[:nmod.shortlist_size] *= -1
        nmod2 = AdaptiveLogSoftmaxWithLoss(16, 20, (4, 9, 15), 2.0, head_bias=True,
                                           dtype=nabla.float64)
        sd = {k: v.numpy() for k, v in tmod.state_dict().items()}
        sd["head.bias"] = bias
        nmod2.load_state_dict(sd)
        pred = nmod2.predict(x).numpy()
        assert ((pred < 4) == shortlist).all()
        np.testing.assert_array_equal(pred, nmod2.log_prob(x).detach().numpy().argmax(1))


def test_adaptive_softmax_gradcheck_float64(rng):
    nmod, _ = _twins(np.float64, in_features=6, n_classes=9, cutoffs=(3, 6), div_value=2.0)
    target = nabla.tensor(np.array([0, 2, 3, 5, 6, 8, 1]))
    x = nabla.tensor(rng.standard_normal((7, 6)), requires_grad=True)

    def f(x_):
        out = nmod(x_, target)
        return out.output * 0.5 + out.loss

    assert nabla.autograd.gradcheck(f, (x,), **GRADCHECK_TOL)
    assert nabla.autograd.gradcheck(nmod.log_prob, (x,), **GRADCHECK_TOL)


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_adaptive_softmax_default_div_value_with_an_empty_hidden_layer(rng):
    # 16 // 4**3 = 0: the last tail projects through zero features, as in PyTorch
    nmod, tmod = _twins(np.float64, div_value=4.0)
    assert tuple(nmod.tail[2][0].weight.shape) == (0, 16)
    nx, tx = _inputs(rng, np.float64, (12, 16))
    target = rng.integers(0, 20, 12)
    target[:2] = [15, 19]
    nout, tout = nmod(nx, nabla.tensor(target)), tmod(tx, torch.tensor(target))
    assert_close(nout.output, tout.output)
    nout.loss.backward()
    tout.loss.backward()
    _compare_grads(nmod, tmod, nx, tx)


def test_adaptive_softmax_empty_batch():
    nmod, tmod = _twins(np.float32)
    nout = nmod(nabla.zeros(0, 16), nabla.tensor(np.zeros(0, np.int64)))
    tout = tmod(torch.zeros(0, 16), torch.zeros(0, dtype=torch.long))
    assert nout.output.shape == (0,) and np.isnan(nout.loss.item()) and tout.loss.isnan()


@pytest.mark.parametrize("cutoffs", [[], [5, 3], [3, 3], [0, 4], [4, 20], [4, 25], [2.5, 4]])
def test_adaptive_softmax_bad_cutoffs(cutoffs):
    with pytest.raises(ValueError, match="AdaptiveLogSoftmaxWithLoss: cutoffs should be"):
        AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs)
    with pytest.raises(ValueError):
        torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs)


@pytest.mark.parametrize("shape, target, match", [
    ((5, 8), [0, 1, 2, 3, 20], r"target values should be in \[0, 19\].*\[0, 20\]"),
    ((5, 8), [0, 1, -1, 3, 4], r"values in range \[-1, 4\]"),
    ((4, 8), [0, 1, 2, 3, 4], "same size in the batch dimension"),
    ((5, 8, 1), [0, 1, 2, 3, 4], "1D target tensor expects 2D input"),
    ((5, 8), 3, "0D target tensor expects 1D input"),
    ((5, 8), [[0, 1]], "multi-target not supported"),
])
def test_adaptive_softmax_forward_errors(shape, target, match):
    mod = AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10])
    with pytest.raises(RuntimeError, match=match):
        mod(nabla.zeros(*shape), nabla.tensor(target))
    with pytest.raises(TypeError, match="integer Tensor"):
        mod(nabla.zeros(5, 8), nabla.zeros(5))
    for method in [mod.log_prob, mod.predict]:
        with pytest.raises(RuntimeError, match=r"expected input of shape \(N, 8\)"):
            method(nabla.zeros(8))
