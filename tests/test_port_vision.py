"""Vision and generative tutorial programs, ported by changing the imports.

Each program is written once, as a function of the framework's names (``torch, nn, F, optim,
data`` exactly as after ``import torch; from torch import nn; ...``), after the PyTorch tutorials
and pytorch/examples: the CIFAR-10 classifier, MNIST, DCGAN, the VAE, transfer learning, the
spatial transformer, super-resolution, fast neural style and neural style transfer with LBFGS.
Each runs once on PyTorch and once on nabla from the same data and the same initial weights (a
``Twin`` copies them), and the losses, accuracies and outputs must agree.
"""

import contextlib
import copy
import math

import numpy as np
import pytest
import torch as _torch
import torch.nn as _tnn
import torch.nn.functional as _tF
import torch.optim as _toptim
import torch.utils.data as _tdata

import nabla
import nabla.nn as _nnn
import nabla.nn.functional as _nF
import nabla.optim as _noptim
import nabla.utils.data as _ndata

TORCH = (_torch, _tnn, _tF, _toptim, _tdata)
NABLA = (nabla, _nnn, _nF, _noptim, _ndata)
# Tolerances of a whole run (several optimizer steps), per dtype of the run.
RUN_TOL = {np.float32: {"rtol": 2e-3, "atol": 2e-4}, np.float64: {"rtol": 1e-7, "atol": 1e-9}}


class Twin:
    """What a ported script needs from its test so that both runs start alike.

    ``model(m)`` records the module's ``state_dict`` in the PyTorch run and loads it in the nabla
    run (calls are matched by their order); ``randn(torch, *shape)`` gives the same normal noise
    in both runs, where the script would draw fresh noise. ``jitter`` names entries of the
    state that get a small random shift in the PyTorch run before they are recorded.
    """

    def __init__(self, seed: int = 0, copy: bool = True, jitter: tuple = ()) -> None:
        self.seed, self.copy, self.jitter = seed, copy, jitter
        self.saved: list[dict] = []
        self.calls = 0
        self.noise_calls = 0

    def start(self, lib) -> None:
        self.lib, self.calls, self.noise_calls = lib, 0, 0

    def model(self, module):
        if not self.copy:
            return module
        if self.lib is _torch:
            with _torch.no_grad():
                for k in self.jitter:
                    p = module.get_parameter(k)
                    p.add_(1e-2 * _torch.randn(p.shape, dtype=p.dtype))
            self.saved.append({k: v.detach().numpy().copy()
                               for k, v in module.state_dict().items()})
        else:
            state = self.saved[self.calls]
            module.load_state_dict({k: nabla.tensor(v.copy()) for k, v in state.items()})
        self.calls += 1
        return module

    def randn(self, lib, *shape):
        rng = np.random.default_rng(self.seed + 1000 * self.noise_calls)
        self.noise_calls += 1
        dtype = np.float64 if lib.get_default_dtype() == lib.float64 else np.float32
        return lib.from_numpy(rng.standard_normal(shape).astype(dtype))

    def randn_like(self, lib, like):
        return self.randn(lib, *like.shape).to(like.dtype)


@contextlib.contextmanager
def default_dtype(lib, dtype):
    old = lib.get_default_dtype()
    lib.set_default_dtype(lib.float64 if dtype == np.float64 else lib.float32)
    try:
        yield
    finally:
        lib.set_default_dtype(old)


def as_numpy(value):
    """Results of a script (tensors, numbers, lists and dicts of them) as NumPy values."""
    if isinstance(value, (_torch.Tensor, nabla.Tensor)):
        return np.asarray(value.detach().numpy())
    if isinstance(value, dict):
        return {k: as_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_numpy(v) for v in value]
    return value


def assert_same(got, want, dtype, what: str = "result") -> None:
    if isinstance(want, dict):
        assert got.keys() == want.keys(), what
        for k in want:
            assert_same(got[k], want[k], dtype, f"{what}[{k!r}]")
    elif isinstance(want, list):
        assert len(got) == len(want), what
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, dtype, f"{what}[{i}]")
    elif isinstance(want, (int, bool, str)) or want is None:
        assert got == want, f"{what}: {got!r} != {want!r}"
    else:
        got, want = np.asarray(got), np.asarray(want)
        assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
        np.testing.assert_allclose(got, want, err_msg=what, **RUN_TOL[dtype])


def run_both(script, dtype, *args, twin=None, **kwargs):
    """Run ``script`` on PyTorch, then on nabla, with one Twin; compare and return the results."""
    twin = twin or Twin()
    results = []
    for lib in TORCH, NABLA:
        twin.start(lib[0])
        with default_dtype(lib[0], dtype):
            results.append(as_numpy(script(*lib, twin, *args, **kwargs)))
    assert_same(results[1], results[0], dtype)
    return results


# -- "Training a classifier" (CIFAR-10) -----------------------------------------------------------
def cifar_classifier(torch, nn, F, optim, data, twin, images, labels, path):
    classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

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

    trainset = data.TensorDataset(torch.from_numpy(images[:16]), torch.from_numpy(labels[:16]))
    testset = data.TensorDataset(torch.from_numpy(images[16:]), torch.from_numpy(labels[16:]))
    trainloader = data.DataLoader(trainset, batch_size=4, shuffle=False, num_workers=0)
    testloader = data.DataLoader(testset, batch_size=4, shuffle=False, num_workers=0)
    net = twin.model(Net())
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    epoch_losses = []
    for epoch in range(2):
        running_loss = 0.0
        for i, batch in enumerate(trainloader, 0):
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

    correct, total = 0, 0
    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    with torch.no_grad():
        for images_, targets in testloader:
            outputs = net(images_)
            _, predicted = torch.max(outputs.data, 1)
            total += targets.size(0)
            correct += (predicted == targets).sum().item()
            for label, prediction in zip(targets, predicted):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    accuracy = {c: 100 * float(correct_pred[c]) / max(total_pred[c], 1) for c in classes}
    return {"losses": epoch_losses, "correct": correct, "total": total, "per_class": accuracy,
            "last_outputs": outputs}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cifar_classifier(dtype, rng, tmp_path):
    images = rng.standard_normal((24, 3, 32, 32)).astype(dtype)
    labels = rng.integers(0, 10, 24)
    want, got = run_both(cifar_classifier, dtype, images, labels, tmp_path / "net.pth")
    assert want["total"] == 8 and want["losses"][1] < want["losses"][0]


# -- pytorch/examples mnist -----------------------------------------------------------------------
def mnist(torch, nn, F, optim, data, twin, images, labels, p_drop=0.0, epochs=2):
    from_numpy = torch.from_numpy

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

    def train(model, device, train_loader, optimizer, epoch, log):
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

    def test(model, device, test_loader):
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
    model = twin.model(Net()).to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    log, tests, lrs = [], [], []
    for epoch in range(1, epochs + 1):
        train(model, device, train_loader, optimizer, epoch, log)
        tests.append(test(model, device, test_loader))
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return {"train_losses": log, "tests": [list(t) for t in tests], "lrs": lrs}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mnist(dtype, rng):
    images = rng.standard_normal((40, 1, 16, 16)).astype(dtype)
    labels = rng.integers(0, 10, 40)
    want, _ = run_both(mnist, dtype, images, labels)
    assert want["lrs"] == pytest.approx([0.7, 0.49])


def test_mnist_with_dropout_trains(rng):
    """Dropout masks differ between the frameworks: only the course of the loss is checked."""
    images = rng.standard_normal((40, 1, 16, 16)).astype(np.float32)
    labels = (images[:, 0, :4].mean((1, 2)) > 0).astype(np.int64)
    twin = Twin(copy=False)
    twin.start(nabla)
    out = mnist(*NABLA, twin, images, labels, p_drop=0.5, epochs=4)
    losses = out["train_losses"]
    assert np.isfinite(losses).all() and np.mean(losses[-3:]) < np.mean(losses[:3])


# -- the DCGAN tutorial ---------------------------------------------------------------------------
def dcgan(torch, nn, F, optim, data, twin, images, init_stats=None):
    nc, nz, ngf, ndf = 3, 8, 8, 8
    lr, beta1, ngpu = 0.0002, 0.5, 0
    torch.backends.cudnn.benchmark = True

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    class Generator(nn.Module):
        def __init__(self, ngpu):
            super(Generator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),  # (ngf*4) x 4 x 4
                nn.BatchNorm2d(ngf * 4),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # 8 x 8
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),  # nc x 16 x 16
                nn.Tanh(),
            )

        def forward(self, input):
            return self.main(input)

    class Discriminator(nn.Module):
        def __init__(self, ngpu):
            super(Discriminator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # ndf x 8 x 8
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # (ndf*2) x 4 x 4
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
                nn.Sigmoid(),
            )

        def forward(self, input):
            return self.main(input)

    device = torch.device("cuda:0" if (torch.cuda.is_available() and ngpu > 0) else "cpu")
    netG = Generator(ngpu).to(device)
    netG.apply(weights_init)
    netD = Discriminator(ngpu).to(device)
    netD.apply(weights_init)
    if init_stats is not None:
        init_stats.update(g_std=netG.main[0].weight.std().item(),
                          d_bn_weight_mean=netD.main[3].weight.mean().item(),
                          d_bn_bias=netD.main[3].bias.abs().max().item())
    twin.model(netG)
    twin.model(netD)

    criterion = nn.BCELoss()
    fixed_noise = twin.randn(torch, 6, nz, 1, 1)
    real_label, fake_label = 1., 0.
    optimizerD = optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))
    dataloader = data.DataLoader(data.TensorDataset(torch.from_numpy(images)), batch_size=4)
    G_losses, D_losses, stats = [], [], []
    for epoch in range(2):
        for i, batch in enumerate(dataloader, 0):
            # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real_cpu = batch[0].to(device)
            b_size = real_cpu.size(0)
            label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
            output = netD(real_cpu).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            noise = twin.randn(torch, b_size, nz, 1, 1)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()
            # (2) Update G: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for generator cost
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()
            G_losses.append(errG.item())
            D_losses.append(errD.item())
            stats.append([D_x, D_G_z1, D_G_z2])
    with torch.no_grad():
        fake = netG(fixed_noise).detach().cpu()
    return {"G": G_losses, "D": D_losses, "stats": stats, "fake": fake,
            "running_var": netD.main[3].running_var}


def test_dcgan(rng):
    images = np.tanh(rng.standard_normal((8, 3, 16, 16))).astype(np.float32)
    stats = {}
    twin = Twin()
    results = []
    for lib in TORCH, NABLA:
        twin.start(lib[0])
        stats[lib[0].__name__] = {}
        results.append(as_numpy(dcgan(*lib, twin, images, stats[lib[0].__name__])))
    assert_same(results[1], results[0], np.float32)
    for name, s in stats.items():  # weights_init ran through model.apply
        assert 0.015 < s["g_std"] < 0.025, (name, s)
        assert abs(s["d_bn_weight_mean"] - 1) < 0.02 and s["d_bn_bias"] == 0, (name, s)


# -- pytorch/examples VAE -------------------------------------------------------------------------
def vae(torch, nn, F, optim, data, twin, images, fixed_noise=True):
    n_in, n_hid, n_z = 64, 32, 4
    randn_like = (lambda t: twin.randn_like(torch, t)) if fixed_noise else torch.randn_like

    class VAE(nn.Module):
        def __init__(self):
            super(VAE, self).__init__()
            self.fc1 = nn.Linear(n_in, n_hid)
            self.fc21 = nn.Linear(n_hid, n_z)
            self.fc22 = nn.Linear(n_hid, n_z)
            self.fc3 = nn.Linear(n_z, n_hid)
            self.fc4 = nn.Linear(n_hid, n_in)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            eps = randn_like(std)
            return mu + eps * std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, n_in))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, n_in), reduction="sum")
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD

    device = torch.device("cpu")
    model = twin.model(VAE().to(device))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    train_set = data.TensorDataset(torch.from_numpy(images[:32]), torch.zeros(32))
    test_set = data.TensorDataset(torch.from_numpy(images[32:]), torch.zeros(8))
    train_loader = data.DataLoader(train_set, batch_size=8, shuffle=False)
    test_loader = data.DataLoader(test_set, batch_size=8, shuffle=False)
    train_losses, test_losses = [], []
    for epoch in range(1, 4):
        model.train()
        train_loss = 0
        for batch_idx, (data_, _) in enumerate(train_loader):
            data_ = data_.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data_)
            loss = loss_function(recon_batch, data_, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        train_losses.append(train_loss / len(train_loader.dataset))
        model.eval()
        test_loss = 0
        with torch.no_grad():
            for i, (data_, _) in enumerate(test_loader):
                recon_batch, mu, logvar = model(data_)
                test_loss += loss_function(recon_batch, data_, mu, logvar).item()
                if i == 0:
                    n = min(data_.size(0), 4)
                    comparison = torch.cat([data_[:n], recon_batch.view(8, 1, 8, 8)[:n]])
        test_losses.append(test_loss / len(test_loader.dataset))
        with torch.no_grad():
            sample = twin.randn(torch, 16, n_z) if fixed_noise else torch.randn(16, n_z)
            sample = model.decode(sample).cpu()
    return {"train": train_losses, "test": test_losses, "comparison": comparison,
            "sample": sample.view(16, 1, 8, 8)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vae(dtype, rng):
    images = rng.uniform(0, 1, (40, 1, 8, 8)).astype(dtype)
    want, _ = run_both(vae, dtype, images)
    assert want["train"][-1] < want["train"][0]


def test_vae_with_fresh_noise_trains(rng):
    images = (rng.uniform(0, 1, (40, 1, 8, 8)) > 0.5).astype(np.float32)
    twin = Twin(copy=False)
    twin.start(nabla)
    out = as_numpy(vae(*NABLA, twin, images, fixed_noise=False))
    assert np.isfinite(out["train"]).all() and out["train"][-1] < out["train"][0]
    assert out["sample"].shape == (16, 1, 8, 8)


# -- "Transfer learning": a pretrained ResNet as a fixed feature extractor ------------------------
def transfer_learning(torch, nn, F, optim, data, twin, images, labels, freeze=True):
    lr_scheduler = optim.lr_scheduler

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

    def train_model(model, criterion, optimizer, scheduler, num_epochs=3):
        best_model_wts = copy.deepcopy(model.state_dict())
        best_acc, history = 0.0, []
        for epoch in range(num_epochs):
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

    x, y = torch.from_numpy(images), torch.from_numpy(labels)
    image_datasets = {"train": data.TensorDataset(x[:12], y[:12]),
                      "val": data.TensorDataset(x[12:], y[12:])}
    dataloaders = {k: data.DataLoader(v, batch_size=4, shuffle=False)
                   for k, v in image_datasets.items()}
    dataset_sizes = {k: len(v) for k, v in image_datasets.items()}

    model_conv = twin.model(ResNet())  # stands for the pretrained weights
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
    model_conv, history, best_acc = train_model(model_conv, criterion, optimizer_conv,
                                                exp_lr_scheduler)
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
    want, _ = run_both(transfer_learning, dtype, images, labels, freeze=freeze)
    assert want["frozen"] is freeze


def test_transfer_learning_on_the_model_zoo_resnet18():
    """nabla.models.resnet18 (torchvision's layout): replace the head, train only it."""
    from nabla import models

    model = models.resnet18()
    for param in model.parameters():
        param.requires_grad = False
    model.fc = _nnn.Linear(model.fc.in_features, 2)
    optimizer = _noptim.SGD(model.fc.parameters(), lr=0.01, momentum=0.9)
    x, y = nabla.randn(2, 3, 32, 32), nabla.tensor([0, 1])
    loss = _nF.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    assert model.conv1.weight.grad is None and model.fc.weight.grad is not None
    assert sorted(model.state_dict())[:2] == ["bn1.bias", "bn1.num_batches_tracked"]


# -- the spatial transformer tutorial -------------------------------------------------------------
def spatial_transformer(torch, nn, F, optim, data, twin, images, labels, p_drop=0.0):
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

    model = Net()
    with torch.no_grad():
        x0 = torch.from_numpy(images[:4])
        identity_error = (model.stn(x0) - x0).abs().max().item()
    twin.model(model)
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    train_loader = data.DataLoader(
        data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)), batch_size=8)
    losses = []
    for epoch in range(1, 3):
        model.train()
        for batch_idx, (data_, target) in enumerate(train_loader):
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
    come from its vectorized linspace). The runs start from a slightly shifted theta."""
    images = rng.standard_normal((16, 1, 28, 28)).astype(dtype)
    labels = rng.integers(0, 10, 16)
    twin = Twin(jitter=("fc_loc.2.bias",))
    want, _ = run_both(spatial_transformer, dtype, images, labels, twin=twin)
    assert want["identity_error"] < 1e-5  # identity theta, align_corners=False: the input back


# -- pytorch/examples super_resolution ------------------------------------------------------------
def super_resolution(torch, nn, F, optim, data, twin, lowres, highres, ortho=None):
    init = nn.init

    class Net(nn.Module):
        def __init__(self, upscale_factor):
            super(Net, self).__init__()
            self.relu = nn.ReLU()
            self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
            self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
            self.conv3 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
            self.conv4 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
            self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
            self._initialize_weights()

        def forward(self, x):
            x = self.relu(self.conv1(x))
            x = self.relu(self.conv2(x))
            x = self.relu(self.conv3(x))
            return self.pixel_shuffle(self.conv4(x))

        def _initialize_weights(self):
            init.orthogonal_(self.conv1.weight, init.calculate_gain("relu"))
            init.orthogonal_(self.conv2.weight, init.calculate_gain("relu"))
            init.orthogonal_(self.conv3.weight, init.calculate_gain("relu"))
            init.orthogonal_(self.conv4.weight)

    model = Net(upscale_factor=2)
    if ortho is not None:
        w = model.conv2.weight.detach().view(16, -1)
        ortho.append((w @ w.t()).numpy())
    twin.model(model)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    loader = data.DataLoader(
        data.TensorDataset(torch.from_numpy(lowres), torch.from_numpy(highres)), batch_size=4)
    epoch_losses, psnrs = [], []
    for epoch in range(1, 3):
        epoch_loss = 0
        for iteration, batch in enumerate(loader, 1):
            input, target = batch[0], batch[1]
            optimizer.zero_grad()
            loss = criterion(model(input), target)
            epoch_loss += loss.item()
            loss.backward()
            optimizer.step()
        epoch_losses.append(epoch_loss / len(loader))
        avg_psnr = 0
        with torch.no_grad():
            for batch in loader:
                mse = criterion(model(batch[0]), batch[1])
                avg_psnr += 10 * math.log10(1 / mse.item())
        psnrs.append(avg_psnr / len(loader))
    with torch.no_grad():
        out = model(torch.from_numpy(lowres[:1])).clamp(0, 1)
    return {"losses": epoch_losses, "psnr": psnrs, "out": out}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_super_resolution(dtype, rng):
    highres = rng.uniform(0, 1, (8, 1, 16, 16)).astype(dtype)
    lowres = highres.reshape(8, 1, 8, 2, 8, 2).mean((3, 5))
    ortho = []
    twin = Twin()
    results = []
    for lib in TORCH, NABLA:
        twin.start(lib[0])
        with default_dtype(lib[0], dtype):
            results.append(as_numpy(super_resolution(*lib, twin, lowres, highres, ortho)))
    assert_same(results[1], results[0], dtype)
    for gram in ortho:  # orthogonal rows, scaled by the gain of relu (sqrt 2)
        np.testing.assert_allclose(gram, 2 * np.eye(16), atol=1e-5)


# -- pytorch/examples fast_neural_style: the transformer net and the gram-matrix loss -------------
def fast_neural_style(torch, nn, F, optim, data, twin, images, style):
    class ConvLayer(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride):
            super(ConvLayer, self).__init__()
            reflection_padding = kernel_size // 2
            self.reflection_pad = nn.ReflectionPad2d(reflection_padding)
            self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            return self.conv2d(self.reflection_pad(x))

    class ResidualBlock(nn.Module):
        def __init__(self, channels):
            super(ResidualBlock, self).__init__()
            self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in1 = nn.InstanceNorm2d(channels, affine=True)
            self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in2 = nn.InstanceNorm2d(channels, affine=True)
            self.relu = nn.ReLU()

        def forward(self, x):
            residual = x
            out = self.relu(self.in1(self.conv1(x)))
            out = self.in2(self.conv2(out))
            return out + residual

    class UpsampleConvLayer(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
            super(UpsampleConvLayer, self).__init__()
            self.upsample = upsample
            self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
            self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            x_in = x
            if self.upsample:
                x_in = F.interpolate(x_in, mode="nearest", scale_factor=self.upsample)
            return self.conv2d(self.reflection_pad(x_in))

    class TransformerNet(nn.Module):
        def __init__(self):
            super(TransformerNet, self).__init__()
            self.conv1 = ConvLayer(3, 8, kernel_size=5, stride=1)
            self.in1 = nn.InstanceNorm2d(8, affine=True)
            self.conv2 = ConvLayer(8, 16, kernel_size=3, stride=2)
            self.in2 = nn.InstanceNorm2d(16, affine=True)
            self.res1 = ResidualBlock(16)
            self.deconv1 = UpsampleConvLayer(16, 8, kernel_size=3, stride=1, upsample=2)
            self.in4 = nn.InstanceNorm2d(8, affine=True)
            self.up = nn.Upsample(scale_factor=1, mode="nearest")
            self.deconv3 = ConvLayer(8, 3, kernel_size=5, stride=1)
            self.relu = nn.ReLU()

        def forward(self, X):
            y = self.relu(self.in1(self.conv1(X)))
            y = self.relu(self.in2(self.conv2(y)))
            y = self.res1(y)
            y = self.relu(self.in4(self.deconv1(y)))
            return self.deconv3(self.up(y))

    class Features(nn.Module):  # stands for the frozen VGG16 slices
        def __init__(self):
            super().__init__()
            self.slice1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True))
            self.slice2 = nn.Sequential(nn.MaxPool2d(2, 2), nn.Conv2d(8, 8, 3, padding=1),
                                        nn.ReLU(inplace=True))
            for param in self.parameters():
                param.requires_grad = False

        def forward(self, X):
            h1 = self.slice1(X)
            return [h1, self.slice2(h1)]

    def gram_matrix(y):
        (b, ch, h, w) = y.size()
        features = y.view(b, ch, w * h)
        features_t = features.transpose(1, 2)
        gram = features.bmm(features_t) / (ch * h * w)
        return gram

    def normalize_batch(batch):
        mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
        std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
        batch = batch.div_(255.0)
        return (batch - mean) / std

    transformer = twin.model(TransformerNet())
    vgg = twin.model(Features())
    optimizer = optim.Adam(transformer.parameters(), 1e-2)
    mse_loss = torch.nn.MSELoss()
    style = torch.from_numpy(style).repeat(2, 1, 1, 1)
    features_style = vgg(normalize_batch(style))
    gram_style = [gram_matrix(y) for y in features_style]
    loader = data.DataLoader(data.TensorDataset(torch.from_numpy(images)), batch_size=2)
    content_weight, style_weight = 1e2, 1e7
    history = []
    for e in range(2):
        transformer.train()
        for batch_id, (x,) in enumerate(loader):
            n_batch = len(x)
            optimizer.zero_grad()
            y = transformer(x)
            y = normalize_batch(y)
            x = normalize_batch(x)
            features_y = vgg(y)
            features_x = vgg(x)
            content_loss = content_weight * mse_loss(features_y[1], features_x[1])
            style_loss = 0.
            for ft_y, gm_s in zip(features_y, gram_style):
                gm_y = gram_matrix(ft_y)
                style_loss += mse_loss(gm_y, gm_s[:n_batch, :, :])
            style_loss *= style_weight
            total_loss = content_loss + style_loss
            total_loss.backward()
            optimizer.step()
            history.append([content_loss.item(), style_loss.item()])
    transformer.eval()
    with torch.no_grad():
        output = transformer(torch.from_numpy(images[:1])).clamp(0, 255)
    return {"history": history, "output": output,
            "vgg_grad": [p.grad is None for p in vgg.parameters()]}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_neural_style(dtype, rng):
    images = rng.uniform(0, 255, (4, 3, 8, 8)).astype(dtype)
    style = rng.uniform(0, 255, (1, 3, 8, 8)).astype(dtype)
    want, _ = run_both(fast_neural_style, dtype, images, style)
    assert all(want["vgg_grad"])


# -- the "Neural style transfer" tutorial: losses as transparent modules, LBFGS on the image ------
def neural_style(torch, nn, F, optim, data, twin, content, style, num_steps=6):
    class ContentLoss(nn.Module):
        def __init__(self, target):
            super(ContentLoss, self).__init__()
            self.target = target.detach()

        def forward(self, input):
            self.loss = F.mse_loss(input, self.target)
            return input

    def gram_matrix(input):
        a, b, c, d = input.size()
        features = input.view(a * b, c * d)
        G = torch.mm(features, features.t())
        return G.div(a * b * c * d)

    class StyleLoss(nn.Module):
        def __init__(self, target_feature):
            super(StyleLoss, self).__init__()
            self.target = gram_matrix(target_feature).detach()

        def forward(self, input):
            G = gram_matrix(input)
            self.loss = F.mse_loss(G, self.target)
            return input

    class Normalization(nn.Module):
        def __init__(self, mean, std):
            super(Normalization, self).__init__()
            self.mean = torch.tensor(mean).view(-1, 1, 1)
            self.std = torch.tensor(std).view(-1, 1, 1)

        def forward(self, img):
            return (img - self.mean) / self.std

    def get_style_model_and_losses(cnn, mean, std, style_img, content_img,
                                   content_layers=("conv_2",),
                                   style_layers=("conv_1", "conv_2", "conv_3")):
        normalization = Normalization(mean, std)
        content_losses, style_losses = [], []
        model = nn.Sequential(normalization)
        i = 0
        for layer in cnn.children():
            if isinstance(layer, nn.Conv2d):
                i += 1
                name = "conv_{}".format(i)
            elif isinstance(layer, nn.ReLU):
                name = "relu_{}".format(i)
                layer = nn.ReLU(inplace=False)
            elif isinstance(layer, nn.MaxPool2d):
                name = "pool_{}".format(i)
            elif isinstance(layer, nn.BatchNorm2d):
                name = "bn_{}".format(i)
            else:
                raise RuntimeError("Unrecognized layer: {}".format(layer.__class__.__name__))
            model.add_module(name, layer)
            if name in content_layers:
                target = model(content_img).detach()
                content_loss = ContentLoss(target)
                model.add_module("content_loss_{}".format(i), content_loss)
                content_losses.append(content_loss)
            if name in style_layers:
                target_feature = model(style_img).detach()
                style_loss = StyleLoss(target_feature)
                model.add_module("style_loss_{}".format(i), style_loss)
                style_losses.append(style_loss)
        for i in range(len(model) - 1, -1, -1):
            if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):
                break
        model = model[:(i + 1)]
        return model, style_losses, content_losses

    cnn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True),
                        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True),
                        nn.MaxPool2d(2, 2), nn.Conv2d(8, 16, 3, padding=1),
                        nn.ReLU(inplace=True), nn.Conv2d(16, 16, 3, padding=1))
    cnn = twin.model(cnn).eval()
    content_img, style_img = torch.from_numpy(content), torch.from_numpy(style)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    input_img = content_img.clone()
    model, style_losses, content_losses = get_style_model_and_losses(
        cnn, mean, std, style_img, content_img)
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = optim.LBFGS([input_img])
    style_weight, content_weight = 1e4, 1
    run, history = [0], []
    while run[0] <= num_steps:
        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0
            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss
            style_score *= style_weight
            content_score *= content_weight
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            history.append([style_score.item(), content_score.item()])
            return style_score + content_score

        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return {"history": history, "image": input_img, "names": list(dict(model.named_children())),
            "state": {k: v for k, v in optimizer.state[input_img].items()
                      if k in ("func_evals", "n_iter", "t")}}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_neural_style_with_lbfgs(dtype, rng):
    content = rng.uniform(0, 1, (1, 3, 12, 12)).astype(dtype)
    style = rng.uniform(0, 1, (1, 3, 12, 12)).astype(dtype)
    want, _ = run_both(neural_style, dtype, content, style)
    assert want["history"][-1][0] < want["history"][0][0]
    assert want["names"][-1] == "style_loss_3"
