"""The floor for a define-by-run engine in Python: bench.py's chain (100 elementwise ops on 16x16,
forward + backward) on the smallest engine that can run it, next to nabla.

    python benchmarks/bare_engine.py

The bare engine below records the same graph nabla records (a node per op, its saved arrays,
edges to its inputs, a heap-ordered backward walk) and nothing else: no version counters (an
in-place change would give a wrong gradient silently), no PyTorch dtype rules, no hooks, no
anomaly or tracing checks, no broadcasting, no errors that name the op. The gap between it and
nabla is what those features cost per op; the gap between it and NumPy by hand is what any
Python engine of this design costs.
"""

import itertools
import time
from heapq import heappop, heappush

import numpy as np
from bench import CHAIN_OPS, _chain, chain_framework, chain_numpy

import nabla

_sequence = itertools.count()


class Var:
    __slots__ = ("data", "grad", "node", "requires_grad")

    def __init__(self, data, requires_grad=False, node=None):
        self.data, self.grad, self.node, self.requires_grad = data, None, node, requires_grad

    def __mul__(self, other):
        return Mul.apply(self, other)

    def __add__(self, other):
        return Add.apply(self, other)

    def __sub__(self, other):
        return Sub.apply(self, other)

    def tanh(self):
        return Tanh.apply(self)


class Node:
    saved = ()

    @classmethod
    def apply(cls, *args):
        raw, edges, record = [], [], False
        for a in args:
            if isinstance(a, Var):
                raw.append(a.data)
                record = record or a.requires_grad
                edges.append((a.node or a) if a.requires_grad else None)
            else:
                raw.append(a)
                edges.append(None)
        node = object.__new__(cls)
        out = cls.forward(node, *raw)
        if not record:
            return Var(out)
        node.edges, node.seq = edges, next(_sequence)
        return Var(out, True, node)


class Mul(Node):
    @staticmethod
    def forward(node, x, y):
        node.saved = (x, y)
        return x * y

    @staticmethod
    def backward(node, g):
        x, y = node.saved
        return g * y, g * x


class Add(Node):
    @staticmethod
    def forward(node, x, y):
        return x + y

    @staticmethod
    def backward(node, g):
        return g, g


class Sub(Node):
    @staticmethod
    def forward(node, x, y):
        return x - y

    @staticmethod
    def backward(node, g):
        return g, None


class Tanh(Node):
    @staticmethod
    def forward(node, x):
        y = np.tanh(x)
        node.saved = (y,)
        return y

    @staticmethod
    def backward(node, g):
        (y,) = node.saved
        return (g - g * y * y,)


def backward(root: Var, grad) -> None:
    """Run each node once, the latest recorded first; sum gradients per node and per leaf."""
    pending, heap, leaves = {root.node: grad}, [(-root.node.seq, root.node)], {}
    while heap:
        node = heappop(heap)[1]
        grads = node.backward(node, pending.pop(node))
        node.saved = None
        for target, g in zip(node.edges, grads):
            if target is None or g is None:
                continue
            table = leaves if isinstance(target, Var) else pending
            prev = table.get(target)
            table[target] = g if prev is None else prev + g
            if prev is None and table is pending:
                heappush(heap, (-target.seq, target))
    for leaf, g in leaves.items():
        leaf.grad = g


def chain_bare():
    rng = np.random.default_rng(0)
    x = Var(rng.normal(size=(16, 16)).astype(np.float32), True)
    w = Var(rng.normal(size=(16, 16)).astype(np.float32), True)
    g = np.ones((16, 16), np.float32)

    def step():
        backward(_chain(x, w), g)
        x.grad = w.grad = None

    return step


def best_us_per_op(step, blocks: int = 15, number: int = 100) -> float:
    best = float("inf")
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(number):
            step()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6 / CHAIN_OPS


def check_against_nabla() -> None:
    """The bare engine's gradients are nabla's (so both run the same computation)."""
    rng = np.random.default_rng(0)
    x0, w0 = (rng.normal(size=(16, 16)).astype(np.float32) for _ in range(2))
    xb, wb = Var(x0, True), Var(w0, True)
    backward(_chain(xb, wb), np.ones((16, 16), np.float32))
    xn, wn = nabla.tensor(x0, requires_grad=True), nabla.tensor(w0, requires_grad=True)
    _chain(xn, wn).backward(nabla.ones(16, 16))
    np.testing.assert_allclose(xb.grad, xn.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wb.grad, wn.grad.numpy(), rtol=1e-5, atol=1e-6)


def main() -> None:
    check_against_nabla()
    variants = {"NumPy by hand": chain_numpy(), "bare engine": chain_bare(),
                "nabla": chain_framework(nabla, lambda a, grad=True: nabla.tensor(
                    a, requires_grad=grad))}
    for name, step in variants.items():
        print(f"{name:14s} {best_us_per_op(step):5.2f} us/op")


if __name__ == "__main__":
    main()
