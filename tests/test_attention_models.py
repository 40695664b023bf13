"""Models built on attention: GPT and ViT against PyTorch twins with the same weights, the
seq2seq attention model's masks and decoding, sampling, and the examples' fast modes."""

import importlib.util
import math
import pathlib
import sys

import numpy as np
import pytest
import torch
from test_attention import check_twin

import nabla
from nabla.autograd import gradcheck
from nabla.models.gpt import GPT, sample_next
from nabla.models.seq2seq import EOS, PAD, AdditiveAttention, MultiplicativeAttention, Seq2Seq
from nabla.models.vit import ViT

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


# -- PyTorch twins -----------------------------------------------------------------------------
class TorchGPT(torch.nn.Module):
    def __init__(self, vocab, block, layers, heads, width):
        super().__init__()
        self.tok_emb = torch.nn.Embedding(vocab, width)
        self.pos_emb = torch.nn.Module()
        self.pos_emb.weight = torch.nn.Parameter(torch.zeros(block, width))
        self.drop = torch.nn.Dropout(0.0)
        self.blocks = torch.nn.ModuleList([
            torch.nn.TransformerEncoderLayer(width, heads, 4 * width, 0.0, activation="gelu",
                                             batch_first=True, norm_first=True)
            for _ in range(layers)])
        self.ln_f = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, vocab, bias=False)
        self.head.weight = self.tok_emb.weight

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb.weight[:t]
        mask = torch.nn.Transformer.generate_square_subsequent_mask(t)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        return self.head(self.ln_f(x))


def test_gpt_matches_torch_twin():
    model = GPT(11, block_size=8, n_layer=2, n_head=2, n_embd=16, dropout=0.0)
    twin = TorchGPT(11, 8, 2, 2, 16)
    check_twin(model, twin, torch.randint(0, 11, (3, 7)))


def test_gpt_is_causal_and_tied():
    model = GPT(13, block_size=10, n_layer=1, n_head=2, n_embd=8, dropout=0.0)
    assert model.head.weight is model.tok_emb.weight
    assert len(list(model.parameters())) == len(set(map(id, model.parameters())))
    idx = nabla.randint(0, 13, (2, 10))
    other = idx.clone()
    other[:, 6:] = (other[:, 6:] + 1) % 13
    a, b = model(idx).detach().numpy(), model(other).detach().numpy()
    np.testing.assert_allclose(a[:, :6], b[:, :6], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[:, 6:], b[:, 6:])
    with pytest.raises(ValueError, match="block_size"):
        model(nabla.randint(0, 13, (1, 11)))


def test_sampling_temperature_and_top_k():
    logits = nabla.tensor(np.log(np.array([[0.5, 0.3, 0.15, 0.05]] * 4000, np.float32)))
    draws = sample_next(logits, 1.0, None, nabla.Generator(0)).numpy().ravel()
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, [0.5, 0.3, 0.15, 0.05], atol=0.03)
    top2 = sample_next(logits, 1.0, 2, nabla.Generator(0)).numpy().ravel()
    assert set(top2) == {0, 1}
    assert abs(np.mean(top2 == 0) - 0.5 / 0.8) < 0.03
    cold = sample_next(logits, 0.1, None, nabla.Generator(0)).numpy().ravel()
    assert np.mean(cold == 0) > 0.99
    assert set(sample_next(logits, 0, None).numpy().ravel()) == {0}


def test_gpt_generate_shape_and_greedy_repeatable():
    model = GPT(9, block_size=6, n_layer=1, n_head=2, n_embd=8)
    prompt = nabla.tensor([[1, 2, 3]])
    out = model.generate(prompt, 8, temperature=0)
    assert tuple(out.shape) == (1, 11) and model.training
    assert np.array_equal(out.numpy(), model.generate(prompt, 8, temperature=0).numpy())
    assert np.array_equal(out.numpy()[:, :3], prompt.numpy())


class TorchViT(torch.nn.Module):
    def __init__(self, dim, depth, heads, mlp):
        super().__init__()
        self.patch_embed = torch.nn.Conv2d(1, dim, 2, stride=2)
        self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = torch.nn.Module()
        self.pos_embed.weight = torch.nn.Parameter(torch.zeros(17, dim))
        layer = torch.nn.TransformerEncoderLayer(dim, heads, mlp, 0.0, activation="gelu",
                                                 batch_first=True, norm_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, depth, torch.nn.LayerNorm(dim),
                                                   enable_nested_tensor=False)
        self.head = torch.nn.Linear(dim, 10)

    def forward(self, x):
        p = self.patch_embed(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), p], 1) + self.pos_embed.weight
        return self.head(self.encoder(t)[:, 0])


def test_vit_matches_torch_twin():
    model = ViT(8, 2, 1, 10, dim=16, depth=2, heads=2, mlp_dim=32, dropout=0.0)
    twin = TorchViT(16, 2, 2, 32)
    check_twin(model, twin, torch.rand(4, 1, 8, 8))
    with pytest.raises(ValueError, match="multiple"):
        ViT(image_size=8, patch_size=3)


# -- seq2seq ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["additive", "multiplicative"])
def test_attention_scores_match_formula_and_gradcheck(kind, rng):
    n, s, dq, dk = 2, 5, 3, 4
    att = (AdditiveAttention(dq, dk, 6) if kind == "additive"
           else MultiplicativeAttention(dq, dk)).to(nabla.float64)
    query = nabla.tensor(rng.standard_normal((n, dq)), requires_grad=True)
    keys = nabla.tensor(rng.standard_normal((n, s, dk)), requires_grad=True)
    mask = np.ones((n, s), bool)
    mask[1, 3:] = False
    ctx, w = att(query, att.project_keys(keys), keys, mask)
    q, k = query.detach().numpy(), keys.detach().numpy()
    if kind == "additive":
        wq, wk = att.query_proj.weight.detach().numpy(), att.key_proj.weight.detach().numpy()
        e = np.tanh((q @ wq.T)[:, None] + k @ wk.T + att.key_proj.bias.detach().numpy())
        scores = (e @ att.v.weight.detach().numpy().T)[..., 0]
    else:
        scores = np.einsum("nsq,nq->ns", k @ att.key_proj.weight.detach().numpy().T, q)
    scores = np.where(mask, scores, -np.inf)
    want = np.exp(scores - scores.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    np.testing.assert_allclose(w.detach().numpy(), want, rtol=1e-10)
    np.testing.assert_allclose(ctx.detach().numpy(), np.einsum("ns,nsk->nk", want, k),
                               rtol=1e-10)
    assert gradcheck(lambda q, k: att(q, att.project_keys(k), k, mask)[0], (query, keys))


def _toy_batch():
    src = nabla.tensor([[3, 4, 5, 0], [6, 7, 8, 9]])
    tgt_in = nabla.tensor([[1, 5, 4, 3, 0], [1, 9, 8, 7, 6]])
    return src, tgt_in


@pytest.mark.parametrize("kind", ["additive", "multiplicative"])
def test_seq2seq_shapes_masks_and_teacher_forcing(kind):
    model = Seq2Seq(10, 10, embed_dim=8, hidden_size=12, attention=kind)
    src, tgt_in = _toy_batch()
    logits, weights = model(src, tgt_in)
    assert tuple(logits.shape) == (2, 5, 10) and tuple(weights.shape) == (2, 5, 4)
    w = weights.detach().numpy()
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
    assert np.all(w[0, :, 3] == 0)  # the padded source position is never read
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    free, _ = model(src, tgt_in, teacher_forcing_ratio=0.0)
    np.testing.assert_allclose(free.detach().numpy()[:, 0], logits.detach().numpy()[:, 0])
    tokens, dec_w = model.greedy_decode(src, 6)
    assert tokens.shape[0] == 2 and tokens.shape[1] <= 6 and dec_w.shape[2] == 4
    with pytest.raises(ValueError, match="additive"):
        Seq2Seq(10, 10, attention="dot")


def test_seq2seq_learns_to_copy_a_fixed_pair():
    """Overfit one batch: greedy decoding then reproduces the targets up to EOS."""
    nabla.manual_seed(0)
    model = Seq2Seq(10, 10, embed_dim=8, hidden_size=16)
    src, tgt_in = _toy_batch()
    tgt_out = nabla.tensor([[5, 4, 3, EOS, PAD], [9, 8, 7, 6, EOS]])
    opt = nabla.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        logits, _ = model(src, tgt_in)
        loss = nabla.nn.functional.cross_entropy(logits.reshape(-1, 10), tgt_out.reshape(-1),
                                                 ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        opt.step()
    tokens, _ = model.greedy_decode(src, 5)
    assert tokens.numpy()[0, :4].tolist() == [5, 4, 3, EOS]
    assert tokens.numpy()[1, :5].tolist() == [9, 8, 7, 6, EOS]


# -- the examples' fast modes -------------------------------------------------------------------
def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_seq2seq_example_fast(tmp_path):
    results = _load("seq2seq_attention").main(fast=True, attention="additive",
                                              out=str(tmp_path))
    assert 0.0 <= results["additive"] <= 1.0
    pytest.importorskip("matplotlib")
    assert (tmp_path / "seq2seq_attention_additive.png").stat().st_size > 1000


def test_gpt_char_example_fast():
    r = _load("gpt_char").main(fast=True)
    assert r["val_bpc"] < r["uniform_bpc"] and math.isfinite(r["val_bpc"])
    assert all(s.startswith("The ") and len(s) == 154 for s in r["samples"].values())


def test_vit_example_fast():
    r = _load("vit_digits").main(fast=True)
    assert 0.0 <= r["test_acc"] <= 1.0


@pytest.mark.parametrize("name", ["seq2seq_attention", "gpt_char", "vit_digits"])
def test_examples_state_their_topics_and_measured_numbers(name):
    text = (EXAMPLES / f"{name}.py").read_text()
    assert text.startswith('"""') and "Topics" in text[:1500] and "Measured" in text[:1500]
