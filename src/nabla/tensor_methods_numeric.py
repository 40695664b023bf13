"""Tensor methods (to be filled)."""

import nabla  # noqa: F401  (resolved at call time, as in tensor_methods.py)


class NumericTensorMethods:
    __slots__ = ()
