"""Ports of the "Training a classifier" tutorial (CIFAR-10) and of pytorch/examples mnist (see
harness.py for how a port test works)."""

import numpy as np
import pytest
from harness import CONV_TRAINING, assert_agree, run_both, run_nabla

CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


# -- "Training a classifier" (CIFAR-10) -----------------------------------------------------------
def cifar_net(torch, nn, F):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)  # flatten all dimensions except batch
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net


def accuracy_on_test_data(torch, net, testloader):
    """The tutorial's "Test the network on the test data": overall and per class."""
    correct, total = 0, 0
    correct_pred = {classname: 0 for classname in CLASSES}
    total_pred = {classname: 0 for classname in CLASSES}
    with torch.no_grad():
        for images_, targets in testloader:
            outputs = net(images_)
            _, predicted = torch.max(outputs.data, 1)
            total += targets.size(0)
            correct += (predicted == targets).sum().item()
            for label, prediction in zip(targets, predicted):
                if label == prediction:
                    correct_pred[CLASSES[label]] += 1
                total_pred[CLASSES[label]] += 1
    accuracy = {c: 100 * float(correct_pred[c]) / max(total_pred[c], 1) for c in CLASSES}
    return {"correct": correct, "total": total, "per_class": accuracy, "last_outputs": outputs}


def cifar_classifier(torch, nn, F, optim, data, twin, images, labels, path):
    trainset = data.TensorDataset(torch.from_numpy(images[:16]), torch.from_numpy(labels[:16]))
    testset = data.TensorDataset(torch.from_numpy(images[16:]), torch.from_numpy(labels[16:]))
    trainloader = data.DataLoader(trainset, batch_size=4, shuffle=False, num_workers=0)
    testloader = data.DataLoader(testset, batch_size=4, shuffle=False, num_workers=0)
    Net = cifar_net(torch, nn, F)
    net = twin.model(Net())
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    epoch_losses = []
    for _epoch in range(2):
        running_loss = 0.0
        for _i, batch in enumerate(trainloader, 0):
            inputs, targets = batch
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        epoch_losses.append(running_loss / len(trainloader))
    torch.save(net.state_dict(), path)
    net = Net()
    net.load_state_dict(torch.load(path, weights_only=True))
    return {"losses": epoch_losses, **accuracy_on_test_data(torch, net, testloader)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cifar_classifier(dtype, rng, tmp_path):
    images = rng.standard_normal((24, 3, 32, 32)).astype(dtype)
    labels = rng.integers(0, 10, 24)
    want, got = run_both(cifar_classifier, dtype, images=images, labels=labels,
                         path=tmp_path / "net.pth")
    assert_agree(want, got, dtype, CONV_TRAINING)
    assert want["total"] == 8 and want["losses"][1] < want["losses"][0]


# -- pytorch/examples mnist -----------------------------------------------------------------------
def mnist_net(torch, nn, F, p_drop):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, 1)
            self.conv2 = nn.Conv2d(8, 16, 3, 1)
            self.dropout1 = nn.Dropout(p_drop / 2)
            self.dropout2 = nn.Dropout(p_drop)
            self.fc1 = nn.Linear(16 * 6 * 6, 32)
            self.fc2 = nn.Linear(32, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output

    return Net


def mnist_train(F, model, device, train_loader, optimizer, epoch, log):
    model.train()
    for batch_idx, (data_, target) in enumerate(train_loader):
        data_, target = data_.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data_)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        log.append(loss.item())
        if batch_idx % 2 == 0:
            "Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                epoch, batch_idx * len(data_), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item())


def mnist_test(torch, F, model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data_, target in test_loader:
            data_, target = data_.to(device), target.to(device)
            output = model(data_)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct


def mnist(torch, nn, F, optim, data, twin, images, labels, p_drop=0.0, epochs=2):
    from_numpy = torch.from_numpy
    use_cuda = torch.cuda.is_available()
    use_mps = torch.backends.mps.is_available()
    if use_cuda:
        device = torch.device("cuda")
    elif use_mps:
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    train_kwargs = {"batch_size": 8}
    test_kwargs = {"batch_size": 16}
    dataset1 = data.TensorDataset(from_numpy(images[:24]), from_numpy(labels[:24]))
    dataset2 = data.TensorDataset(from_numpy(images[24:]), from_numpy(labels[24:]))
    train_loader = data.DataLoader(dataset1, **train_kwargs)
    test_loader = data.DataLoader(dataset2, **test_kwargs)
    model = twin.model(mnist_net(torch, nn, F, p_drop)()).to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    log, tests, lrs = [], [], []
    for epoch in range(1, epochs + 1):
        mnist_train(F, model, device, train_loader, optimizer, epoch, log)
        tests.append(mnist_test(torch, F, model, device, test_loader))
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return {"train_losses": log, "tests": [list(t) for t in tests], "lrs": lrs}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mnist(dtype, rng):
    images = rng.standard_normal((40, 1, 16, 16)).astype(dtype)
    labels = rng.integers(0, 10, 40)
    want, got = run_both(mnist, dtype, images=images, labels=labels)
    assert_agree(want, got, dtype, CONV_TRAINING)
    assert want["lrs"] == pytest.approx([0.7, 0.49])


def test_mnist_with_dropout_trains(rng):
    """Dropout masks differ between the frameworks: only the course of the loss is checked."""
    images = rng.standard_normal((40, 1, 16, 16)).astype(np.float32)
    labels = (images[:, 0, :4].mean((1, 2)) > 0).astype(np.int64)
    out = run_nabla(mnist, images=images, labels=labels, p_drop=0.5, epochs=4)
    losses = out["train_losses"]
    assert np.isfinite(losses).all() and np.mean(losses[-3:]) < np.mean(losses[:3])
