"""Which op a plain step ran, so that export can convert it like an Op.

Ops without gradient (comparisons, logical ops, argmax, argsort, topk, all, any, the index
steps of kthvalue, median, cummax, repeat_interleave and adaptive max pooling, nonzero, isclose,
unique, bincount, one_hot, heaviside, unravel_index) reach the tracer as a plain array function,
not as an Op class (``jit._Tracer.plain``): a NumPy function, a function of nabla's, or a
``functools.partial`` whose keywords hold the op's settings (dim, keepdim, k).
Export keys their conversions by the function they amount to:

- a ufunc (``np.greater``, ``np.logical_and``, ``np.isnan``) is its own key, with the step's
  arguments;
- ``partial(np.all or np.any, axis, keepdims)`` -> (x, axis, keepdims);
- ``partial(extrema.arg_index, which=np.argmax or np.argmin, axis, keepdims)`` ->
  key np.argmax or np.argmin, (x, axis, keepdims);
- ``partial(sorting.order, dim, descending, k)`` -> key np.argsort, (x, dim, descending, k);
- ``partial(sorting.kth_index, dim, k)`` -> key sorting.kthvalue, (x, dim, k);
- ``partial(sorting.median_index, dim)`` -> key sorting.median, (x, dim);
- ``partial(cumulative.running_indices, dim, running)`` -> key cumulative.cummax (running is
  np.maximum) or cumulative.cummin, (x, dim);
- ``np.argwhere`` (nonzero, argwhere, where(condition)) is its own key, (x,);
- ``partial(np.isclose, rtol, atol, equal_nan)`` -> (x, y, rtol, atol, equal_nan);
- ``partial(sorting._unique, return_inverse, return_counts)`` -> key sorting.unique,
  (x, return_inverse, return_counts);
- ``partial(sorting._bincount, minlength)`` -> key sorting.bincount, (x, weights or None,
  minlength);
- ``partial(embedding_lookup._one_hot, num_classes)`` -> key F.one_hot, (x, num_classes);
- ``np.isposinf``, ``np.isneginf`` are their own keys, (x,);
- ``aliases._heaviside`` -> key heaviside, (x, values);
- the partials of ``_MORE`` (searchsorted, isin, count_nonzero, histc, mode, nanmedian,
  nanquantile, unique_consecutive, norm with p=0, repeat_interleave's index, unravel_index's
  coordinates, adaptive max pooling's argmax) -> the public function (for the norm its
  counting function, for the pooling its argmax function), with the step's arguments
  followed by the partial's settings in the order ``_MORE`` lists them;
- ``partial(numeric._cast_then, np.gcd or np.lcm, dtype)`` -> key np.gcd or np.lcm,
  (a, b, dtype).
"""

from functools import partial

import numpy as np

from nabla.nn.functional import embedding_lookup
from nabla.nn.functional.adaptive_pooling import _adaptive_argmax
from nabla.ops import cumulative, order_stats, sorting
from nabla.ops.aliases import _heaviside, heaviside
from nabla.ops.arrangement import _repeat_index, repeat_interleave
from nabla.ops.bucketize import _member, _search, isin, searchsorted
from nabla.ops.compare import _count_nonzero, count_nonzero
from nabla.ops.extrema import arg_index
from nabla.ops.grids import _coordinate, unravel_index
from nabla.ops.linalg import _count_nonzero as _norm_zero
from nabla.ops.numeric import _cast_then
from nabla.ops.sorting import order
from nabla.ops.statistics import _histc, histc

# partial's function -> (the key of its conversion, the settings it passes after the arguments)
_MORE = {
    _search: (searchsorted, ("dtype", "right", "out_dtype")),
    _member: (isin, ("dtype", "invert")),
    _count_nonzero: (count_nonzero, ("axis",)),
    _histc: (histc, ("bins", "lo", "hi")),
    _norm_zero: (_norm_zero, ("axis", "keepdims")),
    order_stats.mode_index: (order_stats.mode, ("dim",)),
    order_stats.nanmedian_index: (order_stats.nanmedian, ("dim",)),
    order_stats.nan_quantile_positions: (order_stats.nanquantile, ("dim", "interpolation")),
    order_stats._unique_consecutive: (order_stats.unique_consecutive,
                                      ("return_inverse", "return_counts", "dim")),
    _repeat_index: (repeat_interleave, ("dtype",)),
    _coordinate: (unravel_index, ("stride", "size")),
    _adaptive_argmax: (_adaptive_argmax, ("out_size",)),
}


def identify(fn, args: list):
    """``(key, args)`` for a plain step ``fn(*args)``: the NumPy function whose conversion
    writes it and the arguments that conversion takes; key None when it is not known."""
    if isinstance(fn, np.ufunc) or fn in (np.argwhere, np.isposinf, np.isneginf):
        return fn, args
    if fn is _heaviside:
        return heaviside, args
    if not isinstance(fn, partial):
        return None, args
    kw = fn.keywords
    if fn.func in _MORE:
        key, settings = _MORE[fn.func]
        return key, list(args) + [kw[name] for name in settings]
    if fn.func is _cast_then and fn.args[0] in (np.gcd, np.lcm):
        return fn.args[0], list(args) + [fn.args[1]]  # (a, b, the dtype they are cast to)
    if fn.func is np.isclose:
        return np.isclose, list(args) + [kw["rtol"], kw["atol"], kw["equal_nan"]]
    if fn.func is sorting._bincount:
        return sorting.bincount, [args[0], args[1] if len(args) > 1 else None, kw["minlength"]]
    if len(args) != 1:
        return None, args
    x = args[0]
    if fn.func is sorting._unique:
        return sorting.unique, [x, kw["return_inverse"], kw["return_counts"]]
    if fn.func is embedding_lookup._one_hot:
        return embedding_lookup.one_hot, [x, kw["num_classes"]]
    if fn.func in (np.all, np.any):
        return fn.func, [x, kw["axis"], kw["keepdims"]]
    if fn.func is arg_index and kw["which"] in (np.argmax, np.argmin):
        return kw["which"], [x, kw["axis"], kw["keepdims"]]
    if fn.func is order:
        k = kw.get("k")
        return np.argsort, [x, kw["dim"], kw["descending"], x.shape[kw["dim"]] if k is None else k]
    if fn.func is sorting.kth_index:
        return sorting.kthvalue, [x, kw["dim"], kw["k"]]
    if fn.func is sorting.median_index:
        return sorting.median, [x, kw["dim"]]
    if fn.func is cumulative.running_indices:
        which = cumulative.cummax if kw["running"] is np.maximum else cumulative.cummin
        return which, [x, kw["dim"]]
    return None, args


def plain_name(fn) -> str:
    """The op a plain function stands for, for error messages."""
    fn = fn.func if isinstance(fn, partial) else fn
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    return name.split(".")[0].lstrip("_")
