"""The CNN zoo: torchvision's parameter counts and state_dict layout for the ImageNet
configurations (built without drawing their random weights), and forwards of every family on
small inputs."""

import numpy
import pytest

import nabla
from nabla import models, nn


@pytest.fixture
def no_init(monkeypatch):
    """Build big models fast: the random fills leave the (uninitialized) tensors as they are.
    Counts, names and shapes do not depend on the values."""
    for name in ("uniform_", "normal_", "trunc_normal_"):
        monkeypatch.setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def shapes(model) -> dict:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


# torchvision's numbers (torchvision.models.<name>(weights=None), 1000 classes)
TORCHVISION_COUNTS = {
    "alexnet": 61_100_840, "vgg11": 132_863_336, "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240, "vgg19_bn": 143_678_248, "googlenet": 6_624_904,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "densenet121": 7_978_856,
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_COUNTS))
def test_parameter_counts_equal_torchvision(no_init, name):
    assert n_params(getattr(models, name)()) == TORCHVISION_COUNTS[name]


def test_googlenet_aux_classifiers_add_their_parameters(no_init):
    assert n_params(models.googlenet(aux_logits=True)) == 13_004_888


def test_cifar_resnets_have_the_papers_parameter_counts():
    # option-A shortcuts have no parameters: 0.27M and 0.85M in He et al., Table 6
    assert n_params(models.resnet20()) == 269_722
    assert n_params(models.resnet56()) == 853_018
    assert n_params(models.resnet20(shortcut="B")) > 269_722


def test_resnet_state_dict_layout(no_init):
    s18, s50 = shapes(models.resnet18()), shapes(models.resnet50())
    assert len(s18) == 122 and len(s50) == 320  # with BN's num_batches_tracked, as torchvision
    expected18 = {
        "conv1.weight": (64, 3, 7, 7), "bn1.running_mean": (64,), "bn1.num_batches_tracked": (),
        "layer1.0.conv1.weight": (64, 64, 3, 3), "layer1.1.bn2.running_var": (64,),
        "layer2.0.downsample.0.weight": (128, 64, 1, 1), "layer2.0.downsample.1.weight": (128,),
        "layer4.1.conv2.weight": (512, 512, 3, 3), "fc.weight": (1000, 512), "fc.bias": (1000,),
    }
    assert {k: s18[k] for k in expected18} == expected18
    assert "layer1.0.downsample.0.weight" not in s18
    expected50 = {
        "layer1.0.conv1.weight": (64, 64, 1, 1), "layer1.0.conv3.weight": (256, 64, 1, 1),
        "layer1.0.downsample.0.weight": (256, 64, 1, 1), "layer3.5.bn3.weight": (1024,),
        "layer4.0.conv2.weight": (512, 512, 3, 3), "layer4.2.conv3.weight": (2048, 512, 1, 1),
        "fc.weight": (1000, 2048),
    }
    assert {k: s50[k] for k in expected50} == expected50
    assert sum("conv" in k for k in s18) == 17 and "layer4.2.conv1.weight" not in s18


def test_vgg_and_alexnet_state_dict_layout(no_init):
    v16 = shapes(models.vgg16())
    conv_idx = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    names = [f"features.{i}" for i in conv_idx] + [f"classifier.{i}" for i in (0, 3, 6)]
    assert sorted(v16) == sorted(f"{n}.{p}" for n in names for p in ("weight", "bias"))
    assert v16["features.0.weight"] == (64, 3, 3, 3) and v16["features.28.weight"] == (
        512, 512, 3, 3)
    assert v16["classifier.0.weight"] == (4096, 25088) and v16["classifier.6.weight"] == (
        1000, 4096)
    v16bn = shapes(models.vgg16_bn())
    assert v16bn["features.1.running_mean"] == (64,) and v16bn["features.40.weight"] == (
        512, 512, 3, 3) and v16bn["features.41.weight"] == (512,) and len(v16bn) == 97
    a = shapes(models.alexnet())
    assert sorted(a) == sorted([f"features.{i}.{p}" for i in (0, 3, 6, 8, 10)
                                for p in ("weight", "bias")]
                               + [f"classifier.{i}.{p}" for i in (1, 4, 6)
                                  for p in ("weight", "bias")])
    assert a["features.0.weight"] == (64, 3, 11, 11) and a["classifier.1.weight"] == (4096, 9216)


def test_googlenet_and_densenet_state_dict_layout(no_init):
    g = shapes(models.googlenet())
    expected = {
        "conv1.conv.weight": (64, 3, 7, 7), "conv1.bn.running_var": (64,),
        "conv3.conv.weight": (192, 64, 3, 3),
        "inception3a.branch1.conv.weight": (64, 192, 1, 1),
        "inception3a.branch2.0.conv.weight": (96, 192, 1, 1),
        "inception3a.branch2.1.conv.weight": (128, 96, 3, 3),
        "inception3a.branch3.1.conv.weight": (32, 16, 3, 3),  # torchvision's 3x3 "5x5"
        "inception3a.branch4.1.conv.weight": (32, 192, 1, 1),
        "inception5b.branch4.1.bn.bias": (128,), "fc.weight": (1000, 1024),
    }
    assert {k: g[k] for k in expected} == expected
    assert not any(k.startswith("aux") for k in g) and not any("conv.bias" in k for k in g)
    ga = shapes(models.googlenet(aux_logits=True))
    assert ga["aux1.conv.conv.weight"] == (128, 512, 1, 1) and ga["aux2.fc1.weight"] == (
        1024, 2048) and ga["aux2.conv.conv.weight"] == (128, 528, 1, 1)
    d = shapes(models.densenet121())
    assert len(d) == 727
    expected = {
        "features.conv0.weight": (64, 3, 7, 7), "features.norm0.running_mean": (64,),
        "features.denseblock1.denselayer1.norm1.weight": (64,),
        "features.denseblock1.denselayer1.conv1.weight": (128, 64, 1, 1),
        "features.denseblock1.denselayer1.conv2.weight": (32, 128, 3, 3),
        "features.denseblock1.denselayer6.norm1.weight": (224,),
        "features.transition1.conv.weight": (128, 256, 1, 1),
        "features.denseblock4.denselayer16.conv2.weight": (32, 128, 3, 3),
        "features.norm5.weight": (1024,), "classifier.weight": (1000, 1024),
    }
    assert {k: d[k] for k in expected} == expected


def test_a_state_dict_round_trips_between_two_builds():
    a, b = models.resnet18(num_classes=5, small_input=True, width_mult=0.125), \
        models.resnet18(num_classes=5, small_input=True, width_mult=0.125)
    b.load_state_dict(a.state_dict())
    x = nabla.randn(2, 3, 8, 8)
    a.eval(), b.eval()
    with nabla.no_grad():
        numpy.testing.assert_allclose(a(x).numpy(), b(x).numpy(), rtol=1e-6)


SMALL = {
    "lenet5": (lambda: models.LeNet5(input_size=16), (2, 1, 16, 16)),
    "convnet": (lambda: models.ConvNet(channels=(8, 16)), (2, 1, 8, 8)),
    "alexnet_small": (lambda: models.AlexNetSmall(width=4, hidden=16), (2, 1, 8, 8)),
    "vgg11_bn": (lambda: models.vgg11_bn(width_mult=1 / 16, pool_size=1, hidden=16,
                                         num_classes=10), (2, 3, 32, 32)),
    "googlenet": (lambda: models.googlenet(width_mult=1 / 16, num_classes=10, aux_logits=True),
                  (2, 3, 32, 32)),
    "resnet18": (lambda: models.resnet18(small_input=True, width_mult=1 / 16, num_classes=10),
                 (2, 3, 8, 8)),
    "resnet50": (lambda: models.resnet50(width_mult=1 / 16, num_classes=10), (2, 3, 32, 32)),
    "resnet20": (lambda: models.resnet20(in_channels=1, width=4), (2, 1, 8, 8)),
    "densenet": (lambda: models.DenseNet(4, (2, 2), 8, num_classes=10, in_channels=1,
                                         small_input=True), (2, 1, 8, 8)),
    "cnn1d": (lambda: models.CNN1d(), (2, 1, 40)),
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_forward_and_backward_shapes(name):
    nabla.manual_seed(0)
    build, shape = SMALL[name]
    model = build()
    x = nabla.randn(*shape)
    out = model(x)
    if name == "googlenet":  # training mode: main and two auxiliary outputs
        assert [tuple(o.shape) for o in out] == [(2, 10)] * 3
        out = out.logits + 0.3 * (out.aux_logits1 + out.aux_logits2)
    assert tuple(out.shape) == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None and numpy.isfinite(p.grad.numpy()).all()
               for p in model.parameters())
    model.eval()
    with nabla.no_grad():
        assert tuple(model(x).shape) == (2, 10)  # eval: logits only, running statistics


def test_plain_cifar_network_drops_the_skips():
    plain = models.resnet20(residual=False, in_channels=1, width=4)
    res = models.resnet20(in_channels=1, width=4)
    assert n_params(plain) == n_params(res)  # option A: the skips cost no parameters
    assert all(m.downsample is None for m in plain.modules() if hasattr(m, "downsample"))


def test_zero_init_residual_starts_blocks_as_identity():
    m = models.resnet18(zero_init_residual=True, small_input=True, width_mult=1 / 16)
    assert all((b.bn2.weight.detach().numpy() == 0).all() for b in m.layer1)
    m = models.resnet50(zero_init_residual=True, width_mult=1 / 16)
    assert all((b.bn3.weight.detach().numpy() == 0).all() for b in m.layer4)
    assert (m.layer4[0].bn2.weight.detach().numpy() == 1).all()


def test_torchvision_weights_argument_accepts_only_none(no_init):
    assert n_params(models.resnet18(weights=None, progress=False)) == 11_689_512
    with pytest.raises(ValueError, match="pretrained"):
        models.vgg11(weights="IMAGENET1K_V1")


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="too small"):
        models.LeNet5(input_size=8)
    with pytest.raises(ValueError, match="shortcut"):
        models.resnet20(shortcut="C")
    with pytest.raises(ValueError, match="nothing"):
        models.CNN1d(length=2)
