"""Gradient descent and its descendants on the Rosenbrock valley
f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, curved and badly conditioned: plain gradient descent crawls.

Topics (최적화): the learning-rate problem, momentum (keeps the previous direction), Nesterov
(the look-ahead gradient), Adagrad (rates shrink as squared gradients add up), Adadelta (a window
instead of the whole history, no learning rate), RMSprop (moving average of squared gradients),
Adam (momentum + RMSprop, bias-corrected). Each optimizer's update equations are in its
docstring: src/nabla/optim/<name>.py.
Run: python examples/optimizers.py   (writes runs/optimizers.png when matplotlib is installed)
"""

import os

import nabla
from nabla import optim

OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=1e-3),
    "Momentum": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9),
    "Nesterov": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.5),
    "Adadelta": lambda p: optim.Adadelta(p, lr=1.0),
    "RMSprop": lambda p: optim.RMSprop(p, lr=1e-2),
    "Adam": lambda p: optim.Adam(p, lr=5e-2),
}


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def run(make, steps: int = 2000):
    p = nabla.tensor([-1.5, 2.0], dtype=nabla.float64, requires_grad=True)
    opt = make([p])
    path = [p.detach().clone().tolist()]
    for _ in range(steps):
        opt.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        opt.step()
        path.append(p.detach().clone().tolist())
    return rosenbrock(p).item(), path


def main(steps: int = 2000, out: str = "runs") -> dict:
    results = {}
    for name, make in OPTIMIZERS.items():
        loss, path = run(make, steps)
        results[name] = (loss, path)
        print(f"{name:>9}: f = {loss:.2e} at ({path[-1][0]:+.3f}, {path[-1][1]:+.3f}) "
              f"after {steps} steps (minimum at (1, 1))")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        return results
    xs, ys = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1, 3, 200))
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.contour(xs, ys, np.log1p((1 - xs) ** 2 + 100 * (ys - xs**2) ** 2), levels=25, cmap="gray")
    for name, (_, path) in results.items():
        path = np.array(path)
        ax.plot(path[:, 0], path[:, 1], label=name, lw=1.5)
    ax.plot(1, 1, "k*", ms=12)
    ax.legend()
    ax.set_title("optimizers on the Rosenbrock valley")
    os.makedirs(out, exist_ok=True)
    fig.savefig(os.path.join(out, "optimizers.png"), dpi=110)
    print("wrote", os.path.join(out, "optimizers.png"))
    return results


if __name__ == "__main__":
    main()
