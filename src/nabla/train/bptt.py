"""Truncated backpropagation through time, for training on one long sequence (a text).

Full BPTT over a whole corpus is impossible: backward would have to walk back to the first
character, the graph (and the memory it holds) grows with every step, and the gradient picks up
one factor of W_hh per step, so over thousands of steps it vanishes or explodes. Truncated BPTT
cuts the stream into chunks of ``seq_len`` steps:

* the hidden state is **carried** from one chunk to the next (the model still sees the whole
  past in its forward pass: the state summarizes it), but
* it is **detached** at every chunk boundary, so backward stops there: each update costs
  O(seq_len) time and memory, and the product of Jacobians has at most seq_len factors, which
  keeps the gradient bounded (clipping its norm guards against what is left).

The price: no gradient teaches the model dependencies longer than seq_len steps (it can still
carry information further, through the state, when it happens to).

Typical use with a model ``model(inputs, hidden) -> (logits, hidden)``::

    stream = batchify(token_ids, batch_size)          # (L, B): B parallel slices of the text
    tbptt = TBPTT(model, optimizer, seq_len=64, clip_norm=1.0)
    for epoch in range(10):
        nll = tbptt.train_epoch(stream)                # mean nats per token
"""

import math

from nabla.autograd.grad_mode import no_grad
from nabla.nn.functional.class_loss import cross_entropy
from nabla.nn.utils.clip_grad import clip_grad_norm_
from nabla.tensor import Tensor

__all__ = ["detach_hidden", "batchify", "truncated_bptt_batches", "TBPTT"]


def detach_hidden(hidden):
    """Cut the graph behind a hidden state: a Tensor, or nested tuples/lists of them (an LSTM's
    (h, c)), detached; None stays None. The values are kept."""
    if hidden is None:
        return None
    if isinstance(hidden, Tensor):
        return hidden.detach()
    return type(hidden)(detach_hidden(h) for h in hidden)


def batchify(data: Tensor, batch_size: int) -> Tensor:
    """Cut a 1-D stream (L,) into ``batch_size`` consecutive slices side by side: (L // B, B).

    Column b is the b-th slice of the stream, so row t + 1 continues row t in every column and
    a hidden state carried down the rows follows the text. The remainder is dropped.
    """
    if data.ndim != 1:
        raise ValueError(f"batchify: expected a 1-D stream, got shape {tuple(data.shape)}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batchify: batch_size must be a positive integer, got {batch_size!r}")
    steps = data.shape[0] // batch_size
    if steps < 2:
        raise ValueError(f"batchify: a stream of {data.shape[0]} items is too short for "
                         f"{batch_size} columns")
    return data[:steps * batch_size].reshape(batch_size, steps).t()


def truncated_bptt_batches(stream: Tensor, seq_len: int, batch_first: bool = False):
    """Yield (inputs, targets) chunks of a batchified stream (L, B): inputs are rows
    [i, i + n), targets the next items, rows [i + 1, i + n + 1); n = seq_len except for a
    shorter last chunk. Shapes (n, B), or (B, n) if batch_first."""
    if seq_len < 1:
        raise ValueError(f"truncated_bptt_batches: seq_len must be positive, got {seq_len}")
    total = stream.shape[0] - 1
    for i in range(0, total, seq_len):
        n = min(seq_len, total - i)
        x, y = stream[i:i + n], stream[i + 1:i + 1 + n]
        yield (x.t(), y.t()) if batch_first else (x, y)


def _mean(total: float, count: int, stream: Tensor, who: str) -> float:
    if count == 0:
        raise ValueError(f"{who}: a stream of {stream.shape[0]} rows holds no (input, next item) "
                         f"pair; it needs at least 2 rows")
    return total / count


class TBPTT:
    """Train a recurrent model on batchified streams with truncated BPTT.

    Args:
        model: ``model(inputs (n, B), hidden) -> (logits (n, B, V), hidden)``, time-major.
        optimizer: any nabla optimizer over the model's parameters.
        seq_len: steps per chunk (backward goes back at most this far).
        clip_norm: clip the gradient's global norm to this before each step (None: no clipping).
        loss_fn: ``loss_fn(logits (n*B, V), targets (n*B,))`` (default: cross-entropy).
    """

    def __init__(self, model, optimizer, seq_len: int = 35, clip_norm: float | None = 1.0,
                 loss_fn=cross_entropy) -> None:
        self.model, self.optimizer, self.seq_len = model, optimizer, seq_len
        self.clip_norm, self.loss_fn = clip_norm, loss_fn

    def _loss(self, x, y, hidden):
        logits, hidden = self.model(x, hidden)
        return self.loss_fn(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)), hidden

    def train_epoch(self, stream: Tensor, hidden=None) -> float:
        """One pass over ``stream`` (L, B), carrying the hidden state across chunks and
        detaching it at each boundary. Returns the mean loss per token (nats for
        cross-entropy; divide by log 2 for bits)."""
        self.model.train()
        total, count = 0.0, 0
        for x, y in truncated_bptt_batches(stream, self.seq_len):
            hidden = detach_hidden(hidden)  # backward stops at this chunk's first step
            loss, hidden = self._loss(x, y, hidden)
            self.optimizer.zero_grad()
            loss.backward()
            if self.clip_norm is not None:
                clip_grad_norm_(self.model.parameters(), self.clip_norm)
            self.optimizer.step()
            total += loss.item() * y.numel()
            count += y.numel()
        return _mean(total, count, stream, "TBPTT.train_epoch")

    def evaluate(self, stream: Tensor, hidden=None) -> float:
        """The mean loss per token over ``stream`` (no gradients; the state is carried)."""
        self.model.eval()
        total, count = 0.0, 0
        with no_grad():
            for x, y in truncated_bptt_batches(stream, self.seq_len):
                loss, hidden = self._loss(x, y, hidden)
                total += loss.item() * y.numel()
                count += y.numel()
        return _mean(total, count, stream, "TBPTT.evaluate")

    @staticmethod
    def bits_per_token(nats: float) -> float:
        """Convert a mean loss in nats to bits (per character for a character model)."""
        return nats / math.log(2)
