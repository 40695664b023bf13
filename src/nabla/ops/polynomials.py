"""The classical orthogonal polynomials of ``torch.special``, p_n(x) elementwise for a tensor
(or number) n, by their three-term recurrences, computed as PyTorch's kernels do (in float64,
rounded to the result dtype): n is truncated to an integer, n < 0 gives 0, and the Chebyshev
kinds take the closed forms in acos(x) for |x| < 1 once n > 6 (T) or n > 8 (U, V, W), and their
end values at |x| = 1. Without gradient, as in PyTorch (the results do not require grad).

The recurrence runs once over all elements, up to the largest n among those that need it;
each element keeps the value at its own n.
"""

from functools import partial

from nabla.backend import array_module
from nabla.dtype import get_default_dtype, result_type
from nabla.ops.reduce import _plain, _quiet
from nabla.tensor import Tensor

__all__ = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"]


def _recurrence(x, n, first, step):
    """p_n(x) for n >= 0 with p_0 = 1, p_1 = first(x), p_{k+1} = step(k, x, p_k, p_{k-1});
    stops early once every element still going is nan in both (it stays nan)."""
    xp = array_module(x)
    out = xp.where(n == 0, 1.0, xp.where(n == 1, first, 0.0))
    top = int(n.max()) if n.size else 0
    p, q = xp.ones_like(x), first
    for k in range(1, top):
        p, q = q, step(k, x, q, p)
        out = xp.where(n == k + 1, q, out)
        if k % 64 == 0:
            going = n > k + 1
            if xp.all(xp.isnan(p[going]) & xp.isnan(q[going])):
                return xp.where(going, xp.nan, out)
    return out


def _chebyshev(kind: str, x, n):
    """T, U, V or W with PyTorch's branches (see the module docstring)."""
    xp = array_module(x)
    first = {"t": x, "u": x + x, "v": x + x - 1.0, "w": x + x + 1.0}[kind]
    closed_from = 6 if kind == "t" else 8
    inside = (xp.abs(x) < 1.0) & (n > closed_from)
    out = _recurrence(x, xp.where(inside, 0, n), first, lambda k, x, q, p: (x + x) * q - p)
    theta = xp.arccos(xp.where(inside, x, 0.0))
    odd = n % 2 == 1
    size = xp.where(odd, -1.0, 1.0)  # (-1)^n
    if kind == "t":
        closed = xp.cos(n * theta)
        at_one = xp.where(x > 0, 1.0, size)
    elif kind == "u":
        sin = xp.sin(theta)
        closed = xp.where(sin != 0, xp.sin((n + 1) * theta) / xp.where(sin != 0, sin, 1.0),
                          (n + 1) * xp.cos((n + 1) * theta) / x)
        at_one = xp.where(x > 0, 1.0, size) * (n + 1)
    elif kind == "v":
        half = theta / 2
        closed = xp.where(xp.sin(half) != 1, xp.cos((n + 0.5) * theta) / xp.cos(half),
                          size * (n + n + 1))
        at_one = xp.where(x > 0, 1.0, size * (n + n + 1))
    else:
        half = theta / 2
        closed = xp.where(xp.cos(half) != 1, xp.sin((n + 0.5) * theta) / xp.sin(half),
                          xp.where(x > 0, n + n + 1.0, size))
        at_one = xp.where(x > 0, n + n + 1.0, size)
    out = xp.where(inside, closed, out)
    return xp.where(xp.abs(x) == 1.0, at_one, out)


def _hermite_h(x, n):
    # H_{k+1} = 2x H_k - 2k H_{k-1}
    return _recurrence(x, n, x + x, lambda k, x, q, p: (x + x) * q - (k + k) * p)


def _hermite_he(x, n):
    # He_{k+1} = x He_k - k He_{k-1}
    return _recurrence(x, n, x, lambda k, x, q, p: x * q - k * p)


def _laguerre_l(x, n):
    # (k + 1) L_{k+1} = (2k + 1 - x) L_k - k L_{k-1}; L_n(0) = 1
    out = _recurrence(x, n, 1.0 - x, lambda k, x, q, p: ((k + k + (1.0 - x)) * q - k * p) / (k + 1))
    return array_module(x).where(x == 0, 1.0, out)


def _legendre_p(x, n):
    # (k + 1) P_{k+1} = (2k + 1) x P_k - k P_{k-1}; P_n(1) = 1, P_n(-1) = (-1)^n
    xp = array_module(x)
    out = _recurrence(x, n, x, lambda k, x, q, p: ((k + k + 1) * x * q - k * p) / (k + 1))
    at_one = xp.where((x > 0) | (n % 2 == 0), 1.0, -1.0)
    return xp.where(xp.abs(x) == 1.0, at_one, out)


_FAMILIES = {"chebyshev_t": partial(_chebyshev, "t"), "chebyshev_u": partial(_chebyshev, "u"),
             "chebyshev_v": partial(_chebyshev, "v"), "chebyshev_w": partial(_chebyshev, "w"),
             "hermite_h": _hermite_h, "hermite_he": _hermite_he, "laguerre_l": _laguerre_l,
             "legendre_p": _legendre_p}


def _evaluate(family: str, shifted: bool, x, n):
    """The polynomial on arrays: float64 work, PyTorch's result dtype (x and n promoted; an
    integer pair gives the default float)."""
    xp = array_module(x if hasattr(x, "dtype") else n)
    dtype = result_type(x, n)
    dtype = dtype if dtype.kind == "f" else get_default_dtype()
    x64, n64 = xp.broadcast_arrays(xp.asarray(x, dtype=xp.float64), xp.asarray(n, xp.float64))
    with _quiet(xp, all="ignore"):
        # n as C's (int64)n: truncated; nan and out-of-range ones become INT64_MIN (< 0)
        bad = ~(xp.abs(n64) < 2.0 ** 63)
        n_int = xp.where(bad, -1, xp.trunc(xp.where(bad, 0.0, n64))).astype(xp.int64)
        if shifted:
            x64 = x64 + x64 - 1.0
        valid = n_int >= 0
        out = _FAMILIES[family](x64, xp.where(valid, n_int, 0))
        out = xp.where(valid, out, 0.0)
        return xp.asarray(out).astype(dtype, copy=False)


def _polynomial(family: str, shifted: bool, input, n) -> Tensor:
    return _plain(partial(_evaluate, family, shifted), input, n)


# Each takes input (x) and n, tensors or numbers, broadcast together, and returns a tensor of
# the broadcast shape without gradient; n is truncated to an integer and n < 0 gives 0.
def chebyshev_polynomial_t(input, n) -> Tensor:
    """Chebyshev polynomial of the first kind T_n(x) = cos(n acos x)."""
    return _polynomial("chebyshev_t", False, input, n)


def chebyshev_polynomial_u(input, n) -> Tensor:
    """Chebyshev polynomial of the second kind U_n(x) = sin((n+1) t) / sin t, t = acos x."""
    return _polynomial("chebyshev_u", False, input, n)


def chebyshev_polynomial_v(input, n) -> Tensor:
    """Chebyshev polynomial of the third kind V_n(x) = cos((n+1/2) t) / cos(t/2)."""
    return _polynomial("chebyshev_v", False, input, n)


def chebyshev_polynomial_w(input, n) -> Tensor:
    """Chebyshev polynomial of the fourth kind W_n(x) = sin((n+1/2) t) / sin(t/2)."""
    return _polynomial("chebyshev_w", False, input, n)


def shifted_chebyshev_polynomial_t(input, n) -> Tensor:
    """T_n(2x - 1), the first kind shifted to [0, 1]."""
    return _polynomial("chebyshev_t", True, input, n)


def shifted_chebyshev_polynomial_u(input, n) -> Tensor:
    """U_n(2x - 1), the second kind shifted to [0, 1]."""
    return _polynomial("chebyshev_u", True, input, n)


def shifted_chebyshev_polynomial_v(input, n) -> Tensor:
    """V_n(2x - 1), the third kind shifted to [0, 1]."""
    return _polynomial("chebyshev_v", True, input, n)


def shifted_chebyshev_polynomial_w(input, n) -> Tensor:
    """W_n(2x - 1), the fourth kind shifted to [0, 1]."""
    return _polynomial("chebyshev_w", True, input, n)


def hermite_polynomial_h(input, n) -> Tensor:
    """Physicists' Hermite H_n(x): H_{k+1} = 2x H_k - 2k H_{k-1}."""
    return _polynomial("hermite_h", False, input, n)


def hermite_polynomial_he(input, n) -> Tensor:
    """Probabilists' Hermite He_n(x): He_{k+1} = x He_k - k He_{k-1}."""
    return _polynomial("hermite_he", False, input, n)


def laguerre_polynomial_l(input, n) -> Tensor:
    """Laguerre L_n(x): (k+1) L_{k+1} = (2k+1-x) L_k - k L_{k-1}."""
    return _polynomial("laguerre_l", False, input, n)


def legendre_polynomial_p(input, n) -> Tensor:
    """Legendre P_n(x): (k+1) P_{k+1} = (2k+1) x P_k - k P_{k-1}."""
    return _polynomial("legendre_p", False, input, n)
