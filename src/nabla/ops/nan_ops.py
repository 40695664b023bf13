"""NaN-aware ops: nan_to_num, nansum, nanmean.

nansum is derived (NaN set to 0 with ``where``, then ``sum``): where's rule already gives the
gradient PyTorch gives, ``grad * (x is not NaN)``. nan_to_num and nanmean are nodes of their own:
one node instead of a chain, and nanmean's all-NaN slices (0 / 0) stay silent in both passes.
"""

from nabla import dtype as _dt
from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.casts import clone
from nabla.ops.compare import isnan
from nabla.ops.elementwise import where
from nabla.ops.reduce import _dims, _int_to_long, _quiet, _unreduce
from nabla.ops.reduce import sum as _sum  # (not the builtin)
from nabla.tensor import Tensor

__all__ = ["nan_to_num", "nansum", "nanmean"]


class NanToNum(Op):
    """y = x with NaN, +inf, -inf replaced;  dy/dx = grad where x is finite, 0 elsewhere
    (``grad * isfinite(x)``, as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        xp = array_module(x)
        with _quiet(xp, over="ignore"):  # a replacement beyond the dtype's range becomes inf
            y = xp.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)
        ctx.save_for_backward(xp.isfinite(x).astype(x.dtype))
        return y

    @staticmethod
    def backward(ctx, grad):
        (finite,) = ctx.saved_tensors
        with _quiet(array_module(getattr(grad, "_data", grad)), invalid="ignore"):  # inf * 0
            return grad * finite, None, None, None


class NanMean(Op):
    """y = (sum of the non-NaN x over dims) / (their count n);  dy/dx = grad / n where x is not
    NaN, 0 where it is (NaN in an all-NaN slice: grad / 0 * 0, as PyTorch)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        xp = array_module(x)
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        kept = ~xp.isnan(x)
        # silent as PyTorch: inf + -inf, and 0 / 0 for an all-NaN slice, give NaN
        with _quiet(xp, divide="ignore", invalid="ignore"):
            total = xp.asarray(xp.where(kept, x, 0).sum(axis=dims, keepdims=keepdim, dtype=dtype))
            count = kept.sum(axis=dims, keepdims=keepdim).astype(total.dtype)
            y = total / count
        ctx.save_for_backward(kept.astype(x.dtype), count)
        return y

    @staticmethod
    def backward(ctx, grad):
        kept, count = ctx.saved_tensors
        with _quiet(array_module(getattr(grad, "_data", grad)), divide="ignore",
                    invalid="ignore"):
            g = _unreduce(grad / count, ctx.in_shape, ctx.dims, ctx.keepdim)
            return g * kept, None, None, None


def _float_value(arg: str, value) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"nan_to_num: {arg} must be a number or None, got {value!r}") from None


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """Replace NaN with ``nan``, +inf with ``posinf`` and -inf with ``neginf``.

    Args:
        input: tensor of any shape (integer and bool tensors are returned as a copy).
        nan: the value for NaN (default 0).
        posinf: the value for +inf (default: the dtype's largest finite value).
        neginf: the value for -inf (default: the dtype's smallest finite value).

    Returns:
        A tensor of the input's shape and dtype. Gradient: ``grad`` where the input is finite,
        0 where a value was replaced.
    """
    if input.dtype.kind not in "fc":
        return clone(input)
    info = array_module(input._data).finfo(input.dtype)
    nan = _float_value("nan", nan)
    posinf = _float_value("posinf", posinf)
    neginf = _float_value("neginf", neginf)
    return NanToNum.apply(input, 0.0 if nan is None else nan,
                          float(info.max) if posinf is None else posinf,
                          float(info.min) if neginf is None else neginf)


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` treating NaN as 0.

    Args:
        input: tensor of any shape.
        dim: int, tuple of ints or None (all dimensions); negatives count from the end.
        keepdim: keep the reduced dimensions with size 1.
        dtype: accumulate and return in this dtype (integers and bools default to int64).

    Returns:
        The input's shape without (or with size 1 at, if keepdim) the reduced dimensions.
        Gradient: ``grad`` broadcast back, 0 at NaN entries.
    """
    dims = _dims(dim, input.ndim, "nansum")  # checked here so an error names nansum
    if input.dtype.kind in "fc":
        input = where(isnan(input), 0.0, input)
    with _quiet(array_module(input._data), invalid="ignore"):  # inf + -inf = NaN, silently
        return _sum(input, dims, keepdim, dtype=_int_to_long(input, _dt.to_dtype(dtype)))


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim`` of the non-NaN elements: sum(x_i, x_i not NaN) / count(x_i not NaN);
    NaN where a slice has no such element (all NaN, or empty).

    Args:
        input: floating tensor of any shape.
        dim: int, tuple of ints or None (all dimensions); negatives count from the end.
        keepdim: keep the reduced dimensions with size 1.
        dtype: accumulate and return in this (floating) dtype.

    Returns:
        The input's shape without (or with size 1 at, if keepdim) the reduced dimensions.
        Gradient: ``grad / count`` at non-NaN entries, 0 at NaN entries.
    """
    if input.dtype.kind not in "fc":
        raise RuntimeError(
            f"nanmean: expected input to have a floating point dtype, got {input.dtype}. "
            "Convert it first (x.float())."
        )
    return NanMean.apply(input, _dims(dim, input.ndim, "nanmean"), keepdim,
                         _dt.to_dtype(dtype))
