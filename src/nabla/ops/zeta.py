"""The Hurwitz zeta function zeta(x, q) = sum_{k >= 0} (k + q)^-x (``torch.special.zeta``),
computed as Cephes (PyTorch's kernel) does, in float64:

q > 1e8:    the asymptotic form (1/(x - 1) + 1/(2q)) q^(1 - x);
otherwise:  Euler-Maclaurin summation: the first terms (at least ten, and on until k + q > 9)
            summed directly, then with w = q + N,
            w^(1-x)/(x - 1) - w^-x / 2 + sum_j B_2j/(2j)! x (x+1) ... (x+2j-2) w^(-x-2j+1),
            up to 12 terms, each added until one falls below 1e-16 of the sum.
x = 1 gives inf, x < 1 nan; q <= 0 gives inf at the poles (q an integer) and nan for a non-integer
x (q^-x undefined), as Cephes. The gradient in q is -x zeta(x + 1, q); PyTorch has none in x.
"""

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.dtype import get_default_dtype, result_type
from nabla.ops.reduce import _quiet
from nabla.tensor import Tensor

__all__ = ["zeta"]

_MACHEP = 1.11022302462515654042e-16
# (2j)! / B_2j, j = 1..12: the Euler-Maclaurin coefficients' denominators (Cephes's A)
_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
      -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
      1.8152105401943546773e17, -7.1661652561756670113e18)


def _euler_maclaurin(x, q):
    """zeta(x, q) for x > 1 and q <= 1e8 (q > 0, or q < 0 with an integer x), float64 arrays."""
    xp = array_module(x)
    s = q ** -x
    a = q.copy()
    b = xp.zeros_like(q)
    stopped = xp.zeros(q.shape, bool)  # Cephes returns once a term drops below MACHEP
    i = 0
    while True:
        go = ~stopped & ((i < 9) | (a <= 9.0))
        if not go.any():
            break
        i += 1
        a = xp.where(go, a + 1.0, a)
        b = xp.where(go, a ** -x, b)
        s = xp.where(go, s + b, s)
        stopped = stopped | (go & (xp.abs(b / s) < _MACHEP))
    summing = ~stopped  # the others go on with the tail
    w = a
    s = xp.where(summing, s + b * w / (x - 1.0) - 0.5 * b, s)
    coeff = xp.ones_like(x)
    k = xp.zeros_like(x)
    for denominator in _A:
        coeff = coeff * (x + k)
        b = b / w
        t = coeff * b / denominator
        s = xp.where(summing, s + t, s)
        summing = summing & ~(xp.abs(t / s) < _MACHEP)
        k = k + 1.0
        coeff = coeff * (x + k)
        b = b / w
        k = k + 1.0
    return s


def _zeta_array(x, q):
    xp = array_module(x if hasattr(x, "dtype") else q)
    x, q = xp.broadcast_arrays(xp.asarray(x, dtype=xp.float64), xp.asarray(q, dtype=xp.float64))
    out = xp.full(x.shape, xp.nan)
    with _quiet(xp, all="ignore"):
        pole = (x == 1.0) | ((q <= 0) & (q == xp.floor(q)))
        undefined = (x < 1.0) | ((q <= 0) & (x != xp.floor(x)))
        far = ~pole & ~undefined & (q > 1e8) & (q < xp.inf)  # q = inf: nan, as Cephes
        out[far] = (1.0 / (x[far] - 1.0) + 0.5 / q[far]) * q[far] ** (1.0 - x[far])
        near = ~pole & ~undefined & ~far  # nan x or q: nan from the sum
        out[near] = _euler_maclaurin(x[near], q[near])
        out[pole & (x >= 1.0)] = xp.inf
    return out


class Zeta(Op):
    """z = zeta(x, q);  dz/dq = -grad x zeta(x + 1, q); no derivative in x (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, q):
        dtype = result_type(x, q)
        ctx.save_for_backward(x, q)
        out = _zeta_array(x, q)
        with _quiet(array_module(out), over="ignore"):  # float32 overflows near x = 1 and q = 0
            return out.astype(dtype if dtype.kind == "f" else get_default_dtype(), copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, q = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' with respect to x (its first "
                                      "argument) is not implemented, as in PyTorch; detach x")
        return None, -grad * x * Zeta.apply(x + 1.0, q)


def zeta(input, other) -> Tensor:
    """The Hurwitz zeta function sum_{k >= 0} (k + q)^-x elementwise, broadcasting; with q = 1
    the Riemann zeta function. Differentiable in q only (as PyTorch).

    Args:
        input: x, tensor or number (x > 1 for a finite value).
        other: q, tensor or number, broadcastable with input.
    Returns:
        Tensor of the broadcast shape.
    """
    return Zeta.apply(input, other)
