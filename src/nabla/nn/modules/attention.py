"""MultiheadAttention: PyTorch's layer, with its parameter names, layouts and initialization, so a
``torch.nn.MultiheadAttention`` state_dict loads as is."""

from nabla.creation import empty
from nabla.nn import init
from nabla.nn.functional.attention import _fast_path, _mha
from nabla.nn.modules.linear import Linear
from nabla.nn.modules.module import Module
from nabla.nn.parameter import Parameter
from nabla.tensor import Tensor

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention: each of H heads attends with its own slice of the projections,
    head_h = softmax(Q W_q,h^T (K W_k,h^T)^T / sqrt(d) + M) V W_v,h^T, and the heads, concatenated,
    go through ``out_proj``.

    Args:
        embed_dim: E, the model dim (query features).
        num_heads: H; E must be divisible by H (head dim d = E / H).
        dropout: dropout probability on the attention weights (training only).
        bias: biases on the input and output projections.
        add_bias_kv: learn bias_k, bias_v (1, 1, E), appended to the keys and values.
        add_zero_attn: append a zero key and value.
        kdim, vdim: key and value features (default E); when they differ from E, separate
            ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` replace ``in_proj_weight``.
        batch_first: inputs are (N, L, E) instead of (L, N, E).

    Parameters: in_proj_weight (3E, E) (xavier uniform), in_proj_bias (3E) (zeros),
    out_proj.weight (E, E), out_proj.bias (E) (zeros), as in PyTorch.

    Fully masked query rows: NaN with ``need_weights=True`` (or when PyTorch's inference fast
    path would run: eval mode, no gradient, batch_first, self-attention, ...), zeros otherwise,
    matching what PyTorch 2.13 returns for the same call.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None,
                 dtype=None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _torch_fast_path(self, query, key, value, attn_mask, key_padding_mask) -> bool:
        """Whether PyTorch would take its inference fast path for this call (which returns NaN
        on fully masked rows also with need_weights=False)."""
        float_mask = any(m is not None and m.dtype.kind == "f"
                         for m in (attn_mask, key_padding_mask))
        return (query.ndim == 3 and query is key and key is value and self.batch_first
                and not float_mask and self.in_proj_bias is not None
                and self._qkv_same_embed_dim and self.num_heads % 2 == 0
                and self.bias_k is None and not self.add_zero_attn
                and _fast_path(self.training, (query, self.in_proj_weight, self.in_proj_bias,
                                               self.out_proj.weight, self.out_proj.bias)))

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple:
        """Attend from ``query`` to ``key``/``value``.

        Args:
            query: (N, L, E) if batch_first else (L, N, E), or unbatched (L, E).
            key: (N, S, kdim) / (S, N, kdim) / (S, kdim); value likewise with vdim.
            key_padding_mask: (N, S) (or (S)); bool True = padding, or additive float.
            need_weights: also return the attention weights.
            attn_mask: (L, S) or (N * H, L, S); bool True = not allowed, or additive float.
            average_attn_weights: average the weights over the heads.
            is_causal: hint that attn_mask is the causal mask.

        Returns:
            (output shaped like query, weights (N, L, S) or (N, H, L, S) or None).
        """
        fast = self._torch_fast_path(query, key, value, attn_mask, key_padding_mask)
        return _mha(query, key, value, self.num_heads, self.in_proj_weight, self.in_proj_bias,
                    self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
                    self.out_proj.weight, self.out_proj.bias, self.training, key_padding_mask,
                    need_weights, attn_mask, self.q_proj_weight, self.k_proj_weight,
                    self.v_proj_weight, None, None, average_attn_weights, is_causal,
                    batch_first=self.batch_first, fast_path=fast)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
