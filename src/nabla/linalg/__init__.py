"""nabla.linalg: the counterpart of torch.linalg, batched over leading dimensions (..., m, n),
in float32 and float64, each op's gradient rule beside its forward.

inverse.py        inv, det, slogdet, solve
decompositions.py cholesky, qr
spectral.py       eigh, eigvalsh, svd, svdvals
pseudoinverse.py  pinv, matrix_rank
products.py       matrix_power, multi_dot, cross
norms.py          vector_norm, matrix_norm, norm
(matrix_exp lives with the ops, in nabla/ops/matrix_exp.py, as torch.matrix_exp)
_common.py        input checks, LinAlgError, matrix helpers for the rules
"""

from nabla.linalg._common import LinAlgError
from nabla.linalg.decompositions import cholesky, qr
from nabla.linalg.inverse import det, inv, slogdet, solve
from nabla.linalg.norms import matrix_norm, norm, vector_norm
from nabla.linalg.products import cross, matrix_power, multi_dot
from nabla.linalg.pseudoinverse import matrix_rank, pinv
from nabla.linalg.spectral import eigh, eigvalsh, svd, svdvals
from nabla.ops.matrix_exp import matrix_exp

__all__ = [
    "LinAlgError",
    "cholesky",
    "cross",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "vector_norm",
]
