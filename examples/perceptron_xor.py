"""The perceptron learns AND and OR but never XOR; one hidden layer learns XOR.

Rosenblatt's perceptron is one linear threshold unit, y = step(w . x + b), trained by its own
rule: for each example, w <- w + lr (t - y) x and b <- b + lr (t - y) (no gradient: the step
has none). The perceptron convergence theorem says the rule stops making mistakes after finitely
many updates exactly when a line separates the classes. AND and OR are separable; XOR (true when
exactly one input is) is not, so the rule cycles forever. Minsky and Papert's 1969 point, and
the reason for hidden layers: a multi-layer perceptron with two tanh hidden units, trained by
backpropagation, draws two lines and combines them.

Topics: perceptron (linear threshold unit), linearly separable problems, multi-layer perceptron
(다층 퍼셉트론), why the hidden layer needs a nonlinearity.
Run: python examples/perceptron_xor.py
"""

import nabla
import nabla.nn as nn
import nabla.nn.functional as F

INPUTS = nabla.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGETS = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def perceptron(targets: list, epochs: int = 100, lr: float = 0.1) -> tuple:
    """Rosenblatt's rule; returns (mistakes in each epoch, w, b)."""
    w, b = nabla.zeros(2), nabla.zeros(())
    mistakes = []
    for _ in range(epochs):
        wrong = 0
        for x, t in zip(INPUTS, targets):
            y = float((x @ w + b).item() > 0)  # the threshold unit
            if y != t:
                w, b = w + lr * (t - y) * x, b + lr * (t - y)
                wrong += 1
        mistakes.append(wrong)
    return mistakes, w, b


def mlp_on_xor(steps: int = 500, seed: int = 0) -> tuple:
    """A 2-2-1 tanh network trained with Adam on XOR (binary cross-entropy on the logit);
    returns (its predictions, the final loss)."""
    nabla.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))
    opt = nabla.optim.Adam(model.parameters(), lr=0.05)
    t = nabla.tensor(TARGETS["XOR"], dtype=nabla.float32).unsqueeze(1)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(model(INPUTS), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with nabla.no_grad():
        return (model(INPUTS) > 0).long().flatten().tolist(), loss.item()


def main() -> dict:
    results = {}
    for name, targets in TARGETS.items():
        mistakes, w, b = perceptron(targets)
        done = next((i for i, m in enumerate(mistakes) if m == 0), None)
        results[name] = done
        print(f"perceptron on {name}: " + (f"no mistakes from epoch {done + 1} (w = "
              f"{[round(v, 2) for v in w.tolist()]}, b = {b.item():.2f})" if done is not None
              else f"still {mistakes[-1]} mistakes per epoch after {len(mistakes)} epochs"))
    predictions, loss = mlp_on_xor()
    results["mlp_xor"] = predictions
    print(f"2-2-1 MLP on XOR: predictions {predictions} (targets {TARGETS['XOR']}), "
          f"loss {loss:.4f}")
    return results


if __name__ == "__main__":
    main()
