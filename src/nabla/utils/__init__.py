"""Utilities with PyTorch's import paths: ``nabla.utils.data``."""

from nabla.utils import data  # noqa: F401  (so that nabla.utils.data works after import)
