"""Utilities with PyTorch's import paths: ``nabla.utils.data``."""
