"""GAN: generative adversarial networks (Goodfellow et al., 2014) and WGAN-GP (Gulrajani et al.,
2017).

The idea: learn to *sample* from a distribution without ever writing down its density (an
implicit model). A generator G maps noise z ~ N(0, I) to data; a discriminator D tells real from
generated. They play the game

    min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))],

whose optimum (for an ideal D) is p_G = p_data. Here D returns *logits* and every log-sigmoid is
taken inside ``binary_cross_entropy_with_logits`` (stable for any logit). The generator uses the
*non-saturating* loss -log D(G(z)) instead of log(1 - D(G(z))): the same fixed point, but strong
gradients early, when D rejects every sample easily.

WGAN-GP replaces the classifier by a critic f scoring realness, trains it to estimate the
Wasserstein-1 distance E f(x) - E f(G(z)) under a 1-Lipschitz constraint, and enforces the
constraint softly with the gradient penalty lambda E (||grad_x f(x_hat)|| - 1)^2 on points between
real and fake samples. Its gradient w.r.t. the critic's weights is a second-order derivative:
``nabla.autograd.grad(..., create_graph=True)``.
"""

import numpy

from nabla import nn
from nabla.autograd import grad
from nabla.creation import ones_like, rand, zeros_like
from nabla.nn.functional import binary_cross_entropy_with_logits, softplus
from nabla.tensor import Tensor

__all__ = ["MLPGenerator", "MLPDiscriminator", "discriminator_loss", "generator_loss",
           "generator_loss_saturating", "critic_loss", "wgan_generator_loss",
           "gradient_penalty", "mode_coverage", "ring_centers", "fit_classifier",
           "class_coverage"]


class MLPGenerator(nn.Sequential):
    """z -> [Linear -> ReLU] * len(hidden) -> Linear [-> output activation].

    Args:
        latent_dim: size of the noise z.
        hidden: hidden widths.
        out_features: size of a sample (2 for points, 64 for 8x8 digits).
        out_activation: None (any real output), 'sigmoid' (pixels in [0, 1]) or 'tanh'.
        batch_norm: BatchNorm1d after each hidden Linear.

    Shape: (N, latent_dim) -> (N, out_features).
    """

    def __init__(self, latent_dim: int = 8, hidden=(128, 128), out_features: int = 2,
                 out_activation: str | None = None, batch_norm: bool = False) -> None:
        layers, width = [], latent_dim
        for size in hidden:
            layers.append(nn.Linear(width, size))
            if batch_norm:  # DCGAN's trick: keeps each layer's batch spread out
                layers.append(nn.BatchNorm1d(size))
            layers.append(nn.ReLU())
            width = size
        layers.append(nn.Linear(width, out_features))
        if out_activation is not None:
            layers.append({"sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[out_activation]())
        super().__init__(*layers)
        self.latent_dim = latent_dim


class MLPDiscriminator(nn.Sequential):
    """x -> [Linear -> LeakyReLU(0.2)] * len(hidden) -> Linear: one logit (or critic score).

    Args:
        in_features: size of a sample.  hidden: hidden widths.
        dropout: after each hidden activation (a noisier, weaker D: slows its win over G).

    Shape: (N, in_features) -> (N, 1).
    """

    def __init__(self, in_features: int = 2, hidden=(128, 128), dropout: float = 0.0) -> None:
        layers, width = [], in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.LeakyReLU(0.2)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, 1))
        super().__init__(*layers)


# -- the GAN game (discriminator returns logits) ----------------------------------------------
def discriminator_loss(real_logits: Tensor, fake_logits: Tensor,
                       real_label: float = 1.0) -> Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))]: binary cross-entropy, real = 1 and fake = 0.

    Args:
        real_logits: D's logits on real samples, (N, 1).
        fake_logits: D's logits on generated samples, (M, 1) (detach them: D's step only).
        real_label: target of the real samples; 0.9 is one-sided label smoothing (Salimans et
            al., 2016), which keeps D from growing over-confident.
    """
    return (binary_cross_entropy_with_logits(real_logits, real_label * ones_like(real_logits))
            + binary_cross_entropy_with_logits(fake_logits, zeros_like(fake_logits)))


def generator_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating: -E[log D(G(z))] = E[softplus(-logit)], i.e. BCE with the label 'real'."""
    return binary_cross_entropy_with_logits(fake_logits, ones_like(fake_logits))


def generator_loss_saturating(fake_logits: Tensor) -> Tensor:
    """The minimax form E[log(1 - D(G(z)))] = -E[softplus(logit)]; its gradient vanishes when D
    confidently rejects the samples (logit -> -inf), hence the non-saturating loss above."""
    return -softplus(fake_logits).mean()


# -- WGAN-GP ----------------------------------------------------------------------------------
def critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E f(G(z)) - E f(x): the critic maximizes the estimate of the Wasserstein-1 distance."""
    return fake_scores.mean() - real_scores.mean()


def wgan_generator_loss(fake_scores: Tensor) -> Tensor:
    """-E f(G(z)): the generator moves its samples up the critic's score."""
    return -fake_scores.mean()


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor,
                     eps: Tensor | None = None) -> Tensor:
    """E (||grad_x f(x_hat)||_2 - 1)^2 with x_hat = eps x + (1 - eps) x_fake, eps ~ U[0, 1].

    The input gradient is taken with ``create_graph=True``, so the penalty can itself be
    differentiated w.r.t. the critic's weights (a second-order derivative).

    Args:
        critic: maps (N, *) to scores (N, 1).
        real, fake: (N, *) samples (fake detached from the generator).
        eps: (N, 1, ...) mixing weights; drawn uniformly when None.
    """
    if eps is None:
        eps = rand(real.shape[0], *([1] * (real.dim() - 1)), dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = grad(critic(x_hat).sum(), [x_hat], create_graph=True)
    norms = (g.reshape(g.shape[0], -1).square().sum(1) + 1e-12).sqrt()
    return ((norms - 1) ** 2).mean()


# -- measuring mode coverage on the ring of Gaussians -----------------------------------------
def ring_centers(n_modes: int = 8, radius: float = 2.0) -> numpy.ndarray:
    """The (n_modes, 2) centres of ``make_ring_of_gaussians``."""
    angle = 2 * numpy.pi * numpy.arange(n_modes) / n_modes
    return radius * numpy.stack([numpy.cos(angle), numpy.sin(angle)], axis=1)


def mode_coverage(samples, centers, std: float, k: float = 3.0,
                  min_count: int | None = None) -> dict:
    """How many modes of a Gaussian mixture the samples cover.

    A sample is *high quality* if it lies within k std of its nearest centre; a mode is
    *covered* if at least ``min_count`` high-quality samples (default 1% of them, at least 1)
    fall on it. A collapsed GAN covers one or two modes; a good one all of them.

    Args:
        samples: (N, 2) array or tensor.  centers: (M, 2).  std: the modes' standard deviation.

    Returns:
        {'modes_covered', 'counts' (per mode), 'high_quality' (fraction of samples)}.
    """
    x = samples.detach().numpy() if hasattr(samples, "detach") else numpy.asarray(samples)
    d = numpy.linalg.norm(x[:, None, :] - numpy.asarray(centers)[None], axis=-1)
    nearest, good = d.argmin(1), d.min(1) <= k * std
    counts = numpy.bincount(nearest[good], minlength=len(centers))
    need = min_count if min_count is not None else max(1, int(0.01 * len(x)))
    return {"modes_covered": int((counts >= need).sum()), "counts": counts.tolist(),
            "high_quality": float(good.mean())}


# -- measuring which classes a generator of images produces -----------------------------------
def fit_classifier(X, y, epochs: int = 300, lr: float = 1e-2) -> nn.Module:
    """Softmax regression on flattened real images (full-batch Adam): a judge of samples.

    Args:
        X: (N, ...) float images as the generator makes them.  y: (N,) int labels.
    """
    from nabla.creation import tensor
    from nabla.nn.functional import cross_entropy
    from nabla.optim import Adam

    x, t = tensor(numpy.asarray(X).reshape(len(X), -1)), tensor(numpy.asarray(y))
    model = nn.Linear(x.shape[1], int(numpy.max(y)) + 1)
    opt = Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        loss = cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def class_coverage(classifier: nn.Module, samples, min_fraction: float = 0.02) -> dict:
    """Classes the classifier sees in generated samples: a mode-collapse check for images.

    Returns:
        {'classes_covered' (with >= min_fraction of the samples), 'counts' per class}.
    """
    from nabla.autograd.grad_mode import no_grad

    x = samples.reshape(samples.shape[0], -1)
    with no_grad():
        logits = classifier(x)
    counts = numpy.bincount(logits.argmax(1).numpy(), minlength=logits.shape[1])
    return {"classes_covered": int((counts >= min_fraction * len(x)).sum()),
            "counts": counts.tolist()}
