"""LeNet-5 (LeCun et al., 1998): the first convolutional network put to work (reading cheques).
The idea: instead of one weight per pixel and unit, slide a small shared kernel over the image.
Convolutions are local and translation-equivariant, need a fraction of a dense layer's
parameters, and alternate with subsampling (pooling) so later layers see larger regions. The
pattern conv -> pool -> conv -> pool -> dense layers is still the skeleton of CNNs.

``LeNet5`` follows D2L's version (sigmoid, average pooling, 61,706 parameters on 28x28).
``ConvNet`` is the same skeleton with today's choices: 3x3 convolutions with padding, batch norm,
ReLU and max pooling; it reaches about 99% on the 8x8 digits (``examples/cnn_digits.py``).
"""

from nabla import nn
from nabla.tensor import Tensor

__all__ = ["LeNet5", "ConvNet", "cnn_for"]

_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


class LeNet5(nn.Module):
    """C1 (6 5x5 kernels, padding 2) -> S2 (2x2 pool) -> C3 (16 5x5 kernels) -> S4 -> F5 (120)
    -> F6 (84) -> output.

    Args:
        in_channels: input channels.
        num_classes: outputs.
        input_size: the side of the square input (28 for MNIST, 32 for LeNet's own input).
        activation: 'sigmoid' (as in D2L), 'tanh' (closest to the paper) or 'relu'.
        pool: 'avg' (the paper's subsampling) or 'max'.

    Shape: (N, in_channels, input_size, input_size) -> (N, num_classes).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28,
                 activation: str = "sigmoid", pool: str = "avg") -> None:
        super().__init__()
        if activation not in _ACTIVATIONS or pool not in ("avg", "max"):
            raise ValueError(f"LeNet5: activation must be one of {sorted(_ACTIVATIONS)} and pool "
                             f"'avg' or 'max', got {activation!r}, {pool!r}")
        side = (input_size // 2 - 4) // 2  # 5x5 "same" conv, pool, 5x5 "valid" conv, pool
        if side < 1:
            raise ValueError(f"LeNet5: input_size {input_size} is too small; it needs >= 12 "
                             "(LeNet-5 was designed for 32x32)")
        act, pooling = _ACTIVATIONS[activation], nn.AvgPool2d if pool == "avg" else nn.MaxPool2d
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), act(), pooling(2, 2),
            nn.Conv2d(6, 16, 5), act(), pooling(2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(16 * side * side, 120), act(), nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x).flatten(1))


class ConvNet(nn.Module):
    """A small modern CNN: stages of [3x3 conv (padding 1) -> BatchNorm2d -> ReLU] x depth, a 2x2
    max pool after every stage but the last, adaptive average pooling to pool_size x pool_size,
    dropout and a linear classifier.

    Args:
        in_channels: input channels.
        num_classes: outputs.
        channels: width of each stage, e.g. (32, 64, 128).
        depth: convolutions per stage.
        pool_size: side of the map fed to the classifier.
        dropout: dropout probability before the classifier.

    Shape: (N, in_channels, H, W) -> (N, num_classes); H, W >= 2 ** (len(channels) - 1).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, channels=(32, 64, 128),
                 depth: int = 1, pool_size: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        layers: list = []
        for i, width in enumerate(channels):
            for _ in range(depth):
                layers += [nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
                           nn.BatchNorm2d(width), nn.ReLU()]
                in_channels = width
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels * pool_size * pool_size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.dropout(self.pool(self.features(x)).flatten(1)))


def cnn_for(name: str, sample_shape: tuple, num_classes: int) -> nn.Module:
    """A convolutional classifier for samples of ``sample_shape`` (what ``nabla train --model
    cnn|lenet|resnet20`` builds).

    Args:
        name: 'cnn' (``ConvNet`` for (C, H, W) images, ``cnn1d_bn`` for (C, L) signals),
            'lenet' (``LeNet5``, square images of at least 12x12) or 'resnet20'.
        sample_shape: the shape of one input sample, without the batch dimension.
        num_classes: outputs.
    """
    from nabla.models.cnn1d import cnn1d_bn
    from nabla.models.resnet import resnet20

    if name == "cnn" and len(sample_shape) == 2:
        return cnn1d_bn(in_channels=sample_shape[0], num_classes=num_classes,
                        length=sample_shape[1])
    if len(sample_shape) != 3:
        raise ValueError(f"{name}: needs images of shape (C, H, W)"
                         f"{' or signals (C, L)' if name == 'cnn' else ''}; the samples have "
                         f"shape {tuple(sample_shape)}")
    channels = sample_shape[0]
    if name == "lenet":
        return LeNet5(channels, num_classes, input_size=min(sample_shape[1:]))
    if name == "resnet20":
        return resnet20(num_classes=num_classes, in_channels=channels)
    if name == "cnn":
        return ConvNet(channels, num_classes, channels=(32, 64, 64), dropout=0.2)
    raise ValueError(f"cnn_for: unknown model {name!r}; choose 'cnn', 'lenet' or 'resnet20'")
