"""Gumbel-softmax sampling, pairwise distances within one set (pdist) and channel shuffling,
derived from nabla ops (no gradient rules of their own)."""

import numpy as np

from nabla.backend import array_module
from nabla.ops.index import getitem
from nabla.ops.linalg import norm
from nabla.ops.shape import reshape, transpose
from nabla.ops.softmax_family import softmax
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["gumbel_softmax", "pdist", "channel_shuffle"]


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax distribution: softmax((logits + g) / tau, dim),
    g = -log(Exp(1)) drawn from nabla's global generator.

    Args:
        logits: (*, num_features) unnormalized log-probabilities.
        tau: the temperature (> 0).
        hard: return a one-hot of the argmax whose gradient is the soft sample's
            (straight-through: y_hard - y_soft.detach() + y_soft).
        eps: unused (kept for PyTorch's signature).
        dim: the dimension of the categories.

    Returns:
        logits' shape; each slice along ``dim`` sums to 1.
    """
    data = logits._data
    xp = array_module(data)
    e = numpy_generator().exponential(size=data.shape)
    gumbels = Tensor._make(xp.asarray(-np.log(e)).astype(data.dtype, copy=False))
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    soft = y_soft._data
    axis = dim % soft.ndim if soft.ndim else 0
    one_hot = xp.zeros_like(soft)
    xp.put_along_axis(one_hot, xp.expand_dims(soft.argmax(axis), axis), 1, axis)
    return Tensor._make(one_hot) - y_soft.detach() + y_soft


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """||x_i - x_j||_p for every pair of rows i < j, in row-major order of the upper triangle.

    Args:
        input: (N, M).
        p: the norm's exponent (>= 0; inf for the largest difference).

    Returns:
        (N * (N - 1) / 2,).
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    rows, cols = np.triu_indices(input.shape[0], 1)
    xp = array_module(input._data)
    diff = getitem(input, xp.asarray(rows)) - getitem(input, xp.asarray(cols))
    return norm(diff, p, -1)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups: (N, g * k, *) viewed as (N, g, k, *),
    transposed to (N, k, g, *) and flattened back.

    Args:
        input: (N, C, *) with C divisible by groups.
        groups: the number of groups (> 0).

    Returns:
        input's shape.
    """
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle: expected an input of at least 3 dimensions, got "
                           f"{input.ndim}")
    if groups <= 0:
        raise RuntimeError(f"channel_shuffle: number of groups to divide channels in must be "
                           f"positive. Value of groups:{groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise RuntimeError(f"channel_shuffle: number of channels must be divisible by groups. "
                           f"Got {c} channels and {groups} groups.")
    rest = tuple(input.shape[2:])
    x = reshape(input, (n, groups, c // groups) + rest)
    return reshape(transpose(x, 1, 2), (n, c) + rest)
