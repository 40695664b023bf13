"""nabla vs PyTorch (and a hand-written NumPy baseline) on fixed workloads, in one process.

    python benchmarks/bench.py            # full run, prints a Markdown table
    python benchmarks/bench.py --quick    # fewer repetitions

Each workload reports the best of several timed repetitions. PyTorch is timed at its default
thread count and at one thread; the faster of the two is the reference. Ratio = nabla / reference
(below 1: nabla is faster). Rows marked "jit.trace" run the same nabla code traced once with
``nabla.jit.trace`` and replayed (define-and-run); the others run eagerly (define-by-run).
"""

import argparse
import time

import numpy as np
from timing import PAUSE

import nabla

try:
    import torch
except ImportError:  # the benchmark still runs nabla and NumPy without PyTorch
    torch = None


def best_time(fn, repeat: int, number: int) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls, each run after a
    pause (the previous workload's spinning threads fall asleep, see timing.py) and a warm-up
    call."""
    best = float("inf")
    for _ in range(repeat):
        time.sleep(PAUSE)
        fn()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


# -- workload 1: a chain of 100 elementwise ops on 16x16, forward + backward ---------------------
CHAIN_OPS = 100


def _chain(x, w):
    y = x
    for _ in range(CHAIN_OPS // 4):
        y = (y * w + w).tanh() - 0.5
    return y


def chain_framework(lib, make, traced=False):
    rng = np.random.default_rng(0)
    x = make(rng.normal(size=(16, 16)).astype(np.float32))
    w = make(rng.normal(size=(16, 16)).astype(np.float32))
    g = make(np.ones((16, 16), np.float32), grad=False)
    chain = nabla.jit.trace(_chain, (x, w)) if traced else _chain

    def step():
        chain(x, w).backward(g)
        x.grad = None
        w.grad = None

    return step


def chain_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 16)).astype(np.float32)
    w = rng.normal(size=(16, 16)).astype(np.float32)

    def step():
        ins, outs, y = [], [], x
        for _ in range(CHAIN_OPS // 4):
            ins.append(y)
            y = np.tanh(y * w + w)
            outs.append(y)
            y = y - 0.5
        g, gw = np.ones_like(y), np.zeros_like(w)
        for i in reversed(range(len(ins))):
            g = g * (1 - outs[i] * outs[i])
            gw += g + g * ins[i]
            g = g * w
        return g, gw

    return step


# -- workloads 2 and 3: MLP training steps --------------------------------------------------------
def mlp_nabla(sizes, batch, opt_name, traced=False):
    from nabla import nn, optim

    nabla.manual_seed(0)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    opt = optim.SGD(model.parameters(), lr=0.01) if opt_name == "sgd" else \
        optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = nabla.tensor(rng.normal(size=(batch, sizes[0])).astype(np.float32))
    y = nabla.tensor(rng.integers(0, sizes[-1], batch))
    loss_fn = nn.CrossEntropyLoss()

    def loss(x, y):
        return loss_fn(model(x), y)

    if traced:
        loss = nabla.jit.trace(loss, (x, y))

    def step():
        opt.zero_grad()
        loss(x, y).backward()
        opt.step()

    return step


def mlp_torch(sizes, batch, opt_name):
    torch.manual_seed(0)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=0.01) if opt_name == "sgd" else \
        torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.normal(size=(batch, sizes[0])).astype(np.float32))
    y = torch.tensor(rng.integers(0, sizes[-1], batch))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def mlp_numpy(sizes, batch, opt_name):
    """Forward, backward and the update written out by hand: the floor for NumPy code."""
    rng = np.random.default_rng(0)
    Ws = [(rng.normal(size=(a, b)) / np.sqrt(a)).astype(np.float32)
          for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(b, np.float32) for b in sizes[1:]]
    params = Ws + bs
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    x = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    t = [0]

    def step():
        acts, h = [x], x
        for i, (W, b) in enumerate(zip(Ws, bs)):
            h = h @ W + b
            if i < len(Ws) - 1:
                h = np.maximum(h, 0)
            acts.append(h)
        z = h - h.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        p[np.arange(batch), y] -= 1
        g = p / batch
        grads_W, grads_b = [], []
        for i in reversed(range(len(Ws))):
            grads_W.append(acts[i].T @ g)
            grads_b.append(g.sum(0))
            if i:
                g = (g @ Ws[i].T) * (acts[i] > 0)
        grads = grads_W[::-1] + grads_b[::-1]
        t[0] += 1
        step_size = 1e-3 / (1 - 0.9 ** t[0])
        root = np.sqrt(1 - 0.999 ** t[0])
        for j, (param, grad) in enumerate(zip(params, grads)):
            if opt_name == "sgd":
                param -= 0.01 * grad
            else:  # Adam, in place: m, v updated without temporaries where NumPy allows
                m[j] *= 0.9
                m[j] += 0.1 * grad
                v[j] *= 0.999
                v[j] += 0.001 * grad * grad
                param -= step_size * m[j] / (np.sqrt(v[j]) / root + 1e-8)

    return step


def _torch_best(make_step, repeat, number):
    """PyTorch at its default threads and at one thread: the faster is the reference."""
    default = torch.get_num_threads()
    t_default = best_time(make_step(), repeat, number)
    torch.set_num_threads(1)
    t_one = best_time(make_step(), repeat, number)
    torch.set_num_threads(default)
    return min(t_default, t_one)


def run(quick: bool) -> list:
    repeat, scale = (3, 0.3) if quick else (7, 1.0)
    rows = []

    def n(k):
        return max(int(k * scale), 2)

    def nabla_tensor(a, grad=True):
        return nabla.tensor(a, requires_grad=grad)

    def torch_tensor(a, grad=True):
        return torch.tensor(a, requires_grad=grad)

    us = 1e6 / CHAIN_OPS
    t_nabla = best_time(chain_framework(nabla, nabla_tensor), repeat, n(100)) * us
    t_traced = best_time(chain_framework(nabla, nabla_tensor, True), repeat, n(100)) * us
    t_numpy = best_time(chain_numpy(), repeat, n(100)) * us
    t_torch = _torch_best(lambda: chain_framework(torch, torch_tensor), repeat, n(100)) * us \
        if torch else float("nan")
    label = "100 elementwise ops on 16x16, fwd+bwd"
    rows.append((label, "us/op", t_nabla, t_torch, t_numpy))
    rows.append((label + ", jit.trace", "us/op", t_traced, t_torch, t_numpy))

    mlps = [((784, 512, 512, 10), 128, "sgd", "MLP 784-512-512-10, b128, SGD"),
            ((40, 100, 100, 10), 32, "adam", "MLP 40-100-100-10, b32, Adam")]
    for sizes, batch, opt, label in mlps:
        k = 20 if sizes[0] == 784 else 200
        t_n = best_time(mlp_nabla(sizes, batch, opt), repeat, n(k)) * 1e3
        t_tr = best_time(mlp_nabla(sizes, batch, opt, True), repeat, n(k)) * 1e3
        t_np = best_time(mlp_numpy(sizes, batch, opt), repeat, n(k)) * 1e3
        t_t = _torch_best(lambda s=sizes, b=batch, o=opt: mlp_torch(s, b, o), repeat, n(k)) * 1e3 \
            if torch else float("nan")
        rows.append((label + " step", "ms", t_n, t_t, t_np))
        rows.append((label + " step, jit.trace", "ms", t_tr, t_t, t_np))
    return rows


def table(rows) -> str:
    lines = ["| workload | unit | nabla | PyTorch | NumPy by hand | nabla / PyTorch "
             "| nabla / NumPy |", "|---|---|---:|---:|---:|---:|---:|"]
    for name, unit, t_n, t_t, t_np in rows:
        lines.append(f"| {name} | {unit} | {t_n:.2f} | {t_t:.2f} | {t_np:.2f} | "
                     f"{t_n / t_t:.2f} | {t_n / t_np:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    print(table(run(args.quick)))
