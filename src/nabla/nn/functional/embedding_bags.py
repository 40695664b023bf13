"""embedding_bag: the sums, means or maxima of bags of embeddings (torch.nn.functional), derived
from embedding, index_add and index_reduce (no rule of its own)."""

from functools import partial

from nabla.backend import array_module
from nabla.creation import zeros
from nabla.nn.functional.embedding_lookup import _renorm_rows, embedding
from nabla.ops.elementwise import clamp
from nabla.ops.reduce import _plain
from nabla.ops.scatter_reduction import index_reduce
from nabla.ops.selection import index_add
from nabla.ops.shape import reshape
from nabla.tensor import Tensor

__all__ = ["embedding_bag"]


def _check_options(mode: str, weighted: bool, unsupported: bool) -> None:
    """The mode, per_sample_weights (mode 'sum' only) and the options nabla does not support."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if weighted and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}')")
    if unsupported:
        raise NotImplementedError("embedding_bag: scale_grad_by_freq and sparse are not "
                                  "supported")


def _check_bags(idx, off, include_last_offset: bool) -> int:
    """PyTorch's checks of the two input forms; returns the number of bags."""
    if idx.ndim == 2:
        if off is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as "
                             "input is treated is a mini-batch of fixed length sequences.")
        return idx.shape[0]
    if idx.ndim != 1:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of "
                         f"dimension {idx.ndim}")
    if off is None:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
    if off.ndim != 1:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor")
    xp = array_module(off)
    if off.size and off[0] != 0:
        raise RuntimeError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in "
                           f"the mini-batch has to start from position 0. However, got "
                           f"{int(off[0])}")
    if off.size and (xp.any(xp.diff(off) < 0) or off[-1] > idx.size):
        raise RuntimeError("embedding_bag: offsets must be non-decreasing and at most the "
                           f"input's length {idx.size}")
    return max(off.size - 1 if include_last_offset else off.size, 0)


def _bag_layout(idx, off, b: int, include_last_offset: bool, padding_idx):
    """(bag of each flat index, whether it counts, size of each bag) from the index and offsets
    arrays. Entries equal to padding_idx, and those past the last offset, go to an extra bag
    ``b`` and do not count: sizes stay fixed, so this is a plain step of ``nabla.jit.trace`` that
    a replay recomputes from new indices and offsets."""
    xp = array_module(idx)
    if idx.ndim == 2:
        bag = xp.repeat(xp.arange(b), idx.shape[1])
    else:
        ends = off[1:b + 1] if include_last_offset else xp.append(off[1:], idx.size)
        bag = xp.repeat(xp.arange(b), ends - off[:b]) if b > 0 else xp.zeros(0, "int64")
        bag = xp.concatenate([bag, xp.full(idx.size - bag.size, b)])
    counted = bag < b
    if padding_idx is not None:
        counted &= idx.reshape(-1) != padding_idx
    bag = xp.where(counted, bag, b)
    return bag, counted, xp.bincount(bag, minlength=b + 1)[:b]


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
    _check_options(mode, per_sample_weights is not None, scale_grad_by_freq or sparse)
    idx = input._data if isinstance(input, Tensor) else array_module(input).asarray(input)
    off = offsets._data if isinstance(offsets, Tensor) else \
        None if offsets is None else array_module(idx).asarray(offsets)
    b = _check_bags(idx, off, include_last_offset)
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(idx.shape):
        raise ValueError(f"embedding_bag: per_sample_weights of shape "
                         f"{tuple(per_sample_weights.shape)} must match input's "
                         f"{tuple(idx.shape)}")
    num = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    if max_norm is not None and idx.size:
        _renorm_rows(weight, idx, max_norm, norm_type)
    layout = partial(_bag_layout, b=b, include_last_offset=include_last_offset,
                     padding_idx=padding_idx)
    bag, counted, sizes = _plain(layout, _as_tensor(input), _as_tensor(offsets))
    rows = embedding(reshape(_as_tensor(input), (-1,)), weight)
    if mode == "max":  # ties (a row twice in a bag) share the gradient: the row gets it all
        return index_reduce(zeros(b + 1, weight.shape[1], dtype=weight.dtype), 0, bag, rows,
                            "amax", include_self=False)[:b]
    weights = counted.to(weight.dtype)
    if per_sample_weights is not None:
        weights = weights * reshape(per_sample_weights, (-1,))
    out = index_add(zeros(b + 1, weight.shape[1], dtype=weight.dtype), 0, bag,
                    rows * reshape(weights, (-1, 1)))[:b]
    if mode == "mean":
        out = out / reshape(clamp(sizes, min=1).to(weight.dtype), (-1, 1))
    return out


def _as_tensor(x):
    return x if x is None or isinstance(x, Tensor) else Tensor._make(array_module(x).asarray(x))
