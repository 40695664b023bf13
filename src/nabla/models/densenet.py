"""DenseNet (Huang et al., 2017): concatenate instead of add. Inside a dense block every layer
receives the feature maps of *all* earlier layers (stacked along channels) and adds only
``growth_rate`` new ones, so features are reused rather than relearned and each layer has a
short path to the loss. Layers can be very narrow (32 new channels); 1x1 "bottleneck"
convolutions and transition layers (1x1 convolution + 2x2 average pool) keep the width in check.

``densenet121`` has torchvision's layout (``features.denseblock1.denselayer1.norm1.weight``,
``features.transition1.conv.weight``, ``classifier``) and its 7,978,856 parameters.
``small_input=True`` replaces the 7x7/2 stem and max pool by one 3x3 convolution for 8x8 to
32x32 images.
"""

import nabla
from nabla import nn
from nabla.models.resnet import check_weights
from nabla.tensor import Tensor

__all__ = ["DenseNet", "densenet121"]


class _DenseLayer(nn.Module):
    """BN -> ReLU -> 1x1 conv (to bn_size * growth_rate) -> BN -> ReLU -> 3x3 conv (to
    growth_rate). Its input is the concatenation of all earlier maps of the block."""

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int,
                 drop_rate: float) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, features: list) -> Tensor:
        x = nabla.cat(features, 1) if len(features) > 1 else features[0]
        out = self.conv1(self.relu1(self.norm1(x)))
        out = self.conv2(self.relu2(self.norm2(out)))
        if self.drop_rate > 0:
            out = nn.functional.dropout(out, self.drop_rate, self.training)
        return out


class _DenseBlock(nn.Module):
    """``num_layers`` dense layers; the output stacks the input and every layer's new maps:
    num_input_features + num_layers * growth_rate channels."""

    def __init__(self, num_layers: int, num_input_features: int, bn_size: int,
                 growth_rate: int, drop_rate: float) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size,
                                drop_rate)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for layer in self.children():
            features.append(layer(features))
        return nabla.cat(features, 1)


class _Transition(nn.Sequential):
    """BN -> ReLU -> 1x1 conv (compress the channels) -> 2x2 average pool (halve the size)."""

    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(num_input_features))
        self.add_module("relu", nn.ReLU())
        self.add_module("conv", nn.Conv2d(num_input_features, num_output_features, 1,
                                          bias=False))
        self.add_module("pool", nn.AvgPool2d(2, 2))


class DenseNet(nn.Module):
    """DenseNet-BC: a stem, dense blocks separated by transitions that halve the channels, a final
    batch norm, global average pooling and a linear classifier.

    Args:
        growth_rate: new channels per dense layer (k in the paper).
        block_config: layers in each dense block, (6, 12, 24, 16) for DenseNet-121.
        num_init_features: channels of the stem convolution.
        bn_size: the 1x1 bottleneck has bn_size * growth_rate channels.
        drop_rate: dropout after each dense layer.
        num_classes: outputs.
        in_channels: input channels.
        small_input: a 3x3 stride-1 stem without max pooling (for 8x8 to 32x32 images).

    Shape: (N, in_channels, H, W) -> (N, num_classes).
    """

    def __init__(self, growth_rate: int = 32, block_config=(6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0.0,
                 num_classes: int = 1000, in_channels: int = 3,
                 small_input: bool = False) -> None:
        super().__init__()
        self.features = nn.Sequential()
        if small_input:
            self.features.add_module("conv0", nn.Conv2d(in_channels, num_init_features, 3,
                                                        padding=1, bias=False))
        else:
            self.features.add_module("conv0", nn.Conv2d(in_channels, num_init_features, 7,
                                                        stride=2, padding=3, bias=False))
        self.features.add_module("norm0", nn.BatchNorm2d(num_init_features))
        self.features.add_module("relu0", nn.ReLU())
        if not small_input:
            self.features.add_module("pool0", nn.MaxPool2d(3, stride=2, padding=1))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}",
                                         _Transition(num_features, num_features // 2))
                num_features //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        out = nn.functional.relu(self.features(x))
        out = nn.functional.adaptive_avg_pool2d(out, (1, 1)).flatten(1)
        return self.classifier(out)


def densenet121(*, weights=None, progress: bool = True, **kwargs) -> DenseNet:
    """DenseNet-121 (k = 32, blocks (6, 12, 24, 16)): 7,978,856 parameters for 1000 classes."""
    check_weights(weights, progress)
    return DenseNet(32, (6, 12, 24, 16), 64, **kwargs)
