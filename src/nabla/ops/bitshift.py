"""Bit shifts of integer tensors: bitwise_left_shift (x << n) and bitwise_right_shift (x >> n,
arithmetic: the sign bit is kept). Integer results carry no gradient, so these are plain
functions (as the bitwise ops in compare.py). A shift by the bit width or more gives 0 (-1 for
a negative number shifted right), as in PyTorch."""

from nabla.backend import array_module
from nabla.ops.compare import _binary
from nabla.tensor import Tensor

__all__ = ["bitwise_left_shift", "bitwise_right_shift"]


def _integers(name: str, input, other):
    for v in (input, other):
        if isinstance(v, float) or (isinstance(v, Tensor) and v.dtype.kind not in "biu"):
            kind = v.dtype if isinstance(v, Tensor) else "a float"
            raise TypeError(f"{name}: expected integer (or bool) tensors and numbers, got {kind}; "
                            "shifts are defined for integers only (multiply by 2 ** n instead)")
    tensor = input if isinstance(input, Tensor) else other
    return array_module(tensor._data)


def bitwise_left_shift(input, other) -> Tensor:
    """input << other elementwise, broadcasting (integer tensors or numbers)."""
    xp = _integers("bitwise_left_shift", input, other)
    return _binary("bitwise_left_shift", xp.left_shift, input, other)


def bitwise_right_shift(input, other) -> Tensor:
    """input >> other elementwise (arithmetic), broadcasting (integer tensors or numbers)."""
    xp = _integers("bitwise_right_shift", input, other)
    return _binary("bitwise_right_shift", xp.right_shift, input, other)
