"""Spatial transformers: affine_grid and grid_sample (2-D), as PyTorch.

Both derived, with no gradient rule of their own: affine_grid is a matmul of a constant base grid
with theta; grid_sample computes integer corner indices without gradient, bilinear weights from
the grid (differentiable) and gathers corner values with advanced indexing (whose backward
scatter-adds into the input). Indices and masks come from tensor ops on the detached grid, so
``nabla.jit.trace`` recomputes them at each replay. Padding of coordinates ('border',
'reflection') is written with ``where`` so its gradient is PyTorch's: zero where a coordinate is
clipped, sign-flipped where it is reflected.
"""

from nabla.backend import array_module
from nabla.creation import zeros_like
from nabla.ops.elementwise import abs, clamp, where
from nabla.ops.linalg import matmul
from nabla.ops.nan_ops import nan_to_num
from nabla.ops.rounding import floor, round
from nabla.ops.shape import reshape, transpose
from nabla.tensor import Tensor

__all__ = ["affine_grid", "grid_sample"]

_MODES = ("bilinear", "nearest")
_PADDING_MODES = ("zeros", "border", "reflection")


def _const(array, like: Tensor) -> Tensor:
    """A constant (no gradient) tensor of ``like``'s dtype."""
    return Tensor._make(array.astype(like._data.dtype))


def _base_coords(n: int, align_corners: bool, xp):
    """n normalized pixel coordinates in [-1, 1]: corner pixels (True) or pixel centres."""
    if n <= 1:
        return xp.zeros(n, xp.float64)
    c = xp.linspace(-1.0, 1.0, n)
    return c if align_corners else c * ((n - 1) / n)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """Sampling grid of the 2-D affine maps ``theta``: grid[n, h, w] = theta[n] @ (x_w, y_h, 1).

    Args:
        theta: (N, 2, 3) affine matrices (floating point).
        size: target output size (N, C, H, W).
        align_corners: True puts -1 and 1 on the centres of the corner pixels, False (default)
            on their outer edges.

    Returns:
        (N, H, W, 2) grid of (x, y) in normalized coordinates, for grid_sample.
    """
    align_corners = bool(align_corners)
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise ValueError(f"affine_grid: only 2-D grids are supported: size must be (N, C, H, W), "
                         f"got {size}")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3):
        raise ValueError(f"affine_grid: theta must have shape (N, 2, 3) for size {size}, got "
                         f"{tuple(theta.shape)}")
    if theta.shape[0] != size[0]:
        raise ValueError(f"affine_grid: theta has batch size {theta.shape[0]} but size has "
                         f"N = {size[0]}; pass one (2, 3) matrix per sample")
    if theta._data.dtype.kind != "f":
        raise TypeError(f"affine_grid: theta must be floating point, got {theta._data.dtype}; "
                        f"convert it with .float() or .double()")
    xp = array_module(theta._data)
    n, _, h, w = size
    base = xp.ones((h, w, 3), xp.float64)
    base[..., 0] = _base_coords(w, align_corners, xp)[None, :]
    base[..., 1] = _base_coords(h, align_corners, xp)[:, None]
    base = _const(base.reshape(1, h * w, 3), theta)
    return reshape(matmul(base, transpose(theta, 1, 2)), (n, h, w, 2))


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    """[-1, 1] -> pixel index: [0, size - 1] (align_corners) or [-0.5, size - 0.5]."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _clip(coord: Tensor, size: int) -> Tensor:
    """Clamp to [0, size - 1]; the gradient is zero on and beyond the borders (PyTorch)."""
    fixed = coord.detach()  # masks and clipped values carry no gradient
    inside = (fixed > 0) & (fixed < size - 1)
    return where(inside, coord, clamp(fixed, 0, size - 1))


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Reflect into [twice_low / 2, twice_high / 2] (PyTorch's reflect_coordinates)."""
    if twice_low == twice_high:
        return zeros_like(coord.detach())
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    d = coord.detach() - low
    # sign and fold count carry no gradient: d|x|/dx is taken as +1 at 0, as PyTorch does
    dist = (coord - low) * where(d < 0, -1.0, 1.0).to(coord.dtype)
    flips = floor(abs(d) / span)
    extra = dist - flips * span
    return where(flips % 2 == 0, extra + low, span - extra + low)


def _source_index(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """Normalized grid coordinate -> (padded) source pixel coordinate, differentiable."""
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
    if padding_mode != "zeros":
        coord = _clip(coord, size)
    return coord


def _gather(input: Tensor, iy: Tensor, ix: Tensor) -> Tensor:
    """input[n, c, iy, ix] for int64 indices (N, 1, Ho, Wo), zero where out of bounds."""
    xp = array_module(input._data)
    n, c, h, w = input.shape
    valid = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    key = (xp.arange(n).reshape(n, 1, 1, 1), xp.arange(c).reshape(1, c, 1, 1),
           clamp(iy, 0, h - 1), clamp(ix, 0, w - 1))
    return input[key] * valid.to(input.dtype)


def _check_sample(input: Tensor, grid: Tensor, mode: str, padding_mode: str) -> None:
    if mode not in _MODES:
        raise ValueError(f"grid_sample: mode must be one of {_MODES}, got {mode!r}")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"grid_sample: padding_mode must be one of {_PADDING_MODES}, "
                         f"got {padding_mode!r}")
    if input.ndim != 4 or grid.ndim != 4:
        raise ValueError(f"grid_sample: only 2-D sampling is supported: input must be "
                         f"(N, C, H_in, W_in) and grid (N, H_out, W_out, 2), got input "
                         f"{tuple(input.shape)} and grid {tuple(grid.shape)}")
    if grid.shape[-1] != 2:
        raise ValueError(f"grid_sample: grid's last dim must be 2 (x, y), got grid of shape "
                         f"{tuple(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise ValueError(f"grid_sample: input {tuple(input.shape)} and grid "
                         f"{tuple(grid.shape)} have different batch sizes; give one grid per "
                         f"sample")
    if input._data.dtype != grid._data.dtype or input._data.dtype.kind != "f":
        raise TypeError(f"grid_sample: input and grid must have the same floating dtype, got "
                        f"{input._data.dtype} and {grid._data.dtype}; convert with .to()")


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` at the normalized (x, y) locations of ``grid``.

    out[n, c, h, w] = sum over the corners k of (x, y) = grid[n, h, w] of
    w_k(x, y) input[n, c, y_k, x_k], with bilinear weights w_k (or the nearest pixel).

    Args:
        input: (N, C, H_in, W_in).
        grid: (N, H_out, W_out, 2), x (along W_in) and y (along H_in) in [-1, 1]; -1 and 1 are
            the centres (align_corners=True) or the outer edges (False, default) of the corner
            pixels.
        mode: 'bilinear' or 'nearest' (no gradient to grid: it is zero almost everywhere).
        padding_mode: values outside the input: 'zeros', 'border' (clamp the coordinate) or
            'reflection' (reflect it at the borders).
        align_corners: see grid.

    Returns:
        (N, C, H_out, W_out).
    """
    _check_sample(input, grid, mode, padding_mode)
    align_corners = bool(align_corners)
    n, h_out, w_out, _ = grid.shape
    xp = array_module(grid._data)
    gx = reshape(grid[..., 0], (n, 1, h_out, w_out))
    gy = reshape(grid[..., 1], (n, 1, h_out, w_out))
    ix = _source_index(gx, input.shape[3], padding_mode, align_corners)
    iy = _source_index(gy, input.shape[2], padding_mode, align_corners)
    if mode == "nearest":
        out = _gather(input, _index(round(iy.detach())), _index(round(ix.detach())))
        if not grid.requires_grad:
            return out
        # keeps grid in the graph so that its gradient is zeros (PyTorch), not None; where
        # rather than 0 * grid, which would be NaN for an infinite coordinate
        return out + where(Tensor._make(xp.zeros(ix.shape, bool)), ix + iy, 0.0)
    x0, y0 = floor(ix.detach()), floor(iy.detach())  # the corners carry no gradient
    wx1, wy1 = ix - x0, iy - y0
    wx0, wy0 = (x0 + 1) - ix, (y0 + 1) - iy
    x0, y0 = _index(x0), _index(y0)
    return (_gather(input, y0, x0) * (wx0 * wy0) + _gather(input, y0, x0 + 1) * (wx1 * wy0)
            + _gather(input, y0 + 1, x0) * (wx0 * wy1)
            + _gather(input, y0 + 1, x0 + 1) * (wx1 * wy1))


def _index(coord: Tensor) -> Tensor:
    """Float pixel coordinates -> int64, kept finite and small before the cast."""
    return clamp(nan_to_num(coord, nan=-2.0), -2, 2**40).long()
