"""SimCLR: a simple framework for contrastive learning of visual representations (Chen et al.,
2020).

The idea: learn features without labels. Two random augmentations of the same image form a
*positive pair*; every other image in the batch is a negative. An encoder f gives features
h = f(x), a small projection head g gives z = g(h), and the NT-Xent loss (normalized
temperature-scaled cross-entropy) asks each z_i to pick out its partner among the 2N - 1 others:

    l(i, j) = -log( exp(sim(z_i, z_j) / t) / sum_{k != i} exp(sim(z_i, z_k) / t) ),

with sim the cosine similarity and t the temperature, averaged over all 2N anchors. The features
h (before the head) are then judged by a *linear probe*: a linear classifier trained on frozen
features with a few labels. What the augmentations leave unchanged is what the features learn.
"""

import numpy

from nabla import nn
from nabla.autograd.grad_mode import no_grad
from nabla.creation import arange, eye, tensor
from nabla.nn.functional import cross_entropy
from nabla.ops.join import cat
from nabla.tensor import Tensor

__all__ = ["nt_xent", "SimCLR", "DigitEncoder", "augment_digits", "extract_features",
           "linear_probe"]


def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.5) -> Tensor:
    """NT-Xent: cross-entropy of each view's cosine similarities (over temperature) against the
    index of its partner view, the self-similarity excluded; averaged over the 2N anchors.

    Args:
        z1, z2: (N, D) projections of the two views; row i of each comes from the same image.
        temperature: t; small t sharpens the softmax onto the hardest negatives.

    Returns:
        Scalar loss; log(2N - 1) when all similarities are equal.
    """
    n = z1.shape[0]
    z = cat([z1, z2], 0)
    z = z / z.norm(dim=1, keepdim=True).clamp(min=1e-12)
    sim = (z @ z.T) / temperature  # (2N, 2N) cosine similarities / t
    sim = sim.masked_fill(eye(2 * n, dtype=z.dtype).bool(), float("-inf"))  # k != i
    partner = cat([arange(n, 2 * n), arange(0, n)], 0)  # i <-> i + N
    return cross_entropy(sim, partner)


class DigitEncoder(nn.Module):
    """A small CNN for 8x8 grey images: Conv 3x3 (32) -> BN -> ReLU -> Conv 3x3 stride 2 (64)
    -> BN -> ReLU -> Conv 3x3 (64) -> BN -> ReLU -> global average pool: 64 features.

    Shape: (N, 1, 8, 8) -> (N, 64).
    """

    def __init__(self, channels: int = 1, width: int = 32) -> None:
        super().__init__()
        self.out_features = 2 * width
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, 2, 1, bias=False), nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, 1, 1, bias=False), nn.BatchNorm2d(2 * width),
            nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class SimCLR(nn.Module):
    """Encoder f plus projection head g (Linear -> ReLU -> Linear).

    Args:
        encoder: maps images to (N, F) features; needs ``out_features`` or give ``features``.
        projection_dim: size of z.
        hidden: width of the head's hidden layer (default F).

    ``forward(x)`` returns z = g(f(x)); ``features(x)`` returns h = f(x) for the probe.
    """

    def __init__(self, encoder: nn.Module | None = None, projection_dim: int = 32,
                 hidden: int | None = None, features: int | None = None) -> None:
        super().__init__()
        self.encoder = encoder if encoder is not None else DigitEncoder()
        f = features if features is not None else self.encoder.out_features
        hidden = hidden or f
        self.head = nn.Sequential(nn.Linear(f, hidden), nn.ReLU(),
                                  nn.Linear(hidden, projection_dim))

    def features(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x))


def augment_digits(x: numpy.ndarray, rng: numpy.random.Generator, max_shift: float = 1.0,
                   max_angle: float = 15.0, scale=(0.85, 1.15), cutout: float = 0.5,
                   noise: float = 0.1) -> numpy.ndarray:
    """One random view of a batch of (N, 1, H, W) images in [0, 1] (call twice for a pair).

    A random affine map (rotation up to +-max_angle degrees, zoom in ``scale``, shift up to
    +-max_shift pixels) resampled bilinearly, then with probability ``cutout`` a 3x3 square
    set to 0, a random contrast factor in [0.6, 1.2] and Gaussian noise, clipped to [0, 1].
    """
    n, c, h, w = x.shape
    angle = numpy.deg2rad(rng.uniform(-max_angle, max_angle, n))
    s = rng.uniform(*scale, n)
    shift = rng.uniform(-max_shift, max_shift, (n, 2))
    yy, xx = numpy.meshgrid(numpy.arange(h) - (h - 1) / 2, numpy.arange(w) - (w - 1) / 2,
                            indexing="ij")
    cos, sin = (numpy.cos(angle) / s)[:, None, None], (numpy.sin(angle) / s)[:, None, None]
    # inverse map: output pixel -> source coordinates
    sy = cos * yy - sin * xx + (h - 1) / 2 - shift[:, 0, None, None]
    sx = sin * yy + cos * xx + (w - 1) / 2 - shift[:, 1, None, None]
    y0, x0 = numpy.floor(sy).astype(int), numpy.floor(sx).astype(int)
    out = numpy.zeros((n, c, h, w), numpy.float64)
    batch = numpy.arange(n)[:, None, None]
    for dy in (0, 1):
        for dx in (0, 1):
            yi, xi = y0 + dy, x0 + dx
            weight = (1 - numpy.abs(sy - yi)) * (1 - numpy.abs(sx - xi))
            inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
            v = x[batch, :, yi.clip(0, h - 1), xi.clip(0, w - 1)]  # (N, H, W, C)
            out += (numpy.moveaxis(v, -1, 1) * (weight * inside)[:, None])
    holes = rng.random(n) < cutout
    cy, cx = rng.integers(0, h - 2, n), rng.integers(0, w - 2, n)
    for i in numpy.flatnonzero(holes):
        out[i, :, cy[i]:cy[i] + 3, cx[i]:cx[i] + 3] = 0.0
    out *= rng.uniform(0.6, 1.2, (n, 1, 1, 1))
    out += rng.normal(0.0, noise, out.shape)
    return out.clip(0.0, 1.0).astype(x.dtype)


def extract_features(encoder: nn.Module, X: numpy.ndarray, batch_size: int = 512):
    """Frozen features of (N, ...) images: the encoder in eval mode, no graph."""
    was_training = encoder.training
    encoder.eval()
    with no_grad():
        feats = [encoder(tensor(X[i:i + batch_size])).numpy()
                 for i in range(0, len(X), batch_size)]
    encoder.train(was_training)
    return numpy.concatenate(feats)


def linear_probe(F_train: numpy.ndarray, y_train: numpy.ndarray, F_test: numpy.ndarray,
                 y_test: numpy.ndarray, epochs: int = 300, lr: float = 1e-2,
                 weight_decay: float = 1e-4) -> float:
    """Test accuracy of a linear (softmax) classifier on frozen, standardized features.

    Full-batch Adam on the cross-entropy; the standardization is fit on the training features.
    """
    from nabla.optim import Adam

    mean, std = F_train.mean(0), F_train.std(0) + 1e-6
    a, b = tensor((F_train - mean) / std), tensor((F_test - mean) / std)
    ya, yb = tensor(y_train), tensor(y_test)
    probe = nn.Linear(a.shape[1], int(y_train.max()) + 1)
    opt = Adam(probe.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        loss = cross_entropy(probe(a), ya)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with no_grad():
        return (probe(b).argmax(1) == yb).float().mean().item()
