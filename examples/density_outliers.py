"""What it means to learn a distribution: a VAE's likelihood flags what it has not seen.

A model that learns p(x) can do three things: sample new x (generation), score how probable an
x is (density, hence outlier detection), and give features (the latent code). An *explicit*
model like the VAE gives a number for log p(x); an *implicit* one like a GAN only samples, and
cannot tell how likely a given image is.

Here a VAE is trained on the digits 0-4 only, then asked for log p(x) of test images of 0-4
(seen classes), of 5-9 (classes it never saw), of the seen digits inverted (1 - x), and of
uniform noise. log p(x) is estimated by importance sampling with the encoder as proposal
(Burda et al., 2015):

    log p(x) ~ log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x),   z_k ~ q(z | x),

which is the ELBO for K = 1 and tightens toward log p(x) as K grows. Each kind of outlier is
scored by AUROC: the chance that a random seen-class image gets a higher log p(x) than a random
outlier (1 is perfect, 0.5 is guessing).

Topics: learning a distribution (sample, density, features), likelihood, explicit vs implicit
generative models, the ELBO as a bound and its importance-weighted tightening, outlier
(novelty) detection by density.

Measured (seed 0, latent 8, 40 epochs, K = 64; 15 s): mean log p(x) in nats per image: seen
0-4 -23.2 (their ELBO -23.5), unseen 5-9 -28.8, inverted -172, noise -83; AUROC vs seen: unseen
classes 0.95, inverted 1.00, noise 1.00.
Run: python examples/density_outliers.py  [--fast]
"""

import argparse
import math

import numpy as np

import nabla
import nabla.nn.functional as F
from nabla.models.vae import VAE, vae_loss
from nabla.utils.data import DataLoader, TensorDataset, load_digits

SEEN = (0, 1, 2, 3, 4)


def train(model, x, epochs: int) -> None:
    loader = DataLoader(TensorDataset(nabla.tensor(x)), 64, shuffle=True)
    opt = nabla.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    for _ in range(epochs):
        for (xb,) in loader:
            logits, mu, logvar = model(xb)
            loss, _, _ = vae_loss(logits, xb, mu, logvar)
            opt.zero_grad()
            loss.backward()
            opt.step()


def log_likelihood(model, x: np.ndarray, k: int) -> np.ndarray:
    """Importance-weighted estimate of log p(x) per image (nats), K samples of q(z | x)."""
    x = nabla.tensor(x)
    with nabla.no_grad():
        mu, logvar = model.encode(x)
        std = (0.5 * logvar).exp()
        terms = []
        for _ in range(k):
            eps = nabla.randn_like(mu)
            z = mu + std * eps
            log_px_z = -F.binary_cross_entropy_with_logits(
                model.decode(z), x, reduction="none").sum(1)
            log_pz = -0.5 * (z.square() + math.log(2 * math.pi)).sum(1)
            log_qz = -0.5 * (eps.square() + logvar + math.log(2 * math.pi)).sum(1)
            terms.append(log_px_z + log_pz - log_qz)
        return (nabla.stack(terms).logsumexp(0) - math.log(k)).numpy()


def auroc(inliers: np.ndarray, outliers: np.ndarray) -> float:
    """P(score of a random inlier > score of a random outlier), ties counting one half."""
    greater = (inliers[:, None] > outliers[None, :]).mean()
    ties = (inliers[:, None] == outliers[None, :]).mean()
    return float(greater + 0.5 * ties)


def main(fast: bool = False, seed: int = 0) -> dict:
    nabla.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_digits()  # (N, 64) in [0, 1]
    model = VAE(64, hidden=(256,), latent_dim=8)
    train(model, x_train[np.isin(y_train, SEEN)], epochs=5 if fast else 40)
    model.eval()
    rng = np.random.default_rng(seed)
    seen = x_test[np.isin(y_test, SEEN)]
    sets = {"seen 0-4": seen, "unseen 5-9": x_test[~np.isin(y_test, SEEN)],
            "inverted": 1 - seen, "noise": rng.uniform(0, 1, seen.shape).astype(np.float32)}
    k = 16 if fast else 64
    scores = {name: log_likelihood(model, x, k) for name, x in sets.items()}
    results = {"elbo_seen": float(log_likelihood(model, seen, 1).mean())}
    print(f"seen 0-4: ELBO (K = 1) {results['elbo_seen']:.1f}, importance-weighted (K = {k}) "
          f"{scores['seen 0-4'].mean():.1f} nats per image")
    for name, s in scores.items():
        results[name] = float(s.mean())
        line = f"{name:>10}: mean log p(x) {s.mean():8.1f}"
        if name != "seen 0-4":
            results[f"auroc {name}"] = auroc(scores["seen 0-4"], s)
            line += f", AUROC vs seen {results[f'auroc {name}']:.2f}"
        print(line)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="5 epochs and K = 16")
    main(parser.parse_args().fast)
