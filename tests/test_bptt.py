"""Truncated BPTT: batchify, chunking, detaching the carried state, and a short training run;
the shipped corpus and the character LM."""

import importlib.util
import pathlib

import numpy as np
import pytest

import nabla
import nabla.nn as nn
from nabla.data import generate_fables, load_text
from nabla.models import CharLM, CharVocab, sample
from nabla.optim import Adam
from nabla.train.bptt import TBPTT, batchify, detach_hidden, truncated_bptt_batches


def test_batchify_columns_follow_the_stream():
    s = batchify(nabla.arange(23), 4)
    assert s.shape == (5, 4)
    np.testing.assert_array_equal(s._data[:, 1], np.arange(5, 10))


def test_chunks_cover_the_stream_with_targets_one_ahead():
    s = batchify(nabla.arange(40), 2)  # (20, 2)
    chunks = list(truncated_bptt_batches(s, 6))
    assert [x.shape[0] for x, _ in chunks] == [6, 6, 6, 1]
    for x, y in chunks:
        np.testing.assert_array_equal(y._data, x._data + 1)
    xb, yb = next(truncated_bptt_batches(s, 6, batch_first=True))
    assert xb.shape == (2, 6)


def test_detach_hidden_cuts_the_graph_and_keeps_values():
    lstm = nn.LSTM(2, 3)
    _, hidden = lstm(nabla.randn(4, 1, 2))
    cut = detach_hidden(hidden)
    assert isinstance(cut, tuple) and len(cut) == 2
    for a, b in zip(hidden, cut, strict=True):
        assert a.requires_grad and not b.requires_grad and b.grad_fn is None
        np.testing.assert_array_equal(a._data, b._data)
    assert detach_hidden(None) is None


def test_carried_state_is_detached_at_chunk_boundaries():
    """With the state carried and detached, the gradient of a chunk's loss reaches no input of
    an earlier chunk, while the forward values still depend on it."""
    rnn = nn.RNN(1, 4)
    x = nabla.randn(10, 1, 1, requires_grad=True)
    _, h = rnn(x[:5])
    y, _ = rnn(x[5:], detach_hidden(h))
    y.sum().backward()
    assert np.all(x.grad._data[:5] == 0) and np.any(x.grad._data[5:] != 0)


def test_tbptt_learns_a_periodic_stream():
    nabla.manual_seed(0)
    vocab = CharVocab("abcd")
    stream = batchify(vocab.encode("abcd" * 200), 8)
    model = CharLM(len(vocab), embed_dim=8, hidden_size=16, cell="gru")
    tbptt = TBPTT(model, Adam(model.parameters(), lr=1e-2), seq_len=10, clip_norm=1.0)
    first = tbptt.train_epoch(stream)
    for _ in range(3):
        tbptt.train_epoch(stream)
    assert tbptt.evaluate(stream) < 0.2 < first
    text = sample(model, vocab, "ab", 12, temperature=0.5, generator=nabla.Generator(0))
    assert text == "cdabcdabcdab"


def test_sample_rejects_bad_arguments():
    vocab = CharVocab("ab")
    model = CharLM(2, 4, 8)
    with pytest.raises(ValueError, match="temperature"):
        sample(model, vocab, "a", 3, temperature=0)
    with pytest.raises(ValueError, match="prime"):
        sample(model, vocab, "", 3)


def test_shipped_corpus_is_the_generated_one():
    text = load_text()
    assert 20_000 < len(text.encode()) < 100_000
    assert text == generate_fables()


def _example(name: str):
    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_char_lm_example_fast():
    results = _example("char_lm").main(fast=True)
    for r in results.values():
        assert r["val_bpc"] < r["uniform_bpc"]
        assert all(len(s) == 160 for s in r["samples"].values())
