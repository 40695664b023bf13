"""nabla vs PyTorch (and a hand-written NumPy baseline) on fixed workloads, in one process.

    python benchmarks/bench.py            # full run, prints a Markdown table
    python benchmarks/bench.py --quick    # fewer repetitions

Each workload's variants (nabla eager and traced, NumPy by hand, PyTorch) run in turns, several
rounds, and each reports its fastest round (see timing.py: a busy machine then slows all of them
alike, so the ratios hold even when the absolute times drift). PyTorch is timed at its default
thread count and at one thread; the faster of the two is the reference. Ratio = nabla / reference
(below 1: nabla is faster). Rows marked "jit.trace" run the same nabla code traced once with
``nabla.jit.trace`` and replayed (define-and-run); the others run eagerly (define-by-run).
"""

import argparse

import numpy as np
from timing import interleaved

import nabla

try:
    import torch
except ImportError:  # the benchmark still runs nabla and NumPy without PyTorch
    torch = None


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


def _one_thread(step):
    """``step`` run with PyTorch on one thread (set for the call, then restored)."""
    default = torch.get_num_threads()

    def run():
        torch.set_num_threads(1)
        step()
        torch.set_num_threads(default)

    return run


def _timed(fns: dict, rounds: int, number: int) -> dict:
    """Seconds per call of each workload variant, timed in turns (see timing.py); PyTorch's
    reference is the faster of its default threads and one thread."""
    if torch is not None:
        fns["torch 1 thread"] = _one_thread(fns["torch"])
    best = interleaved(fns, rounds, number)
    if torch is None:
        best["torch"] = float("nan")
    else:
        best["torch"] = min(best["torch"], best.pop("torch 1 thread"))
    return best


def run(quick: bool) -> list:
    rounds, scale = (3, 0.3) if quick else (9, 1.0)
    rows = []

    def n(k):
        return max(int(k * scale), 2)

    def nabla_tensor(a, grad=True):
        return nabla.tensor(a, requires_grad=grad)

    def torch_tensor(a, grad=True):
        return torch.tensor(a, requires_grad=grad)

    fns = {"nabla": chain_framework(nabla, nabla_tensor),
           "traced": chain_framework(nabla, nabla_tensor, True), "numpy": chain_numpy()}
    if torch is not None:
        fns["torch"] = chain_framework(torch, torch_tensor)
    t = {k: v * 1e6 / CHAIN_OPS for k, v in _timed(fns, rounds, n(100)).items()}
    label = "100 elementwise ops on 16x16, fwd+bwd"
    rows.append((label, "us/op", t["nabla"], t["torch"], t["numpy"]))
    rows.append((label + ", jit.trace", "us/op", t["traced"], t["torch"], t["numpy"]))

    mlps = [((784, 512, 512, 10), 128, "sgd", "MLP 784-512-512-10, b128, SGD"),
            ((40, 100, 100, 10), 32, "adam", "MLP 40-100-100-10, b32, Adam")]
    for sizes, batch, opt, label in mlps:
        fns = {"nabla": mlp_nabla(sizes, batch, opt), "traced": mlp_nabla(sizes, batch, opt, True),
               "numpy": mlp_numpy(sizes, batch, opt)}
        if torch is not None:
            fns["torch"] = mlp_torch(sizes, batch, opt)
        k = 20 if sizes[0] == 784 else 200
        t = {k: v * 1e3 for k, v in _timed(fns, rounds, n(k)).items()}
        rows.append((label + " step", "ms", t["nabla"], t["torch"], t["numpy"]))
        rows.append((label + " step, jit.trace", "ms", t["traced"], t["torch"], t["numpy"]))
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
