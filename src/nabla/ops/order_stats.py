"""Order statistics and counts: mode, nanmedian, nanquantile, msort, unique_consecutive,
histogram; and renorm (sub-tensors rescaled to a maximum norm).

As sorting.py's median and quantile, the differentiable ones are derived: the positions are
computed on the arrays (no gradient, recomputed at each replay of ``nabla.jit.trace``), then the
values are read there with ``take_along_dim``, whose rule sends each value's gradient to the
element it came from. unique_consecutive and histogram have no gradient (as in PyTorch).
"""

import math
from collections import namedtuple
from functools import partial

from nabla import dtype as _dt
from nabla.backend import array_module
from nabla.ops.elementwise import where
from nabla.ops.extrema import amax
from nabla.ops.reduce import _plain
from nabla.ops.scatter import take_along_dim
from nabla.ops.shape import _dim
from nabla.ops.sorting import (
    _picked,
    argsort,
    interpolated,
    order,
    quantile_levels,
    quantiles_placed,
    sort,
)
from nabla.tensor import Tensor

__all__ = ["mode", "nanmedian", "nanquantile", "msort", "unique_consecutive", "histogram",
           "renorm"]

# The named tuples of torch.return_types.
mode_result = namedtuple("mode", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


def mode_index(a, dim: int):
    """Index (keepdims, int64) of the most frequent value along ``dim``: the smallest of the
    most frequent values, at its last occurrence (as PyTorch). NaNs count as one value."""
    xp = array_module(a)
    moved = xp.moveaxis(a, dim, -1)
    at = order(moved, -1, False)  # stable: a value's occurrences stay in their order
    s = xp.take_along_axis(moved, at, axis=-1)
    starts = xp.ones(s.shape, bool)  # where a run of equal sorted values begins
    differ = s[..., 1:] != s[..., :-1]
    if s.dtype.kind in "fc":
        differ &= ~(xp.isnan(s[..., 1:]) & xp.isnan(s[..., :-1]))
    starts[..., 1:] = differ
    run = xp.cumsum(starts.reshape(-1)) - 1  # rows start runs too: a run never spans two rows
    length = xp.bincount(run)[run].reshape(s.shape)
    first = xp.argmax(length, axis=-1)[..., None]  # the first longest run: the smallest value
    last = first + xp.take_along_axis(length, first, axis=-1) - 1
    return xp.moveaxis(xp.take_along_axis(at, last, axis=-1), -1, dim)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest of them on a tie) and the index of
    its last occurrence, as PyTorch. NaNs count as one value, larger than all others (PyTorch's
    result with NaN depends on its sort). Its gradient goes to the element at that index.

    Returns:
        A namedtuple (values, indices) over ``dim`` (kept with size 1 if ``keepdim``).
    """
    d = _dim("mode", dim, input.ndim)
    if input.ndim == 0:
        return mode_result(input * 1, argsort(input))
    if input.shape[d] == 0:
        raise RuntimeError(f"mode: dim {d} of input {tuple(input.shape)} is empty; the mode "
                           "needs at least one value")
    index = _plain(partial(mode_index, dim=d), input)
    return mode_result(*_picked(input, index, d, keepdim))


def nanmedian_index(a, dim: int):
    """Index (keepdims, int64) of the lower median of the non-NaN values along ``dim``; where all
    are NaN, of the first NaN (PyTorch returns the index of one of them)."""
    xp = array_module(a)
    valid = a.shape[dim] if a.dtype.kind not in "fc" else \
        (~xp.isnan(a)).sum(axis=dim, keepdims=True)
    middle = xp.maximum(valid - 1, 0) // 2  # sorted with NaN last: the first `valid` are values
    if a.dtype.kind not in "fc":
        shape = list(a.shape)
        shape[dim] = 1
        middle = xp.full(shape, middle)
    return xp.take_along_axis(order(a, dim, False), middle.astype(_dt.int64), axis=dim)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median ignoring NaNs (NaN only where every value is NaN). Its gradient goes to
    the element it is.

    Returns:
        A 0-d tensor when dim is None; otherwise a namedtuple (values, indices) over ``dim``.
    """
    if dim is None:
        flat = input.reshape(-1)
        if flat.shape[0] == 0:  # as PyTorch: the median of nothing is NaN
            return Tensor._make(array_module(input._data).full((), float("nan"), input.dtype))
        index = _plain(partial(nanmedian_index, dim=0), flat)
        return take_along_dim(flat, index, 0).reshape(())
    d = _dim("nanmedian", dim, input.ndim)
    if input.ndim == 0:
        return nanmedian_result(input * 1, argsort(input))
    if input.shape[d] == 0:
        raise RuntimeError(f"nanmedian: dim {d} of input {tuple(input.shape)} is empty; the "
                           "median needs at least one value")
    index = _plain(partial(nanmedian_index, dim=d), input)
    return nanmedian_result(*_picked(input, index, d, keepdim))


def nan_quantile_positions(a, qs, dim: int, interpolation: str):
    """Where the q-quantiles of the non-NaN values of ``a`` along ``dim`` lie in the sorted
    values (NaN last): (below, above) int64 positions and the fraction between them, one per q
    along dim. Where all values are NaN, both are 0: the first NaN (as PyTorch)."""
    xp = array_module(a)
    qs = xp.asarray(qs, a.dtype).reshape(-1)
    valid = (~xp.isnan(a)).sum(axis=dim, keepdims=True).astype(a.dtype)
    along = [1] * a.ndim
    along[dim] = qs.size
    pos = xp.maximum(qs.reshape(along) * (valid - 1), 0)  # (q's along dim, the others)
    below, above = xp.floor(pos), xp.ceil(pos)
    if interpolation == "nearest":
        below = above = xp.round(pos)  # half to even, as torch.round
    return below.astype(_dt.int64), above.astype(_dt.int64), (pos - below).astype(a.dtype)


def nanquantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """The q-quantiles over ``dim`` (of all values when None) ignoring NaNs: at position
    q (n - 1) of the n sorted non-NaN values, between its two neighbours by ``interpolation``;
    NaN where every value is NaN.

    Args:
        input: floating tensor.
        q: a float or a 1-D tensor of floats in [0, 1] (a tensor is read anew at each replay
            of ``nabla.jit.trace``; its range is checked when traced).
        interpolation: 'linear', 'lower', 'higher', 'nearest' or 'midpoint'.
    Returns:
        The reduced shape; with a 1-D q, one such result per q along a new first dimension.
    """
    if input.dtype.kind != "f":
        raise RuntimeError(f"nanquantile: input must be a floating tensor, got {input.dtype}")
    qs = quantile_levels("nanquantile", input, q, interpolation)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim("nanquantile", dim, input.ndim)
    if x.ndim == 0:
        x = x.reshape(1)
    if x.shape[d] == 0:
        raise RuntimeError(f"nanquantile: input of shape {tuple(input.shape)} is empty along "
                           "the reduced dims; a quantile needs at least one value")
    # a tensor q is an argument of the step, so that jit.trace reads it at every replay
    below, above, frac = _plain(partial(nan_quantile_positions, dim=d,
                                        interpolation=interpolation), x,
                                q.detach() if isinstance(q, Tensor) else qs)
    values = sort(x, d).values
    out = interpolated(take_along_dim(values, below, d), take_along_dim(values, above, d),
                       frac, interpolation)  # (NaN where all values are: they are NaN there)
    return quantiles_placed(out, d, input, dim, keepdim, qs)


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first dim (``sort(input, 0).values``); gradients flow back to
    the elements."""
    return sort(input, 0).values


def unique_consecutive(input: Tensor, return_inverse: bool = False,
                       return_counts: bool = False, dim: int | None = None):
    """The first element of every run of equal consecutive elements (of the flattened input,
    or slices along ``dim``). No gradient.

    Returns:
        The values; with ``return_inverse`` also which run each element (input's shape) or
        slice (length n along dim) belongs to, with ``return_counts`` also each run's length.
    """
    d = None if dim is None else _dim("unique_consecutive", dim, input.ndim)
    return _plain(partial(_unique_consecutive, return_inverse=return_inverse,
                          return_counts=return_counts, dim=d), input)


def _unique_consecutive(a, return_inverse: bool, return_counts: bool, dim):
    xp = array_module(a)
    if dim is None or a.ndim == 0:
        rows, n = a.reshape(-1, 1), a.size
    else:
        n = a.shape[dim]
        rows = xp.moveaxis(a, dim, 0).reshape(n, a.size // n if n else 0)
    starts = xp.ones(n, bool)
    starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    first = xp.nonzero(starts)[0]
    values = a.reshape(-1)[first] if dim is None or a.ndim == 0 else xp.take(a, first, axis=dim)
    out = [values]
    if return_inverse:
        inverse = xp.cumsum(starts) - 1
        out.append(inverse.reshape(a.shape if dim is None else (n,)).astype(_dt.int64))
    if return_counts:
        out.append(xp.diff(xp.append(first, n)).astype(_dt.int64))
    return out[0] if len(out) == 1 else tuple(out)


def histogram(input: Tensor, bins, *, range=None, weight=None, density: bool = False):
    """Counts of the (flattened) values in ``bins`` (the last bin includes its right edge);
    values outside the bins are not counted. No gradient.

    Args:
        input: floating tensor.
        bins: the number of equal bins over ``range`` (default: the values' min to max), or a
            1-D tensor of increasing bin edges.
        range: (min, max) of the bins, for an int ``bins``.
        weight: tensor of input's shape: each value counts its weight.
        density: divide by the total and the bin widths (the histogram integrates to 1).
    Returns:
        A namedtuple (hist, bin_edges) of shapes (bins,) and (bins + 1,), input's dtype.
    """
    if input.dtype.kind != "f":
        raise RuntimeError(f"histogram: input must be a floating tensor, got {input.dtype}")
    if isinstance(bins, Tensor):
        if bins.ndim != 1 or bins.shape[0] < 2 or bins.dtype != input.dtype:
            raise RuntimeError(f"histogram: bins must be an int or a 1-D tensor of at least two "
                               f"edges of input's dtype {input.dtype}, got shape "
                               f"{tuple(bins.shape)} and dtype {bins.dtype}")
        b = bins._data
        if (b[1:] < b[:-1]).any():
            raise RuntimeError(f"histogram: the bin edges must increase, got {b.tolist()}")
    elif not isinstance(bins, int) or bins <= 0:
        raise RuntimeError(f"histogram: bins must be a positive int or a tensor of edges, got "
                           f"{bins!r}")
    if range is not None and range[0] > range[1]:
        raise RuntimeError(f"histogram: range's min must not exceed its max, got {range}")
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise RuntimeError(f"histogram: weight of shape {tuple(weight.shape)} must have input's "
                           f"shape {tuple(input.shape)}")
    fn = partial(_histogram, range=range, density=density)
    return histogram_result(*_plain(fn, input, bins, weight))


def _histogram(a, bins, weight=None, range=None, density: bool = False):
    xp = array_module(a)
    a = a.reshape(-1)
    if not isinstance(bins, int):
        edges = bins
    else:
        lo, hi = (float(a.min()), float(a.max())) if range is None and a.size else \
            (0.0, 1.0) if range is None else (float(range[0]), float(range[1]))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"histogram: the range [{lo}, {hi}] is not finite; pass a finite "
                               "range, or remove the infinite and NaN values")
        if lo == hi:  # as PyTorch (and NumPy): a bin range of width 1 around the value
            lo, hi = lo - 0.5, hi + 0.5
        edges = xp.linspace(lo, hi, bins + 1).astype(a.dtype)
    hist, _ = xp.histogram(a, edges, weights=None if weight is None else weight.reshape(-1))
    hist = hist.astype(a.dtype)
    if density:
        hist = hist / (hist.sum() * xp.diff(edges))
    return hist.astype(a.dtype), edges.copy()


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """``input`` with every sub-tensor ``input.select(dim, i)`` whose p-norm exceeds ``maxnorm``
    scaled to norm ``maxnorm``: ``x * maxnorm / (norm + 1e-7)`` there (as PyTorch), unchanged
    elsewhere. Differentiable, through the norm too.

    Args:
        input: floating tensor with at least 2 dims.
        p: the norm's power (positive; ``inf`` for the largest absolute value).
        dim: the dimension whose slices are renormalized; maxnorm: non-negative.
    Returns:
        Tensor of input's shape.
    """
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"renorm: input must be a floating tensor, got {input.dtype}")
    if not p > 0 or maxnorm < 0:
        raise RuntimeError(f"renorm: p must be positive and maxnorm non-negative, got p={p}, "
                           f"maxnorm={maxnorm}")
    d = _dim("renorm", dim, input.ndim)
    others = tuple(k for k in range(input.ndim) if k != d)
    size = input.abs()
    if p == math.inf:
        norm = amax(size, others, keepdim=True)
        over = norm.detach() > maxnorm
    else:
        total = (size if p == 1 else size ** p).sum(others, keepdim=True)
        over = total.detach() ** (1.0 / p) > maxnorm
        # 1 where the sum is 0 (a branch `over` leaves unused): the root's slope is infinite there
        norm = where(total.detach() == 0, 1.0, total) ** (1.0 / p)
    return input * where(over, maxnorm / (norm + 1e-7), 1.0)

