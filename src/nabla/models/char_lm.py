"""A character-level language model: embedding -> LSTM or GRU -> linear head over the
characters, trained with truncated BPTT to predict the next character.

Idea (Karpathy's char-rnn, 2015; Graves 2013): a recurrent network that models
p(x_t | x_<t) one character at a time learns spelling, words and phrases from raw text; sampling
from it, one character after another fed back as input, generates new text. The softmax
temperature trades fidelity (T < 1: likelier, more repetitive) for variety (T > 1).
Its quality is measured in bits per character: the mean of -log2 p(next character).
"""

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.autograd.grad_mode import no_grad
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["CharVocab", "CharLM", "sample"]


class CharVocab:
    """The characters of a text, each given an id (sorted, so the ids are reproducible)."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> Tensor:
        """(len(text),) int64 ids."""
        return nabla.tensor([self.index[c] for c in text], dtype=nabla.int64)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


class CharLM(nn.Module):
    """Embedding (V -> E), a recurrent stack (LSTM or GRU, time-major), dropout, Linear (H -> V).

    Args:
        vocab_size: V.
        embed_dim: E.
        hidden_size: H.
        num_layers: recurrent layers.
        cell: "lstm" or "gru".
        dropout: between layers and before the head.

    Shape: ``forward(x (L, N) int64, hidden)`` -> (logits (L, N, V), hidden).
    """

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 128,
                 num_layers: int = 1, cell: str = "lstm", dropout: float = 0.0) -> None:
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"CharLM: cell must be 'lstm' or 'gru', got '{cell}'")
        self.cell = cell
        self.embed = nn.Embedding(vocab_size, embed_dim)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(embed_dim, hidden_size, num_layers,
                       dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: Tensor, hidden=None) -> tuple:
        out, hidden = self.rnn(self.embed(x), hidden)
        return self.head(self.drop(out)), hidden


def sample(model: CharLM, vocab: CharVocab, prime: str, length: int,
           temperature: float = 1.0, generator=None) -> str:
    """Generate ``length`` characters after ``prime``, each drawn from
    softmax(logits / temperature) and fed back as the next input.

    Args:
        model: a trained CharLM.
        vocab: its vocabulary (every character of ``prime`` must be in it).
        prime: the text to start from (at least one character).
        length: how many characters to generate.
        temperature: > 0; near 0 approaches greedy decoding.
        generator: a nabla.Generator for reproducible samples.

    Returns:
        The generated characters (without the prime).
    """
    if temperature <= 0:
        raise ValueError(f"sample: temperature must be positive, got {temperature}")
    if not prime:
        raise ValueError("sample: prime must hold at least one character")
    was_training = model.training
    model.eval()
    out = []
    rng = numpy_generator(generator)
    with no_grad():
        logits, hidden = model(vocab.encode(prime).reshape(-1, 1))
        for _ in range(length):
            probs = F.softmax(logits[-1, 0].double() / temperature, dim=-1)._data
            idx = int(rng.choice(len(probs), p=probs / probs.sum()))
            out.append(vocab.chars[idx])
            logits, hidden = model(nabla.tensor([[idx]], dtype=nabla.int64), hidden)
    model.train(was_training)
    return "".join(out)
