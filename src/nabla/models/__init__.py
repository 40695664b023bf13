"""The model zoo: one file per family, each docstring saying what idea the model introduced."""

from nabla.models.mlp import MLP

__all__ = ["MLP"]
