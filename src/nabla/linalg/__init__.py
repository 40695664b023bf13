"""nabla.linalg: the counterpart of torch.linalg, batched over leading dimensions (..., m, n),
in float32 and float64, each op's gradient rule beside its forward.

inverse.py        inv, det, slogdet, solve
decompositions.py cholesky, qr
spectral.py       eigh, eigvalsh, svd, svdvals
pseudoinverse.py  pinv, matrix_rank
products.py       matrix_power, multi_dot, cross
norms.py          vector_norm, matrix_norm, norm
triangular.py     solve_triangular (and torch's cholesky_solve, cholesky_inverse,
                  triangular_solve)
lu_factorization.py  lu_factor, lu_factor_ex, lu, lu_solve (and torch's lu_unpack)
least_squares.py  lstsq
checked.py        cholesky_ex, inv_ex, solve_ex (an info tensor instead of an error)
tensor_forms.py   vecdot, tensorinv, tensorsolve; linalg's matmul, diagonal, vander
condition.py      cond
householder.py    householder_product
legacy.py         torch's pre-linalg top-level names: svd (U, S, V), qr (some), cholesky, lu,
                  lu_solve (b first), matrix_rank (tol), chain_matmul, frobenius_norm,
                  nuclear_norm; solve / lstsq / eig / symeig raise as PyTorch's
lowrank.py        torch's svd_lowrank, pca_lowrank (randomised; exact for rank <= q)
(matrix_exp lives with the ops, in nabla/ops/matrix_exp.py, as torch.matrix_exp)
_common.py        input checks, LinAlgError, matrix helpers for the rules
"""

from nabla.linalg._common import LinAlgError
from nabla.linalg.checked import cholesky_ex, inv_ex, solve_ex
from nabla.linalg.condition import cond
from nabla.linalg.decompositions import cholesky, qr
from nabla.linalg.householder import householder_product
from nabla.linalg.inverse import det, inv, slogdet, solve
from nabla.linalg.least_squares import lstsq
from nabla.linalg.lu_factorization import lu, lu_factor, lu_factor_ex, lu_solve
from nabla.linalg.norms import matrix_norm, norm, vector_norm
from nabla.linalg.products import cross, matrix_power, multi_dot
from nabla.linalg.pseudoinverse import matrix_rank, pinv
from nabla.linalg.spectral import eigh, eigvalsh, svd, svdvals
from nabla.linalg.tensor_forms import diagonal, matmul, tensorinv, tensorsolve, vander, vecdot
from nabla.linalg.triangular import solve_triangular
from nabla.ops.matrix_exp import matrix_exp

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "householder_product",
    "inv",
    "inv_ex",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
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
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
    "vector_norm",
]
