"""Sorting and counting: sort, argsort, topk, kthvalue, median, quantile; unique, bincount; and
sampling from categorical distributions (multinomial).

sort, topk, kthvalue, median and quantile are derived ops with no gradient rule of their own:
the order is computed on the array (no gradient, and recomputed at every replay of
``nabla.jit.trace``), then the values are taken at those indices with ``take_along_dim``, whose
rule sends each value's gradient back to the element it came from.
"""

from collections import namedtuple
from functools import partial

from nabla import dtype as _dt
from nabla.backend import array_module
from nabla.ops.casts import to_dtype
from nabla.ops.compare import isnan
from nabla.ops.elementwise import where
from nabla.ops.reduce import _plain
from nabla.ops.reduce import any as _any  # (not the builtin)
from nabla.ops.scatter import take_along_dim
from nabla.ops.shape import _dim, movedim, unsqueeze
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "quantile", "unique", "bincount",
           "multinomial"]

# The (values, indices) pairs, as torch.return_types.sort / .topk / .median.
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])


def order(a, dim: int, descending: bool, k: int | None = None):
    """Stable argsort of array ``a`` along ``dim`` (int64), only the first ``k`` when given;
    NaN counts as the largest value, as in PyTorch. Descending keeps equal values in their
    original order too: sort the reversed array ascending, reverse the result and map the
    positions back."""
    xp = array_module(a)
    if not descending:
        idx = xp.argsort(a, axis=dim, kind="stable").astype(_dt.int64, copy=False)
    else:
        idx = xp.flip(xp.argsort(xp.flip(a, axis=dim), axis=dim, kind="stable"), axis=dim)
        idx = (a.shape[dim] - 1 - idx).astype(_dt.int64, copy=False)
    return idx if k is None else idx.take(range(k), axis=dim)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices (int64) that sort ``input`` along ``dim``. No gradient.

    Equal values keep their order (the sort is always stable, which ``stable=False`` allows);
    NaN sorts as the largest value.
    """
    if input.ndim == 0:
        return Tensor._make(array_module(input._data).zeros((), _dt.int64))
    d = _dim("argsort", dim, input.ndim)
    return _plain(partial(order, dim=d, descending=descending), input)


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


def _checked_k(op: str, input: Tensor, k: int, dim: int, lowest: int) -> int:
    """``dim`` in [0, ndim), after checking that lowest <= k <= its size."""
    d = _dim(op, dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not lowest <= k <= n:
        raise RuntimeError(f"{op}: k ({k}) is out of range for dimension {d} of size {n} "
                           f"(input of shape {tuple(input.shape)}); use {lowest} <= k <= {n}")
    return d


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim``, in order, and their indices.

    Returns:
        A namedtuple (values, indices) with size k along dim.
    """
    d = _checked_k("topk", input, k, dim, lowest=0)
    if input.ndim == 0:
        return topk_result(input * 1, argsort(input))
    indices = _plain(partial(order, dim=d, descending=largest, k=k), input)
    return topk_result(take_along_dim(input, indices, d), indices)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest value along ``dim`` (k from 1) and its index (NaN counts as largest).

    Returns:
        A namedtuple (values, indices) over ``dim``.
    """
    d = _checked_k("kthvalue", input, k, dim, lowest=1)
    if input.ndim == 0:
        return kthvalue_result(input * 1, argsort(input))
    index = _plain(partial(kth_index, dim=d, k=k), input)
    return kthvalue_result(*_picked(input, index, d, keepdim))


def kth_index(a, dim: int, k: int):
    """Index of the k-th smallest value of array ``a`` along ``dim`` (kept, size 1)."""
    return order(a, dim, False).take([k - 1], axis=dim)


def _picked(input: Tensor, index: Tensor, d: int, keepdim: bool) -> tuple:
    """(values of ``input`` at ``index`` (size 1 along d), index), dim d dropped unless
    ``keepdim``."""
    values = take_along_dim(input, index, d)
    if keepdim:
        return values, index
    return values.squeeze(d), index.squeeze(d)


_INTERPOLATIONS = ("linear", "lower", "higher", "nearest", "midpoint")


def quantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-quantiles over ``dim`` (of all values when None): at position q (n - 1) of the
    sorted values, between its two neighbours by ``interpolation``; NaN if a value is NaN.

    Args:
        input: floating tensor.
        q: a float or a 1-D tensor of floats in [0, 1] (a tensor is read anew at each replay
            of ``nabla.jit.trace``; its range is checked when traced).
        interpolation: 'linear', 'lower', 'higher', 'nearest' or 'midpoint'.

    Returns:
        The reduced shape; with a 1-D q, one such result per q along a new first dimension.
    """
    qs = quantile_levels("quantile", input, q, interpolation)
    if input.ndim == 0 and dim is not None:  # a 0-d tensor has dims 0 and -1, as in PyTorch
        if dim not in (0, -1):
            raise IndexError(f"quantile: dimension out of range (expected to be in range of "
                             f"[-1, 0], but got {dim})")
        return quantile(input.reshape(1), q, 0, False, interpolation=interpolation)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim("quantile", dim, input.ndim)
    n = x.shape[d]
    if n == 0:
        raise RuntimeError("quantile: cannot take a quantile of an empty dimension")
    where_q = tuple(qs.size if k == d else 1 for k in range(x.ndim))
    # a tensor q is a value of the program: jit.trace and onnx.export read it at every call
    levels = to_dtype(q.detach(), input.dtype) if isinstance(q, Tensor) else Tensor._make(qs)
    below, above, frac = _level_positions(levels, n, where_q, interpolation)
    values = sort(x, d).values
    out = interpolated(take_along_dim(values, below, d), take_along_dim(values, above, d), frac,
                       interpolation)
    out = where(_any(isnan(x), d, keepdim=True), float("nan"), out)  # NaN propagates
    return quantiles_placed(out, d, input, dim, keepdim, qs)


def _level_positions(levels: Tensor, n: int, where_q: tuple, interpolation: str) -> tuple:
    """Where the levels lie among n sorted values: (below, above) int64 positions and the
    fraction between them, shaped ``where_q``. Tensor ops, so that a traced call reads the
    levels anew; pos = q (n - 1) >= 0, so its integer cast is its floor."""
    pos = levels.reshape(where_q) * (n - 1)
    below = pos.long()
    frac = pos - below.to(pos.dtype)
    above = below + (frac > 0).long()
    if interpolation == "nearest":  # half to even, as torch.round
        odd = below - below // 2 * 2 == 1
        below = above = below + ((frac > 0.5) | ((frac == 0.5) & odd)).long()
    return below, above, frac


def quantile_levels(who: str, input: Tensor, q, interpolation: str):
    """The levels ``q`` as an array of input's dtype (0-d or 1-d), after PyTorch's checks."""
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{who}: interpolation must be one of {_INTERPOLATIONS}, got "
                         f"{interpolation!r}")
    qs = array_module(input._data).asarray(q._data if isinstance(q, Tensor) else q,
                                           dtype=input._data.dtype)
    if qs.ndim > 1 or ((qs < 0) | (qs > 1)).any():
        raise RuntimeError(f"{who}: q must be a float or a 1-D tensor of values in [0, 1], "
                           f"got {q}")
    return qs


def interpolated(low: Tensor, high: Tensor, frac: Tensor, interpolation: str) -> Tensor:
    """The quantile between its two neighbouring sorted values ``low`` and ``high``, ``frac``
    of the way from ``low`` (linear)."""
    if interpolation in ("lower", "nearest"):  # nearest: low and high are the same position
        return low
    if interpolation == "higher":
        return high
    if interpolation == "midpoint":
        return (low + high) * 0.5
    return low + (high - low) * frac


def quantiles_placed(out: Tensor, d: int, input: Tensor, dim, keepdim: bool, qs) -> Tensor:
    """One result per level, along a new first dim (none for a 0-d q), keepdim applied."""
    out = movedim(out, d, 0)  # (len(q), the other dims)
    if keepdim and input.ndim:  # (a 0-d input keeps its 0 dims)
        out = out.reshape((qs.size,) + (1,) * input.ndim) if dim is None else \
            unsqueeze(out, d + 1)
    return out[0] if qs.ndim == 0 else out


def median_index(a, dim: int):
    """Index of the lower median along ``dim`` (keepdims), or of the first NaN where a NaN is
    present (PyTorch's median propagates NaN)."""
    xp = array_module(a)
    idx = xp.take(order(a, dim, False), [(a.shape[dim] - 1) // 2], axis=dim)
    nan = xp.isnan(a) if a.dtype.kind in "fc" else None
    if nan is not None and nan.any():
        idx = xp.where(nan.any(axis=dim, keepdims=True), nan.argmax(axis=dim, keepdims=True), idx)
    return idx.astype(_dt.int64, copy=False)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median (the smaller of the two middle values for an even count); NaN if the
    values hold one. Its gradient goes to the element it is.

    Returns:
        A 0-d tensor when dim is None; otherwise a namedtuple (values, indices) over ``dim``.
    """
    if dim is None:
        flat = input.reshape(-1)
        if flat.shape[0] == 0:
            raise RuntimeError("median: cannot take the median of an empty tensor")
        index = _plain(partial(median_index, dim=0), flat)
        return take_along_dim(flat, index, 0).reshape(())
    d = _dim("median", dim, input.ndim)
    if input.ndim == 0:
        return median_result(input * 1, argsort(input))
    index = _plain(partial(median_index, dim=d), input)
    return median_result(*_picked(input, index, d, keepdim))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """The distinct values of ``input`` (flattened), ascending; as in PyTorch each NaN is a value
    of its own (NaN != NaN), after the others. No gradient.

    Returns:
        The values; with ``return_inverse`` also where each element of the input went (input's
        shape), with ``return_counts`` also how often each value occurs.
    """
    if dim is not None:
        raise NotImplementedError("unique: dim is not supported; flatten or use dim=None")
    return _plain(partial(_unique, return_inverse=return_inverse,
                          return_counts=return_counts), input)


def _unique(a, return_inverse: bool, return_counts: bool):
    """unique on array ``a``: the values, then the inverse (a's shape) and the counts (int64)
    when asked for; a tuple when there is more than the values."""
    values, inverse, counts = array_module(a).unique(a.reshape(-1), return_inverse=True,
                                                     return_counts=True, equal_nan=False)
    out = [values]
    if return_inverse:
        out.append(inverse.reshape(a.shape).astype(_dt.int64))
    if return_counts:
        out.append(counts.astype(_dt.int64))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in a 1-D tensor of non-negative integers (or the
    sum of ``weights`` at each). No gradient."""
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
        raise RuntimeError(f"bincount: expects a 1-D tensor of non-negative integers, got shape "
                           f"{tuple(a.shape)} and dtype {a.dtype}")
    fn = partial(_bincount, minlength=minlength)
    return _plain(fn, input) if weights is None else _plain(fn, input, weights)


def _bincount(a, weights=None, minlength: int = 0):
    """bincount on arrays: int64 counts, or the sums of ``weights`` (float64 unless floating)."""
    counts = array_module(a).bincount(a, weights=weights, minlength=minlength)
    if weights is None:
        return counts.astype(_dt.int64)
    return counts.astype(weights.dtype if weights.dtype.kind == "f" else _dt.float64)


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
