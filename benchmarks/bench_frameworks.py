"""nabla against other NumPy autograd frameworks (DeZero, MyGrad, HIPS autograd), in one process.

    pip install -e ".[bench]"                      # dezero, mygrad, autograd (any may be missing)
    python benchmarks/bench_frameworks.py          # full run, prints a Markdown table
    python benchmarks/bench_frameworks.py --quick  # fewer repetitions

The workloads are bench.py's: a chain of 100 elementwise ops on 16x16 with backward, and MLP
training steps (784-512-512-10 with SGD, 40-100-100-10 with Adam). Each framework runs them the
way its documentation writes them: DeZero with its own models and optimizers; MyGrad and HIPS
autograd, which have no layers or optimizers, with their autograd for forward and backward and the
update written in NumPy in place (the same update as bench.py's hand-written baseline). A
framework that is not installed gets an empty column. Ratio = framework / nabla (above 1: nabla is
faster). Times are the fastest of several rounds run in turns (timing.py).
"""

import argparse

import numpy as np
from bench import CHAIN_OPS, mlp_nabla
from timing import interleaved

import nabla

np.int = int  # DeZero 0.0.13 (the latest release) still uses this alias, removed in NumPy 1.24
try:
    import dezero
    import dezero.functions as dzF
except ImportError:
    dezero = None
try:
    import mygrad
    from mygrad.nnet.losses import softmax_crossentropy as mg_cross_entropy
except ImportError:
    mygrad = None
try:
    import autograd
    import autograd.numpy as anp
except ImportError:
    autograd = None

FRAMEWORKS = ("DeZero", "MyGrad", "HIPS autograd")
MLPS = [((784, 512, 512, 10), 128, "sgd", "MLP 784-512-512-10, b128, SGD"),
        ((40, 100, 100, 10), 32, "adam", "MLP 40-100-100-10, b32, Adam")]


def _chain(x, w, tanh):
    """bench.py's chain (``(y * w + w).tanh() - 0.5``, 25 times), with the library's tanh."""
    y = x
    for _ in range(CHAIN_OPS // 4):
        y = tanh(y * w + w) - 0.5
    return y


def _chain_inputs():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(16, 16)).astype(np.float32),
            rng.normal(size=(16, 16)).astype(np.float32))


def chain_nabla():
    x, w = (nabla.tensor(a, requires_grad=True) for a in _chain_inputs())
    g = nabla.ones(16, 16)

    def step():
        _chain(x, w, nabla.tanh).backward(g)
        x.grad = w.grad = None

    return step


def chain_dezero():
    x, w = (dezero.Variable(a) for a in _chain_inputs())

    def step():
        _chain(x, w, dzF.tanh).backward()  # DeZero's upstream gradient is ones, as in the others
        x.cleargrad()
        w.cleargrad()

    return step


def chain_mygrad():
    x, w = (mygrad.tensor(a) for a in _chain_inputs())
    g = np.ones((16, 16), np.float32)

    def step():
        _chain(x, w, mygrad.tanh).backward(g)

    return step


def chain_autograd():
    x, w = _chain_inputs()
    g = np.ones((16, 16), np.float32)

    def step():
        vjp, _ = autograd.make_vjp(lambda xw: _chain(*xw, anp.tanh))((x, w))
        return vjp(g)

    return step


# -- MLP training steps ---------------------------------------------------------------------------
def _data(sizes, batch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    return x, rng.integers(0, sizes[-1], batch)


def _weights(sizes):
    rng = np.random.default_rng(1)
    Ws = [(rng.normal(size=(a, b)) / np.sqrt(a)).astype(np.float32)
          for a, b in zip(sizes[:-1], sizes[1:])]
    return Ws + [np.zeros(b, np.float32) for b in sizes[1:]]


def _numpy_update(opt_name):
    """The in-place update of bench.py's hand-written baseline, for frameworks without optimizers:
    update(params, grads), arrays updated in place."""
    state = {"t": 0, "m": None, "v": None}

    def update(params, grads):
        if opt_name == "sgd":
            for p, g in zip(params, grads):
                p -= 0.01 * g
            return
        if state["m"] is None:
            state["m"] = [np.zeros_like(p) for p in params]
            state["v"] = [np.zeros_like(p) for p in params]
        state["t"] += 1
        t = state["t"]
        step_size, root = 1e-3 / (1 - 0.9**t), np.sqrt(1 - 0.999**t)
        for p, g, m, v in zip(params, grads, state["m"], state["v"]):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= step_size * m / (np.sqrt(v) / root + 1e-8)

    return update


def mlp_dezero(sizes, batch, opt_name):
    x, y = _data(sizes, batch)
    model = dezero.models.MLP(sizes[1:], activation=dzF.relu)
    model(x)  # creates the weights; under NumPy 2's promotion rules DeZero makes them float64:
    for p in model.params():  # back to float32, as DeZero makes them under NumPy 1
        p.data = p.data.astype(np.float32)
    opt = (dezero.optimizers.SGD(0.01) if opt_name == "sgd" else
           dezero.optimizers.Adam(1e-3)).setup(model)

    def step():
        model.cleargrads()
        dzF.softmax_cross_entropy(model(x), y).backward()
        opt.update()

    return step


def mlp_mygrad(sizes, batch, opt_name):
    x, y = _data(sizes, batch)
    params = [mygrad.tensor(p) for p in _weights(sizes)]
    n = len(sizes) - 1
    update = _numpy_update(opt_name)

    def step():
        h = x
        for i in range(n):
            h = mygrad.matmul(h, params[i]) + params[n + i]
            if i < n - 1:
                h = mygrad.nnet.relu(h)
        mg_cross_entropy(h, y).backward()
        update([p.data for p in params], [p.grad for p in params])

    return step


def mlp_autograd(sizes, batch, opt_name):
    x, y = _data(sizes, batch)
    params = _weights(sizes)
    n = len(sizes) - 1
    update = _numpy_update(opt_name)

    def loss(ps):
        h = x
        for i in range(n):
            h = anp.dot(h, ps[i]) + ps[n + i]
            if i < n - 1:
                h = anp.maximum(h, 0.0)
        z = h - anp.max(h, axis=1, keepdims=True)
        log_p = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.mean(log_p[np.arange(batch), y])

    grad = autograd.grad(loss)

    def step():
        update(params, grad(params))

    return step


def run(quick: bool) -> list:
    rounds, scale = (3, 0.3) if quick else (9, 1.0)
    present = {"DeZero": dezero, "MyGrad": mygrad, "HIPS autograd": autograd}
    chains = {"nabla": chain_nabla, "DeZero": chain_dezero, "MyGrad": chain_mygrad,
              "HIPS autograd": chain_autograd}
    mlps = {"DeZero": mlp_dezero, "MyGrad": mlp_mygrad, "HIPS autograd": mlp_autograd}
    rows = []
    fns = {k: make() for k, make in chains.items() if k == "nabla" or present[k] is not None}
    best = interleaved(fns, rounds, max(int(100 * scale), 2))
    rows.append(("100 elementwise ops on 16x16, fwd+bwd", "us/op",
                 {k: v * 1e6 / CHAIN_OPS for k, v in best.items()}))
    for sizes, batch, opt, label in MLPS:
        fns = {"nabla": mlp_nabla(sizes, batch, opt)}
        fns.update({k: make(sizes, batch, opt) for k, make in mlps.items()
                    if present[k] is not None})
        number = max(int((20 if sizes[0] == 784 else 200) * scale), 2)
        t = {k: v * 1e3 for k, v in interleaved(fns, rounds, number).items()}
        rows.append((label + " step", "ms", t))
    return rows


def table(rows) -> str:
    head = " | ".join(FRAMEWORKS)
    ratios = " | ".join(f"{f} / nabla" for f in FRAMEWORKS)
    lines = [f"| workload | unit | nabla | {head} | {ratios} |",
             "|---|---|" + "---:|" * (1 + 2 * len(FRAMEWORKS))]
    for name, unit, t in rows:
        times = " | ".join(f"{t[f]:.2f}" if f in t else "" for f in FRAMEWORKS)
        ratio = " | ".join(f"{t[f] / t['nabla']:.1f}" if f in t else "" for f in FRAMEWORKS)
        lines.append(f"| {name} | {unit} | {t['nabla']:.2f} | {times} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    print(table(run(args.quick)))
