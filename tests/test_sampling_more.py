"""gumbel_softmax, pdist, channel_shuffle, ChannelShuffle and EmbeddingBag vs PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.autograd import gradcheck
from nabla.nn.functional import embedding_bag

DTYPES = [np.float32, np.float64]
TOL = {np.float32: 1e-5, np.float64: 1e-12}


def test_gumbel_softmax_soft_and_hard():
    nabla.manual_seed(0)
    logits = nabla.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5)
    assert tuple(y.shape) == (4, 5)
    np.testing.assert_allclose(y.detach().numpy().sum(-1), 1.0, rtol=1e-12)
    nabla.manual_seed(1)
    hard = F.gumbel_softmax(logits, hard=True, dim=0)
    nabla.manual_seed(1)
    soft = F.gumbel_softmax(logits, dim=0)
    h = hard.detach().numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(0) == 1).all()
    np.testing.assert_array_equal(h.argmax(0), soft.detach().numpy().argmax(0))
    g = np.random.default_rng(1).standard_normal((4, 5))
    (gh,) = nabla.autograd.grad(hard, logits, nabla.tensor(g))
    (gs,) = nabla.autograd.grad(soft, logits, nabla.tensor(g))
    np.testing.assert_allclose(gh.numpy(), gs.numpy(), rtol=1e-12)


def test_gumbel_softmax_seeded():
    logits = nabla.tensor(np.zeros((3, 4), np.float32))
    nabla.manual_seed(7)
    a = F.gumbel_softmax(logits)
    nabla.manual_seed(7)
    b = F.gumbel_softmax(logits)
    assert a.dtype == logits.dtype
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf")])
def test_pdist_matches_torch(p, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4)).astype(dtype)
    t, n = torch.tensor(x, requires_grad=True), nabla.tensor(x, requires_grad=True)
    yt, yn = TF.pdist(t, p), F.pdist(n, p)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(g))
    yn.backward(nabla.tensor(g))
    np.testing.assert_allclose(yn.detach().numpy(), yt.detach().numpy(), rtol=TOL[dtype])
    np.testing.assert_allclose(n.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=TOL[dtype])


def test_pdist_edge_and_errors():
    assert tuple(F.pdist(nabla.tensor(np.zeros((1, 3)))).shape) == (0,)
    x = nabla.tensor(np.random.default_rng(3).standard_normal((4, 3)), requires_grad=True)
    assert gradcheck(lambda v: F.pdist(v), (x,), **GRADCHECK_TOL)
    with pytest.raises(RuntimeError, match="pdist"):
        F.pdist(nabla.tensor(np.zeros(3)))


def test_channel_shuffle():
    x = np.random.default_rng(4).standard_normal((2, 6, 3, 2))
    np.testing.assert_array_equal(F.channel_shuffle(nabla.tensor(x), 3).numpy(),
                                  TF.channel_shuffle(torch.tensor(x), 3).numpy())
    m = nn.ChannelShuffle(2)
    assert repr(m) == repr(tnn.ChannelShuffle(2))
    np.testing.assert_array_equal(m(nabla.tensor(x)).numpy(),
                                  tnn.ChannelShuffle(2)(torch.tensor(x)).numpy())
    with pytest.raises(RuntimeError, match="channel_shuffle"):
        F.channel_shuffle(nabla.tensor(x), 4)


INP = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0])
OFF = np.array([0, 4, 4, 7])
BAG_CASES = [
    (mode, inp, off, kw) for mode in ("sum", "mean", "max") for inp, off, kw in [
        (INP, OFF, {}),
        (INP, OFF, {"padding_idx": 4}),
        (INP, np.append(OFF, 10), {"include_last_offset": True}),
        (INP, np.append(OFF, 10), {"include_last_offset": True, "padding_idx": 2}),
        (INP.reshape(2, 5), None, {"padding_idx": 0}),
    ]
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", BAG_CASES)
def test_embedding_bag_matches_torch(case, dtype):
    mode, inp, off, kw = case
    rng = np.random.default_rng(5)
    w = rng.standard_normal((10, 3)).astype(dtype)
    tw, nw = torch.tensor(w, requires_grad=True), nabla.tensor(w, requires_grad=True)
    toff = None if off is None else torch.tensor(off)
    noff = None if off is None else nabla.tensor(off)
    yt = TF.embedding_bag(torch.tensor(inp), tw, toff, mode=mode, **kw)
    yn = embedding_bag(nabla.tensor(inp), nw, noff, mode=mode, **kw)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(g))
    yn.backward(nabla.tensor(g))
    np.testing.assert_allclose(yn.detach().numpy(), yt.detach().numpy(), rtol=TOL[dtype])
    np.testing.assert_allclose(nw.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=TOL[dtype])


def test_embedding_bag_per_sample_weights_and_module():
    rng = np.random.default_rng(6)
    w = rng.standard_normal((10, 3)).astype(np.float32)
    psw = rng.standard_normal(10).astype(np.float32)
    tm, nm = tnn.EmbeddingBag(10, 3, mode="sum"), nn.EmbeddingBag(10, 3, mode="sum")
    assert list(nm.state_dict()) == ["weight"] and repr(nm) == repr(tm)
    tm.weight.data = torch.tensor(w)
    nm.load_state_dict({"weight": nabla.tensor(w)})
    tp, np_ = torch.tensor(psw, requires_grad=True), nabla.tensor(psw, requires_grad=True)
    yt = tm(torch.tensor(INP), torch.tensor(OFF), per_sample_weights=tp)
    yn = nm(nabla.tensor(INP), nabla.tensor(OFF), per_sample_weights=np_)
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(g))
    yn.backward(nabla.tensor(g))
    np.testing.assert_allclose(yn.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nm.weight.grad.numpy(), tm.weight.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(np_.grad.numpy(), tp.grad.numpy(), atol=1e-5)
    assert repr(nn.EmbeddingBag(10, 3, mode="max", padding_idx=-1)) == repr(
        tnn.EmbeddingBag(10, 3, mode="max", padding_idx=-1))
    assert nn.EmbeddingBag(10, 3, padding_idx=2).weight.detach().numpy()[2].tolist() == [0, 0, 0]


def test_embedding_bag_gradcheck_and_errors():
    w = nabla.tensor(np.random.default_rng(7).standard_normal((6, 2)), requires_grad=True)
    idx, off = nabla.tensor(np.array([0, 1, 5, 2])), nabla.tensor(np.array([0, 2]))
    for mode in ("sum", "mean", "max"):
        assert gradcheck(lambda v, m=mode: embedding_bag(idx, v, off, mode=m), (w,),
                         **GRADCHECK_TOL)
    with pytest.raises(ValueError, match="embedding_bag"):
        embedding_bag(idx, w)
    with pytest.raises(NotImplementedError, match="embedding_bag"):
        embedding_bag(idx, w, off, mode="mean", per_sample_weights=nabla.tensor(np.ones(4)))


@pytest.mark.parametrize("make", [lambda: nn.Embedding(5, 3, padding_idx=5),
                                  lambda: nn.EmbeddingBag(5, 3, padding_idx=-6)])
def test_embedding_padding_idx_out_of_range_is_refused(make):
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings: got"):
        make()


def test_embedding_negative_padding_idx_counts_from_the_end():
    assert nn.Embedding(5, 3, padding_idx=-1).padding_idx == 4
    assert nn.EmbeddingBag(5, 3, padding_idx=-2).padding_idx == 3
