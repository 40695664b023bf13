"""A single-layer LSTM language-model step, nabla vs PyTorch, in one process.

Workload: input 64, hidden 256, 35 steps, batch 32; a Linear 256 -> 64 and cross-entropy at every
step; full backpropagation through time; one SGD step.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_lstm.py          # prints ms per step and ratio

PyTorch is timed at its default thread count and at one thread; the faster is the reference.
"""

import time

import numpy as np

import nabla
import nabla.nn as nn
import nabla.nn.functional as F

try:
    import torch
except ImportError:
    torch = None

INPUT, HIDDEN, STEPS, BATCH, CLASSES = 64, 256, 35, 32, 64


def _best(step, repeat: int, number: int) -> float:
    step()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            step()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(STEPS, BATCH, INPUT)).astype(np.float32)
    y = rng.integers(0, CLASSES, size=(STEPS * BATCH,))
    return x, y


def nabla_step():
    nabla.manual_seed(0)
    lstm, head = nn.LSTM(INPUT, HIDDEN), nn.Linear(HIDDEN, CLASSES)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = nabla.optim.SGD(params, lr=0.1)
    x, y = _data()
    x, y = nabla.tensor(x), nabla.tensor(y)

    def step():
        opt.zero_grad()
        out, _ = lstm(x)
        loss = F.cross_entropy(head(out).reshape(-1, CLASSES), y)
        loss.backward()
        opt.step()

    return step


def torch_step():
    torch.manual_seed(0)
    lstm, head = torch.nn.LSTM(INPUT, HIDDEN), torch.nn.Linear(HIDDEN, CLASSES)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.1)
    x, y = _data()
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        out, _ = lstm(x)
        loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, CLASSES), y)
        loss.backward()
        opt.step()

    return step


def bench_lstm(repeat: int = 5, number: int = 5) -> dict:
    """Seconds per training step: {'nabla': s, 'torch': s or None, 'ratio': nabla / torch}."""
    result = {"nabla": _best(nabla_step(), repeat, number), "torch": None, "ratio": None}
    if torch is not None:
        default = torch.get_num_threads()
        times = [_best(torch_step(), repeat, number)]
        torch.set_num_threads(1)
        times.append(_best(torch_step(), repeat, number))
        torch.set_num_threads(default)
        result["torch"] = min(times)
        result["ratio"] = result["nabla"] / result["torch"]
    return result


if __name__ == "__main__":
    r = bench_lstm()
    line = f"LSTM 64->256, 35 steps x 32, full BPTT + SGD: nabla {r['nabla'] * 1e3:.1f} ms"
    if r["torch"] is not None:
        line += f", PyTorch {r['torch'] * 1e3:.1f} ms, ratio {r['ratio']:.2f}"
    print(line)
