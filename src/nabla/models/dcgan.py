"""DCGAN: deep convolutional GAN (Radford, Metz and Chintala, 2015).

The idea: the GAN game of ``nabla.models.gan`` with convolutional networks, made stable by a few
architectural rules: the generator *upsamples* with strided transposed convolutions (no pooling,
no dense hidden layers), batch normalization in both networks (not on G's output nor D's input),
ReLU in G with tanh at the output, LeakyReLU(0.2) in D, and Adam with lr 2e-4, beta1 0.5. The
weights start from N(0, 0.02) (batch-norm scales from N(1, 0.02)).

Sizes here fit 16x16 grey images (8x8 digits upscaled): z (N, Z, 1, 1) -> 4x4 -> 8x8 -> 16x16.
"""

import numpy

from nabla import nn
from nabla.nn import init
from nabla.tensor import Tensor

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "dcgan_init_", "image_grid", "upscale"]


class DCGANGenerator(nn.Module):
    """z -> ConvT(Z, 4w, 4, 1, 0) 4x4 -> ConvT(4w, 2w, 4, 2, 1) 8x8 -> ConvT(2w, C, 4, 2, 1)
    16x16 -> tanh; batch norm and ReLU between.

    Args:
        latent_dim: Z.  width: w (channels of the last hidden map).  channels: C of the image.

    Shape: (N, Z) or (N, Z, 1, 1) -> (N, C, 16, 16) in [-1, 1].
    """

    def __init__(self, latent_dim: int = 32, width: int = 16, channels: int = 1) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 4 * width, 4, 1, 0, bias=False),
            nn.BatchNorm2d(4 * width), nn.ReLU(),
            nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, channels, 4, 2, 1), nn.Tanh())
        dcgan_init_(self)

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() == 2:
            z = z.reshape(z.shape[0], z.shape[1], 1, 1)
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    """Conv(C, 2w, 4, 2, 1) 8x8 -> LeakyReLU -> Conv(2w, 4w, 4, 2, 1) 4x4 -> BN -> LeakyReLU ->
    Conv(4w, 1, 4, 1, 0): one logit per image.

    Shape: (N, C, 16, 16) -> (N, 1).
    """

    def __init__(self, width: int = 16, channels: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 4 * width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(4 * width), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * width, 1, 4, 1, 0))
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).reshape(x.shape[0], 1)


def dcgan_init_(module: nn.Module) -> nn.Module:
    """DCGAN's initialization: conv weights N(0, 0.02), batch-norm weights N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            init.normal_(m.weight, 1.0, 0.02)
            init.zeros_(m.bias)
    return module


def upscale(images: numpy.ndarray, factor: int = 2) -> numpy.ndarray:
    """Nearest-neighbour upscaling of (N, C, H, W) arrays: each pixel becomes a factor^2 block
    (``numpy.kron`` with a block of ones)."""
    return numpy.kron(images, numpy.ones((1, 1, factor, factor), images.dtype))


def image_grid(images, nrow: int = 8, pad: int = 1, value: float = 1.0) -> numpy.ndarray:
    """Tile (N, 1, H, W) or (N, H, W) images (array or tensor) into one (rows*(H+pad), ...) array
    for ``matplotlib.pyplot.imsave``; empty cells and the padding take ``value``."""
    x = images.detach().numpy() if hasattr(images, "detach") else numpy.asarray(images)
    if x.ndim == 4:
        x = x[:, 0]
    n, h, w = x.shape
    rows = -(-n // nrow)
    grid = numpy.full((rows * (h + pad) + pad, nrow * (w + pad) + pad), value, x.dtype)
    for i in range(n):
        r, c = divmod(i, nrow)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h,
             pad + c * (w + pad):pad + c * (w + pad) + w] = x[i]
    return grid
