"""conv2d forward+backward and a LeNet-5 SGD step: nabla vs PyTorch, timed in one process.

    python benchmarks/bench_conv.py            # wall time, default threads
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_conv.py --cpu   # 1 thread, CPU time

On a shared machine wall times swing with the load; ``--cpu`` (one thread each, per-thread CPU
time) is the stable comparison: it turns off nabla's conv helper thread too, whose work the
calling thread's CPU clock would not see. The two libraries run in turns, each run after a pause
(timing.py), and the minimum is kept.
"""

import os
import sys
import time

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from timing import interleaved

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
import nabla.optim
from nabla.nn.functional import _parallel

CLOCK = time.thread_time if "--cpu" in sys.argv else time.perf_counter


def pair(f, g, reps):
    """Minimum times (ms) of f and g, run in turns (see timing.py)."""
    best = interleaved({"f": f, "g": g}, reps, clock=CLOCK)
    return best["f"] * 1e3, best["g"] * 1e3


def conv_bench():
    n, c, h, o = 32, 32, 32, 64
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in
              ((n, c, h, h), (o, c, 3, 3), (o,), (n, o, h, h))]
    nx, nw, nb = (nabla.tensor(a, requires_grad=True) for a in arrays[:3])
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in arrays[:3])
    ng, tg = nabla.tensor(arrays[3]), torch.tensor(arrays[3])

    def step_n():
        nx.grad = nw.grad = nb.grad = None
        F.conv2d(nx, nw, nb, padding=1).backward(ng)

    def step_t():
        tx.grad = tw.grad = tb.grad = None
        TF.conv2d(tx, tw, tb, padding=1).backward(tg)

    a, b = pair(step_n, step_t, 10)
    flops = 3 * 2 * n * o * c * 9 * h * h  # forward + two backward products
    print(f"conv2d 3x3 {c}->{o}, {h}x{h}, N={n}, fwd+bwd: nabla {a:.1f} ms "
          f"({flops / a / 1e6:.0f} GFLOP/s), torch {b:.1f} ms, ratio {a / b:.2f}")


def lenet(m):
    return m.Sequential(
        m.Conv2d(1, 6, 5, padding=2), m.ReLU(), m.MaxPool2d(2), m.Conv2d(6, 16, 5), m.ReLU(),
        m.MaxPool2d(2), m.Flatten(), m.Linear(400, 120), m.ReLU(), m.Linear(120, 84), m.ReLU(),
        m.Linear(84, 10))


def lenet_bench():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
    nm, tm = lenet(nn), lenet(tnn)
    nm.load_state_dict(tm.state_dict())
    no = nabla.optim.SGD(nm.parameters(), lr=0.01)
    to = torch.optim.SGD(tm.parameters(), lr=0.01)
    nx, ny, tx, ty = nabla.tensor(x), nabla.tensor(y), torch.tensor(x), torch.tensor(y)

    def step_n():
        no.zero_grad()
        F.cross_entropy(nm(nx), ny).backward()
        no.step()

    def step_t():
        to.zero_grad()
        TF.cross_entropy(tm(tx), ty).backward()
        to.step()

    a, b = pair(step_n, step_t, 20)
    print(f"LeNet-5 SGD step, N=64: nabla {a:.2f} ms, torch {b:.2f} ms, ratio {a / b:.2f}")


if __name__ == "__main__":
    if "OPENBLAS_NUM_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))
    if "--cpu" in sys.argv:
        _parallel.set_num_threads(1)
    print(f"clock: {'thread CPU time' if '--cpu' in sys.argv else 'wall'}, "
          f"torch threads: {torch.get_num_threads()}, "
          f"nabla conv threads: {_parallel.get_num_threads()}")
    conv_bench()
    lenet_bench()
