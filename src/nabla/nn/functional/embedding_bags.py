"""embedding_bag: the sums, means or maxima of bags of embeddings (torch.nn.functional), derived
from embedding, index_add and amax (no rule of its own)."""

from nabla.backend import array_module
from nabla.creation import zeros
from nabla.nn.functional.embedding_lookup import _renorm_rows, embedding
from nabla.ops.elementwise import where
from nabla.ops.extrema import amax
from nabla.ops.selection import index_add
from nabla.ops.shape import reshape
from nabla.tensor import Tensor

__all__ = ["embedding_bag"]


def _bags(input, offsets, include_last_offset: bool):
    """(flat indices, bag of each index, number of bags) from PyTorch's two input forms."""
    idx = input._data if isinstance(input, Tensor) else array_module(input).asarray(input)
    xp = array_module(idx)
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as "
                             "input is treated is a mini-batch of fixed length sequences.")
        b, length = idx.shape
        return idx.reshape(-1), xp.repeat(xp.arange(b), length), b
    if idx.ndim != 1:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of "
                         f"dimension {idx.ndim}")
    if offsets is None:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
    off = offsets._data if isinstance(offsets, Tensor) else xp.asarray(offsets)
    if off.ndim != 1:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor")
    if off.size and off[0] != 0:
        raise RuntimeError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in "
                           f"the mini-batch has to start from position 0. However, got "
                           f"{int(off[0])}")
    if off.size and (xp.any(xp.diff(off) < 0) or off[-1] > idx.size):
        raise RuntimeError("embedding_bag: offsets must be non-decreasing and at most the "
                           f"input's length {idx.size}")
    b = off.size - 1 if include_last_offset else off.size
    ends = off[1:b + 1] if include_last_offset else xp.append(off[1:], idx.size)
    bag = xp.repeat(xp.arange(b), ends - off[:b]) if b > 0 else xp.zeros(0, "int64")
    return idx[:bag.size], bag, max(b, 0)


def embedding_bag(input: Tensor, weight: Tensor, offsets=None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sum, mean or maximum of the embeddings in each bag, without the full lookup's output.

    Args:
        input: (B, L) integers (B bags of L), or (I,) integers split into bags by ``offsets``.
        weight: (num_embeddings, embedding_dim).
        offsets: (B,) start of each bag in a 1-D input ((B + 1,) with include_last_offset).
        mode: 'sum', 'mean' or 'max'; an empty bag gives zeros.
        per_sample_weights: input's shape, each embedding scaled by it (mode 'sum' only).
        padding_idx: entries equal to it are left out of their bag (and get no gradient).

    Returns:
        (B, embedding_dim).
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}')")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: scale_grad_by_freq and sparse are not "
                                  "supported")
    idx, bag, b = _bags(input, offsets, include_last_offset)
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"embedding_bag: per_sample_weights of shape "
                         f"{tuple(per_sample_weights.shape)} must match input's "
                         f"{tuple(input.shape)}")
    xp = array_module(idx)
    num = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    keep = xp.nonzero(idx != padding_idx)[0] if padding_idx is not None else xp.arange(idx.size)
    if max_norm is not None and idx.size:
        _renorm_rows(weight, idx, max_norm, norm_type)
    rows = embedding(Tensor._make(idx[keep]), weight)
    if per_sample_weights is not None:
        psw = reshape(per_sample_weights, (-1,))[Tensor._make(keep)]
        rows = rows * reshape(psw, (-1, 1))
    bag = bag[keep]
    counts = xp.bincount(bag, minlength=b)[:b] if bag.size else xp.zeros(b, "int64")
    out = zeros(b, weight.shape[1], dtype=weight.dtype)
    if mode != "max":
        out = index_add(out, 0, Tensor._make(bag), rows)
        if mode == "mean":
            out = out / Tensor._make(xp.maximum(counts, 1).astype(weight._data.dtype)[:, None])
        return out
    return _bag_max(rows, bag, counts, b, weight)


def _bag_max(rows: Tensor, bag, counts, b: int, weight: Tensor) -> Tensor:
    """Maximum of each bag: the rows laid out densely as (B, longest bag, E), gaps at -inf."""
    xp = array_module(bag)
    width = int(counts.max()) if b and bag.size else 0
    e = weight.shape[1]
    if width == 0:
        return zeros(b, e, dtype=weight.dtype)
    starts = xp.concatenate([xp.zeros(1, "int64"), xp.cumsum(counts)[:-1]])
    slot = bag * width + (xp.arange(bag.size) - starts[bag])
    gaps = xp.full((b * width, 1), -xp.inf, weight._data.dtype)
    gaps[slot] = 0
    dense = index_add(zeros(b * width, e, dtype=weight.dtype), 0, Tensor._make(slot), rows)
    dense = reshape(dense + Tensor._make(gaps), (b, width, e))
    best = amax(dense, 1)
    return where(Tensor._make(counts[:, None] > 0), best, zeros(b, e, dtype=weight.dtype))
