"""Index sets and grids: cartesian_prod, combinations (of a tensor's elements), tril_indices /
triu_indices, unravel_index, argwhere (integer coordinates, no gradient), logspace (a grid of
powers).

cartesian_prod and combinations are derived from expand, stack and indexing, so their gradient
goes back to the elements they copied (summed over the copies). The others return integer
tensors, or are created from numbers, and carry no gradient.
"""

import itertools
import operator
from functools import partial

from nabla import dtype as _dt
from nabla.backend import array_module
from nabla.ops.compare import nonzero
from nabla.ops.index import getitem
from nabla.ops.join import stack
from nabla.ops.reduce import _plain, _quiet
from nabla.ops.shape import expand, reshape
from nabla.tensor import Tensor

__all__ = ["cartesian_prod", "combinations", "tril_indices", "triu_indices", "unravel_index",
           "argwhere", "logspace"]


def _cpu():
    """The array module of functions that have no input array (the CPU's, as nabla.zeros)."""
    return array_module(None)


# -- products and combinations of elements ------------------------------------------------------
def _vector(op: str, t: Tensor) -> None:
    if t.ndim != 1:
        raise RuntimeError(f"{op}: expects 1-D tensors, got shape {tuple(t.shape)}")


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D tensor, in row-major order (as
    itertools.product).

    Args:
        tensors: k 1-D tensors of lengths n_1, ..., n_k, of one dtype.
    Returns:
        Tensor of shape (n_1 * ... * n_k, k); for a single tensor, that tensor's values (n_1,).
    """
    if not tensors:
        raise RuntimeError("cartesian_prod: expects at least one tensor")
    for t in tensors:
        _vector("cartesian_prod", t)
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"cartesian_prod: expects tensors of one dtype, got "
                               f"{tensors[0].dtype} and {t.dtype}; cast them first")
    if len(tensors) == 1:
        return reshape(tensors[0], tensors[0].shape)  # a new tensor (when it requires grad)
    shape = tuple(t.shape[0] for t in tensors)
    columns = []
    for k, t in enumerate(tensors):  # tensor k varies along dim k of the grid
        view = (1,) * k + t.shape + (1,) * (len(tensors) - k - 1)
        columns.append(reshape(expand(reshape(t, view), shape), (-1,)))
    return stack(columns, 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the elements of a 1-D tensor, in lexicographic order (as
    itertools.combinations, or combinations_with_replacement).

    Args:
        input: 1-D tensor of length n.
        r: the length of each combination.
        with_replacement: allow an element to appear more than once.
    Returns:
        Tensor of shape (number of combinations, r); shape (0,) when r is 0.
    """
    _vector("combinations", input)
    if r < 0:
        raise RuntimeError(f"combinations: r must be non-negative, got {r}")
    n = input.shape[0]
    xp = array_module(input._data)
    if r == 0:
        return getitem(input, xp.zeros(0, "int64"))
    if r == 2:  # the pairs are the upper triangle of an n x n grid, row by row
        index = xp.stack(xp.triu_indices(n, 0 if with_replacement else 1), 1)
    else:
        make = itertools.combinations_with_replacement if with_replacement else \
            itertools.combinations
        index = xp.asarray(list(make(range(n), r)), "int64").reshape(-1, r)
    return getitem(input, index)


# -- integer coordinates -------------------------------------------------------------------------
def _triangle(op: str, which, row: int, col: int, offset: int, dtype) -> Tensor:
    dtype = _dt.int64 if dtype is None else _dt.to_dtype(dtype)
    if dtype.kind not in "iu":
        raise RuntimeError(f"{op}: dtype must be an integer type, got {dtype}")
    for name, n in (("row", row), ("col", col)):
        if n < 0:
            raise RuntimeError(f"{op}: {name} must be non-negative, got {n}")
    xp = _cpu()
    return Tensor._make(xp.stack(which(row, offset, col)).astype(dtype).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The coordinates of the lower triangle (on and below the ``offset`` diagonal) of a
    row x col matrix, row by row.

    Returns:
        Integer tensor (int64 unless ``dtype``) of shape (2, N): row indices, then column indices.
    """
    return _triangle("tril_indices", _cpu().tril_indices, row, col, offset, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The coordinates of the upper triangle (on and above the ``offset`` diagonal) of a
    row x col matrix, row by row.

    Returns:
        Integer tensor (int64 unless ``dtype``) of shape (2, N): row indices, then column indices.
    """
    return _triangle("triu_indices", _cpu().triu_indices, row, col, offset, dtype)


def unravel_index(indices, shape) -> tuple:
    """Flat indices into a tensor of ``shape`` turned into coordinates (row-major, as
    ``x.reshape(-1)[i] == x[unravel_index(i, x.shape)]``). Indices outside [0, numel) wrap around
    (floor division and modulo), as in PyTorch.

    Args:
        indices: integer tensor (or int) of any shape.
        shape: an int or a sequence of non-negative ints.
    Returns:
        Tuple of len(shape) int64 tensors, each of the shape of ``indices``.
    """
    if not isinstance(indices, Tensor):
        indices = Tensor._make(_cpu().asarray(indices))
    data = indices._data
    if data.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be an integer tensor, got dtype "
                        f"{data.dtype}")
    try:
        shape = tuple(operator.index(n) for n in
                      ((shape,) if hasattr(shape, "__index__") else shape))
    except TypeError:
        raise TypeError(f"unravel_index: shape must be an int or a sequence of ints, got "
                        f"{shape!r}") from None
    if any(n < 0 for n in shape):
        raise ValueError(f"unravel_index: shape cannot have negative values, got {shape}")
    if 0 in shape:
        raise RuntimeError(f"unravel_index: shape {shape} has no elements, so no index lies in "
                           "it")
    coords, stride = [], 1
    for n in reversed(shape):  # through _plain, so that nabla.jit.trace replays them
        coords.append(_plain(partial(_coordinate, stride=stride, size=n), indices))
        stride *= n
    return tuple(reversed(coords))


def _coordinate(indices, stride: int, size: int):
    """One coordinate of flat ``indices``: floor(indices / stride) mod size, as int64 (a
    partial of it shows onnx.export the stride and size)."""
    xp = array_module(indices)
    return xp.floor_divide(indices.astype("int64"), stride) % size


def argwhere(input: Tensor) -> Tensor:
    """The coordinates of the nonzero elements, one row each, in row-major order (as
    ``nonzero``). Returns an int64 tensor of shape (count, input.ndim)."""
    return nonzero(input)


# -- grids of values -----------------------------------------------------------------------------
def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, layout=None,
             device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` values from base**start to base**end, evenly spaced in the exponent:
    ``base ** linspace(start, end, steps)``.

    Args:
        start, end: the first and last exponent (numbers or 0-d tensors).
        steps: the number of values (>= 0).
        base: the base of the powers.
        dtype: the result's dtype (default: the default float dtype; integer dtypes truncate).
    Returns:
        Tensor of shape (steps,).
    """
    steps = operator.index(steps)
    if steps < 0:
        raise RuntimeError(f"logspace: the number of steps must be non-negative, got {steps}")
    dtype = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    xp = _cpu()
    exponents = xp.linspace(float(start), float(end), steps)  # in float64, rounded once at the end
    with _quiet(xp, invalid="ignore", over="ignore"):
        values = xp.power(float(base), exponents).astype(dtype)
    out = Tensor._make(values)
    return out.requires_grad_() if requires_grad else out
