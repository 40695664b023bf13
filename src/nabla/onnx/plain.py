"""Which op a plain step ran, so that export can convert it like an Op.

Ops without gradient (comparisons, logical ops, argmax, argsort, topk, all, any) reach the tracer
as a plain array function, not as an Op class (``jit._Tracer.plain``): a NumPy ufunc, or a
``functools.partial`` whose keywords hold the op's settings (dim, keepdim, k). Export keys their
conversions by the NumPy function they amount to:

- a ufunc (``np.greater``, ``np.logical_and``, ``np.isnan``) is its own key, with the step's
  arguments;
- ``partial(np.all or np.any, axis, keepdims)`` -> (x, axis, keepdims);
- ``partial(extrema.arg_index, which=np.argmax or np.argmin, axis, keepdims)`` ->
  key np.argmax or np.argmin, (x, axis, keepdims);
- ``partial(sorting.order, dim, descending, k)`` -> key np.argsort, (x, dim, descending, k).

kthvalue, median, cummax and cummin compute their indices in a lambda (``sorting.py``,
``cumulative.py``), which shows its settings only through the variables it closes over: those
are read by name (``_lambda_of``), keyed by the public function, (x, dim) or (x, dim, k). A
``functools.partial`` there would let this go.
"""

from functools import partial

import numpy as np

from nabla.ops import cumulative, sorting
from nabla.ops.extrema import arg_index
from nabla.ops.sorting import order


def identify(fn, args: list):
    """``(key, args)`` for a plain step ``fn(*args)``: the NumPy function whose conversion
    writes it and the arguments that conversion takes; key None when it is not known."""
    if isinstance(fn, np.ufunc):
        return fn, args
    if len(args) == 1 and getattr(fn, "__name__", None) == "<lambda>":
        return _lambda_of(fn, args[0])
    if not isinstance(fn, partial) or len(args) != 1:
        return None, args
    x, kw = args[0], fn.keywords
    if fn.func in (np.all, np.any):
        return fn.func, [x, kw["axis"], kw["keepdims"]]
    if fn.func is arg_index and kw["which"] in (np.argmax, np.argmin):
        return kw["which"], [x, kw["axis"], kw["keepdims"]]
    if fn.func is order:
        k = kw.get("k")
        return np.argsort, [x, kw["dim"], kw["descending"], x.shape[kw["dim"]] if k is None else k]
    return None, args


def _lambda_of(fn, x):
    """``(key, args)`` for the index lambda of kthvalue, median, cummax or cummin, from the
    names it closes over: ``d`` (the dim; median over all values has none: dim 0 of the
    flattened input), ``k`` and ``running`` (np.maximum for cummax); key None otherwise."""
    cells = fn.__closure__ or ()
    closed = {name: cell.cell_contents for name, cell in zip(fn.__code__.co_freevars, cells)}
    owner = fn.__qualname__.split(".")[0]
    if owner == "kthvalue" and closed.keys() == {"d", "k"}:
        return sorting.kthvalue, [x, closed["d"], closed["k"]]
    if owner == "median" and closed.keys() <= {"d"}:
        return sorting.median, [x, closed.get("d", 0)]
    if owner == "_cum_extreme" and closed.keys() == {"d", "running"}:
        which = cumulative.cummax if closed["running"] is np.maximum else cumulative.cummin
        return which, [x, closed["d"]]
    return None, [x]


def plain_name(fn) -> str:
    """The op a plain function stands for, for error messages."""
    fn = fn.func if isinstance(fn, partial) else fn
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    return name.split(".")[0].lstrip("_")
