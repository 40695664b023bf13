"""VAE: the variational autoencoder (Kingma and Welling, 2013).

The idea: an *explicit* latent-variable model p(x) = integral p(x | z) p(z) dz with z ~ N(0, I),
trained by maximizing a lower bound on log p(x), the evidence lower bound (ELBO):

    log p(x) >= ELBO(x) = E_{q(z|x)}[log p(x | z)] - KL(q(z | x) || p(z)),

where the encoder gives q(z | x) = N(mu(x), diag(sigma(x)^2)) and the decoder gives p(x | z).
Two tricks make it trainable by backpropagation: the *reparameterization* z = mu + sigma * eps
with eps ~ N(0, I) (the randomness moves out of the path of the gradient), and the KL between two
Gaussians in closed form:

    KL(N(mu, sigma^2) || N(0, 1)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2).

The decoder here outputs Bernoulli logits, and the reconstruction term is -BCE(logits, x) summed
over pixels (the usual choice for grey images in [0, 1]; for grey levels it is a bound in nats of
a Bernoulli model evaluated at fractional targets). The encoder predicts log sigma^2 (any real),
so sigma > 0 needs no constraint.
"""

from nabla import nn
from nabla.creation import randn_like
from nabla.nn.functional import binary_cross_entropy_with_logits
from nabla.tensor import Tensor

__all__ = ["VAE", "ConvVAE", "gaussian_kl", "reparameterize", "elbo", "vae_loss"]


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per sample, in closed form.

    Args:
        mu, logvar: (N, D) means and log-variances of q(z | x).

    Returns:
        (N,): 1/2 sum_j (mu_j^2 + exp(logvar_j) - 1 - logvar_j).
    """
    return 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(1)


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I): a sample of q(z | x) that gradients can
    flow through to mu and logvar."""
    return mu + (0.5 * logvar).exp() * randn_like(mu)


class _VAEBase(nn.Module):
    """encode(x) -> (mu, logvar); decode(z) -> logits shaped like x."""

    latent_dim: int

    def forward(self, x: Tensor):
        """(N, ...) -> (logits like x, mu (N, D), logvar (N, D)); z is sampled in training mode
        and is the mean mu in eval mode."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar) if self.training else mu
        return self.decode(z).reshape(x.shape), mu, logvar


class VAE(_VAEBase):
    """MLP encoder x -> hidden -> (mu, logvar); MLP decoder z -> hidden -> Bernoulli logits.

    Args:
        in_features: pixels (64 for 8x8 digits); inputs are flattened.
        hidden: width of the hidden layers (one in each network per entry).
        latent_dim: D (2 lets you plot the latent space directly).
    """

    def __init__(self, in_features: int = 64, hidden=(256,), latent_dim: int = 2) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        enc, width = [nn.Flatten()], in_features
        for size in hidden:
            enc += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.encoder = nn.Sequential(*enc)
        self.to_stats = nn.Linear(width, 2 * latent_dim)  # [mu, logvar]
        dec, width = [], latent_dim
        for size in reversed(hidden):
            dec += [nn.Linear(width, size), nn.ReLU()]
            width = size
        dec.append(nn.Linear(width, in_features))
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: Tensor):
        mu, logvar = self.to_stats(self.encoder(x)).chunk(2, 1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)


class ConvVAE(_VAEBase):
    """Conv encoder (1, 8, 8) -> 32 x 8x8 -> 64 x 4x4 -> (mu, logvar); decoder Linear -> 64 x 4x4
    -> ConvTranspose (stride 2) -> 32 x 8x8 -> Conv -> logits (1, 8, 8).

    Shape: (N, C, H, W) with H = W = size (a multiple of 2) -> logits of the same shape.
    """

    def __init__(self, channels: int = 1, size: int = 8, latent_dim: int = 2,
                 width: int = 32) -> None:
        super().__init__()
        self.latent_dim, self._map = latent_dim, (2 * width, size // 2, size // 2)
        flat = 2 * width * (size // 2) ** 2
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, width, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(), nn.Flatten())
        self.to_stats = nn.Linear(flat, 2 * latent_dim)
        self.from_latent = nn.Sequential(nn.Linear(latent_dim, flat), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(width, channels, 3, 1, 1))

    def encode(self, x: Tensor):
        mu, logvar = self.to_stats(self.encoder(x)).chunk(2, 1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(self.from_latent(z).reshape(z.shape[0], *self._map))


def elbo(model: _VAEBase, x: Tensor, logits: Tensor | None = None, mu: Tensor | None = None,
         logvar: Tensor | None = None) -> Tensor:
    """Per-sample ELBO in nats: log p(x | z) - KL(q(z | x) || p(z)), one z per sample.

    Args:
        model: a VAE; called on x unless logits, mu and logvar are given.
        x: (N, ...) images in [0, 1].

    Returns:
        (N,) the ELBO of each sample (higher is better; it bounds log p(x) from below).
    """
    if logits is None:
        logits, mu, logvar = model(x)
    recon = binary_cross_entropy_with_logits(logits, x, reduction="none")
    return -recon.reshape(x.shape[0], -1).sum(1) - gaussian_kl(mu, logvar)


def vae_loss(logits: Tensor, x: Tensor, mu: Tensor, logvar: Tensor, beta: float = 1.0):
    """-ELBO averaged over the batch (with beta weighting the KL, beta-VAE style).

    Returns:
        (loss, reconstruction term, KL term): scalar tensors, each averaged over the batch
        (nats per sample); the last two are there to be logged.
    """
    recon = binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    kl = gaussian_kl(mu, logvar).mean()
    return recon + beta * kl, recon, kl
