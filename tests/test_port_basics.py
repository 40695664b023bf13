"""The programs of PyTorch's basics tutorials (Tensors, Autograd, Learning PyTorch with Examples,
What is torch.nn really?, Quickstart / Build the model / Optimization, Datasets & DataLoaders,
Save and load), written as a user would, run once with torch's modules and once with nabla's.

Each program is a function of ``(torch, nn, F, optim, data, ...)`` that uses only those names,
as a script would after ``import torch; from torch import nn; import torch.nn.functional as F;
from torch import optim; from torch.utils import data``. Randomness the two libraries cannot share
comes in through hooks: ``sync(model)`` records a torch model's initial ``state_dict`` and loads
it into the nabla twin (strictly: names and layouts must equal torch's); ``randn`` draws from a
NumPy generator; ``random`` is a seeded ``random.Random``. The data are NumPy arrays with a fixed
seed; shuffling is off where results are compared.
"""

import math
import random as pyrandom

import numpy as np
import pytest
import torch
from conftest import TOLERANCES

import nabla
import nabla.nn
import nabla.nn.functional
import nabla.optim
import nabla.utils.data

TORCH_LIBS = (torch, torch.nn, torch.nn.functional, torch.optim, torch.utils.data)
NABLA_LIBS = (nabla, nabla.nn, nabla.nn.functional, nabla.optim, nabla.utils.data)
F32 = {"rtol": 2e-4, "atol": 1e-5}  # float32 training runs: a few hundred steps drift a little
F64 = TOLERANCES[np.dtype(np.float64)]


class WeightSync:
    """``sync(model)``: on the torch run, records the model's initial weights (in order of
    creation); on the nabla run, loads them into the twin and returns it."""

    def __init__(self):
        self.states, self.replay, self.count = [], False, 0

    def __call__(self, model):
        if not self.replay:
            self.states.append({k: v.detach().numpy().copy()
                                for k, v in model.state_dict().items()})
            return model
        state = self.states[self.count]
        self.count += 1
        model.load_state_dict({k: nabla.tensor(v) for k, v in state.items()})
        return model


def run_both(script, **kwargs):
    """``script`` with torch's names, then with nabla's (same hooks, same seeds)."""
    sync = WeightSync()
    results = []
    for libs in (TORCH_LIBS, NABLA_LIBS):
        results.append(script(*libs, sync=sync, **kwargs))
        sync.replay = True
    return results


def assert_agree(want, got, tol, path="result"):
    """Two results (nested dicts / lists / tuples of numbers, strings and arrays) agree: numbers
    to ``tol``, integers, bools and strings exactly."""
    if isinstance(want, (torch.Tensor, nabla.Tensor)) or isinstance(got, (torch.Tensor,
                                                                           nabla.Tensor)):
        raise TypeError(f"{path}: scripts return plain values (.item(), .tolist(), .numpy())")
    if isinstance(want, dict):
        assert want.keys() == got.keys(), f"{path}: keys {list(got)} != torch's {list(want)}"
        for key in want:
            assert_agree(want[key], got[key], tol, f"{path}[{key!r}]")
    elif isinstance(want, (list, tuple)) and not all(isinstance(v, (int, float)) for v in want):
        assert len(want) == len(got), f"{path}: length {len(got)} != torch's {len(want)}"
        for i, (a, b) in enumerate(zip(want, got, strict=True)):
            assert_agree(a, b, tol, f"{path}[{i}]")
    elif isinstance(want, (str, bool, type(None))):
        assert want == got, f"{path}: {got!r} != torch's {want!r}"
    else:
        a, b = np.asarray(want), np.asarray(got)
        assert a.shape == b.shape, f"{path}: shape {b.shape} != torch's {a.shape}"
        if a.dtype.kind in "biu":
            assert b.dtype.kind in "biu" and np.array_equal(a, b), f"{path}: {b} != {a}"
        else:
            np.testing.assert_allclose(b, a, err_msg=path, **tol)


def learnable_images(n, seed, shape=(28, 28), classes=10):
    """MNIST-shaped data that a linear model can learn: pixels in [0, 1), mostly 0 as in MNIST;
    each class lights a fixed random 15% of the pixels, plus a few noise pixels."""
    rng = np.random.default_rng(seed)
    prototypes = np.random.default_rng(1234).random((classes, *shape)) < 0.15
    y = rng.integers(0, classes, n)
    x = prototypes[y] * rng.uniform(0.5, 1.0, (n, *shape))
    x += (rng.random((n, *shape)) < 0.03) * rng.random((n, *shape))
    return np.minimum(x, 1.0).astype(np.float32), y


# -- Tensors ------------------------------------------------------------------------------------
def tensors_tutorial(torch, nn, F, optim, data, sync):
    out = {}
    data_list = [[1, 2], [3, 4]]
    x_data = torch.tensor(data_list)
    x_np = torch.from_numpy(np.array(data_list))
    x_ones = torch.ones_like(x_data)
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    out["like"] = (x_data.tolist(), x_np.tolist(), x_ones.tolist(), str(x_data.dtype)[-5:],
                   str(x_rand.dtype)[-7:], bool(((x_rand >= 0) & (x_rand < 1)).all()))
    shape = (2, 3,)
    rand_tensor, ones_tensor, zeros_tensor = torch.rand(shape), torch.ones(shape), \
        torch.zeros(shape)
    out["attributes"] = (tuple(rand_tensor.shape), str(rand_tensor.dtype)[-7:],
                         str(rand_tensor.device), ones_tensor.sum().item(),
                         zeros_tensor.sum().item(), rand_tensor.shape == (2, 3))
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() \
        else "cpu"
    tensor = torch.arange(16, dtype=torch.float32).reshape(4, 4).to(device)
    out["index"] = (tensor[0].tolist(), tensor[:, 0].tolist(), tensor[..., -1].tolist())
    tensor[:, 1] = 0
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    out["cat"] = t1.numpy().copy()
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    out["products"] = [y.numpy().copy() for y in (y1, y2, y3, z1, z2, z3)]
    agg = tensor.sum()
    agg_item = agg.item()
    out["item"] = (agg_item, type(agg_item).__name__)
    tensor.add_(5)
    out["add_"] = tensor.numpy().copy()
    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)  # the array shares the tensor's memory
    out["numpy shares"] = n.copy()
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)  # and the tensor shares the array's
    out["from_numpy shares"] = (t.tolist(), str(t.dtype)[-7:])
    return out


def test_tensors_tutorial():
    want, got = run_both(tensors_tutorial)
    assert_agree(want, got, F32)


# -- Autograd -----------------------------------------------------------------------------------
def autograd_tutorial(torch, nn, F, optim, data, sync, w0, b0):
    out = {}
    x = torch.ones(5)  # input tensor
    y = torch.zeros(3)  # expected output
    w = torch.tensor(w0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    out["grad_fn"] = (z.grad_fn is not None, loss.grad_fn is not None,
                      "Backward" in repr(z.grad_fn), w.grad_fn is None)
    loss.backward()
    out["grads"] = (w.grad.numpy().copy(), b.grad.numpy().copy(), loss.item())
    z = torch.matmul(x, w) + b
    flags = [z.requires_grad]
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    flags.append(z.requires_grad)
    z = torch.matmul(x, w) + b
    z_det = z.detach()
    flags += [z_det.requires_grad, z_det.is_leaf, w.is_leaf, z.is_leaf]
    out["flags"] = flags
    # gradients of a non-scalar output: the vector-Jacobian product with v
    inp = torch.eye(4, 5, requires_grad=True)
    res = (inp + 1).pow(2).t()
    res.backward(torch.ones_like(res), retain_graph=True)
    calls = [inp.grad.numpy().copy()]
    res.backward(torch.ones_like(res), retain_graph=True)  # accumulates
    calls.append(inp.grad.numpy().copy())
    inp.grad.zero_()
    res.backward(torch.ones_like(res), retain_graph=True)
    calls.append(inp.grad.numpy().copy())
    out["retain_graph"] = calls
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a ** 3 - b ** 2
    Q.backward(gradient=torch.tensor([1., 1.]))
    out["Q"] = ((9 * a ** 2 == a.grad).tolist(), (-2 * b == b.grad).tolist())
    try:  # the graph is freed after backward
        Q.backward(gradient=torch.tensor([1., 1.]))
        out["second backward"] = "ran"
    except RuntimeError:
        out["second backward"] = "RuntimeError"
    # the graph's nodes, from the output back to the leaves
    names, node = [], Q.grad_fn
    while node is not None and node.next_functions:
        node = node.next_functions[0][0]
        names.append(type(node).__name__ == "AccumulateGrad")
    out["walk ends at AccumulateGrad"] = names[-1]
    # a Jacobian-vector product of a loop of unknown length
    t = torch.tensor([0.3, -1.2, 0.05], requires_grad=True)
    yy = t * 2
    while yy.data.norm() < 1000:
        yy = yy * 2
    yy.backward(torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float))
    out["jvp"] = t.grad.numpy().copy()
    # freezing: only the new head trains
    model = sync(nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2)))
    for param in model[0].parameters():
        param.requires_grad = False
    model(torch.ones(3, 5)).sum().backward()
    out["frozen"] = [p.grad is None for p in model.parameters()]
    return out


def test_autograd_tutorial(rng):
    w0, b0 = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal(3).astype(
        np.float32)
    want, got = run_both(autograd_tutorial, w0=w0, b0=b0)
    assert_agree(want, got, F32)
    assert want["second backward"] == "RuntimeError" and want["frozen"] == [True] * 2 + [False] * 2


# -- Learning PyTorch with Examples: y = sin(x) fitted by a cubic, in every variant ----------------
def _sine(torch, dtype):
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype, device=torch.device("cpu"))
    return x, torch.sin(x)


def polynomial_tensors(torch, nn, F, optim, data, sync, start, steps=150):
    """Forward and backward by hand, on tensors."""
    dtype = torch.float64
    x, y = _sine(torch, dtype)
    a, b, c, d = (torch.tensor(v, dtype=dtype) for v in start)
    learning_rate, losses = 1e-6, []
    for _ in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        losses.append((y_pred - y).pow(2).sum().item())
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    return {"losses": losses, "coefficients": [v.item() for v in (a, b, c, d)]}


def polynomial_autograd(torch, nn, F, optim, data, sync, start, steps=150):
    """The same fit with autograd, the update under no_grad, the grads reset to None."""
    dtype = torch.float64
    x, y = _sine(torch, dtype)
    a, b, c, d = (torch.tensor(v, dtype=dtype, requires_grad=True) for v in start)
    learning_rate, losses = 1e-6, []
    for _ in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return {"losses": losses, "coefficients": [v.item() for v in (a, b, c, d)],
            "still leaves": [v.is_leaf and v.requires_grad for v in (a, b, c, d)]}


def polynomial_function(torch, nn, F, optim, data, sync, steps=150):
    """y = a + b * P3(c + d * x) with the Legendre polynomial P3 as a custom autograd.Function."""

    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    dtype = torch.float64
    x, y = _sine(torch, dtype)
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate, losses = 5e-6, []
    for _ in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
    return {"losses": losses, "coefficients": [v.item() for v in (a, b, c, d)]}


def polynomial_nn(torch, nn, F, optim, data, sync, dtype_name, steps=150):
    """nn.Sequential with Flatten(0, 1), MSELoss(reduction='sum'), a manual SGD step under
    no_grad, then the same model trained on by RMSprop."""
    dtype = getattr(torch, dtype_name)
    x, y = _sine(torch, dtype)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = sync(torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)).to(dtype))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    learning_rate, losses = 1e-6, []
    for _ in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    for _ in range(steps):
        loss = loss_fn(model(xx), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    linear_layer = model[0]
    result = [linear_layer.bias.item(), linear_layer.weight[:, 0].item(),
              linear_layer.weight[:, 1].item(), linear_layer.weight[:, 2].item()]
    return {"losses": losses, "result": result, "shape": tuple(model(xx).shape),
            "square_avg": optimizer.state[linear_layer.weight]["square_avg"].numpy().copy()}


def polynomial_module(torch, nn, F, optim, data, sync, start, steps=150):
    """A custom nn.Module with four scalar Parameters and SGD."""

    class Polynomial3(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.tensor(start[0], dtype=torch.double))
            self.b = torch.nn.Parameter(torch.tensor(start[1], dtype=torch.double))
            self.c = torch.nn.Parameter(torch.tensor(start[2], dtype=torch.double))
            self.d = torch.nn.Parameter(torch.tensor(start[3], dtype=torch.double))

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

        def string(self):
            return [self.a.item(), self.b.item(), self.c.item(), self.d.item()]

    x, y = _sine(torch, torch.float64)
    model = Polynomial3()
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    losses = []
    for _ in range(steps):
        loss = criterion(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"losses": losses, "result": model.string(),
            "names": [name for name, _ in model.named_parameters()]}


def polynomial_dynamic(torch, nn, F, optim, data, sync, start, random, steps=150):
    """Dynamic control flow: a fourth (and fifth) order term, reusing one Parameter, drawn
    anew at every forward; SGD with momentum."""

    class DynamicNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for name, value in zip("abcde", start, strict=True):
                setattr(self, name, torch.nn.Parameter(torch.tensor(value, dtype=torch.double)))

        def forward(self, x):
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, random.randint(4, 6)):
                y = y + self.e * x ** exp
            return y

    x, y = _sine(torch, torch.float64)
    model = DynamicNet()
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    losses = []
    for _ in range(steps):
        loss = criterion(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"losses": losses, "parameters": [p.item() for p in model.parameters()],
            "keys": list(model.state_dict().keys())}


def test_polynomial_by_hand_autograd_and_function(rng):
    start = rng.standard_normal(4).tolist()
    for script in (polynomial_tensors, polynomial_autograd):
        want, got = run_both(script, start=start)
        assert_agree(want, got, F64)
        assert want["losses"][-1] < want["losses"][0]
    want, got = run_both(polynomial_function)
    assert_agree(want, got, F64)


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_polynomial_sequential_and_rmsprop(dtype_name):
    want, got = run_both(polynomial_nn, dtype_name=dtype_name)
    assert_agree(want, got, F32 if dtype_name == "float32" else F64)
    assert want["losses"][-1] < want["losses"][0]


def test_polynomial_module_and_dynamic_net(rng):
    want, got = run_both(polynomial_module, start=rng.standard_normal(4).tolist())
    assert_agree(want, got, F64)
    start = (rng.standard_normal(5) * 0.1).tolist()
    seed = int(rng.integers(1 << 30))
    want, got = (polynomial_dynamic(*libs, sync=None, start=start, random=pyrandom.Random(seed))
                 for libs in (TORCH_LIBS, NABLA_LIBS))
    assert_agree(want, got, F64)


# -- What is torch.nn really? -------------------------------------------------------------------
def nn_really_by_hand(torch, nn, F, optim, data, sync, arrays, randn, epochs=2):
    """Logistic regression from scratch: weights with requires_grad_(), log_softmax by hand,
    the negative log-likelihood by indexing, accuracy; then F.cross_entropy."""
    x_train, y_train, x_valid, y_valid = map(torch.tensor, arrays)
    n, c = x_train.shape
    weights = randn(784, 10) / math.sqrt(784)
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


def nn_really_refactored(torch, nn, F, optim, data, sync, arrays, shuffle=False, epochs=2):
    """The refactor: nn.Module with nn.Parameter, then nn.Linear, optim.SGD, TensorDataset and
    DataLoader, a validation loop in eval mode under no_grad, and get_data / loss_batch / fit."""
    x_train, y_train, x_valid, y_valid = map(torch.tensor, arrays)
    n, c = x_train.shape
    bs, lr, loss_func, out = 64, 0.5, F.cross_entropy, {}

    class MnistLogistic(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
            self.bias = nn.Parameter(torch.zeros(10))

        def forward(self, xb):
            return xb @ self.weights + self.bias

    model = sync(MnistLogistic())
    for _ in range(epochs):
        for i in range((n - 1) // bs + 1):
            xb, yb = x_train[i * bs: i * bs + bs], y_train[i * bs: i * bs + bs]
            loss = loss_func(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= p.grad * lr
                model.zero_grad()
    out["parameters"] = loss_func(model(x_train[:bs]), y_train[:bs]).item()

    class MnistLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(784, 10)

        def forward(self, xb):
            return self.lin(xb)

    def get_model():
        model = sync(MnistLinear())
        return model, optim.SGD(model.parameters(), lr=lr)

    def get_data(train_ds, valid_ds, bs):
        return (data.DataLoader(train_ds, batch_size=bs, shuffle=shuffle),
                data.DataLoader(valid_ds, batch_size=bs * 2))

    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
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

    train_ds = data.TensorDataset(x_train, y_train)
    valid_ds = data.TensorDataset(x_valid, y_valid)
    out["dataset"] = (len(train_ds), tuple(train_ds[0][0].shape), int(train_ds[3][1]))
    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    out["batches"] = (len(train_dl), len(valid_dl))
    model, opt = get_model()
    out["fit"] = fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    with torch.no_grad():
        out["valid accuracy"] = (model(x_valid).argmax(1) == y_valid).float().mean().item()
    return out


def nn_really_cnn(torch, nn, F, optim, data, sync, arrays, epochs=2):
    """The CNN: a Lambda module wrapping view, a WrappedDataLoader generator that reshapes each
    batch, nn.Sequential of Conv2d / ReLU / AdaptiveAvgPool2d, SGD with momentum."""
    x_train, y_train, x_valid, y_valid = map(torch.tensor, arrays)
    bs = 64

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

    dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

    def preprocess(x, y):
        return x.view(-1, 1, 28, 28).to(dev), y.to(dev)

    train_dl = WrappedDataLoader(data.DataLoader(data.TensorDataset(x_train, y_train),
                                                 batch_size=bs), preprocess)
    valid_dl = WrappedDataLoader(data.DataLoader(data.TensorDataset(x_valid, y_valid),
                                                 batch_size=bs * 2), preprocess)
    model = sync(nn.Sequential(
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
    seed = int(rng.integers(1 << 30))

    def randn_for(torch):  # the same draws for both runs
        gen = np.random.default_rng(seed)
        return lambda *shape: torch.tensor(gen.standard_normal(shape).astype(np.float32))

    want, got = (nn_really_by_hand(*libs, sync=None, arrays=arrays, randn=randn_for(libs[0]))
                 for libs in (TORCH_LIBS, NABLA_LIBS))
    assert_agree(want, got, F32)
    assert want["valid accuracy"] > 0.3  # it learns (10 classes)


def test_nn_really_refactored_to_module_optim_and_dataloader(rng):
    arrays = _nn_really_data(int(rng.integers(1 << 30)))
    want, got = run_both(nn_really_refactored, arrays=arrays)
    assert_agree(want, got, F32)
    assert want["fit"][-1] < math.log(10) and want["valid accuracy"] > 0.3


def test_nn_really_refactored_with_shuffling_still_learns(rng):
    arrays = _nn_really_data(int(rng.integers(1 << 30)))
    got = nn_really_refactored(*NABLA_LIBS, sync=lambda m: m, arrays=arrays, shuffle=True)
    assert got["fit"][-1] < math.log(10) and got["valid accuracy"] > 0.3


def test_nn_really_cnn(rng):
    arrays = _nn_really_data(int(rng.integers(1 << 30)), n_train=256, n_valid=128)
    want, got = run_both(nn_really_cnn, arrays=arrays)
    assert_agree(want, got, F32)


# -- Datasets & DataLoaders, Quickstart, Build the model, Optimization -------------------------
LABELS = ["T-Shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
          "Ankle Boot"]


def fashion_data(torch, nn, F, optim, data, sync, images, labels, batch_size=16):
    """A custom Dataset with transform and target_transform (a one-hot Lambda built with
    scatter_), iterated by a DataLoader and sampled with next(iter(...))."""

    class FakeFashionDataset(data.Dataset):
        def __init__(self, images, labels, transform=None, target_transform=None):
            self.images, self.labels = images, labels
            self.transform, self.target_transform = transform, target_transform

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, idx):
            image, label = self.images[idx], int(self.labels[idx])
            if self.transform:
                image = self.transform(image)
            if self.target_transform:
                label = self.target_transform(label)
            return image, label

    def to_tensor(image):  # what torchvision's ToTensor does to a uint8 (H, W) image
        return torch.from_numpy(image).float().div(255).unsqueeze(0)

    class Lambda:  # torchvision.transforms.Lambda
        def __init__(self, fn):
            self.fn = fn

        def __call__(self, value):
            return self.fn(value)

    training_data = FakeFashionDataset(images, labels, transform=to_tensor, target_transform=Lambda(
        lambda y: torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1)))
    img, label = training_data[3]
    out = {"sample": (tuple(img.shape), label.tolist(), LABELS[int(label.argmax())])}
    train_dataloader = data.DataLoader(training_data, batch_size=batch_size, shuffle=False)
    train_features, train_labels = next(iter(train_dataloader))
    out["batch"] = (tuple(train_features.size()), tuple(train_labels.size()),
                    train_features[0].squeeze().numpy().copy(), train_labels.numpy().copy())
    out["all"] = [(tuple(x.shape), y.argmax(1).tolist()) for x, y in train_dataloader]
    plain = data.DataLoader(FakeFashionDataset(images, labels, to_tensor), batch_size=batch_size,
                            drop_last=True)
    out["plain labels"] = [(str(y.dtype)[-5:], y.tolist()) for _, y in plain]
    return out


def quickstart(torch, nn, F, optim, data, sync, arrays, epochs=2):
    """Quickstart / Build the model / Optimization: NeuralNetwork with Flatten and a
    linear_relu_stack, the train and test loops printing the loss, the named_parameters loop,
    nn.Softmax(dim=1)(logits).argmax(1)."""
    x_train, y_train, x_test, y_test = arrays
    training_data = data.TensorDataset(torch.from_numpy(x_train).unsqueeze(1),
                                       torch.from_numpy(y_train))
    test_data = data.TensorDataset(torch.from_numpy(x_test).unsqueeze(1), torch.from_numpy(y_test))
    batch_size = 64
    train_dataloader = data.DataLoader(training_data, batch_size=batch_size)
    test_dataloader = data.DataLoader(test_data, batch_size=batch_size)
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() \
        else "cpu"
    log, out = [], {}

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28 * 28, 128), nn.ReLU(),
                nn.Linear(128, 128), nn.ReLU(),
                nn.Linear(128, 10),
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    model = sync(NeuralNetwork().to(device))
    out["repr"] = str(model)
    out["parameters"] = [(name, tuple(param.size())) for name, param in model.named_parameters()]
    X = torch.from_numpy(x_test[:2]).to(device)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    out["predicted"] = (pred_probab.detach().numpy().copy(), pred_probab.argmax(1).tolist())
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)

    def train(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            X, y = X.to(device), y.to(device)
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 2 == 0:
                loss, current = loss.item(), (batch + 1) * len(X)
                log.append(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")

    def test(dataloader, model, loss_fn):
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                X, y = X.to(device), y.to(device)
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        test_loss /= num_batches
        correct /= size
        log.append(f"Test Error: Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f}")
        return correct, test_loss

    out["test"] = []
    for _ in range(epochs):
        train(train_dataloader, model, loss_fn, optimizer)
        out["test"].append(test(test_dataloader, model, loss_fn))
    out["log"] = log
    return out


def test_custom_dataset_and_dataloader(rng):
    images = rng.integers(0, 256, (40, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, 40)
    want, got = run_both(fashion_data, images=images, labels=labels)
    assert_agree(want, got, F32)
    assert want["plain labels"][0][0] == "int64" and len(want["all"]) == 3


def test_quickstart(rng):
    x, y = learnable_images(320, int(rng.integers(1 << 30)))
    want, got = run_both(quickstart, arrays=(x[:256], y[:256], x[256:], y[256:]))
    log_want, log_got = want.pop("log"), got.pop("log")
    assert_agree(want, got, F32)
    assert len(log_want) == len(log_got) == 6  # the printed lines: numbers compared above
    assert want["test"][-1][0] > 0.25 and want["test"][-1][1] < want["test"][0][1]


# -- Save and load the model --------------------------------------------------------------------
def save_and_load(torch, nn, F, optim, data, sync, arrays, folder, steps=6):
    """state_dict to a file and back (weights_only=True), a general checkpoint with the epoch,
    the optimizer's state and the loss to resume training from, and warm-starting a bigger
    model with strict=False."""
    x, y = (torch.from_numpy(a) for a in arrays)

    class Net(nn.Module):
        def __init__(self, hidden=32, extra=False):
            super().__init__()
            self.fc1 = nn.Linear(784, hidden)
            self.fc2 = nn.Linear(hidden, 10)
            if extra:
                self.head = nn.Linear(10, 2)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x.flatten(1))))

    def train(model, optimizer, n):
        losses = []
        for i in range(n):
            xb, yb = x[16 * i: 16 * i + 16], y[16 * i: 16 * i + 16]
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    model = sync(Net())
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    out = {"first": train(model, optimizer, steps)}
    path = f"{folder}/model_weights.pth"
    torch.save(model.state_dict(), path)
    loaded = sync(Net())
    result = loaded.load_state_dict(torch.load(path, weights_only=True))
    out["load result"] = (list(result.missing_keys), list(result.unexpected_keys))
    loaded.eval()
    with torch.no_grad():
        out["same outputs"] = bool((loaded(x) == model(x)).all())
    checkpoint_path = f"{folder}/checkpoint.tar"
    torch.save({"epoch": 5, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": out["first"][-1]},
               checkpoint_path)
    out["continued"] = train(model, optimizer, steps)
    resumed = sync(Net())
    resumed_optimizer = optim.Adam(resumed.parameters(), lr=1e-2)
    checkpoint = torch.load(checkpoint_path, weights_only=True)
    resumed.load_state_dict(checkpoint["model_state_dict"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    out["checkpoint"] = (checkpoint["epoch"], checkpoint["loss"])
    resumed.train()
    out["resumed"] = train(resumed, resumed_optimizer, steps)
    bigger = sync(Net(extra=True))
    result = bigger.load_state_dict(torch.load(path, weights_only=True), strict=False)
    out["warm start"] = (sorted(result.missing_keys), sorted(result.unexpected_keys))
    return out


def test_save_and_load(rng, tmp_path):
    x, y = learnable_images(200, int(rng.integers(1 << 30)))
    (tmp_path / "torch").mkdir()
    (tmp_path / "nabla").mkdir()
    sync = WeightSync()
    want = save_and_load(*TORCH_LIBS, sync=sync, arrays=(x, y), folder=tmp_path / "torch")
    sync.replay = True
    got = save_and_load(*NABLA_LIBS, sync=sync, arrays=(x, y), folder=tmp_path / "nabla")
    assert_agree(want, got, F32)
    assert want["same outputs"] and want["resumed"] == want["continued"]
    assert want["warm start"] == (["head.bias", "head.weight"], [])


# -- the idioms around a training loop: weights_init via apply, buffers, a scheduler -------------
def training_idioms(torch, nn, F, optim, data, sync, x_np, epochs=4):
    """A module with a persistent and a non-persistent buffer, weights_init through
    model.apply, SGD with momentum and StepLR, BatchNorm's running statistics, eval mode."""

    class Normalized(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.tensor([0.5, -0.25, 1.0]))
            self.register_buffer("scratch", torch.zeros(1), persistent=False)
            self.fc = nn.Linear(3, 4)
            self.bn = nn.BatchNorm1d(4)
            self.out = nn.Linear(4, 1)

        def forward(self, x):
            return self.out(F.relu(self.bn(self.fc(x - self.mean))))

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Linear") != -1:
            nn.init.constant_(m.weight, 0.1)
            nn.init.zeros_(m.bias)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.0)
            nn.init.constant_(m.bias.data, 0)

    model = Normalized()
    model.apply(weights_init)
    model.fc.weight.data[0, 1] = -0.3  # break the symmetry of the constant init
    out = {"keys": list(model.state_dict().keys()),
           "buffers": [name for name, _ in model.named_buffers()],
           "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)}
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    x = torch.from_numpy(x_np)
    target = x.sum(1, keepdim=True)
    history = []
    for _ in range(epochs):
        model.train()
        loss = F.mse_loss(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        scheduler.step()
        history.append((loss.item(), scheduler.get_last_lr()[0], opt.param_groups[0]["lr"]))
    out["history"] = history
    out["running"] = (model.bn.running_mean.numpy().copy(), model.bn.running_var.numpy().copy(),
                      int(model.bn.num_batches_tracked))
    model.eval()
    with torch.no_grad():
        out["eval"] = (model.training, model.bn.training, model(x[:3]).numpy().copy())
    return out


def test_training_idioms(rng):
    want, got = run_both(training_idioms, x_np=rng.standard_normal((8, 3)).astype(np.float32))
    assert_agree(want, got, F32)
    assert want["history"][-1][0] < want["history"][0][0]
