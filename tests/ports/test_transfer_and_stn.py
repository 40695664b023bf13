"""Ports of the "Transfer learning" tutorial (a small ResNet as the pretrained model, as a fixed
feature extractor and finetuned; nabla.models.resnet18 with a new head) and of the "Spatial
transformer networks" tutorial (see harness.py for how a port test works)."""

import copy

import numpy as np
import pytest
from harness import CONV_TRAINING, Twin, assert_agree, run_both

import nabla
import nabla.nn
import nabla.nn.functional
import nabla.optim


# -- "Transfer learning": a pretrained ResNet as a fixed feature extractor ------------------------
def resnet(torch, nn):
    """A two-block ResNet in torchvision's layout, standing for the pretrained resnet18."""

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        def __init__(self, num_classes=1000):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            down = nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))
            self.layer1 = nn.Sequential(BasicBlock(8, 8))
            self.layer2 = nn.Sequential(BasicBlock(8, 16, 2, down))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(16 * BasicBlock.expansion, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer2(self.layer1(x))
            x = torch.flatten(self.avgpool(x), 1)
            return self.fc(x)

    return ResNet


def train_model(torch, model, criterion, optimizer, scheduler, dataloaders, dataset_sizes,
                num_epochs=3):
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc, history = 0.0, []
    for _epoch in range(num_epochs):
        for phase in ["train", "val"]:
            if phase == "train":
                model.train()
            else:
                model.eval()
            running_loss = 0.0
            running_corrects = 0
            for inputs, labels_ in dataloaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels_)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels_.data)
            if phase == "train":
                scheduler.step()
            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            history.append([epoch_loss, epoch_acc.item()])
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_model_wts)
    return model, history, best_acc


def transfer_learning(torch, nn, F, optim, data, twin, images, labels, freeze=True):
    lr_scheduler = optim.lr_scheduler
    x, y = torch.from_numpy(images), torch.from_numpy(labels)
    image_datasets = {"train": data.TensorDataset(x[:12], y[:12]),
                      "val": data.TensorDataset(x[12:], y[12:])}
    dataloaders = {k: data.DataLoader(v, batch_size=4, shuffle=False)
                   for k, v in image_datasets.items()}
    dataset_sizes = {k: len(v) for k, v in image_datasets.items()}

    model_conv = twin.model(resnet(torch, nn)())  # stands for the pretrained weights
    if freeze:  # ConvNet as fixed feature extractor
        for param in model_conv.parameters():
            param.requires_grad = False
    num_ftrs = model_conv.fc.in_features
    model_conv.fc = twin.model(nn.Linear(num_ftrs, 2))  # new modules require grad by default
    criterion = nn.CrossEntropyLoss()
    if freeze:
        optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.1, momentum=0.9)
    else:  # finetuning the whole ConvNet
        optimizer_conv = optim.SGD(model_conv.parameters(), lr=0.01, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=2, gamma=0.1)
    model_conv, history, best_acc = train_model(torch, model_conv, criterion, optimizer_conv,
                                                exp_lr_scheduler, dataloaders, dataset_sizes)
    frozen = [not p.requires_grad for p in model_conv.layer1.parameters()]
    model_conv.eval()
    with torch.no_grad():
        outputs = model_conv(x[12:])
    return {"history": history, "best_acc": best_acc, "frozen": all(frozen),
            "fc": model_conv.fc.weight, "running_mean": model_conv.bn1.running_mean,
            "outputs": outputs, "lr": optimizer_conv.param_groups[0]["lr"]}


@pytest.mark.parametrize("freeze", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transfer_learning(dtype, freeze, rng):
    images = rng.standard_normal((20, 3, 12, 12)).astype(dtype)
    labels = rng.integers(0, 2, 20)
    want, got = run_both(transfer_learning, dtype, images=images, labels=labels, freeze=freeze)
    assert_agree(want, got, dtype, CONV_TRAINING)
    assert want["frozen"] is freeze


def test_transfer_learning_on_the_model_zoo_resnet18():
    """nabla.models.resnet18 (torchvision's layout): replace the head, train only it."""
    from nabla import models

    model = models.resnet18()
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nabla.nn.Linear(model.fc.in_features, 2)
    optimizer = nabla.optim.SGD(model.fc.parameters(), lr=0.01, momentum=0.9)
    x, y = nabla.randn(2, 3, 32, 32), nabla.tensor([0, 1])
    loss = nabla.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    assert model.conv1.weight.grad is None and model.fc.weight.grad is not None
    assert sorted(model.state_dict())[:2] == ["bn1.bias", "bn1.num_batches_tracked"]


# -- the spatial transformer tutorial -------------------------------------------------------------
def stn_net(torch, nn, F, p_drop):
    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn.Dropout2d(p_drop)
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)
            self.localization = nn.Sequential(
                nn.Conv2d(1, 8, kernel_size=7),
                nn.MaxPool2d(2, stride=2),
                nn.ReLU(True),
                nn.Conv2d(8, 10, kernel_size=5),
                nn.MaxPool2d(2, stride=2),
                nn.ReLU(True),
            )
            self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True),
                                        nn.Linear(32, 3 * 2))
            # Initialize the weights/bias with identity transformation
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

        def stn(self, x):
            xs = self.localization(x)
            xs = xs.view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs)
            theta = theta.view(-1, 2, 3)
            grid = F.affine_grid(theta, x.size())
            return F.grid_sample(x, grid)

        def forward(self, x):
            x = self.stn(x)
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = F.relu(self.fc1(x))
            x = F.dropout(x, p=p_drop, training=self.training)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    return Net


def spatial_transformer(torch, nn, F, optim, data, twin, images, labels, p_drop=0.0):
    model = stn_net(torch, nn, F, p_drop)()
    with torch.no_grad():
        x0 = torch.from_numpy(images[:4])
        identity_error = (model.stn(x0) - x0).abs().max().item()
    twin.model(model)
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    train_loader = data.DataLoader(
        data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)), batch_size=8)
    losses = []
    for _epoch in range(1, 3):
        model.train()
        for _batch_idx, (data_, target) in enumerate(train_loader):
            optimizer.zero_grad()
            output = model(data_)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        model.eval()
        input_tensor = torch.from_numpy(images[:4]).cpu()
        transformed_input_tensor = model.stn(input_tensor).cpu()
        theta = model.fc_loc(model.localization(input_tensor).view(-1, 90))
    return {"identity_error": identity_error, "losses": losses, "theta": theta,
            "transformed": transformed_input_tensor}


@pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_spatial_transformer(dtype, rng):
    """The identity init samples every pixel at its centre, where bilinear sampling has a kink:
    the gradient to theta there depends on the last bit of affine_grid's coordinates (PyTorch's
    come from its vectorized linspace). The runs start from a slightly shifted theta. Sample
    points still cross pixel boundaries as theta moves, and where float32's rounding puts one on
    the other side of a kink the gradient jumps and the runs part (theta by ~0.02 after four
    steps for some seeds): float64 compares the whole run, float32 the first step's loss."""
    images = rng.standard_normal((16, 1, 28, 28)).astype(dtype)
    labels = rng.integers(0, 10, 16)
    twin = Twin(jitter=("fc_loc.2.bias",))
    want, got = run_both(spatial_transformer, dtype, twin=twin, images=images, labels=labels)
    if dtype == np.float64:
        assert_agree(want, got, dtype, CONV_TRAINING)
    else:
        assert_agree(want["losses"][:1], got["losses"][:1], dtype, CONV_TRAINING)
        assert np.isfinite(got["losses"]).all() and got["theta"].shape == want["theta"].shape
    # identity theta, align_corners=False: the input back, up to the rounding of the grid's
    # coordinates times the images' pixel differences
    assert want["identity_error"] < (1e-4 if dtype == np.float32 else 1e-12)
