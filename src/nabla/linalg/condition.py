"""The condition number cond(A) = ||A|| ||A^{-1}||: from the singular values for the 2-norms
(any shape), from matrix_norm and inv_ex otherwise (square only; inf where A is singular).
A composition, so its gradient comes from svdvals, matrix_norm and inv."""

import math

from nabla.backend import array_module
from nabla.linalg._common import check_matrix, check_square
from nabla.linalg.checked import inv_ex
from nabla.linalg.norms import matrix_norm
from nabla.linalg.spectral import svdvals
from nabla.ops.elementwise import where
from nabla.tensor import Tensor

__all__ = ["cond"]

_ORDERS = (None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf)


def cond(A: Tensor, p=None) -> Tensor:
    """The condition number of matrices in the norm ``p``.

    Args:
        A: (*, m, n), float32 or float64; square unless p is None, 2 or -2.
        p: None or 2 (largest / smallest singular value), -2 (smallest / largest), 'fro',
            'nuc', 1, -1, inf, -inf (matrix_norm(A, p) * matrix_norm(A^{-1}, p)).

    Returns:
        (*). For the 2-norms a singular matrix gives a large number or inf / nan (0 / 0 for
        a zero matrix), as in PyTorch; for the others it gives inf.
    """
    if p not in _ORDERS:
        raise RuntimeError(f"linalg.cond: p must be one of None, 2, -2, 'fro', 'nuc', 1, -1, "
                           f"inf, -inf, got {p!r}")
    if p in (None, 2, -2):
        check_matrix("linalg.cond", A)
        s = svdvals(A)
        with array_module(A._data).errstate(all="ignore"):
            ratio = s[..., 0] / s[..., -1]
        return ratio if p != -2 else 1 / ratio
    check_square("linalg.cond", A, f"cond with p={p!r} needs square matrices; use p=2 (the "
                 "default) for rectangular ones")
    inverse, info = inv_ex(A)
    xp = array_module(A._data)
    safe = where(Tensor._make(info._data[..., None, None] > 0), 0.0, inverse)
    value = matrix_norm(A, p) * matrix_norm(safe, p)
    return where(Tensor._make(info._data > 0), Tensor._make(xp.full((), xp.inf, A.dtype)), value)
