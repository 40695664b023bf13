"""BERT: the masking rule's statistics, both heads' shapes, weight tying, bidirectional context
(unlike GPT), a PyTorch twin with the same weights, state_dict round trip, a short pre-training
run, and the example's fast mode."""

import importlib.util
import pathlib
import sys

import numpy as np
import pytest
import torch
from test_attention import check_twin

import nabla
import nabla.nn.functional as F
from nabla.data import load_text
from nabla.models import (
    BERT,
    SPECIAL_TOKENS,
    BertForMaskedLM,
    BertForSequenceClassification,
    BertVocab,
    mask_tokens,
)

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
SMALL = dict(max_len=12, n_layer=2, n_head=2, n_embd=16, dropout=0.0)


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_vocab_puts_the_special_tokens_first():
    vocab = BertVocab("a cab.")
    assert (vocab.pad_id, vocab.cls_id, vocab.sep_id, vocab.mask_id) == (0, 1, 2, 3)
    assert SPECIAL_TOKENS == ("[PAD]", "[CLS]", "[SEP]", "[MASK]")
    assert vocab.chars[:4] == list(SPECIAL_TOKENS)
    assert len(vocab) == 4 + 5 and vocab.special_ids == (0, 1, 2, 3)
    ids = vocab.encode("cab")
    assert ids.dtype == nabla.int64 and ids.numpy().min() >= 4
    assert vocab.decode([1, *ids.numpy(), 3]) == "[CLS]cab[MASK]"


def test_mask_tokens_follows_berts_80_10_10_rule():
    vocab_size, mask_id, pad_id, cls_id = 50, 3, 0, 1
    rng = np.random.default_rng(0)
    ids = rng.integers(4, vocab_size, (400, 64))
    ids[:, 0] = cls_id
    ids[:, 50:] = pad_id  # padding at the end of every row
    inputs, labels = mask_tokens(nabla.tensor(ids), mask_id, vocab_size,
                                 generator=nabla.Generator(0), special_ids=(pad_id, cls_id, 2))
    x, y = inputs.numpy(), labels.numpy()
    assert x.dtype == y.dtype == np.int64 and x.shape == y.shape == ids.shape
    chosen = y != -100
    assert not chosen[:, 0].any() and not chosen[:, 50:].any()  # [CLS] and [PAD] never chosen
    assert (x[:, 50:] == pad_id).all() and (x[:, 0] == cls_id).all()
    np.testing.assert_array_equal(y[chosen], ids[chosen])  # labels: the original ids
    assert (x[~chosen] == ids[~chosen]).all()  # nothing changes outside the chosen positions
    assert abs(chosen[:, 1:50].mean() - 0.15) < 0.01
    masked = (x == mask_id) & chosen
    unchanged = (x == ids) & chosen
    replaced = chosen & ~masked & ~unchanged
    n = chosen.sum()
    assert abs(masked.sum() / n - 0.8) < 0.02
    # a random draw equal to the original counts as unchanged: 0.1 + 0.1 / 46
    assert abs(unchanged.sum() / n - 0.1 - 0.1 / 46) < 0.015
    assert abs(replaced.sum() / n - 0.1 * 45 / 46) < 0.015
    assert x[replaced].min() >= 4  # random tokens are ordinary ones, never special or [MASK]


def test_mask_tokens_is_reproducible_and_checks_p():
    ids = nabla.randint(4, 20, (3, 10))
    a = mask_tokens(ids, 3, 20, generator=nabla.Generator(5))
    b = mask_tokens(ids, 3, 20, generator=nabla.Generator(5))
    assert all(np.array_equal(u.numpy(), v.numpy()) for u, v in zip(a, b, strict=True))
    with pytest.raises(ValueError, match="p must be in"):
        mask_tokens(ids, 3, 20, p=1.5)


def test_heads_have_the_right_shapes_and_the_mlm_decoder_is_tied():
    mlm = BertForMaskedLM(30, **SMALL)
    idx = nabla.randint(0, 30, (3, 12))
    assert tuple(mlm.bert(idx).shape) == (3, 12, 16)
    assert tuple(mlm(idx).shape) == (3, 12, 30)
    assert mlm.head.decoder.weight is mlm.bert.tok_emb.weight
    assert len(list(mlm.parameters())) == len(set(map(id, mlm.parameters())))
    clf = BertForSequenceClassification(30, num_labels=3, norm_first=False, **SMALL)
    assert tuple(clf(idx).shape) == (3, 3)  # the paper's post-norm layers
    assert clf.bert.emb_norm is not None and clf.bert.encoder.norm is None
    with pytest.raises(ValueError, match="type_vocab_size is 0"):
        BERT(30, type_vocab_size=0, **SMALL)(idx, token_type_ids=idx * 0)
    with pytest.raises(ValueError, match="max_len"):
        mlm(nabla.randint(0, 30, (1, 13)))


@nabla.no_grad()
def test_every_position_sees_the_whole_sequence_unlike_gpt():
    model = BERT(20, **SMALL).eval()
    idx = nabla.randint(4, 20, (2, 10))
    later = idx.clone()
    later[:, 7] = (later[:, 7] + 1) % 20
    a, b = model(idx).numpy(), model(later).numpy()
    assert not np.allclose(a[:, 0], b[:, 0], atol=1e-6)  # the first position sees position 7
    segments = nabla.tensor(np.array([[0] * 5 + [1] * 5] * 2))
    assert not np.allclose(model(idx, token_type_ids=segments).numpy(), a, atol=1e-6)
    pad = nabla.tensor(np.array([[False] * 8 + [True] * 2] * 2))
    masked_out = model(idx, key_padding_mask=pad).numpy()
    other = idx.clone()
    other[:, 8:] = 0  # what sits under the padding does not matter
    np.testing.assert_allclose(model(other, key_padding_mask=pad).numpy()[:, :8],
                               masked_out[:, :8], rtol=1e-5, atol=1e-6)


class TorchBertMLM(torch.nn.Module):
    """The same network from PyTorch layers, with nabla's state_dict keys."""

    def __init__(self, vocab, max_len, layers, heads, width):
        super().__init__()
        self.bert = torch.nn.Module()
        self.bert.tok_emb = torch.nn.Embedding(vocab, width)
        self.bert.pos_emb = torch.nn.Module()
        self.bert.pos_emb.weight = torch.nn.Parameter(torch.zeros(max_len, width))
        self.bert.seg_emb = torch.nn.Embedding(2, width)
        layer = torch.nn.TransformerEncoderLayer(width, heads, 4 * width, 0.0, activation="gelu",
                                                 batch_first=True, norm_first=True)
        self.bert.encoder = torch.nn.TransformerEncoder(layer, layers, torch.nn.LayerNorm(width),
                                                        enable_nested_tensor=False)
        self.head = torch.nn.Module()
        self.head.dense = torch.nn.Linear(width, width)
        self.head.norm = torch.nn.LayerNorm(width)
        self.head.decoder = torch.nn.Linear(width, vocab)
        self.head.decoder.weight = self.bert.tok_emb.weight

    def forward(self, idx):
        b = self.bert
        x = b.tok_emb(idx) + b.pos_emb.weight[:idx.shape[1]] + b.seg_emb(torch.zeros_like(idx))
        h = self.head
        return h.decoder(h.norm(torch.nn.functional.gelu(h.dense(b.encoder(x)))) / 16 ** 0.5)


def test_bert_mlm_matches_a_torch_twin():
    model = BertForMaskedLM(11, **SMALL)
    twin = TorchBertMLM(11, 12, 2, 2, 16)
    check_twin(model, twin, torch.randint(0, 11, (3, 9)))


@nabla.no_grad()
def test_state_dict_round_trip_and_encoder_transfer(tmp_path):
    mlm = BertForMaskedLM(25, **SMALL).eval()
    nabla.save(mlm.state_dict(), tmp_path / "bert.pt")
    again = BertForMaskedLM(25, **SMALL).eval()
    again.load_state_dict(nabla.load(tmp_path / "bert.pt"))
    assert again.head.decoder.weight is again.bert.tok_emb.weight  # still tied after loading
    idx = nabla.randint(0, 25, (2, 12))
    np.testing.assert_array_equal(again(idx).numpy(), mlm(idx).numpy())
    clf = BertForSequenceClassification(25, **SMALL).eval()
    clf.bert.load_state_dict(mlm.bert.state_dict())  # fine-tuning starts from the pre-trained
    np.testing.assert_array_equal(clf.bert(idx).numpy(), mlm.bert(idx).numpy())


def test_a_short_pretraining_run_lowers_the_mlm_loss():
    nabla.manual_seed(0)
    text = load_text()[:5000]
    vocab = BertVocab(text)
    data = vocab.encode(text).numpy()
    rng = np.random.default_rng(0)
    model = BertForMaskedLM(len(vocab), max_len=24, n_layer=1, n_head=2, n_embd=32, dropout=0.0)
    opt = nabla.optim.AdamW(model.parameters(), lr=3e-3)
    gen = nabla.Generator(0)
    losses = []
    for _ in range(40):
        starts = rng.integers(0, len(data) - 23, 16)
        ids = nabla.tensor(np.stack([np.r_[vocab.cls_id, data[s:s + 23]] for s in starts]))
        x, y = mask_tokens(ids, vocab.mask_id, len(vocab), generator=gen,
                           special_ids=vocab.special_ids)
        loss = F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[:3]) > 0.9 * np.log(len(vocab))  # the start: about a uniform guess
    assert np.mean(losses[-10:]) < np.mean(losses[:3]) - 0.5  # letter frequencies, at least


def test_bert_example_runs_fast_mode():
    results = load("bert_fables").main(fast=True)
    assert 0 < results["mlm_loss"] and 0 <= results["mlm_accuracy"] <= 1
    for key in ("pretrained_accuracy", "scratch_accuracy"):
        assert 0 <= results[key] <= 1
    text = (EXAMPLES / "bert_fables.py").read_text()
    assert text.startswith('"""') and "Topics" in text[:1500]
