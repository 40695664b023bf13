"""Sequences of different lengths in one batch: padding, and packing so the padding is skipped.

Task: read a sequence of 3 to 30 random symbols and name its last one. Sequences of one batch are
padded to the longest (``pad_sequence``). A recurrent layer run over the padded batch reads the
padding too, so for a short sequence the final hidden state h_n comes after up to 27 steps of
padding, and the model must learn to carry the answer through them (a memory task in disguise).
Packed (``pack_padded_sequence(..., enforce_sorted=False)``), the layer runs each sequence only
for its own length: h_n is the state right after the last real symbol, exactly what running that
sequence alone gives, and the padded steps cost no compute.

Topics: variable-length sequences, padding, packing (PackedSequence: the time steps' rows stored
one after another, the batch shrinking as sequences end), pad_packed_sequence for per-step
outputs, a padding mask for the loss over time steps.

Measured (seed 0, vanilla tanh RNN with hidden 32, Adam, 64 sequences per step), accuracy on
2,000 test sequences (chance 0.125): padded 0.19 after 40 steps and 0.30 after 150; packed 1.00
after either. (A GRU in the padded set-up reaches 0.998 after 150 steps: its update gate learns
to hold the state through the zero padding; packing makes that unnecessary and skips the padded
steps' compute.) h_n of a packed batch equals each sequence run alone to float32 rounding.
Run: python examples/variable_length.py  [--fast]
"""

import argparse

import numpy as np

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

SYMBOLS, SHORTEST, LONGEST = 8, 3, 30


def make_batch(n: int, rng: np.random.Generator):
    """A padded batch (LONGEST', n, SYMBOLS) of one-hot sequences, their lengths (n,) and the
    label of each, its last symbol (n,)."""
    lengths = rng.integers(SHORTEST, LONGEST + 1, n)
    seqs = [rng.integers(0, SYMBOLS, k) for k in lengths]
    eye = np.eye(SYMBOLS, dtype=np.float32)
    padded = pad_sequence([nabla.tensor(eye[s]) for s in seqs])  # (T_max, n, SYMBOLS), zeros
    return padded, nabla.tensor(lengths), nabla.tensor(np.array([s[-1] for s in seqs]))


class LastSymbol(nn.Module):
    """A vanilla RNN over the batch, a Linear head on its final hidden state h_n."""

    def __init__(self, packed: bool, hidden: int = 32) -> None:
        super().__init__()
        self.packed = packed
        self.rnn = nn.RNN(SYMBOLS, hidden)
        self.head = nn.Linear(hidden, SYMBOLS)

    def forward(self, padded, lengths):
        if self.packed:  # each sequence stops at its own length
            padded = pack_padded_sequence(padded, lengths, enforce_sorted=False)
        _, h_n = self.rnn(padded)
        return self.head(h_n[0])


def accuracy_after_training(packed: bool, steps: int, seed: int = 0) -> float:
    nabla.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = LastSymbol(packed)
    opt = nabla.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        x, lengths, y = make_batch(64, rng)
        loss = F.cross_entropy(model(x, lengths), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, lengths, y = make_batch(2000, rng)
    with nabla.no_grad():
        return (model(x, lengths).argmax(-1) == y).float().mean().item()


def packed_equals_one_by_one(seed: int = 0) -> float:
    """Largest difference between h_n of a packed batch and each sequence run alone."""
    nabla.manual_seed(seed)
    gru = nn.GRU(SYMBOLS, 16)
    x, lengths, _ = make_batch(6, np.random.default_rng(seed))
    with nabla.no_grad():
        _, h_n = gru(pack_padded_sequence(x, lengths, enforce_sorted=False))
        worst = 0.0
        for i, k in enumerate(lengths.tolist()):
            _, alone = gru(x[:k, i:i + 1])
            worst = max(worst, (alone[0, 0] - h_n[0, i]).abs().max().item())
    return worst


def per_step_outputs_with_mask(seed: int = 0) -> tuple:
    """pad_packed_sequence gives every step's output back in a padded tensor plus the lengths;
    a mask (step < length) keeps padded steps out of a per-step loss."""
    nabla.manual_seed(seed)
    gru = nn.GRU(SYMBOLS, 16)
    x, lengths, _ = make_batch(4, np.random.default_rng(seed))
    out, out_lengths = pad_packed_sequence(gru(pack_padded_sequence(x, lengths,
                                                                    enforce_sorted=False))[0])
    mask = nabla.arange(out.shape[0]).unsqueeze(1) < out_lengths.unsqueeze(0)  # (T, n)
    padded_steps_are_zero = bool((out[~mask] == 0).all().item())
    return tuple(out.shape), out_lengths.tolist(), padded_steps_are_zero


def main(fast: bool = False) -> dict:
    steps = 40 if fast else 150
    shape, lengths, zeros = per_step_outputs_with_mask()
    print(f"pad_packed_sequence: outputs {shape}, lengths {lengths}, padded steps all zero: "
          f"{zeros}")
    worst = packed_equals_one_by_one()
    print(f"h_n of a packed batch vs each sequence alone: largest difference {worst:.1e}")
    results = {"max_difference": worst}
    for packed in (False, True):
        name = "packed" if packed else "padded"
        results[name] = accuracy_after_training(packed, steps)
        print(f"{name:>6}: name-the-last-symbol accuracy {results[name]:.3f} after {steps} steps "
              f"(chance {1 / SYMBOLS:.3f})")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="40 training steps instead of 150")
    main(parser.parse_args().fast)
