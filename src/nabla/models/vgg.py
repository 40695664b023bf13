"""VGG (Simonyan & Zisserman, 2014): depth from nothing but 3x3 convolutions. Two stacked 3x3
layers see a 5x5 window, three see 7x7, with fewer weights (2 * 9 C^2 = 18 C^2 against 25 C^2) and
an extra nonlinearity between them. Blocks of 3x3 convolutions with padding 1 keep the size; a 2x2
max pool halves it; the channel count doubles after each pool (64 -> 512).

``vgg11`` ... ``vgg19`` (configurations A, B, D, E; ``_bn`` adds batch norm) have torchvision's
layout: the same ``features.i`` / ``classifier.i`` parameter names, shapes and counts (VGG-16:
138,357,544). For small images, ``width_mult`` scales the channels, ``pool_size`` the adaptive
pooling before the classifier and ``hidden`` its width: ``vgg11_bn(width_mult=0.125,
pool_size=1, hidden=128)`` is a 32x32 network of about 160,000 parameters.
"""

from nabla import nn
from nabla.models.resnet import check_weights
from nabla.tensor import Tensor

__all__ = ["VGG", "make_layers", "cfgs", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
           "vgg16_bn", "vgg19", "vgg19_bn"]

# numbers are the output channels of a 3x3 convolution, "M" a 2x2 max pool
cfgs: dict[str, list] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512,
          512, 512, "M"],
}


def make_layers(cfg: list, batch_norm: bool = False, in_channels: int = 3,
                width_mult: float = 1.0) -> nn.Sequential:
    """The convolutional part: conv3x3(pad 1) [-> BatchNorm2d] -> ReLU per number, MaxPool per M."""
    layers: list = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        out = max(1, int(round(v * width_mult)))
        layers.append(nn.Conv2d(in_channels, out, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU())
        in_channels = out
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """``features`` (3x3 convolutions and max pools), ``avgpool`` (adaptive average pool to
    pool_size x pool_size), ``classifier`` (three linear layers with ReLU and dropout).

    Args:
        features: the convolutional part, e.g. ``make_layers(cfgs['D'])``.
        num_classes: outputs.
        init_weights: He-normal convolutions, N(0, 0.01) linear layers, zero biases.
        dropout: dropout probability in the classifier.
        pool_size: side of the adaptive average pool (7 for 224x224 images).
        hidden: width of the two hidden linear layers (4096 in the paper).

    Shape: (N, C, H, W) -> (N, num_classes), with H and W at least 32 (five 2x2 pools).
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5, pool_size: int = 7, hidden: int = 4096) -> None:
        super().__init__()
        self.features = features
        channels = [m.out_channels for m in features.modules() if isinstance(m, nn.Conv2d)][-1]
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.classifier = nn.Sequential(
            nn.Linear(channels * pool_size * pool_size, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _vgg(cfg: str, batch_norm: bool, in_channels: int = 3, width_mult: float = 1.0,
         **kwargs) -> VGG:
    return VGG(make_layers(cfgs[cfg], batch_norm, in_channels, width_mult), **kwargs)


def vgg11(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 (configuration A: 8 convolutions + 3 linear layers); 132,863,336 parameters."""
    check_weights(weights, progress)
    return _vgg("A", False, **kwargs)


def vgg11_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 with batch norm after every convolution."""
    check_weights(weights, progress)
    return _vgg("A", True, **kwargs)


def vgg13(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 (configuration B); 133,047,848 parameters."""
    check_weights(weights, progress)
    return _vgg("B", False, **kwargs)


def vgg13_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 with batch norm."""
    check_weights(weights, progress)
    return _vgg("B", True, **kwargs)


def vgg16(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 (configuration D: 13 convolutions + 3 linear layers); 138,357,544 parameters."""
    check_weights(weights, progress)
    return _vgg("D", False, **kwargs)


def vgg16_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 with batch norm; 138,365,992 parameters."""
    check_weights(weights, progress)
    return _vgg("D", True, **kwargs)


def vgg19(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 (configuration E); 143,667,240 parameters."""
    check_weights(weights, progress)
    return _vgg("E", False, **kwargs)


def vgg19_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 with batch norm."""
    check_weights(weights, progress)
    return _vgg("E", True, **kwargs)
