"""A single-layer LSTM language-model step, nabla vs PyTorch, in one process.

Workload: input 64, hidden 256, 35 steps, batch 32; a Linear 256 -> 64 and cross-entropy at every
step; full backpropagation through time; one SGD step.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_lstm.py          # prints ms per step and ratio

PyTorch is timed at its default thread count and at one thread; the faster is the reference.

Measured on the shared 2-core machine, each run after a pause (see timing.py):
* 2026-11-22, an AMD EPYC with AVX-512: nabla 17.3 ms, PyTorch 9.1 ms, ratio 1.91. NumPy's
  matrix products of the step alone take 11.5 ms (1.26x PyTorch's whole step): OpenBLAS runs its
  Haswell (AVX2) kernels (the machine's environment sets OPENBLAS_CORETYPE=Haswell), PyTorch's
  fused oneDNN RNN (aten::mkldnn_rnn_layer) uses AVX-512. With oneDNN off, PyTorch's per-step
  path takes 20.2 ms (nabla 0.82x of it). With OPENBLAS_CORETYPE unset (SkylakeX kernels), one
  run: nabla 14.4 ms, PyTorch 7.9 ms, ratio 1.82; the matrix products alone 1.27x.
* earlier, a slower machine of the same 2-core kind: nabla 26.9 ms, PyTorch 18.2 ms, ratio 1.48;
  most of the gap in the forward pass (nabla 11.4 ms, PyTorch 6.0).
Without the pause, OpenBLAS's threads (still spinning after nabla's step) slowed PyTorch to
33-44 ms, which earlier showed nabla ahead (0.84-0.92). nabla's step: per time step one GEMM with
32 rows and the gate arithmetic on (32, 1024) values in a dozen NumPy calls (jit.trace of the
whole step saves only about 2%); the weight gradient of all steps is one product at the end.
"""

import time

import numpy as np
from timing import interleaved

import nabla
import nabla.nn as nn
import nabla.nn.functional as F

try:
    import torch
except ImportError:
    torch = None

INPUT, HIDDEN, STEPS, BATCH, CLASSES = 64, 256, 35, 32, 64


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


def gemm_floor_step():
    """The matrix products alone that any NumPy implementation of the step must run (float32,
    NumPy's BLAS): per step the recurrent product forward and its dh backward, then once the
    input projection (forward and dW_ih), dW_hh over all steps and the head (forward, dW, dx).
    Their time is a floor for nabla, and for any NumPy framework, on this machine."""
    rng = np.random.default_rng(0)

    def f32(*shape):
        return rng.normal(size=shape).astype(np.float32)

    rows, gates = STEPS * BATCH, 4 * HIDDEN
    h, d_pre, w_hh = f32(BATCH, HIDDEN), f32(BATCH, gates), f32(gates, HIDDEN)
    x, w_ih, d_all, h_all = f32(rows, INPUT), f32(gates, INPUT), f32(rows, gates), f32(rows, HIDDEN)
    w_out, d_out = f32(CLASSES, HIDDEN), f32(rows, CLASSES)

    def step():
        for _ in range(STEPS):
            h @ w_hh.T
            d_pre @ w_hh
        x @ w_ih.T
        d_all.T @ x
        d_all.T @ h_all
        h_all @ w_out.T
        d_out.T @ h_all
        d_out @ w_out

    return step


def bench_lstm(rounds: int = 20, clock=time.perf_counter) -> dict:
    """Seconds per training step: {'nabla': s, 'torch': s or None, 'ratio': nabla / torch}.
    PyTorch runs at its default thread count and at one thread; the faster is the reference.
    ``clock=time.process_time`` counts CPU time only (steadier on a shared, busy machine)."""
    if torch is None:
        return {"nabla": interleaved({"n": nabla_step()}, rounds, clock=clock)["n"], "torch": None,
                "ratio": None}
    default = torch.get_num_threads()
    best = interleaved({"nabla": nabla_step(), "torch": torch_step()}, rounds, clock=clock)
    torch.set_num_threads(1)
    one = interleaved({"nabla": nabla_step(), "torch": torch_step()}, rounds, clock=clock)
    torch.set_num_threads(default)
    nabla_s, torch_s = min(best["nabla"], one["nabla"]), min(best["torch"], one["torch"])
    return {"nabla": nabla_s, "torch": torch_s, "ratio": nabla_s / torch_s}


if __name__ == "__main__":
    results = {}
    for label, clock in (("wall", time.perf_counter), ("CPU", time.process_time)):
        r = results[label] = bench_lstm(clock=clock)
        line = (f"LSTM 64->256, 35 steps x 32, full BPTT + SGD ({label} time): "
                f"nabla {r['nabla'] * 1e3:.1f} ms")
        if r["torch"] is not None:
            line += f", PyTorch {r['torch'] * 1e3:.1f} ms, ratio {r['ratio']:.2f}"
        print(line)
    floor = interleaved({"gemm": gemm_floor_step()}, 20)["gemm"]
    line = f"NumPy's matrix products of the step alone (wall time): {floor * 1e3:.1f} ms"
    if torch is not None:
        line += f", {floor / results['wall']['torch']:.2f}x PyTorch's whole step"
    print(line)
    if torch is not None:  # for reference: PyTorch's per-step path, without its fused kernel
        with torch.backends.mkldnn.flags(enabled=False):
            best = interleaved({"nabla": nabla_step(), "torch": torch_step()}, 20)
        print(f"same, PyTorch without oneDNN's fused RNN (torch.backends.mkldnn off, wall time): "
              f"nabla {best['nabla'] * 1e3:.1f} ms, PyTorch {best['torch'] * 1e3:.1f} ms, "
              f"ratio {best['nabla'] / best['torch']:.2f}")
