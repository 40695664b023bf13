"""Indexing ops' errors against PyTorch: out-of-range, negative and malformed indices for
getitem, gather/scatter, index_select/index_add/index_copy/index_fill/index_reduce, take/put and
take_along_dim (the same inputs torch rejects, messages naming the op, the index and the size;
the range checked once per call), and negative indices where torch accepts them."""

import numpy as np
import pytest
import torch

import nabla

ERRORS = [
    (lambda x: x[4], IndexError, r"getitem: index 4 is out of range for dim 0 with size 4"),
    (lambda x: x[:, -4], IndexError, r"getitem: index -4 is out of range for dim 1 with size 3"),
    (lambda x: x[[0, 7]], IndexError, r"getitem: index 7 is out of range for dim 0 with size 4"),
    (lambda x: x[0, 0, 0], IndexError, r"getitem: too many indices \(3\) .* dimension 2"),
    (lambda x: x[nabla.ones(3, dtype=nabla.bool)], IndexError,
     r"getitem: the boolean mask of shape \(3,\) does not match the indexed shape \(4,\)"),
    (lambda x: nabla.gather(x, 2, nabla.zeros(4, 3, dtype=nabla.int64)), IndexError,
     r"gather: dim 2 is out of range"),
    (lambda x: nabla.gather(x, 1, nabla.tensor([[0, 3]])), IndexError,
     r"gather: index 3 is out of range for dim 1 with size 3"),
    (lambda x: nabla.gather(x, 1, nabla.tensor([0, 1])), RuntimeError,
     r"gather: index has 1 dimensions but input has 2"),
    (lambda x: nabla.gather(x, 1, nabla.zeros(5, 1, dtype=nabla.int64)), RuntimeError,
     r"gather: index of shape \(5, 1\) is larger than input \(4, 3\)"),
    (lambda x: nabla.gather(x, 1, nabla.zeros(4, 1)), RuntimeError,
     r"gather: index must be an integer tensor"),
    (lambda x: nabla.scatter_add(x, 0, nabla.tensor([[4, 0]]), nabla.ones(1, 2)), IndexError,
     r"scatter_add: index 4 is out of range for dim 0 with size 4"),
    (lambda x: nabla.scatter_add(x, 0, nabla.tensor([[1, 0]]), nabla.ones(1, 1)), RuntimeError,
     r"scatter_add: index of shape \(1, 2\) is larger"),
    (lambda x: x.scatter(1, nabla.tensor([[0, -4]]), 1.0), IndexError,
     r"scatter: index -4 is out of range for dim 1 with size 3"),
    (lambda x: nabla.scatter_reduce(x, 1, nabla.tensor([[3]]), nabla.ones(1, 1), "amax"),
     IndexError, r"scatter_reduce: index 3 is out of range for dim 1 with size 3"),
    (lambda x: nabla.index_select(x, 0, nabla.tensor([1, 4])), IndexError,
     r"index_select: index 4 is out of range for dim 0 with size 4"),
    (lambda x: nabla.index_select(x, 0, nabla.tensor([[1]])), RuntimeError,
     r"index_select: index must be a 1-D integer tensor"),
    (lambda x: nabla.index_add(x, 1, nabla.tensor([0, 1]), nabla.ones(4, 3)), RuntimeError,
     r"index_add: source has 3 slices along dim 1 but index has 2"),
    (lambda x: nabla.masked_select(x, nabla.ones(4, 3)), RuntimeError,
     r"masked_select: mask must be a boolean tensor"),
    (lambda x: nabla.take_along_dim(x, nabla.tensor([0]), 1), RuntimeError,
     r"take_along_dim: input \(4, 3\) and indices \(1,\)"),
]


@pytest.mark.parametrize("call,error,match", ERRORS)
def test_error_messages(call, error, match):
    with pytest.raises(error, match=match):
        call(nabla.randn(4, 3, requires_grad=True))


def test_index_ops_check_the_index_range_once(monkeypatch):
    """The range check lives in the op (where a jit.trace replay reaches it), not also in the
    public function: one check per call, naming the public op."""
    import importlib

    seen = []
    for name in ("nabla.ops.index", "nabla.ops.scatter"):  # not the function scatter
        module = importlib.import_module(name)
        check = module._check_range
        monkeypatch.setattr(module, "_check_range",
                            lambda op, *a, check=check: seen.append(op) or check(op, *a))
    x, i, s = nabla.randn(4, 3), nabla.tensor([[1, 0]]), nabla.ones(1, 2)
    x.scatter(0, i, s), x.scatter_add(0, i, s), x.scatter_reduce(0, i, s, "sum"), x.gather(0, i)
    x.index_select(0, i[0]), x.index_add(0, i[0], nabla.ones(2, 3)), x.take(i)
    x.index_copy(0, i[0], nabla.ones(2, 3)), nabla.take_along_dim(x, i, None)
    assert seen == ["scatter", "scatter_add", "scatter_reduce", "gather", "index_select",
                    "index_add", "take", "index_copy", "take_along_dim"]


# (the name in nabla's error, the call on x of shape (3, 4) and a 1-D index i = [value, 0] read
# along dim 1 (gather's family, expanded to (3, 2): a broadcast view), or flat (take, put))
BOUNDS = [
    ("gather", lambda lib, x, i: x.gather(1, i.expand(3, 2))),
    ("scatter", lambda lib, x, i: x.scatter(1, i.expand(3, 2), x[:, :2] * 2)),
    ("scatter", lambda lib, x, i: x.scatter(1, i.expand(3, 2), 5.0)),
    ("scatter_add", lambda lib, x, i: x.scatter_add(1, i.expand(3, 2), x[:, 1:3] * 3)),
    ("scatter_reduce",
     lambda lib, x, i: x.scatter_reduce(1, i.expand(3, 2), x[:, :2] * 2, "amax")),
    ("index_select", lambda lib, x, i: x.index_select(1, i)),
    ("index_add", lambda lib, x, i: x.index_add(1, i, x[:, 1:3] * 3)),
    ("index_copy", lambda lib, x, i: x.index_copy(1, i[:1], x[:, 1:2] * 3)),
    ("index_fill", lambda lib, x, i: x.index_fill(1, i, 7.0)),
    ("index_reduce", lambda lib, x, i: x.index_reduce(1, i, x[:, :2] * 2, "amax")),
    ("take_along_dim", lambda lib, x, i: lib.take_along_dim(x, i.expand(3, 2), 1)),
    ("take_along_dim", lambda lib, x, i: lib.take_along_dim(x, i, None)),
    ("take", lambda lib, x, i: x.take(i)),
    ("put", lambda lib, x, i: x.put(i, x[0, :2] * 2)),
    ("put", lambda lib, x, i: x.put(i, x[0, :2] * 2, accumulate=True)),
    ("getitem", lambda lib, x, i: x[:, i]),
]


@pytest.mark.filterwarnings("ignore:index_reduce")
@pytest.mark.parametrize("value", [-1, -4, -5, 3, 4, 11, 12, -12, -13, 100])
@pytest.mark.parametrize("name, call", BOUNDS, ids=[f"{n}-{k}" for k, (n, _) in
                                                    enumerate(BOUNDS)])
def test_negative_and_too_large_indices_as_torch(name, call, value, rng):
    """Where torch raises, nabla raises an IndexError naming the op, the index and the size;
    where torch accepts (negative positions from the end, take_along_dim's any index modulo the
    size), values and the input's gradient (random upstream) are torch's."""
    a = rng.standard_normal((3, 4))
    t_x = torch.tensor(a, requires_grad=True)
    try:
        expected = call(torch, t_x, torch.tensor([value, 0]))
    except (IndexError, RuntimeError):
        with pytest.raises(IndexError, match=rf"^{name}: index {value} is out of range for dim "
                                             rf"\d with size \d+ \(valid: -?\d+ to \d+"):
            call(nabla, nabla.tensor(a), nabla.tensor([value, 0]))
        return
    x = nabla.tensor(a, requires_grad=True)
    out = call(nabla, x, nabla.tensor([value, 0]))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    up = rng.standard_normal(tuple(out.shape))
    out.backward(nabla.tensor(up))
    expected.backward(torch.tensor(up))
    np.testing.assert_allclose(x.grad.numpy(), t_x.grad.numpy(), rtol=1e-12)


def test_a_deliberate_index_error_is_not_prefixed_twice():
    """The op's own check raised in forward passes Op.apply's wrapper as it is."""
    with pytest.raises(IndexError) as info:
        nabla.zeros(3, 4).scatter(1, nabla.tensor([[4]]), 1.0)
    assert str(info.value).startswith("scatter: index 4 is out of range for dim 1 with size 4")


def test_torch_rejects_the_same_inputs():
    x = torch.randn(4, 3)
    for call in (lambda: x[4], lambda: x[[0, 7]], lambda: x[0, 0, 0],
                 lambda: x[torch.ones(3, dtype=torch.bool)],
                 lambda: torch.gather(x, 1, torch.tensor([[0, 3]])),
                 lambda: torch.gather(x, 1, torch.tensor([0, 1])),
                 lambda: torch.index_select(x, 0, torch.tensor([1, 4])),
                 lambda: torch.masked_select(x, torch.ones(4, 3))):
        with pytest.raises((RuntimeError, IndexError, ValueError)):
            call()
