"""Tensor methods of matrix functions, as torch.Tensor has them: ``A.cholesky()``,
``B.cholesky_solve(L)``, ``A.qr()``, ``A.svd()`` (torch.svd's U, S, V), ``A.lu()``,
``b.lu_solve(LU, pivots)``, ``b.triangular_solve(A)`` (the older API: the solution and a copy of
A), ``A.geqrf()``, ``A.orgqr(tau)``, ``A.ormqr(tau, C)``. Each forwards to the function of the
same name (nabla.linalg and its legacy.py); ``solve``, ``lstsq``, ``eig`` and ``symeig`` raise
the error naming their replacement, as PyTorch 2's do."""

import nabla  # resolved at call time, as in tensor_methods.py


class LinalgTensorMethods:
    __slots__ = ()

    def cholesky(self, upper=False):
        return nabla.linalg.legacy.cholesky(self, upper)

    def cholesky_solve(self, input2, upper=False):
        """The solution X of A X = self, with input2 the Cholesky factor of A."""
        return nabla.linalg.triangular.cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper=False):
        return nabla.linalg.triangular.cholesky_inverse(self, upper)

    def qr(self, some=True):
        return nabla.linalg.legacy.qr(self, some)

    def svd(self, some=True, compute_uv=True):
        """torch.svd's (U, S, V), V not transposed."""
        return nabla.linalg.legacy.svd(self, some, compute_uv)

    def lu(self, pivot=True, get_infos=False):
        """The packed LU factorisation (LU, pivots), and info if get_infos."""
        return nabla.linalg.legacy.lu(self, pivot, get_infos)

    def lu_solve(self, LU_data, LU_pivots):
        """The solution X of A X = self, from A's packed LU factorisation."""
        return nabla.linalg.legacy.lu_solve(self, LU_data, LU_pivots)

    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
        """(solution of A X = self, a copy of A), as torch.triangular_solve."""
        return nabla.linalg.triangular.triangular_solve(self, A, upper, transpose, unitriangular)

    def geqrf(self):
        return nabla.linalg.householder.geqrf(self)

    def orgqr(self, input2):
        """The Q of geqrf's reflectors in self and scale factors input2
        (linalg.householder_product)."""
        return nabla.linalg.householder.householder_product(self, input2)

    def ormqr(self, input2, input3, left=True, transpose=False):
        return nabla.linalg.householder.ormqr(self, input2, input3, left, transpose)

    # removed from PyTorch 2: the same errors, naming the replacement
    def solve(self, A):
        return nabla.linalg.legacy.solve(self, A)

    def lstsq(self, A):
        return nabla.linalg.legacy.lstsq(self, A)

    def eig(self, eigenvectors=False):
        return nabla.linalg.legacy.eig(self, eigenvectors)

    def symeig(self, eigenvectors=False, upper=True):
        return nabla.linalg.legacy.symeig(self, eigenvectors, upper)
