"""Which op a plain step ran, so that export can convert it like an Op.

Ops without gradient (comparisons, logical ops, argmax, argsort, topk, all, any) reach the tracer
as a plain array function, not as an Op class (``jit._Tracer.plain``): a NumPy ufunc, or a small
lambda that closes over the op's arguments (dim, keepdim, k). Export keys their conversions by
the NumPy function they amount to:

- a ufunc (``np.greater``, ``np.logical_and``, ``np.isnan``) is its own key, with the step's
  arguments;
- a lambda is known by the op that made it (its ``__qualname__``: ``topk.<locals>.<lambda>``),
  and its arguments (dim, direction, k, keepdim) are found by running it on probes of the
  input's shape (random values, all distinct: no ties) and keeping the candidate that computes
  the same arrays. Running the function on new arrays is what a replay of a trace does too.
"""

import itertools
from functools import partial

import numpy as np

from nabla.onnx.export import Value

_PROBES = 8  # candidates left after this many probes compute the same function on every probe


def identify(fn, args: list):
    """``(key, args)`` for a plain step ``fn(*args)``: the NumPy function whose conversion
    writes it and the arguments that conversion takes; key None when it is not known."""
    if isinstance(fn, np.ufunc):
        return fn, args
    family = getattr(fn, "__qualname__", "").split(".")[0]
    if family not in ("_arg", "argsort", "topk", "all", "any") or len(args) != 1 \
            or not isinstance(args[0], Value):
        return None, args
    x = args[0]
    rng = np.random.default_rng(0)
    left = None
    for _ in range(_PROBES):
        if family in ("all", "any"):
            probe = rng.random(x.shape) < 0.5
        else:  # distinct values, none zero
            probe = (rng.permutation(int(np.prod(x.shape))) + 1.0).reshape(x.shape)
        try:
            got = np.asarray(fn(probe))
        except (TypeError, ValueError):  # not a function of one array like these
            return None, args
        if left is None:
            left = list(_candidates(family, x.shape, got.shape))
        left = [c for c in left if np.array_equal(np.asarray(c[2](probe)), got)]
        if len(left) <= 1:
            break
    if not left:
        return None, args
    key, params, _ = left[0]
    return key, [x, *params]


def plain_name(fn) -> str:
    """The op a plain function stands for, for error messages."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    return name.split(".")[0].lstrip("_")


def _candidates(family: str, shape: tuple, out_shape: tuple):
    """(key, params, the function of a probe) for each way ``family`` can map ``shape`` to
    ``out_shape``."""
    ndim = len(shape)
    if family == "_arg":
        for fn, axis, keep in itertools.product((np.argmax, np.argmin), (None, *range(ndim)),
                                                (False, True)):
            yield fn, (axis, keep), partial(fn, axis=axis, keepdims=keep)
    elif family in ("argsort", "topk"):
        for axis in range(ndim if len(out_shape) == ndim else 0):
            k = out_shape[axis]
            if _without(out_shape, axis) == _without(shape, axis) and k <= shape[axis]:
                for descending in (False, True):
                    yield np.argsort, (axis, descending, k), partial(
                        _order_prefix, axis=axis, descending=descending, k=k)
    else:
        fn = np.all if family == "all" else np.any
        subsets = [c for r in range(1, ndim + 1) for c in itertools.combinations(range(ndim), r)]
        for axes, keep in itertools.product(subsets or [()], (False, True)):
            yield fn, (axes, keep), partial(fn, axis=axes, keepdims=keep)


def _without(shape: tuple, axis: int) -> tuple:
    return tuple(shape[:axis]) + tuple(shape[axis + 1:])


def _order_prefix(a, axis: int, descending: bool, k: int):
    """The first k indices that sort ``a`` along ``axis`` (no ties in a probe)."""
    order = np.argsort(-a if descending else a, axis=axis, kind="stable")
    return np.take(order, np.arange(k), axis=axis)
