"""SimCLR on the 8x8 digits: features learned without labels, judged by a linear probe.

Topics: self-supervised learning, contrastive learning, data augmentation as the supervisory
signal, the projection head, the NT-Xent loss and its temperature, linear evaluation on frozen
features (pre-training, then a cheap supervised step on top).

The objective (no labels): for a batch of N images, two augmented views each (2N views),
    L = 1/(2N) sum_i -log( exp(cos(z_i, z_p(i)) / t) / sum_{k != i} exp(cos(z_i, z_k) / t) ),
z = g(f(x)) the projection of the encoder's features, p(i) the other view of i's image, t the
temperature. Then a linear classifier is trained on the frozen features f(x) of the labelled
training images and tested; the same probe on the same encoder with random weights is the
baseline (and raw pixels for reference).

Measured (seed 0; defaults: 20 epochs of 128 images x 2 views, t = 0.5, Adam 1e-3; 19 s on
a quiet core, 110 s on a busy one); linear-probe test accuracy on the 360 test images:
    features                    all labels   10 labels per class
    raw pixels (64)             0.972        0.858
    random encoder (64)         0.958        0.794
    SimCLR encoder (64)         0.992        0.958
(40 epochs: 0.989 and 0.956.) The margin over the same probe on the random encoder is +3.4
points with all 1,437 labels and +16.4 points with 100 labels.
The run writes the table to simclr_results.txt, the loss curve, the augmentation pairs and a
2-D PCA of the features coloured by class.
Run: python examples/simclr_digits.py [--fast] [--out runs/simclr_digits]
"""

import argparse
import os
import time

import numpy

import nabla
from nabla.models.dcgan import image_grid
from nabla.models.simclr import (
    SimCLR,
    augment_digits,
    extract_features,
    linear_probe,
    nt_xent,
)
from nabla.utils.data import load_digits


def pretrain(model: SimCLR, X: numpy.ndarray, epochs: int, batch_size: int = 128,
             temperature: float = 0.5, lr: float = 1e-3, seed: int = 0, log_every: int = 5):
    """Contrastive pre-training on unlabelled images; returns the per-epoch mean loss."""
    rng = numpy.random.default_rng(seed)
    opt = nabla.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-5)
    losses = []
    model.train()
    for epoch in range(epochs):
        order, total, steps = rng.permutation(len(X)), 0.0, 0
        for i in range(0, len(X) - batch_size + 1, batch_size):  # full batches: N negatives
            xb = X[order[i:i + batch_size]]
            v1, v2 = (nabla.tensor(augment_digits(xb, rng)) for _ in range(2))
            loss = nt_xent(model(v1), model(v2), temperature)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + loss.item(), steps + 1
        losses.append(total / steps)
        if log_every and (epoch + 1) % log_every == 0:
            print(f"  epoch {epoch + 1}: NT-Xent {losses[-1]:.3f} "
                  f"(chance log(2N-1) = {numpy.log(2 * batch_size - 1):.3f})")
    return losses


def few_labels(y: numpy.ndarray, per_class: int, seed: int = 0) -> numpy.ndarray:
    rng = numpy.random.default_rng(seed)
    return numpy.concatenate([rng.choice(numpy.flatnonzero(y == c), per_class, replace=False)
                              for c in numpy.unique(y)])


def probe_table(encoders: dict, X_train, y_train, X_test, y_test, epochs: int) -> dict:
    """Linear-probe accuracy with all labels and with 10 labels per class, per feature set."""
    few = few_labels(y_train, 10)
    table = {}
    for name, enc in encoders.items():
        if enc is None:
            a, b = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
        else:
            a, b = extract_features(enc, X_train), extract_features(enc, X_test)
        table[name] = (linear_probe(a, y_train, b, y_test, epochs),
                       linear_probe(a[few], y_train[few], b, y_test, epochs))
    return table


def plot(losses, X, rng, encoder, X_test, y_test, out: str) -> list:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = [os.path.join(out, n) for n in ("simclr_augmentations.png", "simclr_loss.png",
                                            "simclr_features_pca.png")]
    views = numpy.concatenate([X[:12], augment_digits(X[:12], rng), augment_digits(X[:12], rng)])
    plt.imsave(paths[0], numpy.kron(image_grid(views, nrow=12), numpy.ones((4, 4))),
               cmap="gray_r", vmin=0, vmax=1)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(range(1, len(losses) + 1), losses)
    ax.set(xlabel="epoch", ylabel="NT-Xent", title="contrastive pre-training")
    fig.tight_layout()
    fig.savefig(paths[1], dpi=90)
    plt.close(fig)
    f = extract_features(encoder, X_test)
    f = (f - f.mean(0)) / (f.std(0) + 1e-6)
    pcs = f @ numpy.linalg.svd(f, full_matrices=False)[2][:2].T
    fig, ax = plt.subplots(figsize=(5, 4))
    sc = ax.scatter(pcs[:, 0], pcs[:, 1], c=y_test, cmap="tab10", s=8)
    fig.colorbar(sc, ax=ax, ticks=range(10), label="digit")
    ax.set(title="SimCLR features of the test set (PCA)", xlabel="PC 1", ylabel="PC 2")
    fig.tight_layout()
    fig.savefig(paths[2], dpi=90)
    plt.close(fig)
    return paths


def main(epochs: int = 20, temperature: float = 0.5, out: str = "runs/simclr_digits",
         fast: bool = False, seed: int = 0, plots: bool = True) -> dict:
    nabla.manual_seed(seed)
    X_train, y_train, X_test, y_test = load_digits(flatten=False)  # (N, 1, 8, 8) in [0, 1]
    probe_epochs = 300
    if fast:
        X_pre, epochs, probe_epochs = X_train[:256], 1, 20
    else:
        X_pre = X_train  # the labels are not used in pre-training
    model = SimCLR(projection_dim=32)
    nabla.manual_seed(seed + 1)
    random_model = SimCLR(projection_dim=32)  # same architecture, never trained
    start = time.perf_counter()
    losses = pretrain(model, X_pre, epochs, temperature=temperature, seed=seed,
                      log_every=0 if fast else 5)
    seconds = time.perf_counter() - start
    table = probe_table({"raw pixels": None, "random encoder": random_model.encoder,
                         "SimCLR encoder": model.encoder}, X_train, y_train, X_test, y_test,
                        probe_epochs)
    lines = [f"linear probe, test accuracy ({len(X_test)} images); pre-training {epochs} epochs, "
             f"t = {temperature}, {seconds:.0f} s",
             f"{'features':<16}{'all labels':>12}{'10 per class':>14}"]
    lines += [f"{k:<16}{a:12.3f}{b:14.3f}" for k, (a, b) in table.items()]
    print("\n".join(lines))
    result = {"probe": table, "losses": losses, "seconds": seconds, "files": []}
    if plots:
        os.makedirs(out, exist_ok=True)
        result["files"].append(os.path.join(out, "simclr_results.txt"))
        with open(result["files"][0], "w") as f:
            f.write("\n".join(lines) + "\n")
        result["files"] += plot(losses, X_test, numpy.random.default_rng(seed), model.encoder,
                                X_test, y_test, out)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few steps (smoke test)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--out", default="runs/simclr_digits")
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args()
    main(a.epochs, a.temperature, a.out, a.fast, a.seed)
