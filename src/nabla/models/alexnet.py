"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012): the network that won ImageNet 2012 by a wide
margin and started the deep-learning era. What it brought: ReLU instead of tanh/sigmoid (no
saturation, several times faster training), training on GPUs, dropout in the large linear layers
against overfitting, heavy data augmentation, and depth (five convolutions, three linear layers).

``AlexNet`` has torchvision's single-tower layout (``features.0`` ... ``classifier.6``) and its
61,100,840 parameters. ``AlexNetSmall`` keeps the shape of the idea (five ReLU convolutions, three
pools, a dropout classifier) at a size for 8x8 to 32x32 images.
"""

from nabla import nn
from nabla.models.resnet import check_weights
from nabla.tensor import Tensor

__all__ = ["AlexNet", "alexnet", "AlexNetSmall"]


class AlexNet(nn.Module):
    """The torchvision AlexNet for 224x224 images.

    Args:
        num_classes: outputs.
        dropout: dropout probability before the first two linear layers.

    Shape: (N, 3, H, W) -> (N, num_classes); H, W >= 63 (224 in the paper).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def alexnet(*, weights=None, progress: bool = True, **kwargs) -> AlexNet:
    """AlexNet with 61,100,840 parameters for 1000 classes."""
    check_weights(weights, progress)
    return AlexNet(**kwargs)


class AlexNetSmall(nn.Module):
    """AlexNet's design at a small scale: 3x3 convolutions with padding, max pools after the first,
    second and fifth, and a ReLU + dropout classifier.

    Args:
        in_channels: input channels (1 for grey images).
        num_classes: outputs.
        width: channels of the first convolution; the others follow AlexNet's ratios
            (64 : 192 : 384 : 256 : 256).
        hidden: width of the two hidden linear layers.
        dropout: dropout probability in the classifier.

    Shape: (N, in_channels, H, W) -> (N, num_classes) for H, W >= 8 (the last pool is adaptive).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 16,
                 hidden: int = 256, dropout: float = 0.5) -> None:
        super().__init__()
        c1, c2, c3, c4 = width, 3 * width, 6 * width, 4 * width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c4, c4, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveMaxPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c4 * 4, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))
