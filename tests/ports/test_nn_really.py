"""Ports of "What is torch.nn really?": logistic regression by hand, its refactor to nn.Module,
nn.Linear, optim, TensorDataset, DataLoader and fit, and the CNN with a Lambda module and a
wrapped DataLoader (see harness.py for how a port test works)."""

import math

import numpy as np
from harness import MANY_STEPS, Twin, assert_agree, learnable_images, run_both, run_nabla


def nn_really_by_hand(torch, nn, F, optim, data, twin, arrays, epochs=2):
    """Logistic regression from scratch: weights with requires_grad_(), log_softmax by hand,
    the negative log-likelihood by indexing, accuracy; then F.cross_entropy."""
    x_train, y_train, x_valid, y_valid = map(torch.tensor, arrays)
    n, c = x_train.shape
    weights = twin.randn(784, 10) / math.sqrt(784)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()

    def accuracy(out, yb):
        preds = torch.argmax(out, dim=1)
        return (preds == yb).float().mean()

    loss_func, bs, lr, out = nll, 64, 0.5, {"losses": []}
    xb, yb = x_train[0:bs], y_train[0:bs]
    preds = model(xb)
    out["first"] = (preds[0].detach().numpy().copy(), tuple(preds.shape),
                    loss_func(preds, yb).item(), accuracy(preds, yb).item())
    for _ in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)
            out["losses"].append(loss.item())
            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
    out["after"] = (loss_func(model(xb), yb).item(), accuracy(model(xb), yb).item())
    out["cross_entropy"] = F.cross_entropy(xb @ weights + bias, yb).item()
    out["valid accuracy"] = accuracy(model(x_valid), y_valid).item()
    return out


def refactor_with_module(torch, nn, F, twin, x_train, y_train, bs, lr, epochs):
    """Refactor using nn.Module and nn.Parameter: the update loops over model.parameters()."""

    class MnistLogistic(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
            self.bias = nn.Parameter(torch.zeros(10))

        def forward(self, xb):
            return xb @ self.weights + self.bias

    loss_func, n = F.cross_entropy, len(x_train)
    model = twin.model(MnistLogistic())
    for _ in range(epochs):
        for i in range((n - 1) // bs + 1):
            xb, yb = x_train[i * bs: i * bs + bs], y_train[i * bs: i * bs + bs]
            loss = loss_func(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= p.grad * lr
                model.zero_grad()
    return loss_func(model(x_train[:bs]), y_train[:bs]).item()


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(torch, epochs, model, loss_func, opt, train_dl, valid_dl):
    history = []
    for _ in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        history.append(np.sum(np.multiply(losses, nums)) / np.sum(nums))
    return history


def nn_really_refactored(torch, nn, F, optim, data, twin, arrays, shuffle=False, epochs=2):
    """The refactor: nn.Module with nn.Parameter, then nn.Linear, optim.SGD, TensorDataset and
    DataLoader, a validation loop in eval mode under no_grad, and get_data / loss_batch / fit."""
    x_train, y_train, x_valid, y_valid = map(torch.tensor, arrays)
    bs, lr, loss_func = 64, 0.5, F.cross_entropy
    out = {"parameters": refactor_with_module(torch, nn, F, twin, x_train, y_train, bs, lr,
                                              epochs)}

    class MnistLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(784, 10)

        def forward(self, xb):
            return self.lin(xb)

    def get_model():
        model = twin.model(MnistLinear())
        return model, optim.SGD(model.parameters(), lr=lr)

    def get_data(train_ds, valid_ds, bs):
        return (data.DataLoader(train_ds, batch_size=bs, shuffle=shuffle),
                data.DataLoader(valid_ds, batch_size=bs * 2))

    train_ds = data.TensorDataset(x_train, y_train)
    valid_ds = data.TensorDataset(x_valid, y_valid)
    out["dataset"] = (len(train_ds), tuple(train_ds[0][0].shape), int(train_ds[3][1]))
    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    out["batches"] = (len(train_dl), len(valid_dl))
    model, opt = get_model()
    out["fit"] = fit(torch, epochs, model, loss_func, opt, train_dl, valid_dl)
    with torch.no_grad():
        out["valid accuracy"] = (model(x_valid).argmax(1) == y_valid).float().mean().item()
    return out


def cnn_pieces(nn):
    """The CNN section's Lambda module and WrappedDataLoader."""

    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    class WrappedDataLoader:
        def __init__(self, dl, func):
            self.dl = dl
            self.func = func

        def __len__(self):
            return len(self.dl)

        def __iter__(self):
            for b in self.dl:
                yield self.func(*b)

    return Lambda, WrappedDataLoader


def nn_really_cnn(torch, nn, F, optim, data, twin, arrays, epochs=2):
    """The CNN: a Lambda module wrapping view, a WrappedDataLoader generator that reshapes each
    batch, nn.Sequential of Conv2d / ReLU / AdaptiveAvgPool2d, SGD with momentum."""
    x_train, y_train, x_valid, y_valid = map(torch.tensor, arrays)
    bs = 64
    Lambda, WrappedDataLoader = cnn_pieces(nn)
    dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

    def preprocess(x, y):
        return x.view(-1, 1, 28, 28).to(dev), y.to(dev)

    train_dl = WrappedDataLoader(data.DataLoader(data.TensorDataset(x_train, y_train),
                                                 batch_size=bs), preprocess)
    valid_dl = WrappedDataLoader(data.DataLoader(data.TensorDataset(x_valid, y_valid),
                                                 batch_size=bs * 2), preprocess)
    model = twin.model(nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )).to(dev)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_losses, valid_losses = [], []
    for _ in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss = F.cross_entropy(model(xb), yb)
            train_losses.append(loss.item())
            loss.backward()
            opt.step()
            opt.zero_grad()
        model.eval()
        with torch.no_grad():
            valid_losses.append(sum(F.cross_entropy(model(xb), yb) for xb, yb in valid_dl).item()
                                / len(valid_dl))
    return {"train": train_losses, "valid": valid_losses, "batches": len(train_dl)}


def _nn_really_data(seed, n_train=384, n_valid=128):
    x, y = learnable_images(n_train + n_valid, seed)
    x = x.reshape(len(x), -1)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def test_nn_really_from_scratch(rng):
    arrays = _nn_really_data(int(rng.integers(1 << 30)))
    twin = Twin(seed=int(rng.integers(1 << 30)))  # the same initial weights for both runs
    want, got = run_both(nn_really_by_hand, twin=twin, arrays=arrays)
    assert_agree(want, got, np.float32, MANY_STEPS)
    assert want["valid accuracy"] > 0.3  # it learns (10 classes)


def test_nn_really_refactored_to_module_optim_and_dataloader(rng):
    arrays = _nn_really_data(int(rng.integers(1 << 30)))
    want, got = run_both(nn_really_refactored, arrays=arrays)
    assert_agree(want, got, np.float32, MANY_STEPS)
    assert want["fit"][-1] < math.log(10) and want["valid accuracy"] > 0.3


def test_nn_really_refactored_with_shuffling_still_learns(rng):
    arrays = _nn_really_data(int(rng.integers(1 << 30)))
    got = run_nabla(nn_really_refactored, arrays=arrays, shuffle=True)
    assert got["fit"][-1] < math.log(10) and got["valid accuracy"] > 0.3


def test_nn_really_cnn(rng):
    arrays = _nn_really_data(int(rng.integers(1 << 30)), n_train=256, n_valid=128)
    want, got = run_both(nn_really_cnn, arrays=arrays)
    assert_agree(want, got, np.float32, MANY_STEPS)
