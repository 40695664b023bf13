"""Window functions (signal processing): hann, hamming, blackman, bartlett, kaiser.

Each is a 1-D tensor of ``window_length`` values w[n], n = 0 .. L - 1, computed in float64 and
rounded once to the requested dtype. With ``periodic=True`` (the default, the form spectral
analysis wants) the window is the symmetric one of length L + 1 without its last value, so
N = L in the formulas below; ``periodic=False`` gives the symmetric window, N = L - 1. A window
of length 1 is [1.], of length 0 empty, as in PyTorch.
"""

import math
import operator

from nabla import dtype as _dt
from nabla.backend import array_module
from nabla.ops.bessel import _scaled
from nabla.tensor import Tensor

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


def _positions(name: str, window_length, periodic: bool, dtype):
    """(xp, n, N, dtype): the sample indices n as float64, the denominator N, and the checked
    result dtype; n is None for lengths 0 and 1 (the window is then fixed)."""
    try:
        length = operator.index(window_length)
    except TypeError:
        raise TypeError(f"{name}: window_length must be an int, got "
                        f"{type(window_length).__name__}") from None
    if length < 0:
        raise RuntimeError(f"{name}: window_length must be non-negative, got {length}")
    dtype = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    if dtype.kind != "f":
        raise RuntimeError(f"{name}: only floating dtypes are supported, got {dtype}; pass "
                           "dtype=nabla.float32 or nabla.float64")
    xp = array_module(None)  # no input array: the CPU's module, as nabla.zeros
    if length <= 1:
        return xp, None, length, dtype
    return xp, xp.arange(length, dtype=xp.float64), length if periodic else length - 1, dtype


def _finish(xp, values, length: int, dtype, requires_grad: bool) -> Tensor:
    if values is None:  # length 0 or 1
        values = xp.ones(length, dtype=xp.float64)
    out = Tensor._make(values.astype(dtype))
    return out.requires_grad_() if requires_grad else out


def _cosine_sum(name, window_length, periodic, dtype, requires_grad, coefficients):
    """w[n] = sum_k (-1)^k a_k cos(2 pi k n / N): the hann/hamming/blackman family."""
    xp, n, big_n, dtype = _positions(name, window_length, periodic, dtype)
    values = None
    if n is not None:
        phase = 2.0 * math.pi * n / big_n
        values = xp.zeros_like(phase)
        for k, a in enumerate(coefficients):
            values += (-1) ** k * a * xp.cos(k * phase)
    return _finish(xp, values, window_length, dtype, requires_grad)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, requires_grad: bool = False) -> Tensor:
    """The Hann window: w[n] = 1/2 - 1/2 cos(2 pi n / N) = sin^2(pi n / N).

    Args:
        window_length: the number of values L >= 0.
        periodic: N = L (periodic) or L - 1 (symmetric).
        dtype: a floating dtype (default: the default float dtype).
        requires_grad: whether the returned leaf requires grad.
    Returns:
        Tensor of shape (L,).
    """
    return _cosine_sum("hann_window", window_length, periodic, dtype, requires_grad,
                       (0.5, 0.5))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   requires_grad: bool = False) -> Tensor:
    """The Hamming window: w[n] = alpha - beta cos(2 pi n / N) (Hann for alpha = beta = 1/2).

    Args:
        window_length: the number of values L >= 0.
        periodic: N = L (periodic) or L - 1 (symmetric).
        alpha, beta: the coefficients.
        dtype: a floating dtype (default: the default float dtype).
        requires_grad: whether the returned leaf requires grad.
    Returns:
        Tensor of shape (L,).
    """
    return _cosine_sum("hamming_window", window_length, periodic, dtype, requires_grad,
                       (alpha, beta))


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """The Blackman window: w[n] = 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N).

    Args:
        window_length: the number of values L >= 0.
        periodic: N = L (periodic) or L - 1 (symmetric).
        dtype: a floating dtype (default: the default float dtype).
        requires_grad: whether the returned leaf requires grad.
    Returns:
        Tensor of shape (L,).
    """
    return _cosine_sum("blackman_window", window_length, periodic, dtype, requires_grad,
                       (0.42, 0.5, 0.08))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """The Bartlett (triangular) window: w[n] = 1 - |2 n / N - 1|.

    Args:
        window_length: the number of values L >= 0.
        periodic: N = L (periodic) or L - 1 (symmetric).
        dtype: a floating dtype (default: the default float dtype).
        requires_grad: whether the returned leaf requires grad.
    Returns:
        Tensor of shape (L,).
    """
    xp, n, big_n, dtype = _positions("bartlett_window", window_length, periodic, dtype)
    values = None if n is None else 1.0 - xp.abs(2.0 * n / big_n - 1.0)
    return _finish(xp, values, window_length, dtype, requires_grad)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None,
                  layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """The Kaiser window: w[n] = I0(beta sqrt(1 - (2 n / N - 1)^2)) / I0(beta), with I0 the
    modified Bessel function of order 0 (``nabla.i0``).

    Args:
        window_length: the number of values L >= 0.
        periodic: N = L (periodic) or L - 1 (symmetric).
        beta: the shape parameter (0 gives a rectangular window; larger is narrower).
        dtype: a floating dtype (default: the default float dtype).
        requires_grad: whether the returned leaf requires grad.
    Returns:
        Tensor of shape (L,).
    """
    xp, n, big_n, dtype = _positions("kaiser_window", window_length, periodic, dtype)
    values = None
    if n is not None:
        ratio = 2.0 * n / big_n - 1.0
        arg = beta * xp.sqrt(xp.maximum(1.0 - ratio * ratio, 0.0))
        top = xp.asarray(abs(float(beta)))  # I0 is even; the scaled forms cannot overflow
        values = _scaled(arg, 0) / _scaled(top, 0) * xp.exp(xp.abs(arg) - top)
    return _finish(xp, values, window_length, dtype, requires_grad)
