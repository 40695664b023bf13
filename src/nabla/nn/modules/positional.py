"""Positional encodings: attention is blind to order (permuting the keys permutes nothing in the
output), so the position of each token is added to its embedding.

* ``SinusoidalPositionalEncoding`` (the Transformer paper's): fixed waves,
  PE[pos, 2i] = sin(pos / 10000^(2i / d)), PE[pos, 2i + 1] = cos(pos / 10000^(2i / d)); each
  dimension is a different wavelength, and PE[pos + k] is a linear function of PE[pos].
* ``LearnedPositionalEmbedding`` (GPT's, BERT's, ViT's): one learned vector per position.

PyTorch has no such layer; the sinusoidal one follows its tutorial's ``PositionalEncoding``
(dropout after adding, ``max_len``), with ``batch_first`` as in ``nn.Transformer``.
"""

import math

from nabla.creation import arange, empty, zeros
from nabla.nn import init
from nabla.nn.functional.dropout_masks import dropout
from nabla.nn.modules.module import Module
from nabla.nn.parameter import Parameter
from nabla.ops.elementwise import cos, exp, sin
from nabla.ops.shape import unsqueeze
from nabla.tensor import Tensor

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEmbedding",
           "sinusoidal_position_table"]


def sinusoidal_position_table(max_len: int, d_model: int, dtype=None) -> Tensor:
    """(max_len, d_model) table: sin on even dims, cos on odd dims, wavelengths from 2 pi to
    10000 * 2 pi."""
    position = unsqueeze(arange(max_len, dtype=dtype or "float32"), 1)
    div_term = exp(arange(0, d_model, 2, dtype=dtype or "float32") * (-math.log(10000.0)
                                                                       / d_model))
    angles = position * div_term
    pe = zeros(max_len, d_model, dtype=dtype or "float32")
    pe[:, 0::2] = sin(angles)
    pe[:, 1::2] = cos(angles)[:, :d_model // 2]
    return pe


def _check_len(length: int, max_len: int) -> None:
    if length > max_len:
        raise ValueError(f"sequence of length {length} is longer than max_len={max_len}")


class SinusoidalPositionalEncoding(Module):
    """x + PE[:L] (fixed sinusoids), then dropout.

    Args:
        d_model: E, the embedding size.
        dropout: dropout probability after the addition.
        max_len: the longest sequence.
        batch_first: input (N, L, E) instead of (L, N, E).

    Shape: (L, N, E) or (N, L, E) -> the same. The table is a non-persistent buffer ``pe``
    (max_len, E): recomputed, not saved in the state_dict.
    """

    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000,
                 batch_first: bool = False, dtype=None) -> None:
        super().__init__()
        self.p = dropout
        self.max_len = max_len
        self.batch_first = batch_first
        self.register_buffer("pe", sinusoidal_position_table(max_len, d_model, dtype),
                             persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        length = x.shape[1 if self.batch_first else 0]
        _check_len(length, self.max_len)
        pe = self.pe[:length]
        x = x + (pe if self.batch_first else unsqueeze(pe, 1))
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"d_model={self.pe.shape[1]}, max_len={self.max_len}, dropout={self.p}"


class LearnedPositionalEmbedding(Module):
    """x + W[:L], one learned vector per position (``weight`` (max_len, E), drawn from
    N(0, 0.02^2) as in GPT-2).

    Shape: (N, L, E) if batch_first (default) else (L, N, E) -> the same.
    """

    def __init__(self, max_len: int, d_model: int, batch_first: bool = True,
                 dtype=None) -> None:
        super().__init__()
        self.max_len = max_len
        self.batch_first = batch_first
        self.weight = Parameter(empty(max_len, d_model, dtype=dtype))
        init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x: Tensor) -> Tensor:
        length = x.shape[1 if self.batch_first else 0]
        _check_len(length, self.max_len)
        pe = self.weight[:length]
        return x + (pe if self.batch_first else unsqueeze(pe, 1))

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.weight.shape[1]}"
