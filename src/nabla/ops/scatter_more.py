"""Index writes as ops: index_copy, index_fill, index_put, scatter_reduce, masked_scatter,
select/slice/diagonal_scatter, put."""

__all__ = []
