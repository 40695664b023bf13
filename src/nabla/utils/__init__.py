"""Utilities with PyTorch's import paths: ``nabla.utils.data``, ``nabla.utils.checkpoint``."""

# imported so that nabla.utils.data and nabla.utils.checkpoint work after `import nabla`
from nabla.utils import checkpoint, data  # noqa: F401
