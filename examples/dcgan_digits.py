"""DCGAN on the digits upscaled to 16x16: transposed convolutions, batch norm, LeakyReLU.

Topics: generative adversarial networks with convolutions, upsampling by strided transposed
convolution (the generator runs a classifier's shapes backwards: 1x1 -> 4x4 -> 8x8 -> 16x16),
batch normalization in both networks, LeakyReLU in the discriminator, N(0, 0.02) weights, Adam
with lr 2e-4 and beta1 0.5 (Radford et al., 2015).

The objective (a game): D maximizes E_x[log D(x)] + E_z[log(1 - D(G(z)))] (BCE on D's
logits); G minimizes -E_z[log D(G(z))] (non-saturating). One D step, then one G step, per batch
of 64.

Output (in --out): dcgan_epoch_XX.png (a grid of 64 samples of one fixed z after each epoch),
dcgan_losses.png. The run also prints which digits a softmax classifier trained on real digits
sees in 500 samples (2x2-averaged back to 8x8).
Measured (seed 0; defaults: 15 epochs, 28 s on a quiet core, 251 s on a busy one): the
classifier finds all 10 digits in 500 samples (26 to 70 per digit); the grids show
recognizable digits from about epoch 10 (epoch 6: noise with digit-like strokes).
Run: python examples/dcgan_digits.py [--fast] [--out runs/dcgan_digits]
"""

import argparse
import os
import time

import numpy

import nabla
import nabla.nn.functional as F
from nabla.models.dcgan import DCGANDiscriminator, DCGANGenerator, image_grid, upscale
from nabla.models.gan import class_coverage, discriminator_loss, fit_classifier, generator_loss
from nabla.utils.data import DataLoader, TensorDataset, load_digits


def save_grid(images, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = image_grid(images, nrow=8, value=-1.0)
    plt.imsave(path, numpy.kron(grid, numpy.ones((3, 3))), cmap="gray", vmin=-1, vmax=1)


def train(X: numpy.ndarray, epochs: int = 15, latent_dim: int = 32, width: int = 16,
          lr: float = 2e-4, out: str | None = None, max_batches: int | None = None):
    """X: (N, 1, 16, 16) in [-1, 1]. Saves a sample grid per epoch to ``out`` (if given)."""
    G, D = DCGANGenerator(latent_dim, width), DCGANDiscriminator(width)
    opt_g = nabla.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = nabla.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    loader = DataLoader(TensorDataset(nabla.tensor(X)), 64, shuffle=True, drop_last=True)
    z_fixed = nabla.randn(64, latent_dim)
    history, files = {"d_loss": [], "g_loss": []}, []
    for epoch in range(epochs):
        for i, (real,) in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                break
            fake = G(nabla.randn(real.shape[0], latent_dim))
            d_loss = discriminator_loss(D(real), D(fake.detach()))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = generator_loss(D(fake))
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            history["d_loss"].append(d_loss.item())
            history["g_loss"].append(g_loss.item())
        print(f"epoch {epoch + 1}: D loss {d_loss.item():.3f}  G loss {g_loss.item():.3f}")
        if out is not None:
            G.eval()  # batch norm with running statistics, as at sampling time
            with nabla.no_grad():
                files.append(os.path.join(out, f"dcgan_epoch_{epoch + 1:02d}.png"))
                save_grid(G(z_fixed), files[-1])
            G.train()
    return G, history, files


def main(epochs: int = 15, out: str = "runs/dcgan_digits", fast: bool = False, seed: int = 0,
         plots: bool = True) -> dict:
    nabla.manual_seed(seed)
    X_train, y_train, X_test, y_test = load_digits(flatten=False)  # (N, 1, 8, 8) in [0, 1]
    X = upscale(X_train * 2 - 1, 2)  # (N, 1, 16, 16) in [-1, 1], np.kron nearest upscaling
    if plots:
        os.makedirs(out, exist_ok=True)
    start = time.perf_counter()
    G, history, files = train(X, 1 if fast else epochs, out=out if plots else None,
                              max_batches=2 if fast else None)
    seconds = time.perf_counter() - start
    judge = fit_classifier(X_train * 2 - 1, y_train, epochs=50 if fast else 300)
    G.eval()
    with nabla.no_grad():
        small = F.avg_pool2d(G(nabla.randn(500, G.latent_dim)), 2)  # back to 8x8
        cover = class_coverage(judge, small)
    print(f"classifier on 500 samples: {cover['classes_covered']} of 10 digits with >= 2% of "
          f"the samples; per digit {cover['counts']} ({seconds:.0f} s of training)")
    if plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot(history["d_loss"], lw=0.6, label="D loss")
        ax.plot(history["g_loss"], lw=0.6, label="G loss")
        ax.set(xlabel="step", ylabel="loss", title="DCGAN on 16x16 digits")
        ax.legend()
        fig.tight_layout()
        files.append(os.path.join(out, "dcgan_losses.png"))
        fig.savefig(files[-1], dpi=90)
        plt.close(fig)
    return dict(cover, seconds=seconds, files=files)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few steps (smoke test)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--out", default="runs/dcgan_digits")
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args()
    main(a.epochs, a.out, a.fast, a.seed)
