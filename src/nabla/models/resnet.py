"""ResNet (He et al., 2015): skip connections. Each block learns a residual F(x) and outputs
F(x) + x, so a block that should do nothing only has to push F to zero, and the gradient reaches
early layers through the identity path undamped. Plain networks get *worse* with depth (higher
training error, not overfitting); residual networks of 50, 101, 152 layers keep improving.

ImageNet models (``resnet18`` ... ``resnet101``) have torchvision's layout: the same parameter
names, shapes and counts (ResNet-18: 11,689,512; ResNet-50: 25,557,032), so a torchvision
``state_dict`` loads unchanged. ``small_input=True`` swaps the 7x7/2 stem and max pool for one
3x3/1 convolution (the usual CIFAR adaptation); ``width_mult`` scales every channel count.

``resnet20`` / ``resnet56`` are the CIFAR networks of the paper's Section 4.2: 6n + 2 layers, three
stages of 16, 32, 64 channels, and parameter-free "option A" shortcuts (subsample, pad channels with
zeros) where the shape changes.
"""

from nabla import nn
from nabla.ops.join import pad
from nabla.tensor import Tensor

__all__ = ["check_weights", "BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34",
           "resnet50", "resnet101", "CifarResNet", "resnet20", "resnet56"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


def check_weights(weights, progress: bool = True) -> None:
    """torchvision's ``weights=`` / ``progress=`` arguments: nabla downloads nothing, so only
    ``weights=None`` (random initialization) is accepted. Load a state_dict instead."""
    del progress
    if weights is not None:
        raise ValueError(f"nabla.models ships no pretrained weights (got weights={weights!r}); "
                         "build with weights=None and load_state_dict() a saved state_dict")


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a skip: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).

    Used by ResNet-18/34. ``downsample`` maps x to the output's shape when the stride or the
    channel count changes (a 1x1 convolution and batch norm), else the shortcut is the identity.
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 (reduce to ``planes``) -> 3x3 -> 1x1 (expand to 4 * planes), plus the skip.

    Used by ResNet-50/101: the 3x3 convolution works on a quarter of the channels, so a deeper
    network costs about what a shallower one of basic blocks does. The stride sits on the 3x3
    convolution (torchvision's "ResNet v1.5").
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _init_resnet(model: nn.Module, zero_init_residual: bool) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:  # each block starts as the identity: its last BN scales by 0
        for m in model.modules():
            last = getattr(m, "bn3", None) if isinstance(m, Bottleneck) else \
                getattr(m, "bn2", None) if isinstance(m, BasicBlock) else None
            if last is not None:
                nn.init.zeros_(last.weight)


class ResNet(nn.Module):
    """The ImageNet ResNet: stem, four stages of blocks (64, 128, 256, 512 planes), global
    average pooling and a linear classifier.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18.
        num_classes: outputs of ``fc``.
        zero_init_residual: start each block's last batch-norm scale at 0.
        in_channels: input channels (3 for colour images).
        small_input: a 3x3 stride-1 stem without max pooling, for 8x8 to 32x32 images.
        width_mult: multiply every stage's width (64 * width_mult planes in the first stage).

    Shape: (N, in_channels, H, W) -> (N, num_classes).
    """

    def __init__(self, block, layers, num_classes: int = 1000, zero_init_residual: bool = False,
                 in_channels: int = 3, small_input: bool = False,
                 width_mult: float = 1.0) -> None:
        super().__init__()
        widths = [max(1, int(round(w * width_mult))) for w in (64, 128, 256, 512)]
        self.inplanes = widths[0]
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, 3, 1, 1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU()
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)
        _init_resnet(self, zero_init_residual)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2); 11,689,512 parameters with 1000 classes."""
    check_weights(weights, progress)
    return ResNet(BasicBlock, (2, 2, 2, 2), **kwargs)


def resnet34(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3); 21,797,672 parameters with 1000 classes."""
    check_weights(weights, progress)
    return ResNet(BasicBlock, (3, 4, 6, 3), **kwargs)


def resnet50(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50: bottlenecks (3, 4, 6, 3); 25,557,032 parameters with 1000 classes."""
    check_weights(weights, progress)
    return ResNet(Bottleneck, (3, 4, 6, 3), **kwargs)


def resnet101(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-101: bottlenecks (3, 4, 23, 3); 44,549,160 parameters with 1000 classes."""
    check_weights(weights, progress)
    return ResNet(Bottleneck, (3, 4, 23, 3), **kwargs)


class _ShortcutA(nn.Module):
    """Option A: take every ``stride``-th pixel and pad the new channels with zeros (no
    parameters), so the identity path carries x unchanged into the wider, smaller map."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.stride, self.extra = stride, planes - in_planes

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, ::self.stride, ::self.stride]
        half = self.extra // 2
        return pad(x, (0, 0, 0, 0, half, self.extra - half))


class CifarResNet(nn.Module):
    """The CIFAR ResNet of He et al. (Section 4.2): 6n + 2 layers.

    A 3x3 convolution to 16 channels, then three stages of ``n`` basic blocks at 16, 32 and 64
    channels (stride 2 at the start of the 2nd and 3rd), global average pooling, a linear layer.

    Args:
        n: blocks per stage (3 gives ResNet-20, 9 ResNet-56).
        num_classes: outputs.
        in_channels: input channels.
        shortcut: 'A' (parameter-free, the paper's choice) or 'B' (1x1 convolution + BN).
        residual: False drops every skip connection, giving the "plain" network of the same
            depth that the paper compares against (it trains worse).
        width: channels of the first stage (16 in the paper).

    Shape: (N, in_channels, H, W) -> (N, num_classes); any H, W >= 4 works (8x8 digits too).
    """

    def __init__(self, n: int = 3, num_classes: int = 10, in_channels: int = 3,
                 shortcut: str = "A", residual: bool = True, width: int = 16) -> None:
        super().__init__()
        if shortcut not in ("A", "B"):
            raise ValueError(f"CifarResNet: shortcut must be 'A' or 'B', got {shortcut!r}")
        self.residual = residual
        self.conv1 = conv3x3(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.inplanes = width
        self.layer1 = self._make_layer(width, n, 1, shortcut)
        self.layer2 = self._make_layer(2 * width, n, 2, shortcut)
        self.layer3 = self._make_layer(4 * width, n, 2, shortcut)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4 * width, num_classes)
        _init_resnet(self, False)

    def _make_layer(self, planes: int, n: int, stride: int, shortcut: str) -> nn.Sequential:
        blocks = []
        for i in range(n):
            s = stride if i == 0 else 1
            down = None
            if s != 1 or self.inplanes != planes:
                down = _ShortcutA(self.inplanes, planes, s) if shortcut == "A" else \
                    nn.Sequential(conv1x1(self.inplanes, planes, s), nn.BatchNorm2d(planes))
            block = BasicBlock(self.inplanes, planes, s, down) if self.residual else \
                _PlainBlock(self.inplanes, planes, s)
            blocks.append(block)
            self.inplanes = planes
        return nn.Sequential(*blocks)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


class _PlainBlock(BasicBlock):
    """A basic block without its skip connection: relu(bn2(conv2(relu(bn1(conv1(x))))))."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__(inplanes, planes, stride, None)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))


def resnet20(**kwargs) -> CifarResNet:
    """ResNet-20 for 32x32 images (n = 3): 269,722 parameters with option-A shortcuts."""
    return CifarResNet(3, **kwargs)


def resnet56(**kwargs) -> CifarResNet:
    """ResNet-56 (n = 9): 853,018 parameters with option-A shortcuts."""
    return CifarResNet(9, **kwargs)
