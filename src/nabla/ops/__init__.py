"""nabla's differentiable ops: each op's forward and its gradient rule sit side by side.

arithmetic.py   + - * / **, maximum, minimum (with PyTorch's type promotion)
elementwise.py  exp/log, roots, sin/cos, tanh/sigmoid/relu, where, clamp
casts.py        clone, to_dtype (casts whose gradient is cast back), as_tensor_like
logexp.py       log2/log10/exp2, logaddexp, logit, xlogy
erf.py          erf, erfc
gamma.py        lgamma, digamma, polygamma (each the next one's rule), mvlgamma
trigonometry.py tan, sinh/cosh, asin/acos/atan, atan2, asinh/acosh/atanh
rounding.py     floor, ceil, round, trunc (gradient 0), frac
reduce.py       sum, mean, var/std (and var_mean/std_mean), prod, cumsum, all/any
extrema.py      max/min (values, indices), amax/amin, argmax/argmin
softmax_family.py  logsumexp, softmax, log_softmax (stable)
sorting.py      sort, argsort, topk, median (derived: values taken at the order), unique,
                bincount, multinomial
shape.py        reshape, permute, squeeze, expand/broadcast, repeat
flip.py         flip, roll, tril/triu
join.py         cat/stack, split/chunk/unbind/narrow, pad
index.py        __getitem__, masked_select
selection.py    index_select, index_add
scatter.py      gather, scatter_add/scatter, take_along_dim
scatter_more.py index_copy, index_fill, index_put, masked_scatter, put (writes at an index)
scatter_reduction.py  scatter_reduce, index_reduce (sum/prod/mean/amax/amin into positions)
strided.py      Tensor.unfold (sliding windows), as_strided, split_with_sizes; writes into a
                view's place: select_scatter, slice_scatter, diagonal_scatter
linalg.py       matmul, einsum
matrix.py       t, diagonal, diag, trace, tensordot, kron, meshgrid, diff (derived)
compare.py      comparisons, logical ops, isnan/isfinite, nonzero (no gradient); floor_divide,
                remainder, fmod
cumulative.py   cumprod (zero-safe rule), cummax/cummin, logcumsumexp
nan_ops.py      nan_to_num, nansum, nanmean
bucketize.py    searchsorted, bucketize, isin (no gradient)
blas_ops.py     addmm, addbmm, baddbmm, addmv, addr, mv, inner, vdot, dist (derived)
aliases.py      PyTorch's other names (absolute, arccos, divide, greater, ...), fmax/fmin,
                copysign, sinc, float_power, heaviside
arrangement.py  repeat_interleave, rot90, fliplr, atleast_*, broadcast_tensors, diag_embed,
                diagflat, block_diag (derived)
splits.py       tensor_split, hsplit, vsplit, dsplit (derived)
grids.py        cartesian_prod, combinations, tril/triu_indices, unravel_index, argwhere, logspace
statistics.py   aminmax, cov, corrcoef, histc
order_stats.py  mode, nanmedian, nanquantile, msort, unique_consecutive, histogram, renorm
numeric.py      gcd/lcm, frexp/ldexp, nextafter, isposinf/isneginf/isreal, cross (torch.cross's
                default dim), trapezoid/cumulative_trapezoid, vander (derived); re-exports:
bessel.py       i0 (and torch.special's i0e, i1, i1e): series in float64, each the next's rule
erfinv.py       erfinv (a closed-form guess + Halley steps on erf)
normal_cdf.py   ndtr, log_ndtr, ndtri, erfcx, xlog1py (torch.special's only: in nabla.special)
zeta.py         zeta, the Hurwitz zeta (Euler-Maclaurin; gradient in q only) (nabla.special)
polynomials.py  Chebyshev T/U/V/W (and shifted), Hermite H/He, Laguerre, Legendre (no gradient;
                nabla.special)
bessel_more.py  bessel_j0/j1/y0/y1, spherical_bessel_j0 (series, Miller, Hankel; no gradient)
modified_bessel.py  modified_bessel_i0/i1/k0/k1, scaled K (series, a trapezoid integral)
airy.py         airy_ai (anchored Taylor series, K_1/3, asymptotics; no gradient)
matrix_exp.py   matrix_exp (scaling and squaring; the block-matrix adjoint as its rule)
windows.py      hann, hamming, blackman, bartlett, kaiser windows (no gradient)
out_arg.py      write_out: the out= argument of add/sub/mul/div/matmul/mm/bmm (no graph)
The matrix functions of torch.linalg (inv, det, solve, cholesky, qr, eigh, svd, norms) are in
the package nabla.linalg.
"""

from nabla.ops import (
    aliases,
    arithmetic,
    arrangement,
    blas_ops,
    bucketize,
    casts,
    compare,
    cumulative,
    elementwise,
    erf,
    extrema,
    flip,
    gamma,
    grids,
    index,
    join,
    linalg,
    logexp,
    matrix,
    nan_ops,
    numeric,
    order_stats,
    reduce,
    rounding,
    scatter,
    scatter_more,
    scatter_reduction,
    selection,
    shape,
    softmax_family,
    sorting,
    splits,
    statistics,
    strided,
    trigonometry,
    windows,
)

# what `from nabla.ops import *` (and so `nabla.<op>`) exports: the modules' ops, not the
# modules (computed first: the star imports below rebind `erf` to the function)
__all__ = [
    *aliases.__all__,
    *arithmetic.__all__,
    *arrangement.__all__,
    *blas_ops.__all__,
    *bucketize.__all__,
    *casts.__all__,
    *compare.__all__,
    *cumulative.__all__,
    *elementwise.__all__,
    *erf.__all__,
    *extrema.__all__,
    *flip.__all__,
    *gamma.__all__,
    *grids.__all__,
    *index.__all__,
    *join.__all__,
    *linalg.__all__,
    *logexp.__all__,
    *matrix.__all__,
    *nan_ops.__all__,
    *numeric.__all__,
    *order_stats.__all__,
    *reduce.__all__,
    *rounding.__all__,
    *scatter.__all__,
    *scatter_more.__all__,
    *scatter_reduction.__all__,
    *selection.__all__,
    *shape.__all__,
    *softmax_family.__all__,
    *sorting.__all__,
    *splits.__all__,
    *statistics.__all__,
    *strided.__all__,
    *trigonometry.__all__,
    *windows.__all__,
]

from nabla.ops.aliases import *  # noqa: F401,F403
from nabla.ops.arithmetic import *  # noqa: F401,F403
from nabla.ops.arrangement import *  # noqa: F401,F403
from nabla.ops.blas_ops import *  # noqa: F401,F403
from nabla.ops.bucketize import *  # noqa: F401,F403
from nabla.ops.casts import *  # noqa: F401,F403
from nabla.ops.compare import *  # noqa: F401,F403
from nabla.ops.cumulative import *  # noqa: F401,F403
from nabla.ops.elementwise import *  # noqa: F401,F403
from nabla.ops.erf import *  # noqa: F401,F403
from nabla.ops.extrema import *  # noqa: F401,F403
from nabla.ops.flip import *  # noqa: F401,F403
from nabla.ops.gamma import *  # noqa: F401,F403
from nabla.ops.grids import *  # noqa: F401,F403
from nabla.ops.index import *  # noqa: F401,F403
from nabla.ops.join import *  # noqa: F401,F403
from nabla.ops.linalg import *  # noqa: F401,F403
from nabla.ops.logexp import *  # noqa: F401,F403
from nabla.ops.matrix import *  # noqa: F401,F403
from nabla.ops.nan_ops import *  # noqa: F401,F403
from nabla.ops.numeric import *  # noqa: F401,F403
from nabla.ops.order_stats import *  # noqa: F401,F403
from nabla.ops.reduce import *  # noqa: F401,F403
from nabla.ops.rounding import *  # noqa: F401,F403
from nabla.ops.scatter import *  # noqa: F401,F403
from nabla.ops.scatter_more import *  # noqa: F401,F403
from nabla.ops.scatter_reduction import *  # noqa: F401,F403
from nabla.ops.selection import *  # noqa: F401,F403
from nabla.ops.shape import *  # noqa: F401,F403
from nabla.ops.softmax_family import *  # noqa: F401,F403
from nabla.ops.sorting import *  # noqa: F401,F403
from nabla.ops.splits import *  # noqa: F401,F403
from nabla.ops.statistics import *  # noqa: F401,F403
from nabla.ops.strided import *  # noqa: F401,F403
from nabla.ops.trigonometry import *  # noqa: F401,F403
from nabla.ops.windows import *  # noqa: F401,F403

# helpers behind Tensor methods and operators (x.to(dtype), x[key], 2 / x, x.expand(...)):
# reachable as nabla.ops.<name>, but not in the nabla namespace, which holds torch's names
_METHOD_HELPERS = {"as_tensor_like", "expand", "getitem", "index_key", "rdiv", "repeat", "rpow",
                   "sum_to_size", "to_dtype"}

__all__ = [name for name in __all__ if name not in _METHOD_HELPERS]
