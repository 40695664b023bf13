"""Dropout: zero elements at random while training. Derived ops: the input times a mask drawn
from nabla's global generator, so ``manual_seed`` makes it reproducible. The mask is drawn in a
plain step (``_plain``), so a replay of ``nabla.jit.trace`` draws a fresh one, as an eager call
does."""

import warnings
from functools import partial

from nabla.backend import array_module
from nabla.ops.arithmetic import mul
from nabla.ops.reduce import _plain
from nabla.random import step_generator
from nabla.tensor import Tensor

__all__ = ["dropout", "alpha_dropout", "dropout1d", "dropout2d", "dropout3d",
           "feature_alpha_dropout"]

_SELU_ALPHA_PRIME = 1.7580993408473766  # -scale * alpha of SELU: the value a dropped unit takes


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(x, p: float, shape: tuple):
    """Boolean array of ``shape``, True with probability 1 - p (drawn in x's dtype, at least
    float32)."""
    dtype = x.dtype if x.dtype.itemsize >= 4 else "float32"
    return step_generator().random(shape, dtype=dtype) >= p


def _dropout_mask(x, p: float, shape: tuple):
    """1 / (1 - p) where kept, 0 where dropped: an array of ``shape`` and x's dtype."""
    return array_module(x).multiply(_keep_mask(x, p, shape), x.dtype.type(1.0 / (1.0 - p)),
                                    dtype=x.dtype)


def _scaled_mask(input: Tensor, p: float, shape: tuple) -> Tensor:
    return _plain(partial(_dropout_mask, p=p, shape=shape), input)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) (training only).

    Args:
        input: any shape.
        p: probability of an element being zeroed.
        training: identity when False.
        inplace: accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        same shape as input.
    """
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return mul(input, _scaled_mask(input, p, input.shape))


def _feature_dropout(input: Tensor, p: float, training: bool, batched_ndim: int) -> Tensor:
    """Zero whole channels: one draw per (N, C), broadcast over the remaining dims."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    lead = 2 if input.ndim == batched_ndim else 1
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return mul(input, _scaled_mask(input, p, shape))


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout for (N, C, L) or (C, L) input."""
    return _feature_dropout(input, p, training, 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout for (N, C, H, W) or (C, H, W) input."""
    return _feature_dropout(input, p, training, 4)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout for (N, C, D, H, W) or (C, D, H, W) input: each channel's volume is
    zeroed with probability ``p``, the rest scaled by 1 / (1 - p) (training only).

    Args:
        input: (N, C, D, H, W) or (C, D, H, W); other ranks are accepted with a warning, as in
            PyTorch (one draw per entry of the first dim).
        p: probability of a channel being zeroed.
        training: identity when False.
        inplace: accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        same shape as input.
    """
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. Note "
                      "that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 4D or 5D inputs).", stacklevel=2)
    return _feature_dropout(input, p, training, 5)


def _alpha(input: Tensor, p: float, training: bool, shape_fn) -> Tensor:
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    scale, shift = _plain(partial(_alpha_dropout_affine, p=p, shape=shape_fn(input)), input)
    return mul(input, scale) + shift


def _alpha_dropout_affine(x, p: float, shape: tuple) -> tuple:
    """(scale, shift) arrays of ``shape`` and x's dtype for a fresh mask. kept: a * x +
    a * alpha' * p;  dropped: a * alpha' * (p - 1), with a = 1 / sqrt((alpha'^2 p + 1)(1 - p)):
    mean and variance are preserved for SELU nets."""
    keep = _keep_mask(x, p, shape)
    a = ((_SELU_ALPHA_PRIME**2 * p + 1) * (1 - p)) ** -0.5
    scale = array_module(x).multiply(keep, x.dtype.type(a), dtype=x.dtype)
    shift = ((keep - 1.0) * (_SELU_ALPHA_PRIME * a) + _SELU_ALPHA_PRIME * a * p).astype(x.dtype)
    return scale, shift


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units take SELU's negative saturation value, then an
    affine correction keeps zero mean and unit variance."""
    return _alpha(input, p, training, lambda x: x.shape)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (one draw per (N, C))."""
    return _alpha(input, p, training,
                  lambda x: tuple(x.shape[:2]) + (1,) * (x.ndim - 2))
