"""index_select and index_add: whole slices along one dim, read at a 1-D index or added into
at it. Each is the other's gradient; index_add accumulates repeated positions with ``add.at``.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops.index import _array, _check_index_range, _zeros
from nabla.ops.shape import _dim
from nabla.tensor import Tensor

__all__ = ["index_select", "index_add"]


class IndexSelect(Op):
    """y = x taken at the 1-D ``index`` along dim;  dx = index_add(zeros, dim, index, grad)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, index):
        # checked here, so that a jit.trace replay is too: [0, n), as PyTorch (NumPy would
        # read a negative index from the end)
        _check_index_range("index_select", index, dim, x.shape[dim])
        ctx.in_shape, ctx.dim = x.shape, dim
        ctx.save_for_backward(index)
        return array_module(x).take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return IndexAdd.apply(_zeros(grad, ctx.in_shape), ctx.dim, index, grad, 1), None, None


class IndexAdd(Op):
    """y = x; y[index[i]] += alpha * src[i] along dim;  dx = grad,
    dsrc = alpha * index_select(grad, dim, index)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x, dim, index, src, alpha):
        _check_index_range("index_add", index, dim, x.shape[dim])  # as IndexSelect
        ctx.dim, ctx.alpha = dim, alpha
        ctx.save_for_backward(index)
        xp = array_module(x)
        y = x.copy()
        xp.add.at(xp.moveaxis(y, dim, 0), index, xp.moveaxis(src if alpha == 1 else
                                                              src * alpha, dim, 0))
        return y

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        need_x, _, _, need_src, _ = ctx.needs_input_grad
        g_src = None
        if need_src:
            g_src = IndexSelect.apply(grad, ctx.dim, index)
            g_src = g_src if ctx.alpha == 1 else g_src * ctx.alpha
        return (grad if need_x else None), None, None, g_src, None


def _check_index_1d(op: str, input: Tensor, dim: int, index):
    """dim normalised and the index flattened; a 1-D integer index. Its values are checked in
    the op's forward (IndexSelect, IndexAdd, IndexCopy), or by the caller."""
    dim = _dim(op, dim, input.ndim)
    if index.dtype.kind not in "iu" or index.ndim > 1:
        raise RuntimeError(f"{op}: index must be a 1-D integer tensor, got {index.ndim}-D "
                           f"{index.dtype}")
    return dim, index.reshape(-1)


def index_select(input: Tensor, dim: int, index) -> Tensor:
    """The slices of ``input`` at the positions ``index`` along ``dim`` (repeats allowed).

    Args:
        input: tensor of shape (..., n, ...).
        dim: the dimension to index.
        index: 1-D integer tensor of length k with values in [0, n).
    Returns:
        Tensor of shape (..., k, ...).
    """
    dim, flat = _check_index_1d("index_select", input, dim, _array(index))
    # a Tensor index stays one, so that nabla.jit.trace reads it anew at every replay
    index = index.reshape(-1) if isinstance(index, Tensor) else flat
    if input.ndim == 0:  # PyTorch treats a 0-d input as one element and returns it 0-d
        return IndexSelect.apply(input.reshape(1), 0, index).reshape(())
    return IndexSelect.apply(input, dim, index)


def index_add(input: Tensor, dim: int, index, source: Tensor, *, alpha=1) -> Tensor:
    """``input`` with ``alpha * source`` added at the positions ``index`` along ``dim``.

    Args:
        input: tensor of shape (..., n, ...).
        dim: the dimension to index.
        index: 1-D integer tensor of length k with values in [0, n); repeated positions
            accumulate.
        source: tensor of shape (..., k, ...).
    Returns:
        Tensor of input's shape.
    """
    dim, flat = _check_index_1d("index_add", input, dim, _array(index))
    if source.ndim and source.shape[dim] != flat.shape[0]:
        raise RuntimeError(f"index_add: source has {source.shape[dim]} slices along dim {dim} "
                           f"but index has {flat.shape[0]} entries")
    index = index.reshape(-1) if isinstance(index, Tensor) else flat  # traced: see index_select
    if input.ndim == 0:  # one element, as in PyTorch
        if source.ndim:
            raise RuntimeError(f"index_add: a 0-d input takes a 0-d source, got shape "
                               f"{tuple(source.shape)}")
        return IndexAdd.apply(input.reshape(1), 0, index, source.reshape(1), alpha).reshape(())
    return IndexAdd.apply(input, dim, index, source, alpha)
