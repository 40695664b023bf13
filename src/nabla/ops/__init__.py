"""nabla's differentiable ops: each op's forward and its gradient rule sit side by side.

arithmetic.py   + - * / **, maximum, minimum (with PyTorch's type promotion)
elementwise.py  exp/log, roots, sin/cos, tanh/sigmoid/relu, where, clamp, casts
logexp.py       log2/log10/exp2, logaddexp, logit, xlogy
erf.py          erf, erfc
trigonometry.py tan, sinh/cosh, asin/acos/atan, atan2, asinh/acosh/atanh
rounding.py     floor, ceil, round, trunc (gradient 0), frac
reduce.py       sum, mean, var/std (and var_mean/std_mean), prod, cumsum, all/any
extrema.py      max/min (values, indices), amax/amin, argmax/argmin
softmax_family.py  logsumexp, softmax, log_softmax (stable)
sorting.py      sort, argsort, topk, median (derived: values taken at the order), unique,
                bincount, multinomial
shape.py        reshape, permute, squeeze, expand/broadcast, repeat, flip/roll, tril/triu
join.py         cat/stack, split/chunk/unbind/narrow, pad
index.py        __getitem__, index_select/index_add, masked_select
scatter.py      gather, scatter_add/scatter, take_along_dim
linalg.py       matmul, einsum
matrix.py       t, diagonal, diag, trace, tensordot, kron, meshgrid, diff (derived)
compare.py      comparisons, logical ops, isnan/isfinite, nonzero (no gradient)
"""

from nabla.ops.arithmetic import *  # noqa: F401,F403
from nabla.ops.compare import *  # noqa: F401,F403
from nabla.ops.elementwise import *  # noqa: F401,F403
from nabla.ops.erf import *  # noqa: F401,F403
from nabla.ops.extrema import *  # noqa: F401,F403
from nabla.ops.index import *  # noqa: F401,F403
from nabla.ops.join import *  # noqa: F401,F403
from nabla.ops.linalg import *  # noqa: F401,F403
from nabla.ops.logexp import *  # noqa: F401,F403
from nabla.ops.matrix import *  # noqa: F401,F403
from nabla.ops.reduce import *  # noqa: F401,F403
from nabla.ops.rounding import *  # noqa: F401,F403
from nabla.ops.scatter import *  # noqa: F401,F403
from nabla.ops.shape import *  # noqa: F401,F403
from nabla.ops.softmax_family import *  # noqa: F401,F403
from nabla.ops.sorting import *  # noqa: F401,F403
from nabla.ops.trigonometry import *  # noqa: F401,F403
