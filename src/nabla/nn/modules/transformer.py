"""The Transformer of "Attention Is All You Need" (2017), as PyTorch's ``nn.Transformer*`` layers:
the same constructor arguments, submodule names and state_dict keys, so PyTorch weights load
and give the same outputs and gradients.

An encoder layer is self-attention then a position-wise feed-forward net, each wrapped in a
residual connection and a LayerNorm: post-norm ``x = norm(x + block(x))`` (the paper), or
pre-norm ``x = x + block(norm(x))`` with ``norm_first=True`` (trains more stably when deep).
A decoder layer adds attention over the encoder's output (the memory) between the two.

PyTorch's inference fast paths (eval mode, no gradient) are not reproduced, except that
``TransformerEncoder`` zeroes padded positions as PyTorch's nested-tensor path does there.
"""

import copy
from collections.abc import Callable

from nabla.backend import array_module
from nabla.creation import full
from nabla.nn import init
from nabla.nn.functional.activation import gelu, relu
from nabla.nn.functional.attention import _fast_path
from nabla.nn.modules.activation import GELU, ReLU
from nabla.nn.modules.attention import MultiheadAttention
from nabla.nn.modules.container import ModuleList
from nabla.nn.modules.dropout import Dropout
from nabla.nn.modules.linear import Linear
from nabla.nn.modules.module import Module
from nabla.nn.modules.normalization import LayerNorm
from nabla.ops.elementwise import masked_fill
from nabla.ops.flip import triu
from nabla.tensor import Tensor

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


def _activation(activation):
    if isinstance(activation, str):
        if activation == "relu":
            return relu
        if activation == "gelu":
            return gelu
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


def _square_subsequent_mask(sz: int, dtype=None) -> Tensor:
    """(sz, sz) float mask: 0 on and below the diagonal, -inf above (position i sees 0..i)."""
    return triu(full((sz, sz), float("-inf"), dtype=dtype), diagonal=1)


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward net (linear1 -> activation -> dropout -> linear2), each
    with a residual connection and a LayerNorm (after, or before with ``norm_first``).

    Args:
        d_model: E, the features of each position.
        nhead: attention heads.
        dim_feedforward: hidden width of the feed-forward net.
        dropout: dropout after attention, inside and after the feed-forward net.
        activation: "relu", "gelu" or a callable (module or function).
        layer_norm_eps: LayerNorm's eps.
        batch_first: (N, L, E) instead of (L, N, E).
        norm_first: pre-norm instead of post-norm.
        bias: biases in the linear layers and LayerNorms.

    Shape: src (N, L, E) or (L, N, E) (or unbatched (L, E)) -> the same.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        activation = _activation(activation)
        if activation is relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None,
                is_causal: bool = False) -> Tensor:
        """Args: src_mask (L, L) or (N * nhead, L, L), bool True = not allowed, or additive
        float; src_key_padding_mask (N, L), True = padding; is_causal: src_mask is causal."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention over the target, attention over the memory (the encoder's output), then a
    feed-forward net; each with a residual connection and a LayerNorm (norm1, norm2, norm3).

    Args: as ``TransformerEncoderLayer``.

    Shape: tgt (N, T, E) or (T, N, E), memory (N, S, E) or (S, N, E) -> like tgt.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        """Masks as in ``MultiheadAttention``: tgt_mask (T, T), memory_mask (T, S),
        key padding masks (N, T) and (N, S), bool True = not allowed."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _is_causal_mask(mask, is_causal, size: int) -> bool:
    """PyTorch's detection: the hint when given, else whether ``mask`` equals the causal one."""
    if is_causal is not None:
        return bool(is_causal)
    if mask is None or tuple(mask.shape) != (size, size):
        return False
    causal = _square_subsequent_mask(size, mask.dtype if mask.dtype.kind == "f" else None)
    if mask.dtype.kind == "b":
        return bool((mask._data == (causal._data != 0)).all())
    return bool((mask._data == causal._data).all())


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (layers.0, layers.1, ...), then an
    optional ``norm``.

    Shape: src as the layer's -> the same. In eval mode without gradients, positions marked in
    ``src_key_padding_mask`` come out as zeros (before ``norm``), as in PyTorch's nested-tensor
    path (``enable_nested_tensor``).
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def _nested(self, src, mask, src_key_padding_mask) -> bool:
        """Whether PyTorch would run the layers on a nested tensor (padding dropped)."""
        first = self.layers[0]
        attn = first.self_attn
        return (self.enable_nested_tensor and src_key_padding_mask is not None and mask is None
                and src.ndim == 3 and attn.batch_first and attn._qkv_same_embed_dim
                and attn.in_proj_bias is not None and not first.norm_first
                and first.activation_relu_or_gelu and attn.num_heads % 2 == 0
                and src_key_padding_mask.dtype.kind == "b"
                and _fast_path(self.training, (src,) + tuple(self.parameters())))

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None,
                is_causal: bool | None = None) -> Tensor:
        nested = self._nested(src, mask, src_key_padding_mask)
        seq_len = src.shape[1 if self.layers[0].self_attn.batch_first else 0] \
            if src.ndim == 3 else src.shape[0]
        is_causal = _is_causal_mask(mask, is_causal, seq_len)
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask)
        if nested:
            pad = src_key_padding_mask._data[..., None]
            output = masked_fill(output, array_module(pad).asarray(pad), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer``, then an optional ``norm``."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        batch_first = self.layers[0].self_attn.batch_first
        seq_len = tgt.shape[1 if batch_first else 0] if tgt.ndim == 3 else tgt.shape[0]
        tgt_is_causal = _is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """Encoder-decoder Transformer: ``encoder`` (a TransformerEncoder with a final LayerNorm)
    reads src, ``decoder`` reads tgt and attends to the encoder's output. Parameters with more
    than one dim start from xavier_uniform_, as in PyTorch.

    Args: d_model (512), nhead (8), num_encoder_layers (6), num_decoder_layers (6),
    dim_feedforward (2048), dropout (0.1), activation, custom_encoder, custom_decoder,
    layer_norm_eps, batch_first, norm_first, bias: as the layers'.

    Shape: src (N, S, E) / (S, N, E), tgt (N, T, E) / (T, N, E) -> like tgt.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = relu,
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*args, dtype=dtype), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*args, dtype=dtype), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """(sz, sz) float mask: -inf above the diagonal, 0 elsewhere (causal attention)."""
        return _square_subsequent_mask(sz, dtype)
