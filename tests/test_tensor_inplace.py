"""In-place methods (x.exp_(), x.lerp_(y, w), x.index_add_(...), x.bernoulli_(), ...): the same
values as PyTorch's, written into the tensor's own memory, its version bumped, and refused on
tensors that are part of a graph."""

import numpy as np
import pytest
import torch

import nabla

X = np.array([[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]], np.float32)
Y = np.array([[1.0, 2.0, -1.0], [0.5, 1.5, 2.5]], np.float32)

CALLS = {  # name -> call on (lib, x, y)
    "exp_": lambda lib, x, y: x.exp_(),
    "exp2_": lambda lib, x, y: x.exp2_(),
    "expm1_": lambda lib, x, y: x.expm1_(),
    "log_": lambda lib, x, y: x.abs_().log_(),
    "log2_": lambda lib, x, y: x.abs_().log2_(),
    "log1p_": lambda lib, x, y: x.abs_().log1p_(),
    "sqrt_": lambda lib, x, y: x.abs_().sqrt_(),
    "rsqrt_": lambda lib, x, y: x.abs_().rsqrt_(),
    "square_": lambda lib, x, y: x.square_(),
    "reciprocal_": lambda lib, x, y: x.reciprocal_(),
    "pow_": lambda lib, x, y: x.pow_(3),
    "neg_": lambda lib, x, y: x.neg_(),
    "negative_": lambda lib, x, y: x.negative_(),
    "sign_": lambda lib, x, y: x.sign_(),
    "floor_": lambda lib, x, y: x.floor_(),
    "ceil_": lambda lib, x, y: x.ceil_(),
    "round_": lambda lib, x, y: x.round_(),
    "round_ decimals": lambda lib, x, y: x.mul_(1.2345).round_(decimals=2),
    "trunc_": lambda lib, x, y: x.trunc_(),
    "frac_": lambda lib, x, y: x.frac_(),
    "sin_": lambda lib, x, y: x.sin_(),
    "cos_": lambda lib, x, y: x.cos_(),
    "tanh_": lambda lib, x, y: x.tanh_(),
    "sigmoid_": lambda lib, x, y: x.sigmoid_(),
    "relu_": lambda lib, x, y: x.relu_(),
    "erf_": lambda lib, x, y: x.erf_(),
    "nan_to_num_": lambda lib, x, y: x.log_().nan_to_num_(nan=7.0),
    "clamp_min_": lambda lib, x, y: x.clamp_min_(0.0),
    "clamp_max_": lambda lib, x, y: x.clamp_max_(1.0),
    "clip_": lambda lib, x, y: x.clip_(-1.0, 1.0),
    "lerp_": lambda lib, x, y: x.lerp_(y, 0.25),
    "addcmul_": lambda lib, x, y: x.addcmul_(y, y, value=0.5),
    "addcdiv_": lambda lib, x, y: x.addcdiv_(y, y.abs() + 1, value=2),
    "fmod_": lambda lib, x, y: x.fmod_(0.75),
    "remainder_": lambda lib, x, y: x.remainder_(0.75),
    "tril_": lambda lib, x, y: x.tril_(),
    "triu_": lambda lib, x, y: x.triu_(1),
    "cumsum_": lambda lib, x, y: x.cumsum_(1),
    "cumprod_": lambda lib, x, y: x.cumprod_(0),
    "index_add_": lambda lib, x, y: x.index_add_(1, lib.tensor([2, 0, 2]), y, alpha=2),
    "scatter_add_": lambda lib, x, y: x.scatter_add_(1, lib.tensor([[2, 0, 2], [1, 1, 0]]), y),
    "scatter_": lambda lib, x, y: x.scatter_(1, lib.tensor([[2, 0], [1, 0]]), y),
    "scatter_ value": lambda lib, x, y: x.scatter_(1, lib.tensor([[2, 0], [1, 0]]), value=-4.0),
    "fill_diagonal_": lambda lib, x, y: x.fill_diagonal_(9.0),
}


@pytest.mark.parametrize("name", CALLS)
def test_matches_torch_in_place(name):
    x, t = nabla.tensor(X.copy()), torch.tensor(X.copy())
    memory, version = x._data, x._version[0]
    with np.errstate(all="ignore"):
        out = CALLS[name](nabla, x, nabla.tensor(Y))
    ref = CALLS[name](torch, t, torch.tensor(Y))
    assert out is x and x._data is memory and x._version[0] > version
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)


def test_refused_on_a_leaf_that_requires_grad_and_allowed_under_no_grad():
    w = nabla.tensor(X.copy(), requires_grad=True)
    with pytest.raises(RuntimeError, match="exp_: in-place operation on a leaf tensor"):
        w.exp_()
    with nabla.no_grad():  # an exponential moving average of weights, as in EMA / BYOL
        w.lerp_(nabla.tensor(Y), 0.5)
    np.testing.assert_allclose(w.detach().numpy(), (X + Y) / 2)


GRAPH_CASES = {  # in-place ops inside a graph: recorded as in PyTorch
    "op_ methods on an activation": lambda lib, w, v: (
        (w * 2).add_(v).mul_(3.0).masked_fill_(v > 2.5, 0.0).relu_()),
    "mul_ and clamp_ with graph arguments": lambda lib, w, v: (w * 2).add_(v).mul_(v).clamp_(
        max=5.0),
    "add_ into a buffer that needs no grad": lambda lib, w, v: lib.zeros(2, 3).add_(w * v),
    "+= into a buffer": lambda lib, w, v: _iadd(lib.zeros(2, 3), w * v),
    "setitem of a row": lambda lib, w, v: _set(lib.zeros(2, 3), 0, w[1] * v[0]),
    "setitem of a scalar": lambda lib, w, v: _set(w * 1.0, (1, 2), (v * v).sum()),
    "setitem with a mask": lambda lib, w, v: _set(w * 1.0, v > 1.0, 7.0),
    "setitem with an index array": lambda lib, w, v: _set(w * v, (slice(None), lib.tensor([2, 0])),
                                                       v[:, :2] * 3),
    "out[i] op= v into a buffer": lambda lib, w, v: _augmented_rows(lib.zeros(2, 3), w, v),
    "copy_ of a graph tensor": lambda lib, w, v: lib.zeros(2, 3).copy_(w * v),
    "copy_ broadcasting a leaf": lambda lib, w, v: lib.zeros(2, 3).copy_(v[0]),
    "index_add_ of a graph source": lambda lib, w, v: (w * 1.0).index_add_(1, lib.tensor([0, 2]),
                                                                           v[:, :2]),
}


def _augmented_rows(t, w, v):
    t[0] += w[0] * v[0]
    t[1] += v[1]
    t[1] *= w[1]
    t[0] /= v[1] + 2
    t[1] -= w[0]
    return t


def _iadd(t, other):
    t += other
    return t


def _set(t, key, value):
    t[key] = value
    return t


@pytest.mark.parametrize("name", GRAPH_CASES)
def test_in_place_in_the_graph_matches_torch(name):
    out = {}
    for lib in (nabla, torch):
        w = lib.tensor(X.copy(), requires_grad=True)
        v = lib.tensor(Y.copy(), requires_grad=True)
        y = GRAPH_CASES[name](lib, w, v)
        (y * lib.tensor(X + 1)).sum().backward()
        out[lib.__name__] = [None if a is None else a.detach().numpy() for a in (y, w.grad, v.grad)]
    for a, b in zip(out["nabla"], out["torch"], strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_chain_pytorch_refuses_gets_the_exact_gradient():
    """PyTorch refuses (tanh_ saved the output that mul_ then overwrote); nabla's snapshots keep
    every saved value, so the gradient is the one of the out-of-place chain."""
    w = nabla.tensor(X.copy(), requires_grad=True)
    (w * 2).tanh_().mul_(2.0).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 4 * (1 - np.tanh(2 * X) ** 2), rtol=1e-5)


def test_augmented_assignment_on_a_view_writes_its_base_as_pytorch():
    """t = x[0]; t += v: x holds the new values (as in PyTorch); t is the recorded result."""
    v = nabla.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = nabla.zeros(2, 3)
    t = x[0]
    t += v * 2
    np.testing.assert_array_equal(x.numpy(), [[2.0, 4.0, 6.0], [0.0, 0.0, 0.0]])
    t.sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [2.0, 2.0, 2.0])


def test_a_node_that_saved_the_old_value_refuses_to_backward():
    w = nabla.tensor(X.copy(), requires_grad=True)
    h = w * 2
    y = h * h  # saves h
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_in_place_with_a_gradient_on_a_view_is_refused():
    h = nabla.tensor(X.copy(), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="mul_: in-place operation that needs a gradient on "
                                           "a view"):
        h[0].mul_(3.0)


@pytest.mark.parametrize("write, torch_refuses", [
    (lambda t: t.add_(1), True), (lambda t: t.exp_(), True),
    (lambda t: t.zero_(), False), (lambda t: t.__setitem__((0, 0), 1.0), False),
], ids=["add_", "exp_", "zero_", "__setitem__"])
def test_writes_into_read_only_memory_are_refused_with_the_fix(write, torch_refuses):
    """torch: "more than one element of the written-to tensor refers to a single memory
    location"; NumPy's own "assignment destination is read-only" leaked before. (torch lets a
    write of one value, zero_ or a single element, into an expanded tensor's base memory; nabla
    refuses those too.)"""
    read_only = np.zeros((2, 3))
    read_only.flags.writeable = False
    for t in (nabla.zeros(3).expand(2, 3), nabla.zeros(4).unfold(0, 3, 1),
              nabla.from_numpy(read_only)):
        with pytest.raises(RuntimeError, match=r"this tensor's memory is read-only: .* clone\(\) "
                                               r"the tensor before writing"):
            write(t)
    if torch_refuses:
        with pytest.raises(RuntimeError, match="single memory location"):
            write(torch.zeros(3).expand(2, 3))


def test_setitem_with_repeated_positions_keeps_the_last_value():
    v = nabla.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t = nabla.zeros(3)
    t[nabla.tensor([0, 0, 2])] = v
    np.testing.assert_array_equal(t.detach().numpy(), [2.0, 0.0, 3.0])
    t.sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [0.0, 1.0, 1.0])


@pytest.mark.parametrize("name", ["remainder", "fmod", "floor_divide"])
def test_division_remainder_methods(name):
    x, y = np.array([-7.5, 7.5, 5.0], np.float32), np.array([2.0, -2.0, 3.0], np.float32)
    out = getattr(nabla.tensor(x), name)(nabla.tensor(y))
    np.testing.assert_allclose(out.numpy(), getattr(torch.tensor(x), name)(torch.tensor(y)).numpy())


def test_a_float_result_into_an_integer_tensor_is_refused():
    with pytest.raises(RuntimeError, match=r"sqrt_: the result type float32 can't be cast"):
        nabla.tensor([1, 4]).sqrt_()
    assert nabla.tensor([-2, 3]).abs_().tolist() == [2, 3]


def test_random_fills_are_seeded_and_in_range():
    def draws():
        nabla.manual_seed(3)
        return (nabla.empty(1000).bernoulli_(0.25), nabla.empty(1000).exponential_(2.0),
                nabla.empty(1000).log_normal_(0.0, 0.5), nabla.empty(1000).random_(5),
                nabla.empty(1000, dtype=nabla.int64).random_(3, 6))
    first, second = draws(), draws()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    bern, expo, lognorm, ints, ints2 = (a.numpy() for a in first)
    assert set(np.unique(bern)) <= {0.0, 1.0} and 0.2 < bern.mean() < 0.3
    assert (expo >= 0).all() and 0.4 < expo.mean() < 0.6  # mean 1 / lambda
    assert (lognorm > 0).all() and 0.9 < np.median(lognorm) < 1.1  # median exp(mean)
    assert set(np.unique(ints)) == {0.0, 1.0, 2.0, 3.0, 4.0}
    assert set(np.unique(ints2)) == {3, 4, 5} and ints2.dtype == np.int64
