"""Fractional max pooling (Graham, 2014, "Fractional Max-Pooling"), PyTorch's
``fractional_max_pool2d`` / ``fractional_max_pool3d`` and their ``_with_indices`` forms.

The output size need not divide the input size: along a dim of input length n, output length o
and window k, each (sample, channel) plane draws u in [0, 1) and its windows start at

    a_i = floor((i + u) * alpha) - floor(u * alpha)  for i < o - 1,   a_{o-1} = n - k,

with alpha = (n - k) / (o - 1), computed in the input's dtype as PyTorch does, so that with the
same ``_random_samples`` the windows (and so outputs and indices) are PyTorch's exactly. Each
output is the maximum of its k-window (the first maximum; a NaN wins, the last one if several),
taken with ``gather`` at the argmax, so the gradient (and its gradient) is gather's: grad added
back at each argmax.
"""

import math
from functools import partial

from nabla.backend import array_module
from nabla.nn.functional._shapes import batched
from nabla.nn.utils.conv_utils import ntuple
from nabla.ops.reduce import _plain
from nabla.ops.scatter import gather
from nabla.ops.shape import reshape
from nabla.random import step_generator
from nabla.tensor import Tensor

__all__ = ["fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices"]


def _window_starts(xp, u, n_in: int, n_out: int, k: int):
    """The start of each window, (*u.shape, n_out) int64, from samples u in u's dtype."""
    starts = xp.empty(u.shape + (n_out,), xp.int64)
    if n_out > 1:
        one = u.dtype.type
        alpha = one(n_in - k) / one(n_out - 1)
        i = xp.arange(n_out - 1, dtype=u.dtype)
        # astype truncates toward zero, as the C++ int cast; the values are not negative
        starts[..., :-1] = (((i + u[..., None]) * alpha).astype(xp.int64)
                            - (u * alpha).astype(xp.int64)[..., None])
    if n_out > 0:
        starts[..., -1] = n_in - k
    return starts


def _argmax_indices(xp, x, starts: list, kernel: tuple):
    """Flat index into each (H * W) or (D * H * W) plane of the maximum of every window:
    (N, C, *out). PyTorch's rule: scan the window in order, move on if larger or NaN."""
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    flat_x = x.reshape(n, c, math.prod(spatial))
    out_shape = tuple(s.shape[-1] for s in starts)
    best = arg = None
    for offset in _offsets(kernel):
        idx = 0
        for d, (s, o) in enumerate(zip(starts, offset)):
            along = tuple(out_shape[d] if e == d else 1 for e in range(len(kernel)))
            idx = idx * spatial[d] + (s + o).reshape((n, c) + along)
        idx = xp.broadcast_to(idx, (n, c) + out_shape).reshape(n, c, math.prod(out_shape))
        v = xp.take_along_axis(flat_x, idx, axis=2)
        if best is None:
            best, arg = v, idx.copy()
            continue
        take = (v > best) | xp.isnan(v)
        best = xp.where(take, v, best)
        arg = xp.where(take, idx, arg)
    return arg.reshape((n, c) + out_shape)


def _offsets(kernel: tuple):
    """Every kernel offset, in C order (the last dim fastest)."""
    total = math.prod(kernel)
    for flat in range(total):
        offset = []
        for k in reversed(kernel):
            offset.append(flat % k)
            flat //= k
        yield tuple(reversed(offset))


def _output_size(op: str, spatial: tuple, output_size, output_ratio) -> tuple:
    dims = len(spatial)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is not None:
        size = ntuple(output_size, dims, "output_size")
    else:
        ratio = (float(output_ratio),) * dims if isinstance(output_ratio, (int, float)) else \
            tuple(float(r) for r in output_ratio)
        if len(ratio) != dims:
            raise ValueError(f"{op}: output_ratio must be a number or a tuple of {dims} numbers, "
                             f"got {output_ratio}")
        size = tuple(int(n * r) for n, r in zip(spatial, ratio))
    if min(size) < 0:
        raise ValueError(f"{op}: output_size must not be negative, got {size}")
    return size


def _samples(op: str, x: Tensor, samples, dims: int):
    """The (N' >= N, C, dims) samples, checked: a Tensor stays one (so that nabla.jit.trace
    reads it at each replay), others become an array of x's dtype; None stays None (drawn by
    _fractional_pool_index)."""
    if samples is None:
        return None
    n, c = x.shape[:2]
    xp = array_module(x._data)
    u = samples._data if isinstance(samples, Tensor) else xp.asarray(samples)
    if u.ndim != 3 or u.shape[0] < n or u.shape[1] != c or u.shape[2] != dims:
        raise RuntimeError(f"{op}: _random_samples must have shape (N >= {n}, {c}, {dims}) for "
                           f"input of shape {tuple(x.shape)}, got {tuple(u.shape)}")
    if u.dtype != x.dtype:
        raise RuntimeError(f"{op}: _random_samples must have the input's dtype {x.dtype}, got "
                           f"{u.dtype}")
    if u.size and not ((u >= 0) & (u <= 1)).all():
        raise RuntimeError(f"{op}: _random_samples must lie in [0, 1]")
    return samples if isinstance(samples, Tensor) else u


def _fractional_pool_index(x, u, kernel: tuple, out: tuple):
    """The flat argmax index (N, C, *out) of every window of array ``x`` placed by samples
    ``u``, or by samples drawn from nabla's global generator when ``u`` is None (so that
    nabla.manual_seed makes them reproducible). A step of nabla.jit.trace: each replay finds
    the maxima of its own input, and draws anew as an eager call does."""
    xp = array_module(x)
    n, c = x.shape[:2]
    dims = len(kernel)
    u = step_generator().random((n, c, dims), dtype=x.dtype) if u is None else u[:n]
    # 2-D samples are (width, height), 3-D ones (time, height, width), as in PyTorch
    order = (1, 0) if dims == 2 else (0, 1, 2)
    starts = [_window_starts(xp, u[:, :, j], size, o, k)
              for j, size, o, k in zip(order, x.shape[2:], out, kernel)]
    return _argmax_indices(xp, x, starts, kernel)


def _fractional_max_pool(op: str, input: Tensor, dims: int, kernel_size, output_size,
                         output_ratio, samples):
    """(output, indices) of fractional max pooling over the last ``dims`` dims of ``input``."""
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating point Tensor")
    x, unbatched = batched(op, input, dims + 2)
    if 0 in x.shape[1:]:
        raise RuntimeError(f"{op}: expected input with non-zero sizes except the batch dim, "
                           f"got {tuple(input.shape)}")
    spatial = tuple(x.shape[2:])
    kernel = ntuple(kernel_size, dims, "kernel_size")
    if min(kernel) <= 0:
        raise RuntimeError(f"{op}: kernel_size must be positive, got {kernel}")
    out = _output_size(op, spatial, output_size, output_ratio)
    names = ("time", "height", "width")[3 - dims:]
    for name, n, k, o in zip(names, spatial, kernel, out):
        # PyTorch's bound: o + k - 1 <= n in 2-D, but o + k - 1 < n in 3-D
        if o + k - 1 > n or (dims == 3 and o + k - 1 == n):
            raise RuntimeError(f"{op}: pool {name} {k} too large relative to input {name} {n} "
                               f"for output {name} {o} (input {tuple(input.shape)})")
    u = _samples(op, x, samples, dims)
    index = _plain(partial(_fractional_pool_index, kernel=kernel, out=out), x, u)
    n, c = x.shape[:2]
    flat = reshape(index, (n, c, math.prod(out)))
    y = reshape(gather(reshape(x, (n, c, math.prod(spatial))), 2, flat), tuple(index.shape))
    if unbatched:
        y, index = reshape(y, y.shape[1:]), reshape(index, index.shape[1:])
    return y, index


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None,
                                       output_ratio=None, return_indices: bool = False,
                                       _random_samples=None) -> tuple:
    """fractional_max_pool2d returning (output, indices) whatever ``return_indices`` says."""
    return _fractional_max_pool("fractional_max_pool2d", input, 2, kernel_size, output_size,
                                output_ratio, _random_samples)


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """Max over kH x kW windows at pseudo-random fractional steps (see this module):
    y[n, c, i, j] = max of x[n, c, a_i : a_i + kH, b_j : b_j + kW].

    Args:
        input: (N, C, H, W) or (C, H, W), floating point.
        kernel_size: int or (kH, kW).
        output_size: int or (Ho, Wo), with Ho + kH - 1 <= H (likewise W); or instead
        output_ratio: a number or (rH, rW): Ho = int(H * rH), Wo = int(W * rW).
        return_indices: also return the argmax as flat indices h * W + w into each plane.
        _random_samples: (N, C, 2) samples in [0, 1) of the input's dtype, (u_w, u_h) per
            plane; drawn from nabla's global generator when None.

    Returns:
        (N, C, Ho, Wo) (or (C, Ho, Wo)); with return_indices also the int64 indices.
    """
    out = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio,
                                             return_indices, _random_samples)
    return out if return_indices else out[0]


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size, output_size=None,
                                       output_ratio=None, return_indices: bool = False,
                                       _random_samples=None) -> tuple:
    """fractional_max_pool3d returning (output, indices) whatever ``return_indices`` says."""
    return _fractional_max_pool("fractional_max_pool3d", input, 3, kernel_size, output_size,
                                output_ratio, _random_samples)


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """Max over kT x kH x kW windows at pseudo-random fractional steps (see this module).

    Args:
        input: (N, C, T, H, W) or (C, T, H, W), floating point.
        kernel_size: int or (kT, kH, kW).
        output_size: int or (To, Ho, Wo), with To + kT - 1 < T (likewise H, W; PyTorch's
            3-D bound is strict); or instead
        output_ratio: a number or (rT, rH, rW): To = int(T * rT), ...
        return_indices: also return the argmax as flat indices (t * H + h) * W + w.
        _random_samples: (N, C, 3) samples in [0, 1) of the input's dtype, (u_t, u_h, u_w)
            per plane; drawn from nabla's global generator when None.

    Returns:
        (N, C, To, Ho, Wo) (or without N); with return_indices also the int64 indices.
    """
    out = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio,
                                             return_indices, _random_samples)
    return out if return_indices else out[0]
