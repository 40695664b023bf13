"""ctc_loss and nn.CTCLoss vs PyTorch: loss and gradient (with log_softmax upstream and
directly on log_probs, where PyTorch's rule has its extra exp(log_probs) term), padded and
concatenated targets, lengths as tensors or tuples, repeated labels, empty targets, unbatched
input, impossible alignments (inf, or 0 with zero_infinity), gradcheck and the errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.nn import CTCLoss
from nabla.nn.functional import ctc_loss, log_softmax

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]


def _case(rng, dtype, t_len=12, n=4, c=6, s=4, blank=0):
    """Random logits (T, N, C), padded targets without the blank, lengths (some short, one
    target of length 0, one with a run of repeated labels)."""
    x = rng.standard_normal((t_len, n, c)).astype(dtype)
    labels = [k for k in range(c) if k != blank]
    targets = rng.choice(labels, (n, s))
    targets[0, :3] = labels[1]  # repeats: each needs a blank between them
    il = np.array([t_len, t_len - 2, t_len - 5, 4][:n])
    tl = np.array([s, s - 1, 0, 2][:n])
    return x, targets, il, tl


def _run(x, targets, il, tl, g, direct: bool, **kwargs):
    """Loss and gradient of x for nabla and torch (direct: x is log_probs itself)."""
    nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    nlp = nx if direct else log_softmax(nx, -1)
    tlp = tx if direct else tx.log_softmax(-1)
    nl = ctc_loss(nlp, nabla.tensor(targets), *_lengths(il, tl, nabla.tensor), **kwargs)
    tl_ = TF.ctc_loss(tlp, torch.tensor(targets), *_lengths(il, tl, torch.tensor), **kwargs)
    assert_close(nl, tl_, what="loss")
    gg = np.broadcast_to(g, tl_.shape).astype(x.dtype).copy()
    nl.backward(nabla.tensor(gg))
    tl_.backward(torch.tensor(gg))
    assert_close(nx.grad, tx.grad, what="grad")
    return nl, nx.grad


def _lengths(il, tl, make):
    return make(np.asarray(il)), make(np.asarray(tl))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("direct", [False, True])
def test_ctc_loss_matches_torch(rng, dtype, reduction, direct):
    x, targets, il, tl = _case(rng, dtype)
    g = rng.standard_normal(len(il)) if reduction == "none" else rng.standard_normal()
    _run(x, targets, il, tl, g, direct, reduction=reduction)


@pytest.mark.parametrize("dtype", DTYPES)
def test_ctc_loss_concatenated_targets_and_tuple_lengths(rng, dtype):
    x, targets, il, tl = _case(rng, dtype)
    flat = np.concatenate([targets[i, :n] for i, n in enumerate(tl)])
    nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for lengths in [(tuple(il.tolist()), tuple(tl.tolist())), (il.tolist(), tl.tolist())]:
        nl = ctc_loss(log_softmax(nx, 2), nabla.tensor(flat), *lengths)
        tl_ = TF.ctc_loss(tx.log_softmax(2), torch.tensor(flat), *lengths)
        assert_close(nl, tl_)
        padded = ctc_loss(log_softmax(nx, 2), nabla.tensor(targets), *lengths)
        np.testing.assert_allclose(padded.item(), nl.item(), rtol=1e-6)
    nl.backward()
    tl_.backward()
    assert_close(nx.grad, tx.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_ctc_loss_blank_last_class_int32_targets_noncontiguous(rng, dtype):
    c = 5
    x, targets, il, tl = _case(rng, dtype, c=c, blank=c - 1)
    x = np.ascontiguousarray(x.transpose(1, 0, 2))  # (N, T, C), then transposed back
    nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    nt, tt = nabla.tensor(targets.astype(np.int32)), torch.tensor(targets.astype(np.int32))
    nl = ctc_loss(log_softmax(nx, 2).transpose(0, 1), nt, nabla.tensor(il.astype(np.int32)),
                  nabla.tensor(tl.astype(np.int32)), blank=c - 1, reduction="sum")
    tl_ = TF.ctc_loss(tx.log_softmax(2).transpose(0, 1), tt, torch.tensor(il), torch.tensor(tl),
                      blank=c - 1, reduction="sum")
    assert_close(nl, tl_)
    nl.backward()
    tl_.backward()
    assert_close(nx.grad, tx.grad)


def test_ctc_loss_repeated_labels_need_a_blank_between_them(rng):
    # "1 1" fits in 3 frames (1, blank, 1) but not in 2; "1 2" fits in 2
    x = rng.standard_normal((3, 3, 3))
    targets = np.array([[1, 1], [1, 1], [1, 2]])
    il, tl = np.array([3, 2, 2]), np.array([2, 2, 2])
    loss, _ = _run(x, targets, il, tl, np.ones(3), direct=False, reduction="none")
    values = loss.detach().numpy()
    assert np.isfinite(values[0]) and values[1] == np.inf and np.isfinite(values[2])
    # by hand: the only path of "1 1" in 3 frames is (1, blank, 1)
    lp = torch.tensor(x).log_softmax(2).numpy()
    np.testing.assert_allclose(values[0], -(lp[0, 0, 1] + lp[1, 0, 0] + lp[2, 0, 1]))


def test_ctc_loss_empty_target_is_all_blanks(rng):
    x = rng.standard_normal((5, 2, 4))
    targets = np.zeros((2, 0), np.int64)
    loss, grad = _run(x, targets, np.array([5, 3]), np.array([0, 0]), np.ones(2),
                      direct=True, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [-x[:5, 0, 0].sum(), -x[:3, 1, 0].sum()])
    assert np.all(grad.numpy()[3:, 1] == 0)  # frames past the input length
    # zero frames and an empty target: probability 1, loss -0 as in PyTorch
    _run(x, targets, np.array([0, 5]), np.array([0, 0]), np.ones(2), direct=True,
         reduction="none")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss_impossible_alignment_and_zero_infinity(rng, reduction):
    x = rng.standard_normal((6, 3, 5))
    targets = np.array([[1, 2, 3], [2, 2, 3], [1, 2, 3]])
    il, tl = np.array([6, 3, 4]), np.array([3, 3, 3])  # sample 1 needs 4 frames
    g = rng.standard_normal(3) if reduction == "none" else 1.0
    # without zero_infinity: inf, and NaN gradients in the live frames, as PyTorch
    loss, grad = _run(x, targets, il, tl, g, direct=False, reduction=reduction)
    assert np.isinf(loss.detach().numpy()).any()
    assert np.isnan(grad.numpy()[:3, 1]).all() and (grad.numpy()[3:, 1] == 0).all()
    loss, grad = _run(x, targets, il, tl, g, direct=False, reduction=reduction,
                      zero_infinity=True)
    assert np.isfinite(loss.detach().numpy()).all()
    assert (grad.numpy()[:, 1] == 0).all() and np.abs(grad.numpy()[:, 0]).max() > 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss_unbatched(rng, dtype, reduction):
    x = rng.standard_normal((7, 5)).astype(dtype)
    target = np.array([1, 3, 3])
    for il, tl in [(7, 3), ((7,), (3,))]:
        nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        nl = ctc_loss(log_softmax(nx, 1), nabla.tensor(target), nabla.tensor(il),
                      nabla.tensor(tl), reduction=reduction)
        tl_ = TF.ctc_loss(tx.log_softmax(1), torch.tensor(target), torch.tensor(il),
                          torch.tensor(tl), reduction=reduction)
        assert_close(nl, tl_)
        nl.backward()
        tl_.backward()
        assert_close(nx.grad, tx.grad)


def test_ctc_loss_gradcheck_float64(rng):
    x, targets, il, tl = _case(rng, np.float64, t_len=7, n=3, c=4, s=3)
    il, tl = np.array([7, 6, 4]), np.array([3, 2, 0])
    nt, nil, ntl = nabla.tensor(targets), nabla.tensor(il), nabla.tensor(tl)
    for reduction in REDUCTIONS:
        def f(z, reduction=reduction):
            return ctc_loss(log_softmax(z, 2), nt, nil, ntl, reduction=reduction)
        assert nabla.autograd.gradcheck(f, (nabla.tensor(x, requires_grad=True),),
                                        **GRADCHECK_TOL)


def test_ctc_loss_direct_gradient_is_torch_rule_not_the_plain_derivative(rng):
    """Directly on log_probs the gradient is the derivative plus exp(log_probs) * grad, as
    PyTorch (so a plain gradcheck of that form fails, and the extra term is exactly that)."""
    x, targets, il, tl = _case(rng, np.float64, t_len=5, n=2, c=4, s=2)
    il, tl = np.array([5, 4]), np.array([2, 1])
    nt, nil, ntl = nabla.tensor(targets), nabla.tensor(il), nabla.tensor(tl)
    z = nabla.tensor(x, requires_grad=True)
    ctc_loss(z, nt, nil, ntl, reduction="sum").backward()
    eps, num = 1e-6, np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[idx] = eps
        up = ctc_loss(nabla.tensor(x + d), nt, nil, ntl, reduction="sum").item()
        down = ctc_loss(nabla.tensor(x - d), nt, nil, ntl, reduction="sum").item()
        num[idx] = (up - down) / (2 * eps)
    live = np.arange(5)[:, None, None] < il[None, :, None]
    np.testing.assert_allclose(z.grad.numpy(), num + np.exp(x) * live, atol=1e-6)


def test_ctc_loss_double_backward_is_refused(rng):
    x, targets, il, tl = _case(rng, np.float64)
    z = nabla.tensor(x, requires_grad=True)
    loss = ctc_loss(log_softmax(z, 2), nabla.tensor(targets), nabla.tensor(il),
                    nabla.tensor(tl))
    (g,) = nabla.autograd.grad(loss, z, create_graph=True)
    with pytest.raises(RuntimeError, match="ctc_loss: double backward"):
        (g * g).sum().backward()


def test_ctc_loss_larger_problem_matches_torch(rng):
    t_len, n, c, s = 200, 16, 30, 40  # the size of a small speech batch
    x = rng.standard_normal((t_len, n, c)).astype(np.float32)
    targets = rng.integers(1, c, (n, s))
    il = rng.integers(150, t_len + 1, n)
    il[0] = t_len
    tl = rng.integers(0, s + 1, n)
    _run(x, targets, il, tl, 1.0, direct=False)


def test_ctc_loss_module_matches_torch(rng):
    x, targets, il, tl = _case(rng, np.float64)
    for kwargs in [{}, {"blank": 5, "reduction": "sum", "zero_infinity": True}]:
        ours, theirs = CTCLoss(**kwargs), torch.nn.CTCLoss(**kwargs)
        assert ours.state_dict() == {} and (ours.blank, ours.reduction, ours.zero_infinity) == \
            (theirs.blank, theirs.reduction, theirs.zero_infinity)
        nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        t = np.where(targets == 5, 1, targets)
        lengths = tuple(il.tolist()), tuple(tl.tolist())
        nl = ours(log_softmax(nx, 2), nabla.tensor(t), *lengths)
        tl_ = theirs(tx.log_softmax(2), torch.tensor(t), *lengths)
        assert_close(nl, tl_)
        nl.backward()
        tl_.backward()
        assert_close(nx.grad, tx.grad)
    with pytest.raises(ValueError, match="CTCLoss: reduction"):
        CTCLoss(reduction="avg")


def _bad(**changes):
    rng = np.random.default_rng(0)
    args = {"log_probs": nabla.tensor(rng.standard_normal((6, 3, 5)).astype(np.float32)),
            "targets": nabla.tensor(rng.integers(1, 5, (3, 3))),
            "input_lengths": nabla.tensor([6, 6, 6]), "target_lengths": nabla.tensor([3, 3, 3])}
    args.update(changes)
    return lambda: ctc_loss(**args)


@pytest.mark.parametrize("changes, error, match", [
    ({"input_lengths": nabla.tensor([7, 6, 6])}, RuntimeError, r"input_lengths must be at most 6"),
    ({"input_lengths": nabla.tensor([6, -1, 6])}, RuntimeError, "must not be negative"),
    ({"input_lengths": nabla.tensor([6, 6])}, RuntimeError, r"one length per sample \(batch"),
    ({"target_lengths": nabla.tensor([3, 3])}, RuntimeError, "target_lengths must hold one"),
    ({"target_lengths": nabla.tensor([4, 3, 3])}, RuntimeError, r"target length of 4 is longer"),
    ({"input_lengths": nabla.tensor([6.0, 6, 6])}, RuntimeError, "must be integral"),
    ({"input_lengths": 6}, TypeError, "a Tensor or a tuple/list"),
    ({"blank": 5}, RuntimeError, r"blank must be in label range \[0, 5\)"),
    ({"blank": -1}, RuntimeError, "blank must be in label range"),
    ({"targets": nabla.tensor([[1, 7, 2]] * 3)}, RuntimeError, "target label 7 is out of range"),
    ({"targets": nabla.tensor([1, 2, 3, 4])}, RuntimeError, r"sum\(target_lengths\) = 9"),
    ({"targets": nabla.tensor(np.ones((3, 3)))}, RuntimeError, "integer labels"),
    ({"targets": nabla.tensor(np.ones((2, 3), np.int64))}, RuntimeError, "one row per sample"),
    ({"targets": [[1, 2, 3]] * 3}, TypeError, "targets must be a Tensor"),
    ({"log_probs": nabla.zeros(6, 3, 5, 1)}, RuntimeError, r"\(T, N, C\) or \(T, C\)"),
    ({"log_probs": nabla.zeros(0, 3, 5)}, RuntimeError, "must not be empty"),
    ({"reduction": "avg"}, ValueError, "ctc_loss: reduction must be one of"),
])
def test_ctc_loss_errors(changes, error, match):
    with pytest.raises(error, match=match):
        _bad(**changes)()


def test_ctc_loss_padding_past_the_length_is_not_read():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 2, 4))
    clean = np.array([[1, 2, 0], [3, 0, 0]])
    dirty = np.array([[1, 2, 99], [3, -5, 7]])  # junk where the lengths end
    il, tl = nabla.tensor([6, 6]), nabla.tensor([2, 1])
    a = ctc_loss(nabla.tensor(x), nabla.tensor(clean), il, tl, reduction="none")
    b = ctc_loss(nabla.tensor(x), nabla.tensor(dirty), il, tl, reduction="none")
    np.testing.assert_array_equal(a.numpy(), b.numpy())
