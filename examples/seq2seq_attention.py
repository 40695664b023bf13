"""Sequence to sequence with attention: a GRU encoder-decoder learns to reverse digit strings.

Topics: encoder-decoder / seq2seq (2014), attention as a soft alignment (additive/Bahdanau and
multiplicative/Luong), teacher forcing, greedy decoding, padding masks, exact-match accuracy,
a cosine learning-rate schedule. The attention weights of a reversal form an anti-diagonal:
output step i reads input position L - 1 - i. The pictures
(runs/seq2seq_attention_{additive,multiplicative}.png) show it.

Task: strings of 3 to 8 digits, target = the string reversed, then EOS. 1,000 held-out strings
never appear in training. Measured (default run, 1500 steps of batch 64, about 2.5 minutes on
one busy core each): exact match on the held-out strings: additive 100.0%, multiplicative
100.0% (without the cosine schedule multiplicative reached 98.2%).
Run: python examples/seq2seq_attention.py [--fast] [--attention additive|multiplicative]
"""

import argparse
import os
import time

import numpy as np

import nabla
import nabla.nn.functional as F
from nabla.models.seq2seq import EOS, PAD, SOS, Seq2Seq

MIN_LEN, MAX_LEN, DIGIT0 = 3, 8, 3  # digit d is token d + 3 (0, 1, 2: PAD, SOS, EOS)
VOCAB = DIGIT0 + 10


def random_strings(rng, n: int, exclude=frozenset()) -> list:
    out = []
    while len(out) < n:
        s = tuple(rng.integers(0, 10, rng.integers(MIN_LEN, MAX_LEN + 1)))
        if s not in exclude:
            out.append(s)
    return out


def batch(strings: list) -> tuple:
    """src (N, MAX_LEN), tgt_in (N, MAX_LEN + 1) = SOS + reversed, tgt_out = reversed + EOS."""
    n = len(strings)
    src = np.full((n, MAX_LEN), PAD)
    tgt_in = np.full((n, MAX_LEN + 1), PAD)
    tgt_out = np.full((n, MAX_LEN + 1), PAD)
    for i, s in enumerate(strings):
        tokens = np.array(s) + DIGIT0
        src[i, :len(s)] = tokens
        tgt_in[i, 0] = SOS
        tgt_in[i, 1:len(s) + 1] = tokens[::-1]
        tgt_out[i, :len(s)] = tokens[::-1]
        tgt_out[i, len(s)] = EOS
    return nabla.tensor(src), nabla.tensor(tgt_in), nabla.tensor(tgt_out)


def exact_match(model: Seq2Seq, strings: list) -> float:
    model.eval()
    src, _, _ = batch(strings)
    tokens, _ = model.greedy_decode(src, MAX_LEN + 1)
    hits = 0
    for row, s in zip(tokens.numpy(), strings):
        end = np.flatnonzero(row == EOS)
        pred = row[:end[0]] if len(end) else row
        hits += list(pred - DIGIT0) == list(s[::-1])
    model.train()
    return hits / len(strings)


def train(attention: str, steps: int, seed: int = 0, log_every: int = 250) -> tuple:
    nabla.manual_seed(seed)
    rng = np.random.default_rng(seed)
    test = random_strings(rng, 1000)
    held_out = frozenset(test)
    model = Seq2Seq(VOCAB, VOCAB, embed_dim=32, hidden_size=64, attention=attention)
    opt = nabla.optim.Adam(model.parameters(), lr=3e-3)
    sched = nabla.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=1e-4)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        src, tgt_in, tgt_out = batch(random_strings(rng, 64, held_out))
        logits, _ = model(src, tgt_in, teacher_forcing_ratio=1.0)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt_out.reshape(-1),
                               ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        nabla.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % log_every == 0 or step == steps:
            print(f"{attention} step {step}: loss {loss.item():.4f}")
    acc = exact_match(model, test)
    print(f"{attention}: exact match {100 * acc:.1f}% on {len(test)} held-out strings "
          f"({time.perf_counter() - start:.0f} s)")
    return model, acc, test


def plot_alignment(model: Seq2Seq, string: tuple, path: str) -> str | None:
    """A heatmap of the attention weights: output steps (rows) x input digits (columns)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    model.eval()
    src, _, _ = batch([string])
    tokens, weights = model.greedy_decode(src, MAX_LEN + 1)
    out = [str(t - DIGIT0) if t >= DIGIT0 else "<eos>" for t in tokens.numpy()[0]]
    w = weights.numpy()[0][:, :len(string)]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.imshow(w, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(string)), [str(d) for d in string])
    ax.set_yticks(range(len(out)), out)
    ax.set_xlabel("input digit")
    ax.set_ylabel("output step")
    ax.set_title(f"{model.kind} attention (reversal)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(fast: bool = False, attention: str = "both", out: str = "runs") -> dict:
    steps = 30 if fast else 1500
    kinds = ("additive", "multiplicative") if attention == "both" else (attention,)
    results = {}
    for kind in kinds:
        model, acc, test = train(kind, steps, log_every=10 if fast else 250)
        results[kind] = acc
        path = plot_alignment(model, (3, 1, 4, 1, 5, 9, 2), os.path.join(
            out, f"seq2seq_attention_{kind}.png"))
        if path:
            print("wrote", path)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few steps (smoke test)")
    parser.add_argument("--attention", default="both",
                        choices=["both", "additive", "multiplicative"])
    parser.add_argument("--out", default="runs", help="folder of the PNG")
    args = parser.parse_args()
    main(args.fast, args.attention, args.out)
