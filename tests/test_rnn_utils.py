"""nn.utils.rnn against torch.nn.utils.rnn: padding, packing, unpacking, and gradients."""

import numpy as np
import pytest
import torch
from conftest import assert_close, to_torch

import nabla
from nabla.nn.utils import rnn


def _seqs(lengths, rng, feat=3):
    arrays = [rng.normal(size=(n, feat)) for n in lengths]
    return ([nabla.tensor(a, requires_grad=True) for a in arrays],
            [to_torch(a, requires_grad=True) for a in arrays])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch_with_grads(batch_first, padding_side):
    rng = np.random.default_rng(0)
    ns, ts = _seqs([4, 2, 5], rng)
    a = rnn.pad_sequence(ns, batch_first=batch_first, padding_value=-1.0,
                         padding_side=padding_side)
    b = torch.nn.utils.rnn.pad_sequence(ts, batch_first=batch_first, padding_value=-1.0,
                                        padding_side=padding_side)
    assert_close(a, b, what="pad_sequence")
    g = rng.normal(size=b.shape)
    (a * nabla.tensor(g)).sum().backward()
    (b * torch.from_numpy(g)).sum().backward()
    for x, y in zip(ns, ts, strict=True):
        assert_close(x.grad, y.grad, what="pad_sequence grad")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 4, 2], True), ([2, 5, 1, 4], False)])
def test_pack_and_pad_packed_round_trip(batch_first, lengths, enforce_sorted):
    rng = np.random.default_rng(1)
    shape = (len(lengths), 5, 3) if batch_first else (5, len(lengths), 3)
    x = rng.normal(size=shape)
    xn, xt = nabla.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    pn = rnn.pack_padded_sequence(xn, lengths, batch_first, enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first, enforce_sorted)
    assert_close(pn.data, pt.data, what="packed data")
    assert_close(pn.batch_sizes, pt.batch_sizes, what="batch_sizes")
    if enforce_sorted:
        assert pn.sorted_indices is None and pt.sorted_indices is None
    else:
        assert_close(pn.sorted_indices, pt.sorted_indices, what="sorted_indices")
        assert_close(pn.unsorted_indices, pt.unsorted_indices, what="unsorted_indices")
    (an, ln), (at, lt) = (rnn.pad_packed_sequence(pn, batch_first, 9.0, total_length=6),
                          torch.nn.utils.rnn.pad_packed_sequence(pt, batch_first, 9.0,
                                                                 total_length=6))
    assert_close(an, at, what="pad_packed_sequence")
    assert_close(ln, lt, what="lengths")
    g = rng.normal(size=at.shape)
    (an * nabla.tensor(g)).sum().backward()
    (at * torch.from_numpy(g)).sum().backward()
    assert_close(xn.grad, xt.grad, what="round-trip grad")


def test_pack_sequence_and_unpack():
    rng = np.random.default_rng(2)
    ns, ts = _seqs([2, 4, 3], rng)
    pn = rnn.pack_sequence(ns, enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence(ts, enforce_sorted=False)
    assert_close(pn.data, pt.data, what="pack_sequence")
    for a, b in zip(rnn.unpack_sequence(pn), torch.nn.utils.rnn.unpack_sequence(pt),
                    strict=True):
        assert_close(a, b, what="unpack_sequence")


def test_errors():
    x = nabla.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match="sorted in decreasing"):
        rnn.pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match="at least 1"):
        rnn.pack_padded_sequence(x, [4, 0, 0])
    with pytest.raises(RuntimeError, match="exceeds"):
        rnn.pack_padded_sequence(x, [5, 1, 1])
    packed = rnn.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="total_length"):
        rnn.pad_packed_sequence(packed, total_length=2)
