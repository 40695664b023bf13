"""Sequence to sequence with attention (Sutskever et al., 2014; Bahdanau et al., 2014; Luong et
al., 2015).

The idea: an encoder RNN reads the source; a decoder RNN writes the target one token at a time.
Squeezing the whole source into one vector is a bottleneck, so at every output step the decoder
*attends*: it scores each encoder state against its own state, turns the scores into weights
with a softmax (the alignment) and reads their weighted average (the context).

* additive (Bahdanau): score(s, h_j) = v^T tanh(W_q s + W_k h_j), computed from the previous
  decoder state, the context fed into the GRU with the input token;
* multiplicative (Luong, "general"): score(s, h_j) = s^T W h_j, computed from the new decoder
  state, the output read from tanh(W_c [s; context]).

Training uses teacher forcing (the true previous token is fed in, with probability
``teacher_forcing_ratio``); inference decodes greedily (the most likely token each step).
Token ids: 0 = padding, 1 = start (SOS), 2 = end (EOS).
"""

import math

from nabla.autograd.grad_mode import no_grad
from nabla.backend import array_module
from nabla.creation import full
from nabla.nn.modules.linear import Linear
from nabla.nn.modules.module import Module
from nabla.nn.modules.recurrent import GRU, GRUCell
from nabla.nn.modules.sparse import Embedding
from nabla.ops.elementwise import masked_fill, tanh
from nabla.ops.join import cat, stack
from nabla.ops.linalg import matmul
from nabla.ops.reduce import sum as tsum
from nabla.ops.shape import squeeze, unsqueeze
from nabla.ops.softmax_family import softmax
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["AdditiveAttention", "MultiplicativeAttention", "Seq2Seq", "PAD", "SOS", "EOS"]

PAD, SOS, EOS = 0, 1, 2


def _context(scores: Tensor, keys: Tensor, mask) -> tuple:
    """softmax over the valid source positions, and the weighted average of ``keys``."""
    scores = masked_fill(scores, ~mask, -math.inf)
    weights = softmax(scores, -1)  # (N, S)
    return squeeze(matmul(unsqueeze(weights, 1), keys), 1), weights


class AdditiveAttention(Module):
    """Bahdanau attention: score(s, h_j) = v^T tanh(W_q s + W_k h_j).

    Shape: ``forward(query (N, Dq), projected (N, S, A), keys (N, S, Dk), mask (N, S) bool,
    True = real token)`` -> (context (N, Dk), weights (N, S)); ``project_keys(keys)`` -> W_k h,
    computed once per source sequence.
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.query_proj = Linear(query_dim, hidden_dim, bias=False)
        self.key_proj = Linear(key_dim, hidden_dim)
        self.v = Linear(hidden_dim, 1, bias=False)

    def project_keys(self, keys: Tensor) -> Tensor:
        return self.key_proj(keys)

    def forward(self, query, projected, keys, mask) -> tuple:
        energy = tanh(unsqueeze(self.query_proj(query), 1) + projected)  # (N, S, A)
        return _context(squeeze(self.v(energy), -1), keys, mask)


class MultiplicativeAttention(Module):
    """Luong's "general" attention: score(s, h_j) = s^T W h_j (W h_j precomputed per source).

    Shape: as ``AdditiveAttention``; ``project_keys(keys)`` -> W h (N, S, Dq).
    """

    def __init__(self, query_dim: int, key_dim: int) -> None:
        super().__init__()
        self.key_proj = Linear(key_dim, query_dim, bias=False)

    def project_keys(self, keys: Tensor) -> Tensor:
        return self.key_proj(keys)

    def forward(self, query, projected, keys, mask) -> tuple:
        scores = squeeze(matmul(projected, unsqueeze(query, -1)), -1)  # (N, S)
        return _context(scores, keys, mask)


class Seq2Seq(Module):
    """A bidirectional GRU encoder and a GRUCell decoder with attention.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes (ids 0, 1, 2 reserved for PAD, SOS, EOS).
        embed_dim: token embedding size.
        hidden_size: H of the decoder and of each encoder direction (keys are 2H wide).
        attention: "additive" (Bahdanau) or "multiplicative" (Luong).

    Shape: ``forward(src (N, S), tgt_in (N, T))`` -> (logits (N, T, V), weights (N, T, S)),
    with tgt_in = SOS followed by the target; ``greedy_decode(src, max_len)`` -> (tokens
    (N, max_len), weights (N, max_len, S)).
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, embed_dim: int = 32,
                 hidden_size: int = 64, attention: str = "additive") -> None:
        super().__init__()
        if attention not in ("additive", "multiplicative"):
            raise ValueError(f"attention must be 'additive' or 'multiplicative', got "
                             f"{attention!r}")
        h = hidden_size
        self.kind = attention
        self.src_emb = Embedding(src_vocab, embed_dim, padding_idx=PAD)
        self.encoder = GRU(embed_dim, h, batch_first=True, bidirectional=True)
        self.bridge = Linear(2 * h, h)  # the decoder's first state from the mean encoder state
        self.tgt_emb = Embedding(tgt_vocab, embed_dim)
        if attention == "additive":
            self.attention = AdditiveAttention(h, 2 * h, h)
            self.cell = GRUCell(embed_dim + 2 * h, h)
            self.out = Linear(h + 2 * h + embed_dim, tgt_vocab)
        else:
            self.attention = MultiplicativeAttention(h, 2 * h)
            self.cell = GRUCell(embed_dim, h)
            self.combine = Linear(h + 2 * h, h)
            self.out = Linear(h, tgt_vocab)

    def encode(self, src: Tensor) -> tuple:
        """(encoder states (N, S, 2H), their projection for attention, mask (N, S) bool array,
        the decoder's first state (N, H))."""
        mask = src._data != PAD
        keys, _ = self.encoder(self.src_emb(src))
        valid = Tensor._make(mask[..., None].astype(keys.dtype))
        mean = tsum(keys * valid, 1) / Tensor._make(mask.sum(1, keepdims=True)
                                                    .astype(keys.dtype))
        return keys, self.attention.project_keys(keys), mask, tanh(self.bridge(mean))

    def step(self, token: Tensor, state: Tensor, keys, projected, mask) -> tuple:
        """One decoder step: (logits (N, V), new state (N, H), attention weights (N, S))."""
        emb = self.tgt_emb(token)
        if self.kind == "additive":
            context, weights = self.attention(state, projected, keys, mask)
            state = self.cell(cat([emb, context], -1), state)
            logits = self.out(cat([state, context, emb], -1))
        else:
            state = self.cell(emb, state)
            context, weights = self.attention(state, projected, keys, mask)
            logits = self.out(tanh(self.combine(cat([state, context], -1))))
        return logits, state, weights

    def forward(self, src: Tensor, tgt_in: Tensor, teacher_forcing_ratio: float = 1.0,
                generator=None) -> tuple:
        keys, projected, mask, state = self.encode(src)
        token = tgt_in[:, 0]
        rng = numpy_generator(generator)
        all_logits, all_weights = [], []
        for t in range(tgt_in.shape[1]):
            logits, state, weights = self.step(token, state, keys, projected, mask)
            all_logits.append(logits)
            all_weights.append(weights)
            if t + 1 < tgt_in.shape[1]:
                teacher = teacher_forcing_ratio >= 1 or rng.random() < teacher_forcing_ratio
                token = tgt_in[:, t + 1] if teacher else logits.detach().argmax(-1)
        return stack(all_logits, 1), stack(all_weights, 1)

    def greedy_decode(self, src: Tensor, max_len: int) -> tuple:
        """Feed back the most likely token each step, starting from SOS, until every row has
        produced EOS or ``max_len`` tokens (no grad)."""
        with no_grad():
            keys, projected, mask, state = self.encode(src)
            token = full((src.shape[0],), SOS, dtype="int64")
            tokens, all_weights = [], []
            done = array_module(mask).zeros(src.shape[0], dtype=bool)
            for _ in range(max_len):
                logits, state, weights = self.step(token, state, keys, projected, mask)
                token = logits.argmax(-1)
                tokens.append(token)
                all_weights.append(weights)
                done |= token._data == EOS
                if done.all():
                    break
            return stack(tokens, 1), stack(all_weights, 1)
