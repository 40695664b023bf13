"""Second-order optimization on the Rosenbrock valley f(x, y) = (1 - x)^2 + 100 (y - x^2)^2:
Newton's method, x <- x - H^-1 g, with the gradient g and the Hessian H computed by autograd.

Topics: higher-order gradients (the Hessian is the Jacobian of the gradient, built with
create_graph=True: src/nabla/autograd/functional.py), Hessian-vector products (H v without
forming H, the building block of conjugate-gradient Newton methods), and why first-order methods
crawl on badly conditioned problems (compare examples/optimizers.py, thousands of steps).
Run: python examples/newton_hessian.py
"""

import nabla
from nabla.autograd.functional import hessian, hvp, jacobian


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def newton(start=(-1.5, 2.0), steps: int = 30) -> list:
    """Newton's method with a backtracking step; returns f at each step."""
    p = nabla.tensor(start, dtype=nabla.float64)
    history = [rosenbrock(p).item()]
    for _ in range(steps):
        g = jacobian(rosenbrock, p)  # the gradient: the Jacobian of a scalar function
        h = hessian(rosenbrock, p)
        step = nabla.linalg.solve(h, g)
        t = 1.0
        while rosenbrock(p - t * step).item() > history[-1] and t > 1e-4:
            t /= 2  # far from the minimum the Hessian can point uphill: shorten the step
        p = p - t * step
        history.append(rosenbrock(p).item())
        if history[-1] < 1e-20:
            break
    return history


def main(steps: int = 30) -> list:
    history = newton(steps=steps)
    for i, f in enumerate(history):
        print(f"step {i:2d}: f = {f:.3e}")
    p = nabla.tensor([-1.5, 2.0], dtype=nabla.float64)
    v = nabla.tensor([1.0, 0.0], dtype=nabla.float64)
    _, hv = hvp(rosenbrock, p, v)
    print(f"H v at the start, without forming H: {hv.tolist()}"
          f" (first column of H: {hessian(rosenbrock, p)[:, 0].tolist()})")
    return history


if __name__ == "__main__":
    main()
