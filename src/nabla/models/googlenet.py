"""GoogLeNet (Szegedy et al., 2014): the Inception block. Rather than choosing one kernel size,
each block runs 1x1, 3x3 and 5x5 convolutions and a 3x3 max pool side by side and concatenates
their channels. What makes it affordable is the 1x1 convolution used as a *reduction*: a 1x1
layer that cuts 192 channels to 16 before a 5x5 convolution costs 192*16 + 16*32*25 weights instead
of 192*32*25. 22 layers deep with 12x fewer parameters than AlexNet; two auxiliary classifiers on
intermediate layers added gradient during training.

``GoogLeNet`` has torchvision's layout (``conv1.conv.weight``, ``inception3a.branch2.1.bn.*``,
``fc``): 6,624,904 parameters without the auxiliary classifiers, 13,004,888 with them. As in
torchvision, the "5x5" branch uses a 3x3 kernel. ``width_mult`` scales every channel count for
small images.
"""

from collections import namedtuple

import nabla
from nabla import nn
from nabla.models.resnet import check_weights
from nabla.tensor import Tensor

__all__ = ["BasicConv2d", "Inception", "InceptionAux", "GoogLeNet", "googlenet",
           "GoogLeNetOutputs"]

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])


class BasicConv2d(nn.Module):
    """Convolution (no bias) -> BatchNorm2d(eps=0.001) -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Four parallel branches concatenated along channels: 1x1; 1x1 -> 3x3; 1x1 -> 3x3 (the
    paper's 5x5); 3x3 max pool -> 1x1. Output channels: ch1x1 + ch3x3 + ch5x5 + pool_proj."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                     BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                     BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     BasicConv2d(in_channels, pool_proj, kernel_size=1))

    def forward(self, x: Tensor) -> Tensor:
        return nabla.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """An auxiliary classifier on an intermediate map: 4x4 average pool, 1x1 conv to 128,
    linear 2048 -> 1024, ReLU, dropout 0.7, linear to the classes."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7,
                 width: int = 128, hidden: int = 1024) -> None:
        super().__init__()
        self.conv = BasicConv2d(in_channels, width, kernel_size=1)
        self.fc1 = nn.Linear(width * 16, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(nn.functional.adaptive_avg_pool2d(x, (4, 4))).flatten(1)
        return self.fc2(self.dropout(nn.functional.relu(self.fc1(x))))


# (in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj) of each Inception block, Table 1
_BLOCKS = {
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


class GoogLeNet(nn.Module):
    """GoogLeNet (Inception v1) with batch norm, as torchvision builds it.

    Args:
        num_classes: outputs.
        aux_logits: add the two auxiliary classifiers (after 4a and 4d); in training mode the
            forward then returns ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``.
        init_weights: truncated N(0, 0.01) for convolutions and linear layers.
        dropout: before ``fc``; ``dropout_aux`` in the auxiliary classifiers.
        in_channels: input channels.
        width_mult: scale every channel count (0.25 gives a 4x narrower network).

    Shape: (N, in_channels, H, W) -> (N, num_classes); H, W >= 32.
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = False,
                 init_weights: bool = True, dropout: float = 0.2, dropout_aux: float = 0.7,
                 in_channels: int = 3, width_mult: float = 1.0) -> None:
        super().__init__()

        def c(n: int) -> int:
            return max(1, int(round(n * width_mult)))

        self.aux_logits = aux_logits
        self.conv1 = BasicConv2d(in_channels, c(64), kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(c(64), c(64), kernel_size=1)
        self.conv3 = BasicConv2d(c(64), c(192), kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        in_ch, taps = c(192), {}
        for name, spec in _BLOCKS.items():
            out = [c(n) for n in spec[1:]]
            setattr(self, f"inception{name}", Inception(in_ch, *out))
            in_ch = taps[name] = out[0] + out[2] + out[4] + out[5]
            if name == "3b":
                self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            elif name == "4e":
                self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        if aux_logits:
            self.aux1 = InceptionAux(taps["4a"], num_classes, dropout_aux, c(128), c(1024))
            self.aux2 = InceptionAux(taps["4d"], num_classes, dropout_aux, c(128), c(1024))
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_ch, num_classes)
        if init_weights:
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)

    def forward(self, x: Tensor):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(self.avgpool(x).flatten(1)))
        if self.aux_logits and self.training:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


def googlenet(*, weights=None, progress: bool = True, **kwargs) -> GoogLeNet:
    """GoogLeNet: 6,624,904 parameters for 1000 classes without auxiliary classifiers."""
    check_weights(weights, progress)
    return GoogLeNet(**kwargs)
