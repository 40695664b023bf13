"""Ports of the tutorials "Tensors", "Automatic differentiation with torch.autograd" and "A Gentle
Introduction to torch.autograd" (see harness.py for how a port test works)."""

import numpy as np
from harness import MANY_STEPS, assert_agree, run_both


# -- Tensors ------------------------------------------------------------------------------------
def initializing_and_attributes(torch):
    """Initializing a tensor (from data, NumPy, another tensor, a shape) and its attributes."""
    data_list = [[1, 2], [3, 4]]
    x_data = torch.tensor(data_list)
    x_np = torch.from_numpy(np.array(data_list))
    x_ones = torch.ones_like(x_data)
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    out = {"like": (x_data.tolist(), x_np.tolist(), x_ones.tolist(), str(x_data.dtype)[-5:],
                    str(x_rand.dtype)[-7:], bool(((x_rand >= 0) & (x_rand < 1)).all()))}
    shape = (2, 3,)
    rand_tensor, ones_tensor, zeros_tensor = torch.rand(shape), torch.ones(shape), \
        torch.zeros(shape)
    out["attributes"] = (tuple(rand_tensor.shape), str(rand_tensor.dtype)[-7:],
                         str(rand_tensor.device), ones_tensor.sum().item(),
                         zeros_tensor.sum().item(), rand_tensor.shape == (2, 3))
    return out


def operations(torch):
    """Operations on tensors: the device line, indexing, cat, products (with out=), item, add_,
    and the bridge with NumPy (shared memory both ways)."""
    out = {}
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


def tensors_tutorial(torch, nn, F, optim, data, twin):
    return {**initializing_and_attributes(torch), **operations(torch)}


def test_tensors_tutorial():
    want, got = run_both(tensors_tutorial)
    assert_agree(want, got, np.float32, MANY_STEPS)


# -- Autograd -----------------------------------------------------------------------------------
def computing_gradients(torch, F, w0, b0):
    """The one-layer network x -> z -> loss: grad_fn, backward, disabling gradient tracking."""
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
    return out


def jacobian_products(torch):
    """Gradients of a non-scalar output: the vector-Jacobian product with v, accumulated over
    calls with retain_graph until zeroed."""
    inp = torch.eye(4, 5, requires_grad=True)
    res = (inp + 1).pow(2).t()
    res.backward(torch.ones_like(res), retain_graph=True)
    calls = [inp.grad.numpy().copy()]
    res.backward(torch.ones_like(res), retain_graph=True)  # accumulates
    calls.append(inp.grad.numpy().copy())
    inp.grad.zero_()
    res.backward(torch.ones_like(res), retain_graph=True)
    calls.append(inp.grad.numpy().copy())
    return {"retain_graph": calls}


def gentle_introduction(torch, nn, twin):
    """Q = 3a^3 - b^2, the graph freed after backward, a walk over the graph's nodes, a
    Jacobian-vector product of a loop of unknown length, and freezing all but a new head."""
    out = {}
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
    names, node = [], Q.grad_fn  # the graph's nodes, from the output back to the leaves
    while node is not None and node.next_functions:
        node = node.next_functions[0][0]
        names.append(type(node).__name__ == "AccumulateGrad")
    out["walk ends at AccumulateGrad"] = names[-1]
    t = torch.tensor([0.3, -1.2, 0.05], requires_grad=True)
    yy = t * 2
    while yy.data.norm() < 1000:
        yy = yy * 2
    yy.backward(torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float))
    out["jvp"] = t.grad.numpy().copy()
    model = twin.model(nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2)))
    for param in model[0].parameters():
        param.requires_grad = False
    model(torch.ones(3, 5)).sum().backward()
    out["frozen"] = [p.grad is None for p in model.parameters()]
    return out


def autograd_tutorial(torch, nn, F, optim, data, twin, w0, b0):
    return {**computing_gradients(torch, F, w0, b0), **jacobian_products(torch),
            **gentle_introduction(torch, nn, twin)}


def test_autograd_tutorial(rng):
    w0, b0 = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal(3).astype(
        np.float32)
    want, got = run_both(autograd_tutorial, w0=w0, b0=b0)
    assert_agree(want, got, np.float32, MANY_STEPS)
    assert want["second backward"] == "RuntimeError" and want["frozen"] == [True] * 2 + [False] * 2
