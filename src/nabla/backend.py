"""The array module behind a tensor: NumPy on the CPU; CuPy slots in here for a GPU.

Ops never import NumPy themselves. They ask `array_module(x)` for the module that owns their
input arrays, so the same op code runs on either backend.
"""

import sys

import numpy

ndarray = numpy.ndarray


def array_module(array):
    """Return the array module (``numpy`` or ``cupy``) that owns ``array``."""
    if type(array) is ndarray:
        return numpy
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return numpy


def as_array(data, dtype=None):
    """Return ``data`` as an array of the module that owns it (a 0-d array for a scalar)."""
    xp = array_module(data)
    return xp.asarray(data, dtype=dtype)


def device_of(array) -> str:
    """'cpu' for NumPy arrays, 'cuda' for CuPy arrays."""
    return "cpu" if array_module(array) is numpy else "cuda"
