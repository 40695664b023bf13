"""Tensor methods for index writes, strided views and order statistics: ``x.index_copy(...)``,
``x.scatter_reduce(...)``, ``x.unfold(...)``, ``x.mode()``, ... and the in-place variants PyTorch
has (``x.index_put_(...)``, ``x.renorm_(...)``), which write the op's result back through
``tensor_inplace.py``'s machinery (recorded in the graph when a gradient is involved). Each is the
function of the same name in ``nabla.ops`` (scatter_more.py, scatter_reduction.py, strided.py,
order_stats.py); look there for the op and its gradient rule."""

import nabla  # resolved at call time, as in tensor_methods.py


class IndexTensorMethods:
    __slots__ = ()

    # writes at an index (ops/scatter_more.py)
    def index_copy(self, dim, index, source):
        return nabla.ops.index_copy(self, dim, index, source)

    def index_copy_(self, dim, index, source):
        return self._apply_("index_copy_", nabla.ops.index_copy, dim, index, source)

    def index_fill(self, dim, index, value):
        return nabla.ops.index_fill(self, dim, index, value)

    def index_fill_(self, dim, index, value):
        return self._apply_("index_fill_", nabla.ops.index_fill, dim, index, value)

    def index_put(self, indices, values, accumulate=False):
        return nabla.ops.index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate=False):
        return self._apply_("index_put_", nabla.ops.index_put, indices, values, accumulate)

    def put(self, index, source, accumulate=False):
        return nabla.ops.put(self, index, source, accumulate)

    def put_(self, index, source, accumulate=False):
        return self._apply_("put_", nabla.ops.put, index, source, accumulate)

    def masked_scatter(self, mask, source):
        return nabla.ops.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask, source):
        return self._apply_("masked_scatter_", _masked_scatter_in_place, mask, source)

    # reductions into positions (ops/scatter_reduction.py)
    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return nabla.ops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return self._apply_("scatter_reduce_", nabla.ops.scatter_reduce, dim, index, src, reduce,
                            include_self=include_self)

    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        return nabla.ops.index_reduce(self, dim, index, source, reduce,
                                      include_self=include_self)

    def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
        return self._apply_("index_reduce_", nabla.ops.index_reduce, dim, index, source, reduce,
                            include_self=include_self)

    # views and writes into a view's place (ops/strided.py)
    def unfold(self, dimension, size, step):
        return nabla.ops.strided.unfold(self, dimension, size, step)

    def as_strided(self, size, stride, storage_offset=None):
        return nabla.ops.as_strided(self, size, stride, storage_offset)

    def split_with_sizes(self, split_sizes, dim=0):
        return nabla.ops.split_with_sizes(self, split_sizes, dim)

    def select_scatter(self, src, dim, index):
        return nabla.ops.select_scatter(self, src, dim, index)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return nabla.ops.slice_scatter(self, src, dim, start, end, step)

    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        return nabla.ops.diagonal_scatter(self, src, offset, dim1, dim2)

    # order statistics and counts (ops/order_stats.py)
    def mode(self, dim=-1, keepdim=False):
        return nabla.ops.mode(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim=False):
        return nabla.ops.nanmedian(self, dim, keepdim)

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return nabla.ops.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def msort(self):
        return nabla.ops.msort(self)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return nabla.ops.unique_consecutive(self, return_inverse, return_counts, dim)

    def histogram(self, bins, *, range=None, weight=None, density=False):
        return nabla.ops.histogram(self, bins, range=range, weight=weight, density=density)

    def renorm(self, p, dim, maxnorm):
        return nabla.ops.renorm(self, p, dim, maxnorm)

    def renorm_(self, p, dim, maxnorm):
        return self._apply_("renorm_", nabla.ops.renorm, p, dim, maxnorm)


def _masked_scatter_in_place(input, mask, source):
    """masked_scatter_ writes into ``input``'s own shape: the mask broadcasts to it, never the
    other way (as PyTorch)."""
    result = nabla.ops.masked_scatter(input, mask, source)
    if tuple(result.shape) != tuple(input.shape):
        raise RuntimeError(f"masked_scatter_: mask of shape {tuple(mask.shape)} must broadcast to "
                           f"the tensor's shape {tuple(input.shape)}")
    return result
