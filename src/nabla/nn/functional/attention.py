"""Attention: softmax(Q K^T * scale + mask) V, and multi-head attention around it.

Both are derived ops: matmul, softmax, masked_fill, dropout and linear already carry their
gradient rules, so attention needs none of its own (dQ = dS K * scale, dK = dS^T Q * scale,
dV = W^T grad with dS = W * (dW - sum(dW * W)) follows from them, also for second derivatives).

Masks. ``scaled_dot_product_attention`` takes PyTorch's SDPA convention: a bool ``attn_mask`` is
True where a query MAY attend; a float mask is added to the scores. ``multi_head_attention_forward``
takes ``nn.MultiheadAttention``'s convention: a bool mask is True where attention is NOT allowed
(``key_padding_mask`` True = padding). Rows whose every key is masked:

* ``scaled_dot_product_attention`` returns zeros there (with zero gradient), as PyTorch 2.13's
  math path does (its "safe softmax");
* multi-head attention with ``need_weights=True`` returns NaN there (a plain softmax of -inf),
  with ``need_weights=False`` zeros (it calls SDPA), again as PyTorch does on its regular path.
  ``nn.MultiheadAttention`` additionally mimics PyTorch's inference fast path (eval mode, no
  gradient, self-attention, ...), which gives NaN in both cases.
"""

import math

from nabla.autograd.grad_mode import is_grad_enabled
from nabla.backend import array_module
from nabla.nn.functional.dropout_masks import dropout
from nabla.nn.functional.linear_maps import linear
from nabla.ops.elementwise import masked_fill
from nabla.ops.join import cat, unbind
from nabla.ops.linalg import matmul
from nabla.ops.reduce import _quiet, mean
from nabla.ops.shape import expand, permute, reshape, transpose, unsqueeze
from nabla.ops.softmax_family import softmax
from nabla.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _neg_inf_where(mask, dtype):
    """An additive float array: -inf where ``mask`` (a bool array) is True, 0 elsewhere."""
    xp = array_module(mask)
    return xp.where(mask, dtype.type(-math.inf), dtype.type(0.0))


def _additive(mask, dtype, masked_value: bool):
    """A mask as something to add to the scores: a raw float array, or the Tensor itself when it
    is a float mask that requires grad (its gradient then flows, as in PyTorch).

    ``masked_value`` is the bool value that means "masked out" (False for SDPA, True for MHA).
    """
    if mask is None:
        return None
    if isinstance(mask, Tensor):
        if mask.dtype.kind == "b":
            mask = mask._data
        elif mask.requires_grad:
            return mask if mask.dtype == dtype else mask.to(dtype)
        else:
            mask = mask._data
    if mask.dtype.kind == "b":
        return _neg_inf_where(mask if masked_value else ~mask, dtype)
    return mask.astype(dtype, copy=False)


def _add_bias(bias, other):
    """Sum of two additive masks (either may be None)."""
    if bias is None:
        return other
    if other is None:
        return bias
    return bias + other


def _dead_rows(bias):
    """Bool array, True for query rows where every key is masked (all -inf), or None."""
    if bias is None or isinstance(bias, Tensor):
        return None  # a learnable mask: leave it to the plain softmax
    xp = array_module(bias)
    dead = xp.isneginf(bias).all(axis=-1, keepdims=True)
    return dead if dead.any() else None


def _attend(q, k, v, bias, scale, dropout_p: float, safe: bool):
    """softmax(q k^T * scale + bias) v on (..., L, E), (..., S, E), (..., S, Ev).

    Returns (output (..., L, Ev), attention weights (..., L, S)). ``safe``: rows with every key
    masked give zero weights (PyTorch's SDPA) instead of NaN (a plain softmax).
    """
    scores = matmul(q * scale, transpose(k, -2, -1))  # scale q (L x E), not scores (L x S)
    dead = _dead_rows(bias) if safe else None
    if dead is not None:  # -inf -> 0 on those rows first, so no NaN is ever formed
        bias = array_module(bias).where(dead, bias.dtype.type(0.0), bias)
    if bias is not None:
        scores = scores + bias
    if safe or bias is None:
        weights = softmax(scores, -1)
    else:
        with _quiet(array_module(scores._data), invalid="ignore"):
            weights = softmax(scores, -1)  # NaN on fully masked rows, as in PyTorch
    if dead is not None:
        weights = masked_fill(weights, dead, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, v), weights


def _repeat_heads(x: Tensor, groups: int) -> Tensor:
    """(..., Hkv, S, E) -> (..., Hkv * groups, S, E), each head repeated ``groups`` times in a row
    (repeat_interleave on dim -3)."""
    shape = tuple(x.shape)
    x = expand(unsqueeze(x, -3), shape[:-2] + (groups,) + shape[-2:])
    return reshape(x, shape[:-3] + (shape[-3] * groups,) + shape[-2:])


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + M) V, the softmax stable (the row maximum is subtracted).

    Args:
        query: (N, ..., L, E).
        key: (N, ..., S, E).
        value: (N, ..., S, Ev).
        attn_mask: broadcastable to (N, ..., L, S); bool: True where attention is allowed;
            float: added to the scores (-inf forbids). Rows with no allowed key give zeros.
        dropout_p: dropout probability on the attention weights (applied whenever > 0).
        is_causal: query i attends to keys 0..i only (a lower-triangular mask, top-left
            aligned); cannot be combined with ``attn_mask``.
        scale: the factor on Q K^T; default 1 / sqrt(E).
        enable_gqa: grouped-query attention: key and value may have fewer heads (dim -3) than
            query, each shared by H_q / H_kv consecutive query heads.

    Returns:
        (N, ..., L, Ev).
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError("scaled_dot_product_attention: query, key and value must be at least 2-D")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: shapes query {tuple(query.shape)}, key "
            f"{tuple(key.shape)}, value {tuple(value.shape)} do not fit: query and key need the "
            "same last dim E, key and value the same length S"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hkv = query.shape[-3], key.shape[-3]
        if hq % hkv or value.shape[-3] != hkv:
            raise RuntimeError(f"scaled_dot_product_attention: {hq} query heads are not a "
                               f"multiple of {hkv} key/value heads")
        key, value = _repeat_heads(key, hq // hkv), _repeat_heads(value, hq // hkv)
    L, S = query.shape[-2], key.shape[-2]
    if is_causal:
        xp = array_module(query._data)
        attn_mask = xp.tril(xp.ones((L, S), dtype=bool))
    bias = _additive(attn_mask, query.dtype, masked_value=False)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    return _attend(query, key, value, bias, scale, dropout_p, safe=True)[0]


def _split_heads(x: Tensor, num_heads: int) -> Tensor:
    """(N, L, H * d) -> (N, H, L, d) (a view: no copy)."""
    n, length, e = x.shape
    return permute(reshape(x, (n, length, num_heads, e // num_heads)), (0, 2, 1, 3))


def _project(query, key, value, w, b, q_w, k_w, v_w, num_heads: int):
    """The input projections, as heads (N, H, L, d): one GEMM for self-attention (packed
    weight), two when key is value, three otherwise."""
    e = query.shape[-1]
    if w is not None and query is key and key is value:
        n, length, _ = query.shape
        qkv = reshape(linear(query, w, b), (n, length, 3, num_heads, e // num_heads))
        return unbind(permute(qkv, (2, 0, 3, 1, 4)), 0)
    if w is not None:
        q_w, k_w, v_w = w[:e], w[e:2 * e], w[2 * e:]
    bq = bk = bv = None
    if b is not None:
        bq, bk, bv = b[:e], b[e:2 * e], b[2 * e:]
    q = linear(query, q_w, bq)
    if w is not None and key is value:
        n, s, _ = key.shape
        kv = reshape(linear(key, w[e:], b[e:] if b is not None else None),
                     (n, s, 2, num_heads, e // num_heads))
        k, v = unbind(permute(kv, (2, 0, 3, 1, 4)), 0)
        return _split_heads(q, num_heads), k, v
    k, v = linear(key, k_w, bk), linear(value, v_w, bv)
    return _split_heads(q, num_heads), _split_heads(k, num_heads), _split_heads(v, num_heads)


def _same_views(fn, query, key, value):
    """Apply ``fn`` to the distinct tensors among query, key, value, keeping ``is`` relations
    (they decide between the packed one-GEMM projection and separate ones)."""
    q = fn(query)
    k = q if key is query else fn(key)
    v = q if value is query else k if value is key else fn(value)
    return q, k, v


def _mha_mask(attn_mask, key_padding_mask, n: int, h: int, L: int, S: int, dtype):
    """attn_mask (L, S) or (N * H, L, S) and key_padding_mask (N, S), bools True = masked, as one
    additive mask broadcastable to (N, H, L, S) (or None)."""
    bias = _additive(attn_mask, dtype, masked_value=True)
    if bias is not None:
        if bias.ndim == 2:
            if tuple(bias.shape) != (L, S):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(bias.shape)}, but "
                                   f"should be {(L, S)}.")
        elif bias.ndim == 3:
            if tuple(bias.shape) != (n * h, L, S):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(bias.shape)}, but "
                                   f"should be {(n * h, L, S)}.")
            bias = reshape(bias, (n, h, L, S))
        else:
            raise RuntimeError(f"attn_mask's dimension {bias.ndim} is not supported")
    pad = _additive(key_padding_mask, dtype, masked_value=True)
    if pad is not None:
        if tuple(pad.shape) != (n, S):
            raise RuntimeError(f"key_padding_mask of shape {tuple(pad.shape)} should be "
                               f"{(n, S)} (batch, source length)")
        pad = reshape(pad, (n, 1, 1, S))
    return _add_bias(bias, pad)


def _pad_last(bias, extra: int):
    """Append ``extra`` zero columns (allowed keys) to an additive mask."""
    if bias is None or extra == 0:
        return bias
    if isinstance(bias, Tensor):
        zeros = Tensor._make(array_module(bias._data).zeros(bias.shape[:-1] + (extra,),
                                                            bias.dtype))
        return cat([bias, zeros], -1)
    xp = array_module(bias)
    return xp.concatenate([bias, xp.zeros(bias.shape[:-1] + (extra,), bias.dtype)], -1)


def _append_keys(k, v, bias_k, bias_v, add_zero_attn: bool, num_heads: int):
    """Keys and values (N, H, S, d) with the learned bias_k/bias_v (1, 1, E) and/or a zero key
    appended: S grows by 0, 1 or 2."""
    n, h, _, d = k.shape
    if bias_k is not None:
        bk = expand(reshape(bias_k, (1, h, 1, d)), (n, h, 1, d))
        bv = expand(reshape(bias_v, (1, h, 1, d)), (n, h, 1, d))
        k, v = cat([k, bk], 2), cat([v, bv], 2)
    if add_zero_attn:
        xp = array_module(k._data)
        k = cat([k, Tensor._make(xp.zeros((n, h, 1, d), k.dtype))], 2)
        v = cat([v, Tensor._make(xp.zeros((n, h, 1, v.shape[-1]), v.dtype))], 2)
    return k, v


def _mha(query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
         add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask,
         need_weights, attn_mask, q_proj_weight, k_proj_weight, v_proj_weight, static_k,
         static_v, average_attn_weights, is_causal, batch_first, fast_path):
    """Multi-head attention on batch-first or sequence-first (or unbatched) input."""
    batched = query.ndim == 3
    if not batched:
        query, key, value = _same_views(lambda x: unsqueeze(x, 0), query, key, value)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    elif not batch_first:
        query, key, value = _same_views(lambda x: transpose(x, 0, 1), query, key, value)
    n, L, e = query.shape
    S = key.shape[1]
    if e % num_heads:
        raise AssertionError(f"embed_dim {e} not divisible by num_heads {num_heads}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias, q_proj_weight,
                       k_proj_weight, v_proj_weight, num_heads)
    if static_k is not None:
        k = reshape(static_k, (n, num_heads) + tuple(static_k.shape[1:]))
    if static_v is not None:
        v = reshape(static_v, (n, num_heads) + tuple(static_v.shape[1:]))
    if is_causal and key_padding_mask is None and not need_weights:
        xp = array_module(query._data)  # PyTorch then drops attn_mask and uses a causal one
        bias = _neg_inf_where(~xp.tril(xp.ones((L, S), dtype=bool)), query.dtype)
    else:
        bias = _mha_mask(attn_mask, key_padding_mask, n, num_heads, L, S, query.dtype)
    s_before = k.shape[2]
    k, v = _append_keys(k, v, bias_k, bias_v, add_zero_attn, num_heads)
    bias = _pad_last(bias, k.shape[2] - s_before)
    p = dropout_p if training else 0.0
    scale = 1.0 / math.sqrt(q.shape[-1])
    out, weights = _attend(q, k, v, bias, scale, p, safe=not need_weights and not fast_path)
    out = reshape(permute(out, (0, 2, 1, 3)), (n, L, e))  # concatenate the heads
    out = linear(out, out_proj_weight, out_proj_bias)
    if not batched:
        out = out[0]
    elif not batch_first:
        out = transpose(out, 0, 1)
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = mean(weights, 1)
    return out, (weights if batched else weights[0])


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor,
                                 embed_dim_to_check: int, num_heads: int, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight, out_proj_bias,
                                 training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None,
                                 use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True,
                                 is_causal: bool = False) -> tuple:
    """Multi-head attention: softmax(Q_h K_h^T / sqrt(d) + M) V_h for each head h, the heads
    concatenated and projected: out = concat_h(...) W_o^T + b_o.

    Args:
        query: (L, N, E) or (L, E); key, value: (S, N, E) or (S, E) (sequence first).
        embed_dim_to_check: E (checked).
        num_heads: H; E must be divisible by it (head dim d = E / H).
        in_proj_weight: (3E, E) packed [W_q; W_k; W_v], or None with use_separate_proj_weight.
        in_proj_bias: (3E) or None.
        bias_k, bias_v: (1, 1, E) learned key/value appended to the sequence, or None.
        add_zero_attn: append a zero key/value.
        dropout_p: dropout on the attention weights (training only).
        out_proj_weight, out_proj_bias: (E, E), (E).
        key_padding_mask: (N, S); bool True = padding (ignored), or additive float.
        need_weights: also return the attention weights.
        attn_mask: (L, S) or (N * H, L, S); bool True = not allowed, or additive float.
        q_proj_weight, k_proj_weight, v_proj_weight: (E, E), (E, kdim), (E, vdim) when the
            key/value dims differ from E.
        static_k, static_v: (N * H, S, d) keys/values used instead of projecting key/value.
        average_attn_weights: average the returned weights over the heads.
        is_causal: a hint that attn_mask is the causal mask.

    Returns:
        (output (L, N, E), weights (N, L, S) or (N, H, L, S), or None).
    """
    if query.shape[-1] != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {query.shape[-1]}")
    if use_separate_proj_weight:
        in_proj_weight = None
    return _mha(query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
                key_padding_mask, need_weights, attn_mask, q_proj_weight, k_proj_weight,
                v_proj_weight, static_k, static_v, average_attn_weights, is_causal,
                batch_first=False, fast_path=False)


def _fast_path(training: bool, tensors: tuple) -> bool:
    """Whether PyTorch's inference fast path would run (no training, no gradient needed):
    it differs only on fully masked rows (NaN)."""
    return not training and not (is_grad_enabled() and any(
        t is not None and t.requires_grad for t in tensors))
