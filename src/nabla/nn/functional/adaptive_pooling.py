"""Adaptive pooling: a fixed output size, whatever the input size (PyTorch's windows: start
floor(i H / Ho), end ceil((i + 1) H / Ho)).

Derived from other ops, so it has no gradient rule of its own: average pooling is a product with
an averaging matrix per dimension (Y = A_h X A_w^T in 2-D), max pooling a gather at the argmax
(plain pooling when the sizes divide). The 2-D and 3-D forms share the code.
"""

import math
from functools import partial

from nabla.backend import array_module
from nabla.nn.functional._shapes import squeeze_h, unsqueeze_h
from nabla.nn.functional.pooling import avg_pool2d, max_pool2d
from nabla.nn.functional.pooling3d import avg_pool3d, max_pool3d
from nabla.nn.utils.conv_utils import ntuple
from nabla.ops import gather
from nabla.ops.linalg import matmul
from nabla.ops.reduce import _plain, mean
from nabla.ops.shape import reshape, transpose
from nabla.tensor import Tensor

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices"]


def _bounds(n: int, o: int) -> list:
    """PyTorch's adaptive windows: [floor(i n / o), ceil((i + 1) n / o)) for i < o."""
    return [(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]


def _output_size(op: str, x: Tensor, output_size, k: int) -> tuple:
    size = ntuple(output_size, k, "output_size") if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    size = tuple(x.shape[-k + i] if s is None else int(s) for i, s in enumerate(size))
    if len(size) != k or min(size) <= 0:
        raise RuntimeError(f"{op}: output_size must be {k} positive ints, got {output_size}")
    return size


def _averaging_matrix(n: int, o: int, dtype, xp):
    """(o, n) matrix whose row i averages the inputs of adaptive window i."""
    a = xp.zeros((o, n), dtype)
    for i, (s, e) in enumerate(_bounds(n, o)):
        a[i, s:e] = 1.0 / (e - s)
    return Tensor._make(a)


def _check_dims(op: str, input: Tensor, k: int) -> None:
    if input.ndim not in (k + 1, k + 2):
        raise RuntimeError(f"{op}: expected {k + 1}D (unbatched) or {k + 2}D (batched) input, "
                           f"got input of size {tuple(input.shape)}")


def _adaptive_avg(op: str, input: Tensor, output_size, k: int, pool) -> Tensor:
    """Adaptive average over the last ``k`` dims: a mean, plain pooling (``pool``) when the
    sizes divide, else one product with an averaging matrix per dim, the last one first."""
    _check_dims(op, input, k)
    out, size = _output_size(op, input, output_size, k), tuple(input.shape[-k:])
    if all(o == 1 for o in out):
        return mean(input, tuple(range(-k, 0)), keepdim=True)
    if all(n % o == 0 for n, o in zip(size, out)):
        return pool(input, tuple(n // o for n, o in zip(size, out)))
    xp, dtype = array_module(input._data), input._data.dtype
    y = matmul(input, transpose(_averaging_matrix(size[-1], out[-1], dtype, xp), 0, 1))
    for i in reversed(range(k - 1)):  # dim i as the rows of a matrix (its later dims flattened)
        d = y.ndim - k + i
        rest = tuple(y.shape[d + 1:])
        if len(rest) > 1:
            y = reshape(y, tuple(y.shape[:d + 1]) + (math.prod(rest),))
        y = matmul(_averaging_matrix(size[i], out[i], dtype, xp), y)
        if len(rest) > 1:
            y = reshape(y, tuple(y.shape[:d + 1]) + rest)
    return y


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over PyTorch's adaptive windows (start floor(i H / Ho), end ceil((i+1) H / Ho)).

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: int or (Ho, Wo) (None keeps the input size).

    Returns:
        (N, C, Ho, Wo).
    """
    return _adaptive_avg("adaptive_avg_pool2d", input, output_size, 2, avg_pool2d)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average over PyTorch's adaptive windows (start floor(i D / Do), end ceil((i+1) D / Do),
    likewise in H and W).

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        output_size: int or (Do, Ho, Wo) (None keeps the input size).

    Returns:
        (N, C, Do, Ho, Wo).
    """
    return _adaptive_avg("adaptive_avg_pool3d", input, output_size, 3, avg_pool3d)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average over adaptive windows of (N, C, L) or (C, L) input.

    Returns:
        (N, C, Lo).
    """
    _check_dims("adaptive_avg_pool1d", input, 1)
    (lo,) = _output_size("adaptive_avg_pool1d", input, output_size, 1)
    a = _averaging_matrix(input.shape[-1], lo, input._data.dtype, array_module(input._data))
    return matmul(input, transpose(a, 0, 1))


def _adaptive_argmax(x, out_size: tuple):
    """Flat indices (h * W + w in 2-D) (N, C, *out) of the maximum of each adaptive window."""
    xp = array_module(x)
    k = len(out_size)
    sizes = x.shape[-k:]
    picks = [_window_taps(n, o, xp) for n, o in zip(sizes, out_size)]
    # the windows' elements as (..., o1, t1, o2, t2, ...): dim i's table on axes 2i, 2i + 1
    index = tuple(p.reshape((1,) * (2 * i) + p.shape + (1,) * (2 * (k - 1 - i)))
                  for i, p in enumerate(picks))
    v = x[(Ellipsis,) + index]
    lead = x.ndim - k
    order = tuple(range(lead)) + tuple(lead + 2 * i for i in range(k)) + \
        tuple(lead + 2 * i + 1 for i in range(k))
    v = v.transpose(order).reshape(x.shape[:-k] + tuple(out_size) + (-1,))
    a = v.argmax(-1)  # the first maximum; NaN wins, as in PyTorch
    taps = xp.unravel_index(a, tuple(p.shape[1] for p in picks))  # each dim's tap
    flat = 0
    for i, (p, t, n, o) in enumerate(zip(picks, taps, sizes, out_size)):
        flat = flat * n + p[xp.arange(o).reshape((o,) + (1,) * (k - 1 - i)), t]
    return flat.astype(xp.int64)


def _window_taps(n: int, o: int, xp):
    """(o, taps) positions of the elements of each adaptive window, padded to the largest
    window's taps by repeating their last element (harmless for a max)."""
    b = _bounds(n, o)
    taps = max(e - s for s, e in b)
    return xp.array([[min(s + t, e - 1) for t in range(taps)] for s, e in b])


def _adaptive_max(op: str, input: Tensor, output_size, k: int, return_indices: bool, pool):
    """Adaptive maximum over the last ``k`` dims: plain pooling (``pool``) when the sizes
    divide, else a gather at the argmax."""
    _check_dims(op, input, k)
    out, size = _output_size(op, input, output_size, k), tuple(input.shape[-k:])
    if all(n % o == 0 for n, o in zip(size, out)):
        return pool(input, tuple(n // o for n, o in zip(size, out)),
                    return_indices=return_indices)
    # the argmax as a step that nabla.jit.trace replays (it depends on the input's values)
    idx = _plain(partial(_adaptive_argmax, out_size=out), input)
    lead = tuple(input.shape[:-k])
    flat = reshape(input, lead + (math.prod(size),))
    y = reshape(gather(flat, -1, reshape(idx, lead + (-1,))), lead + out)
    return (y, idx) if return_indices else y


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over PyTorch's adaptive windows (derived: a gather at the argmax).

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: int or (Ho, Wo) (None keeps the input size).
        return_indices: also return the flat indices h * W + w of the maxima.

    Returns:
        (N, C, Ho, Wo) (and the int64 indices).
    """
    return _adaptive_max("adaptive_max_pool2d", input, output_size, 2, return_indices,
                         max_pool2d)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over PyTorch's adaptive windows (derived: a gather at the argmax).

    Args:
        input: (N, C, D, H, W) or (C, D, H, W).
        output_size: int or (Do, Ho, Wo) (None keeps the input size).
        return_indices: also return the flat indices (d * H + h) * W + w of the maxima.

    Returns:
        (N, C, Do, Ho, Wo) (and the int64 indices).
    """
    return _adaptive_max("adaptive_max_pool3d", input, output_size, 3, return_indices,
                         max_pool3d)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over adaptive windows of (N, C, L) or (C, L) input.

    Returns:
        (N, C, Lo) (and the int64 indices).
    """
    x = unsqueeze_h("adaptive_max_pool1d", input)
    out = adaptive_max_pool2d(x, (1, ntuple(output_size, 1, "output_size")[0]), return_indices)
    if return_indices:
        return squeeze_h(out[0]), squeeze_h(out[1])
    return squeeze_h(out)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """adaptive_max_pool1d returning (output, indices) whatever ``return_indices`` says."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """adaptive_max_pool2d returning (output, indices) whatever ``return_indices`` says."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """adaptive_max_pool3d returning (output, indices) whatever ``return_indices`` says."""
    return adaptive_max_pool3d(input, output_size, True)
