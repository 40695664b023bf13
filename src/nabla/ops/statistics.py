"""Statistics of data: aminmax (both extremes at once), cov (the covariance matrix of variables
observed together), corrcoef (their Pearson correlation) and histc (a histogram, no gradient).

The first three are derived from other ops (amin/amax, sums, matmul, division), so the gradients
follow from theirs: the extremes' gradients are split among ties, as PyTorch's.
"""

import math
import operator
import warnings
from collections import namedtuple
from functools import partial

from nabla.backend import array_module
from nabla.ops.elementwise import clamp, sqrt
from nabla.ops.extrema import amax, amin
from nabla.ops.linalg import matmul
from nabla.ops.matrix import diagonal
from nabla.ops.reduce import _plain, _quiet
from nabla.ops.reduce import sum as _sum
from nabla.ops.shape import _dim, reshape, squeeze, transpose
from nabla.tensor import Tensor

__all__ = ["aminmax", "cov", "corrcoef", "histc"]

# The (min, max) pair, as torch.return_types.aminmax.
aminmax_result = namedtuple("aminmax", ["min", "max"])


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False):
    """The smallest and the largest element, over all elements or along ``dim``; the gradient of
    each is split evenly among the elements that tie for it (as amin and amax).

    Args:
        input: tensor of any shape (non-empty where reduced).
        dim: None for all elements, or the dimension to reduce.
        keepdim: keep the reduced dimension(s) with size 1.
    Returns:
        A namedtuple ``(min, max)`` of two tensors of the reduced shape.
    """
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"aminmax: cannot compute aminmax over an empty tensor (shape "
                               f"{tuple(input.shape)}) as the operation has no identity")
        dims = tuple(range(input.ndim))
    else:
        d = _dim("aminmax", dim, input.ndim)
        if input.ndim and input.shape[d] == 0:
            raise IndexError(f"aminmax: expected reduction dim {dim} to have non-zero size "
                             f"(shape {tuple(input.shape)})")
        dims = (d,) if input.ndim else ()
    return aminmax_result(amin(input, dims, keepdim), amax(input, dims, keepdim))


def _weights(name: str, w: Tensor, n: int, kinds: str, kind_name: str) -> Tensor:
    """The checked 1-D weights of cov (fweights or aweights), one per observation."""
    if w.ndim > 1:
        raise RuntimeError(f"cov: expected {name} to have one or fewer dimensions, got shape "
                           f"{tuple(w.shape)}")
    if w.dtype.kind not in kinds:
        raise RuntimeError(f"cov: expected {name} to have {kind_name} dtype, got {w.dtype}")
    if w.numel() != n:
        raise RuntimeError(f"cov: expected {name} to have one entry per observation ({n}), got "
                           f"{w.numel()}")
    if n and w._data.min() < 0:
        raise RuntimeError(f"cov: {name} cannot be negative")
    return reshape(w, (-1,))


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of variables (rows of ``input``) observed together (columns).

    With weights w_j = fweights_j * aweights_j (1 where not given), the weighted mean
    mu_i = sum_j w_j x_ij / sum_j w_j and

        cov_ik = sum_j w_j (x_ij - mu_i)(x_kj - mu_k) / (sum_j w_j - c * sum_j w_j a_j / sum_j w_j)

    where c = ``correction``; without aweights the denominator is sum_j w_j - c (n - c without
    any weights: c = 1 is Bessel's correction, c = 0 the maximum-likelihood estimate). A
    denominator <= 0 gives inf or nan, with a warning.

    Args:
        input: (V, N) for V variables and N observations, or (N,) for one variable.
        correction: the difference between the sample size and the degrees of freedom (an int).
        fweights: (N,) integer frequency weights (how often each observation occurred), >= 0.
        aweights: (N,) floating observation weights (their importance), >= 0.
    Returns:
        Tensor of shape (V, V); a 0-d tensor when V is 1. Integer inputs give the default float
        dtype.
    """
    if input.ndim > 2:
        raise RuntimeError(f"cov: expected input to have two or fewer dimensions, got shape "
                           f"{tuple(input.shape)}; reshape it to (variables, observations)")
    if input.dtype.kind == "b":
        raise RuntimeError("cov: bool dtype is not supported for input")
    correction = operator.index(correction)
    x = input if input.ndim == 2 else reshape(input, (1, -1))
    n = x.shape[1]
    w = None if fweights is None else _weights("fweights", fweights, n, "iu", "integral")
    a = None if aweights is None else _weights("aweights", aweights, n, "f", "floating point")
    if a is not None:
        w = a if w is None else w * a
    xp = array_module(input._data)
    with _quiet(xp, divide="ignore", invalid="ignore"):  # no observations: nan, as PyTorch
        if w is None:
            total = n
            mean = _sum(x, 1) / n
        else:
            total = _sum(w)
            if float(total) == 0:
                raise RuntimeError("cov: weights sum to zero, can't be normalized")
            mean = _sum(x * w, 1) / total
        norm = _cov_denominator(total, w, a, correction, n)
        centred = x - reshape(mean, (-1, 1))
        c = matmul(centred, transpose(centred if w is None else centred * w, 0, 1))
        return squeeze(c / norm)


def _cov_denominator(total, w, a, correction: int, n: int):
    """cov's denominator: total - c sum(w a) / total with aweights ``a``, else total - c (total
    is sum(w), or n without weights); 0 with a warning where it is <= 0 (inf or nan follow)."""
    if a is not None and correction != 0:
        norm = total - correction * _sum(w * a) / total
    else:
        norm = total - correction
    if float(norm) <= 0:
        warnings.warn(f"cov: degrees of freedom is <= 0 (correction {correction}, {n} "
                      "observations); the result is inf or nan. The correction should be "
                      "strictly less than the number of observations.", stacklevel=3)
        norm = norm * 0
    return norm


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of variables (rows) observed together (columns):
    r_ik = cov_ik / sqrt(cov_ii * cov_kk), clipped to [-1, 1].

    Args:
        input: (V, N) for V variables and N observations, or (N,) for one variable.
    Returns:
        Tensor of shape (V, V) (a 0-d tensor when V is 1: 1, or nan for constant data).
    """
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef: expected input to have two or fewer dimensions, got "
                           f"shape {tuple(input.shape)}; reshape it to (variables, "
                           "observations)")
    c = cov(input)
    with _quiet(array_module(c._data), divide="ignore", invalid="ignore"):
        if c.ndim == 0:  # 1, or nan where the variance is 0, inf or nan
            return c / c
        std = sqrt(diagonal(c))
        c = c / reshape(std, (-1, 1)) / reshape(std, (1, -1))
    return clamp(c, -1, 1)  # rounding can step just outside


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """How many elements fall in each of ``bins`` equal bins spanning [min, max] (the data's
    range when min == max; widened by 1 each side if the data hold one value); elements outside
    are not counted. No gradient.

    Args:
        input: floating tensor of any shape.
    Returns:
        Tensor of shape (bins,), of input's dtype.
    """
    if input.dtype.kind != "f":
        raise RuntimeError(f"histc: expected a floating point tensor, got {input.dtype}; convert "
                           "it (x.float())")
    if operator.index(bins) <= 0:
        raise RuntimeError(f"histc: bins must be positive, got {bins}")
    if min > max:
        raise RuntimeError(f"histc: max must be larger than min (got min={min}, max={max})")
    return _plain(partial(_histc, bins=bins, lo=float(min), hi=float(max)), input)


def _histc(x, bins: int, lo: float, hi: float):
    xp = array_module(x)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"histc: the data's range [{lo}, {hi}] is not finite; pass min "
                               "and max")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = xp.histogram(x[~xp.isnan(x)], bins, (lo, hi))  # NaN falls in no bin
    return counts.astype(x.dtype)
