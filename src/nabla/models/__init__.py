"""The model zoo: one file per family, each docstring saying what idea the model introduced."""

from nabla.models.mlp import MLP

__all__ = ["MLP"]
from nabla.models.char_lm import CharLM, CharVocab, sample  # noqa: E402  (character LM)
