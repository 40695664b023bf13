"""The regularised incomplete gamma functions (torch.igamma / igammac, torch.special.gammainc /
gammaincc): P(a, x) = gamma(a, x) / Gamma(a) and Q(a, x) = 1 - P(a, x).

NumPy has neither, so the kernel is the classic pair of expansions, in float64 (about 1e-13
relative for moderate a): the power series of P for x < a + 1, Legendre's continued fraction of Q
(Lentz's method) above, each run over all elements at once until every one has converged.
As in PyTorch the derivative exists for x only: dP/dx = x^(a-1) e^-x / Gamma(a) = -dQ/dx.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.ops import _gamma
from nabla.ops.elementwise import exp
from nabla.ops.gamma import lgamma
from nabla.ops.logexp import xlogy
from nabla.tensor import Tensor

__all__ = ["igamma", "igammac"]

_EPS = 1e-16
_MAX_TERMS = 2000  # enough for a up to about 1e5 near the switch between the two expansions
_TINY = 1e-300


def _series(xp, a, x):
    """sum_n x^n / (a (a+1) ... (a+n)), for x < a + 1; converged elements leave the loop."""
    total = 1.0 / a
    live = xp.arange(a.size)  # the elements still summing
    la, lx, term, acc = a, x, total.copy(), total.copy()
    for n in range(1, _MAX_TERMS):
        term = term * lx / (la + n)
        acc = acc + term
        done = xp.abs(term) <= xp.abs(acc) * _EPS
        if done.any():
            total[live[done]] = acc[done]
            keep = ~done
            live, la, lx, term, acc = live[keep], la[keep], lx[keep], term[keep], acc[keep]
            if not live.size:
                break
    total[live] = acc
    return total


def _continued_fraction(xp, a, x):
    """1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / (x + 5 - a - ...))), x >= a + 1,
    by Lentz's method; converged elements leave the loop."""
    b = x + 1.0 - a
    c = xp.full_like(x, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    out = h.copy()
    live = xp.arange(a.size)
    la = a
    for i in range(1, _MAX_TERMS):
        an = -i * (i - la)
        b = b + 2.0
        d = an * d + b
        d = xp.where(xp.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        done = xp.abs(delta - 1.0) <= _EPS
        if done.any():
            out[live[done]] = h[done]
            keep = ~done
            live, la, b, c, d, h = live[keep], la[keep], b[keep], c[keep], d[keep], h[keep]
            if not live.size:
                break
    out[live] = h
    return out


def regularized_gamma(a, x, upper: bool):
    """P(a, x) (upper=False) or Q(a, x), elementwise and broadcast, in float64. NaN for a < 0,
    x < 0 or a = x = 0, as PyTorch; P(0, x > 0) = 1, P(a > 0, 0) = 0, P(inf, x) = 0,
    P(a, inf) = 1."""
    xp = array_module(a)
    a, x = xp.broadcast_arrays(xp.asarray(a, xp.float64), xp.asarray(x, xp.float64))
    out = xp.full(a.shape, xp.nan)
    with xp.errstate(all="ignore"):
        inner = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
        low = inner & (x < a + 1.0)
        high = inner & ~low
        if low.any():
            aa, xx = a[low], x[low]
            p = xp.exp(xp.log(xx) * aa - xx - _gamma.lgamma(aa)) * _series(xp, aa, xx)
            out[low] = 1.0 - p if upper else p
        if high.any():
            aa, xx = a[high], x[high]
            q = xp.exp(xp.log(xx) * aa - xx - _gamma.lgamma(aa)) * \
                _continued_fraction(xp, aa, xx)
            out[high] = q if upper else 1.0 - q
        one = ((a == 0) & (x > 0)) | ((x == xp.inf) & (a >= 0) & xp.isfinite(a))
        zero = ((x == 0) & (a > 0)) | ((a == xp.inf) & (x >= 0) & xp.isfinite(x))
    out[one] = 0.0 if upper else 1.0
    out[zero] = 1.0 if upper else 0.0
    return out


def _float_dtype(op: str, a, x):
    xp = array_module(a)
    for v in (a, x):
        if v.dtype.kind != "f":
            raise TypeError(f"{op}: expected floating point tensors, got {v.dtype}; convert "
                            "with .float() or .double() (PyTorch has no integer version either)")
    return xp.result_type(a, x)


class Igamma(Op):
    """P(a, x) (Q(a, x) if upper), regularised;  dP/dx = grad x^(a-1) e^-x / Gamma(a), and
    dQ/dx its negative; no derivative for a (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a, x, upper):
        dtype = _float_dtype("igammac" if upper else "igamma", a, x)
        ctx.upper = upper
        ctx.save_for_backward(a, x)
        return regularized_gamma(a, x, upper).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            name = "igammac" if ctx.upper else "igamma"
            raise RuntimeError(f"{name}: the derivative with respect to the first argument (a) "
                               "is not implemented, as in PyTorch; detach it (a.detach())")
        density = exp(xlogy(a - 1, x) - x - lgamma(a))
        return None, (-grad * density if ctx.upper else grad * density), None


def _as_tensor(value, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor._make(array_module(like._data).asarray(value, like.dtype))


def igamma(input: Tensor, other: Tensor) -> Tensor:
    """The regularised lower incomplete gamma function P(a, x) (torch.igamma, special.gammainc).

    Args:
        input: a, floating (a >= 0), broadcasting with other.
        other: x, floating (x >= 0).

    Returns:
        P(a, x) in [0, 1], of the broadcast shape and promoted dtype; differentiable in x only.
    """
    like = input if isinstance(input, Tensor) else other
    return Igamma.apply(_as_tensor(input, like), _as_tensor(other, like), False)


def igammac(input: Tensor, other: Tensor) -> Tensor:
    """The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x) (torch.igammac,
    special.gammaincc), computed directly (accurate where Q is tiny); as igamma."""
    like = input if isinstance(input, Tensor) else other
    return Igamma.apply(_as_tensor(input, like), _as_tensor(other, like), True)
