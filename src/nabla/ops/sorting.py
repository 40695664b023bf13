"""Sorting: sort, argsort, topk, and sampling from categorical distributions (multinomial).

sort and topk are derived ops with no gradient rule of their own: the order is computed on the
array (no gradient, and recomputed at every replay of ``nabla.jit.trace``), then the values are
taken at those indices with ``take_along_dim``, whose rule sends each value's gradient back to
the element it came from.
"""

from collections import namedtuple

from nabla import dtype as _dt
from nabla.backend import array_module
from nabla.ops.reduce import _unary
from nabla.ops.scatter import take_along_dim
from nabla.ops.shape import _dim
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["sort", "argsort", "topk", "multinomial"]

# The (values, indices) pairs, as torch.return_types.sort / .topk.
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


def _order(a, dim: int, descending: bool):
    """Stable argsort of array ``a`` along ``dim`` (int64); NaN counts as the largest value,
    as in PyTorch. Descending keeps equal values in their original order too: sort the
    reversed array ascending, reverse the result and map the positions back."""
    xp = array_module(a)
    if not descending:
        return xp.argsort(a, axis=dim, kind="stable").astype(_dt.int64, copy=False)
    idx = xp.flip(xp.argsort(xp.flip(a, axis=dim), axis=dim, kind="stable"), axis=dim)
    return (a.shape[dim] - 1 - idx).astype(_dt.int64, copy=False)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices (int64) that sort ``input`` along ``dim``. No gradient.

    Equal values keep their order (the sort is always stable, which ``stable=False`` allows);
    NaN sorts as the largest value.
    """
    if input.ndim == 0:
        return Tensor._make(array_module(input._data).zeros((), _dt.int64))
    d = _dim("argsort", dim, input.ndim)
    return _unary(lambda a: _order(a, d, descending), input)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """Sorted values along ``dim`` and the indices they came from.

    Returns:
        A namedtuple (values, indices) of input's shape; gradients flow to ``input`` through
        the values.
    """
    indices = argsort(input, dim, descending, stable)
    if input.ndim == 0:
        return sort_result(input * 1, indices)
    return sort_result(take_along_dim(input, indices, dim), indices)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim``, in order, and their indices.

    Returns:
        A namedtuple (values, indices) with size k along dim.
    """
    d = _dim("topk", dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {d} of size {n} "
                           f"(input of shape {tuple(input.shape)}); use 0 <= k <= {n}")
    if input.ndim == 0:
        return topk_result(input * 1, argsort(input))
    indices = _unary(lambda a: _order(a, d, largest).take(range(k), axis=d), input)
    return topk_result(take_along_dim(input, indices, d), indices)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False,
                *, generator=None) -> Tensor:
    """Sample category indices with probabilities proportional to the rows of ``input``.

    Args:
        input: (C,) or (N, C) non-negative weights (need not sum to 1).
        num_samples: draws per row; at most C without replacement.
        replacement: draw with replacement.
        generator: a ``nabla.Generator``; the global one by default.

    Returns:
        int64 indices, (num_samples,) or (N, num_samples). No gradient.
    """
    w = input._data
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: expected a 1-D or 2-D tensor of weights, got shape "
                           f"{tuple(w.shape)}")
    xp = array_module(w)
    rows = w.reshape(-1, w.shape[-1]).astype(_dt.float64)
    c = rows.shape[1]
    if (rows < 0).any() or not xp.isfinite(rows).all() or (rows.sum(1) <= 0).any():
        raise RuntimeError("multinomial: the weights must be finite, non-negative and have a "
                           "positive sum in every row")
    if not replacement and num_samples > c:
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples from {c} categories "
                           "without replacement; pass replacement=True or fewer samples")
    rng = numpy_generator(generator)  # the global stream by default (nabla.manual_seed)
    out = xp.empty((rows.shape[0], num_samples), _dt.int64)
    for i, p in enumerate(rows):
        if not replacement and (p > 0).sum() < num_samples:
            raise RuntimeError(f"multinomial: row {i} has fewer than {num_samples} categories "
                               "with a positive weight; cannot draw without replacement")
        out[i] = rng.choice(c, size=num_samples, replace=replacement, p=p / p.sum())
    return Tensor._make(out if w.ndim == 2 else out[0])
