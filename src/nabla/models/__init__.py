"""The model zoo: one file per family, each docstring saying what idea the model introduced."""

from nabla.models.mlp import MLP

__all__ = ["MLP"]
from nabla.models.char_lm import CharLM, CharVocab, sample  # noqa: E402  (character LM)
from nabla.models.gpt import GPT  # noqa: E402  (decoder-only Transformer LM)
from nabla.models.seq2seq import Seq2Seq  # noqa: E402  (GRU encoder-decoder with attention)
from nabla.models.vit import ViT  # noqa: E402  (Vision Transformer)
