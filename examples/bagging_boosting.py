"""Bagging vs boosting, with the same weak model: a linear threshold unit on the two moons.

The weak model is a network with one hidden tanh unit: its decision boundary is one straight
line, which cannot follow the moons' curved boundary: high bias, low variance (about 87%
whatever sample it is trained on). The two ensembles attack different errors:

- **Bagging** (bootstrap aggregating) trains each model on a bootstrap sample and averages their
  votes. Averaging cancels the models' *variance*; their shared bias stays, so bagged linear
  models still draw one straight line, and stay near 87%.
- **Boosting** (AdaBoost; SAMME for K classes, Zhu et al. 2009) trains the models in sequence.
  Each round re-weights the training points toward the ones the ensemble so far gets wrong:
  with the weighted error e of the new model, its vote is alpha = log((1 - e) / e) + log(K - 1),
  and each misclassified point's weight is multiplied by exp(alpha). The weighted sum of many
  lines carves a curved boundary: boosting reduces *bias*.

Topics: bias and variance (편향과 분산), bootstrapping, bagging vs boosting; per-sample weighted
losses (``cross_entropy(..., reduction='none')`` times the weights).

Measured (seed 0; 400 training and 1,000 test points, noise 0.2; 25 models each): test accuracy
one model 0.871, bagging 0.869, boosting 0.959 (after 1, 5, 10, 15, 20 rounds: 0.871, 0.910,
0.907, 0.918, 0.962).
Run: python examples/bagging_boosting.py
"""

import math

import numpy as np

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.utils.data import bootstrap
from nabla.utils.data.datasets.toy import make_moons

CLASSES = 2


def fit_weak(x, y, weights=None, steps: int = 150):
    """The weak model: one hidden tanh unit, a soft linear threshold unit (its decision boundary
    is one straight line), trained with Adam on the weighted sum of the per-sample
    cross-entropies (equal weights when ``weights`` is None)."""
    model = nn.Sequential(nn.Linear(x.shape[1], 1), nn.Tanh(), nn.Linear(1, CLASSES))
    opt = nabla.optim.Adam(model.parameters(), lr=0.05)
    w = nabla.full((len(x),), 1.0 / len(x)) if weights is None else weights
    for _ in range(steps):
        loss = (F.cross_entropy(model(x), y, reduction="none") * w).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def predict(model, x) -> np.ndarray:
    with nabla.no_grad():
        return model(x).argmax(-1).numpy()


def bagging(x, y, rounds: int, seed: int) -> list:
    """``rounds`` models, each trained on a bootstrap sample of the training set."""
    models = []
    for r in range(rounds):
        idx, _ = bootstrap(len(x), seed=seed + r)
        models.append(fit_weak(x[nabla.tensor(idx)], y[nabla.tensor(idx)]))
    return models


def vote(models, x, alphas=None) -> np.ndarray:
    """The class with the largest (alpha-weighted) number of votes."""
    votes = np.zeros((len(x), CLASSES))
    for m, a in zip(models, alphas or [1.0] * len(models)):
        votes[np.arange(len(x)), predict(m, x)] += a
    return votes.argmax(1)


def adaboost(x, y, rounds: int) -> tuple:
    """SAMME: models trained in sequence on re-weighted data; returns (models, alphas)."""
    n, y_np = len(x), y.numpy()
    weights = np.full(n, 1.0 / n)
    models, alphas = [], []
    for _ in range(rounds):
        model = fit_weak(x, y, nabla.tensor(weights.astype(np.float32)))
        wrong = predict(model, x) != y_np
        err = float(np.clip(weights[wrong].sum(), 1e-10, None))
        if err >= 1 - 1 / CLASSES:  # no better than chance on the weighted data: stop
            break
        alpha = math.log((1 - err) / err) + math.log(CLASSES - 1)
        weights *= np.exp(alpha * wrong)  # the mistakes count more in the next round
        weights /= weights.sum()
        models.append(model)
        alphas.append(alpha)
    return models, alphas


def main(rounds: int = 25, seed: int = 0) -> dict:
    nabla.manual_seed(seed)
    x_tr, y_tr = make_moons(400, noise=0.2, seed=seed)
    x_te, y_te = make_moons(1000, noise=0.2, seed=seed + 1)
    x_tr, y_tr, x_te = nabla.tensor(x_tr), nabla.tensor(y_tr), nabla.tensor(x_te)

    def acc(pred) -> float:
        return float((pred == y_te).mean())

    results = {"single": acc(predict(fit_weak(x_tr, y_tr), x_te)),
               "bagging": acc(vote(bagging(x_tr, y_tr, rounds, seed), x_te))}
    models, alphas = adaboost(x_tr, y_tr, rounds)
    results["boosting"] = acc(vote(models, x_te, alphas))
    for name, a in results.items():
        count = "1 model" if name == "single" else f"{rounds} models"
        print(f"{name:>9}: test accuracy {a:.3f} ({count})")
    stages = [k for k in (1, 5, 10, 15, 20) if k < len(models)] + [len(models)]
    results["boosting_by_rounds"] = {k: acc(vote(models[:k], x_te, alphas[:k])) for k in stages}
    print("boosting, test accuracy after k rounds: " + ", ".join(
        f"{k}: {a:.3f}" for k, a in results["boosting_by_rounds"].items()))
    return results


if __name__ == "__main__":
    main()
