"""A small GPT (decoder-only Transformer) as a character-level language model on the shipped
fable corpus (nabla/data/fables.txt, the same text as examples/char_lm.py's LSTM and GRU).

Topics: Transformer and multi-head attention (2017), causal masking (position t sees only
positions <= t, so every position is a next-character prediction at once), learned positional
embeddings, weight tying, pre-norm residual blocks, sampling with temperature and top-k,
bits per character (the loss in nats / ln 2).

A uniform guess over the 60 characters costs 5.9 bits per character. Measured (default run:
3 layers, 4 heads, width 64, context 64, 1500 steps of batch 32, AdamW with a cosine schedule,
about 11 minutes on one busy core): 0.67 bits per character on the held-out last 10% of the text
(training batches, with dropout on: 0.83); examples/char_lm.py's LSTM and GRU reach 0.72 and
0.61, and examples/lm_compare.py sets an LSTM of the same size against this model.
A sample at temperature 0.5: 'The grasshopper said, "Slow and steady wins." The grasshopper
said, "Share your bread with me." Moral: Little by little does the trick.'
Run: python examples/gpt_char.py [--fast]
"""

import argparse
import math
import time

import numpy as np

import nabla
import nabla.nn.functional as F
from nabla.data import load_text
from nabla.models import CharVocab
from nabla.models.gpt import GPT


def get_batch(data: np.ndarray, block: int, batch: int, rng) -> tuple:
    starts = rng.integers(0, len(data) - block - 1, batch)
    x = np.stack([data[s:s + block] for s in starts])
    y = np.stack([data[s + 1:s + block + 1] for s in starts])
    return nabla.tensor(x), nabla.tensor(y)


def bits_per_char(model: GPT, data: np.ndarray, block: int) -> float:
    """Mean next-character loss over consecutive windows of the held-out text, in bits."""
    model.eval()
    n = (len(data) - 1) // block
    x = nabla.tensor(data[:n * block].reshape(n, block))
    y = nabla.tensor(data[1:n * block + 1].reshape(n, block))
    total = 0.0
    with nabla.no_grad():
        for i in range(0, n, 64):
            logits = model(x[i:i + 64])
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                     y[i:i + 64].reshape(-1), reduction="sum").item()
    model.train()
    return total / (n * block) / math.log(2)


def main(fast: bool = False, seed: int = 0) -> dict:
    nabla.manual_seed(seed)
    rng = np.random.default_rng(seed)
    text = load_text()
    chars = CharVocab(text)
    data = chars.encode(text).numpy()
    cut = int(0.9 * len(data))
    train, val = data[:cut], data[cut:]
    if fast:  # a smoke test
        steps, block, batch, layers, width = 20, 32, 16, 2, 32
        val = val[:2000]
    else:
        steps, block, batch, layers, width = 1500, 64, 32, 3, 64
    model = GPT(len(chars), block_size=block, n_layer=layers, n_head=4, n_embd=width,
                dropout=0.1)
    opt = nabla.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = nabla.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=3e-4)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        x, y = get_batch(train, block, batch, rng)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nabla.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % (10 if fast else 250) == 0:
            print(f"step {step}: train {loss.item() / math.log(2):.3f} bits/char")
    seconds = time.perf_counter() - start
    bpc = bits_per_char(model, val, block)
    print(f"validation: {bpc:.3f} bits/char (uniform: {math.log2(len(chars)):.2f}), "
          f"{seconds:.0f} s")
    prompt = chars.encode("The ").reshape(1, -1)
    samples = {}
    for temperature, top_k in [(0.5, None), (1.0, 10), (1.0, None)]:
        ids = model.generate(prompt, 150, temperature=temperature, top_k=top_k,
                             generator=nabla.Generator(1))
        samples[(temperature, top_k)] = chars.decode(ids.numpy()[0])
        print(f"T={temperature} top_k={top_k}: {samples[(temperature, top_k)]!r}")
    return {"val_bpc": bpc, "seconds": seconds, "samples": samples,
            "uniform_bpc": math.log2(len(chars))}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few steps (smoke test)")
    main(parser.parse_args().fast)
