"""Define-by-run autograd in five minutes: the graph is recorded while the code runs.

Topics: backpropagation (역전파), the computation graph, higher-order gradients, gradient checking.
Run: python examples/autograd_basics.py
"""

import nabla
from nabla.autograd import grad, gradcheck

# 1. Every op on a tensor that requires grad records a node; backward() walks them in reverse.
x = nabla.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = nabla.tensor([0.5, -1.0, 2.0], requires_grad=True)
y = (x * w).tanh().sum()
y.backward()
print("y =", y.item())
print("dy/dx =", x.grad.tolist())  # w * (1 - tanh(x*w)^2)
print("dy/dw =", w.grad.tolist())  # x * (1 - tanh(x*w)^2)

# 2. The recorded graph, as Graphviz DOT text (render it with `dot -Tpng`).
print(nabla.viz.graph(y, params={"x": x, "w": w}))

# 3. Control flow is just Python: the graph differs from call to call (dynamic graph).
def f(t):
    while t.abs().sum() < 10:
        t = t * 2
    return t.sum()

print("df/dx with a data-dependent loop:", grad(f(x), x)[0].tolist())

# 4. Higher-order gradients: differentiate the gradient (create_graph=True).
t = nabla.tensor(0.5, requires_grad=True)
(d1,) = grad(t.sin() * t, t, create_graph=True)
(d2,) = grad(d1, t)
print(f"d/dt (t sin t) = {d1.item():.4f};  d2/dt2 = {d2.item():.4f}")

# 5. Gradient checking: analytic gradients against central finite differences, in float64.
a = nabla.randn(3, 4, dtype=nabla.float64, requires_grad=True)
print("gradcheck(softmax):", gradcheck(lambda v: nabla.softmax(v, dim=1), (a,)))
