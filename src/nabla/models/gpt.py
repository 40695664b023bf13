"""GPT: a decoder-only Transformer language model (Radford et al., 2018; GPT-2, 2019).

The idea: drop the encoder, keep a stack of self-attention blocks whose causal mask lets
position t see only positions <= t, and train on next-token prediction p(x_t | x_<t) over raw
text. Every position of a sequence is a training example at once (unlike an RNN, no step
waits for the previous one). Pre-norm blocks (LayerNorm before attention and MLP, GELU), a final
LayerNorm, learned positions, and the output layer tied to the token embedding (one matrix
reads and writes tokens: fewer parameters, better perplexity; Press & Wolf, 2017).

Sampling: logits / temperature (below 1 sharpens, above 1 flattens), optionally only the k most
likely tokens kept (top-k), then a draw from the softmax.
"""

import math

from nabla.autograd.grad_mode import no_grad
from nabla.backend import array_module
from nabla.nn import init
from nabla.nn.modules.container import ModuleList
from nabla.nn.modules.dropout import Dropout
from nabla.nn.modules.linear import Linear
from nabla.nn.modules.module import Module
from nabla.nn.modules.normalization import LayerNorm
from nabla.nn.modules.positional import LearnedPositionalEmbedding
from nabla.nn.modules.sparse import Embedding
from nabla.nn.modules.transformer import TransformerEncoderLayer
from nabla.ops.join import cat
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["GPT", "sample_next"]


class GPT(Module):
    """Token embedding + learned positions -> ``n_layer`` causal pre-norm Transformer blocks
    -> LayerNorm -> linear head (weight tied to the embedding).

    Args:
        vocab_size: V.
        block_size: the longest context (positions).
        n_layer, n_head, n_embd: depth, attention heads, width E (MLP width 4E).
        dropout: on embeddings, attention weights and block outputs.
        tie_weights: share ``head.weight`` with ``tok_emb.weight``.

    Shape: ``forward(idx (N, T) int64)`` -> logits (N, T, V), T <= block_size.
    Parameters start from N(0, 0.02) (biases zero, LayerNorms one), as in GPT-2.
    """

    def __init__(self, vocab_size: int, block_size: int = 128, n_layer: int = 4,
                 n_head: int = 4, n_embd: int = 128, dropout: float = 0.1,
                 tie_weights: bool = True) -> None:
        super().__init__()
        self.block_size = block_size
        self.tok_emb = Embedding(vocab_size, n_embd)
        self.pos_emb = LearnedPositionalEmbedding(block_size, n_embd)
        self.drop = Dropout(dropout)
        self.blocks = ModuleList([
            TransformerEncoderLayer(n_embd, n_head, 4 * n_embd, dropout, activation="gelu",
                                    batch_first=True, norm_first=True)
            for _ in range(n_layer)])
        self.ln_f = LayerNorm(n_embd)
        self.head = Linear(n_embd, vocab_size, bias=False)
        self._init_weights(n_layer)
        if tie_weights:
            self.head.weight = self.tok_emb.weight

    def _init_weights(self, n_layer: int) -> None:
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                init.zeros_(p)
            elif p.ndim >= 2:
                # GPT-2: residual projections scaled by 1/sqrt(2 * layers), so the sum of the
                # residual branches keeps unit variance at the start
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith(
                    ("out_proj.weight", "linear2.weight")) else 0.02
                init.normal_(p, 0.0, std)

    def forward(self, idx: Tensor) -> Tensor:
        t = idx.shape[1]
        if t > self.block_size:
            raise ValueError(f"GPT: sequence of length {t} is longer than block_size "
                             f"{self.block_size}")
        x = self.drop(self.pos_emb(self.tok_emb(idx)))
        xp = array_module(idx._data)
        causal = ~xp.tril(xp.ones((t, t), dtype=bool))  # True = may not attend (the future)
        mask = Tensor._make(causal)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        return self.head(self.ln_f(x))

    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator=None) -> Tensor:
        """Extend ``idx`` (N, T) by ``max_new_tokens`` sampled tokens (eval mode, no grad;
        the context is cropped to the last ``block_size`` tokens). Returns (N, T + new)."""
        was_training = self.training
        self.eval()
        with no_grad():
            for _ in range(max_new_tokens):
                logits = self(idx[:, -self.block_size:])[:, -1]
                nxt = sample_next(logits, temperature, top_k, generator)
                idx = cat([idx, nxt], 1)
        self.train(was_training)
        return idx


def sample_next(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                generator=None) -> Tensor:
    """One token per row from softmax(logits / temperature), restricted to the ``top_k`` largest
    logits when given; temperature 0 takes the argmax.

    Args:
        logits: (N, V).

    Returns:
        (N, 1) int64.
    """
    z = logits._data
    xp = array_module(z)
    if temperature == 0:
        return Tensor._make(z.argmax(-1)[:, None].astype("int64"))
    z = z / temperature
    if top_k is not None and top_k < z.shape[-1]:
        kth = xp.partition(z, -top_k, axis=-1)[:, -top_k][:, None]
        z = xp.where(z < kth, -xp.inf, z)
    p = xp.exp(z - z.max(-1, keepdims=True))
    cdf = xp.cumsum(p, -1)
    u = xp.asarray(numpy_generator(generator).random((z.shape[0], 1))) * cdf[:, -1:]
    idx = (cdf < u).sum(-1, keepdims=True)  # inverse CDF: the first token whose cdf reaches u
    return Tensor._make(xp.minimum(idx, z.shape[-1] - 1).astype("int64"))
