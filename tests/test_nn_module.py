"""Module and containers: registration, iteration, modes, dtype casts, state_dict keys and
loading (with PyTorch's error messages), hooks and repr, compared with torch.nn."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as tnn
from conftest import assert_close, to_torch

import nabla
import nabla.nn as nn


def _nested(lib):
    """The same nested model in nabla.nn or torch.nn."""

    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.Linear(4, 6)
            self.bn = lib.BatchNorm1d(6)
            self.act = lib.ReLU()
            self.drop = lib.Dropout(0.25)

        def forward(self, x):
            return self.drop(self.act(self.bn(self.fc(x))))

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.blocks = lib.ModuleList([Block(), Block()])
            self.blocks[1].fc = lib.Linear(6, 6)
            self.norm = lib.LayerNorm(6)
            self.head = lib.Sequential(OrderedDict(
                [("emb_proj", lib.Linear(6, 3, bias=False)), ("out", lib.Tanh())]))
            self.register_buffer("scale", (torch if lib is tnn else nabla).ones(3))
            self.register_buffer("tmp", (torch if lib is tnn else nabla).zeros(2),
                                 persistent=False)

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return self.head(self.norm(x)) * self.scale

    return Net()


def test_state_dict_keys_match_torch_for_a_nested_model():
    n, t = _nested(nn), _nested(tnn)
    assert list(n.state_dict()) == list(t.state_dict())
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [k for k, _ in n.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert [k for k, _ in n.named_modules()] == [k for k, _ in t.named_modules()]
    assert [k for k, _ in n.named_children()] == [k for k, _ in t.named_children()]
    for (k, a), (_, b) in zip(n.state_dict().items(), t.state_dict().items(), strict=True):
        assert tuple(a.shape) == tuple(b.shape), k


def test_nested_model_trains_like_torch(rng):
    # float64: two batch norms over a batch of 5 amplify float32 rounding in the gradients past
    # float32's tolerance for 1 seed in 25 (batch norm's float32 is checked in test_nn_layers)
    n, t = _nested(nn).double(), _nested(tnn).double()
    n.load_state_dict(t.state_dict())
    n.eval()
    t.eval()
    x = rng.standard_normal((5, 4))
    tn, tt = nabla.tensor(x), torch.tensor(x)
    assert_close(n(tn), t(tt))
    n.train()
    t.train()
    for m in (n, t):
        for mod in m.modules():
            if isinstance(mod, (nn.Dropout, tnn.Dropout)):
                mod.p = 0.0
    n(tn).sum().backward()
    t(tt).sum().backward()
    for (k, a), (_, b) in zip(n.named_parameters(), t.named_parameters(), strict=True):
        assert_close(a.grad, b.grad, what=k)
    assert_close(n.blocks[0].bn.running_mean, t.blocks[0].bn.running_mean)


def test_repr_matches_torch():
    n = nn.Sequential(nn.Linear(3, 4), nn.ReLU(inplace=True), nn.Sequential(
        nn.BatchNorm1d(4), nn.Dropout(0.2), nn.LayerNorm(4)), nn.Flatten(), nn.GELU("tanh"),
        nn.Embedding(5, 2, padding_idx=0), nn.LeakyReLU(0.1), nn.Softmax(dim=1), nn.Identity(),
        nn.Unflatten(1, (2, 2)), nn.Softplus(), nn.ELU(), nn.SiLU(), nn.Bilinear(2, 3, 4))
    t = tnn.Sequential(tnn.Linear(3, 4), tnn.ReLU(inplace=True), tnn.Sequential(
        tnn.BatchNorm1d(4), tnn.Dropout(0.2), tnn.LayerNorm(4)), tnn.Flatten(), tnn.GELU("tanh"),
        tnn.Embedding(5, 2, padding_idx=0), tnn.LeakyReLU(0.1), tnn.Softmax(dim=1),
        tnn.Identity(), tnn.Unflatten(1, (2, 2)), tnn.Softplus(), tnn.ELU(), tnn.SiLU(),
        tnn.Bilinear(2, 3, 4))
    assert repr(n) == repr(t)
    assert repr(_nested(nn)).replace("Block", "B") == repr(_nested(tnn)).replace("Block", "B")
    assert repr(nn.ModuleList([nn.Linear(2, 2)] * 3 + [nn.ReLU()])) == \
        repr(tnn.ModuleList([tnn.Linear(2, 2)] * 3 + [tnn.ReLU()]))
    assert repr(nn.ModuleList()) == repr(tnn.ModuleList())


def test_parameter_basics():
    p = nn.Parameter(nabla.zeros(2, 3))
    assert p.requires_grad and p.is_leaf and isinstance(p, nabla.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(nabla.zeros(2), requires_grad=False).requires_grad
    data = nabla.ones(3)
    q = nn.Parameter(data)
    data._data[0] = 5  # shares memory
    assert q._data[0] == 5
    assert type(q * 2) is nabla.Tensor


def test_registration_rules():
    m = nn.Module()
    m.w = nn.Parameter(nabla.zeros(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("buf", nabla.zeros(1))
    m.plain = 3
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
    assert list(m._buffers) == ["buf"] and m.plain == 3
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = nabla.zeros(2)
    m.w = None
    assert m.w is None and "w" in m._parameters
    m.buf = nabla.ones(1)
    assert m._buffers["buf"]._data[0] == 1
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("plain", nabla.zeros(1))
    with pytest.raises(KeyError, match='"."'):
        m.register_parameter("a.b", None)
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        _ = m.nope
    del m.sub
    assert "sub" not in m._modules
    m.sub = nn.ReLU()
    m.sub = nn.Parameter(nabla.zeros(1))  # re-assigning moves it to the parameters
    assert "sub" not in m._modules and "sub" in m._parameters

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(nabla.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.modules())) == 3
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_train_eval_zero_grad_requires_grad_apply():
    m = _nested(nn)
    assert m.training and all(mod.training for mod in m.modules())
    assert m.eval() is m and not any(mod.training for mod in m.modules())
    m.train()
    m(nabla.randn(3, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad._data == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    seen = []
    m.head.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Tanh", "Sequential"]


def test_to_double_casts_in_place_and_keeps_parameter_objects():
    m = _nested(nn)
    params = list(m.parameters())
    m(nabla.randn(3, 4)).sum().backward()
    assert m.double() is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.dtype == nabla.float64 and p.grad.dtype == nabla.float64 for p in params)
    assert m.blocks[0].bn.running_mean.dtype == nabla.float64
    assert m.blocks[0].bn.num_batches_tracked.dtype == nabla.int64  # integers stay
    m.to(nabla.float32)
    assert all(p.dtype == nabla.float32 for p in params)
    m.to("cpu")
    with pytest.raises(RuntimeError, match="not available"):
        m.to("cuda")


def test_load_state_dict_accepts_numpy_and_nabla_values_and_copies():
    src, dst = nn.Linear(3, 2), nn.Linear(3, 2)
    sd = {k: v.numpy() for k, v in src.state_dict().items()}
    result = dst.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(dst.weight._data, src.weight._data)
    src.weight._data[0, 0] = 100.0  # a copy, not shared memory
    assert dst.weight._data[0, 0] != 100.0
    dst.load_state_dict(src.state_dict())
    assert dst.weight._data[0, 0] == 100.0


def test_load_state_dict_errors_like_torch():
    n, t = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), tnn.Sequential(
        tnn.Linear(3, 2), tnn.BatchNorm1d(2))
    sd_n = {k: v for k, v in n.state_dict().items() if k != "0.bias"}
    sd_t = {k: v for k, v in t.state_dict().items() if k != "0.bias"}
    sd_n["extra.weight"] = nabla.zeros(1)
    sd_t["extra.weight"] = torch.zeros(1)
    sd_n["0.weight"] = nabla.zeros(4, 3)
    sd_t["0.weight"] = torch.zeros(4, 3)
    with pytest.raises(RuntimeError) as err_n:
        n.load_state_dict(sd_n)
    with pytest.raises(RuntimeError) as err_t:
        t.load_state_dict(sd_t)
    msg = str(err_n.value)
    assert msg.split("\n")[:3] == str(err_t.value).split("\n")[:3]  # header, missing, unexpected
    assert 'Missing key(s) in state_dict: "0.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert ("size mismatch for 0.weight: copying a param with shape (4, 3) from checkpoint, "
            "the shape in current model is (2, 3).") in msg
    sd_n["0.weight"] = nabla.zeros(2, 3)
    result = n.load_state_dict(sd_n, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra.weight"]
    assert np.all(n[0].weight._data == 0)


def test_state_dict_shares_memory_and_keep_vars():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad and sd["weight"]._data is m.weight._data
    assert m.state_dict(keep_vars=True)["weight"] is m.weight
    assert list(m.state_dict(prefix="enc.")) == ["enc.weight", "enc.bias"]


def test_torch_loads_a_nabla_state_dict():
    n, t = _nested(nn), _nested(tnn)
    t.load_state_dict({k: to_torch(v) for k, v in n.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    n.eval()
    t.eval()
    assert_close(n(nabla.tensor(x)), t(torch.tensor(x)))


def test_forward_hooks_and_pre_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append(("pre", args[0].shape)))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(("post", out.shape)))
    m(nabla.zeros(3, 2))
    assert calls == [("pre", (3, 2)), ("post", (3, 2))]
    h1.remove()
    h2.remove()
    m(nabla.zeros(3, 2))
    assert len(calls) == 2
    m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    with m.register_forward_hook(lambda mod, args, out: out + 1):
        y = m(nabla.ones(1, 2))
    np.testing.assert_allclose(y._data, m.bias._data[None] + 1, rtol=1e-6)
    order = []
    m.register_forward_hook(lambda *a: order.append(1))
    m.register_forward_hook(lambda *a: order.append(0), prepend=True)
    m(nabla.ones(1, 2))
    assert order == [0, 1]


def test_sequential_container_api():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]  # slices keep their keys, as in PyTorch
    s.append(nn.Sigmoid())
    assert len(s) == 4 and s(nabla.zeros(5, 2)).shape == (5, 1)
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and s[1] is c
    s[0] = nn.Linear(2, 3)
    assert s[0] is not a
    s.insert(1, nn.ReLU())
    assert isinstance(s[1], nn.ReLU) and len(s) == 4
    t = tnn.Sequential(tnn.Linear(1, 1), tnn.ReLU(), tnn.Tanh())
    n = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Tanh())
    t.insert(-1, tnn.Sigmoid())
    n.insert(-1, nn.Sigmoid())
    assert repr(n) == repr(t)
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert named.fc is a and list(named.state_dict()) == ["fc.weight", "fc.bias"]
    with pytest.raises(IndexError):
        s[10]


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1), nn.ReLU()])
    ml.append(nn.Tanh())
    ml += [nn.Sigmoid()]
    assert len(ml) == 4 and isinstance(ml[-1], nn.Sigmoid)
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    ml.insert(0, nn.Identity())
    assert isinstance(ml[0], nn.Identity) and list(ml._modules) == [str(i) for i in range(5)]
    assert len(list(ml.parameters())) == 2
    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ReLU()})
    md["c"] = nn.Linear(2, 2)
    assert list(md.keys()) == ["a", "b", "c"] and "a" in md and len(md) == 3
    assert list(md.state_dict()) == ["a.weight", "a.bias", "c.weight", "c.bias"]
    md.pop("b")
    assert list(md) == ["a", "c"]


def test_parameter_list_and_dict():
    pl = nn.ParameterList([nabla.zeros(2), nn.Parameter(nabla.ones(3))])
    assert len(pl) == 2 and all(isinstance(p, nn.Parameter) for p in pl)
    assert list(pl.state_dict()) == ["0", "1"]
    pd = nn.ParameterDict({"w": nabla.zeros(2)})
    assert isinstance(pd["w"], nn.Parameter) and list(pd.state_dict()) == ["w"]
    tl = tnn.ParameterList([tnn.Parameter(torch.zeros(2))])
    assert list(tl.state_dict()) == list(nn.ParameterList([nabla.zeros(2)]).state_dict())
    two_n = nn.ParameterList([nabla.zeros(2, 3), nabla.zeros(1)])
    two_t = tnn.ParameterList([tnn.Parameter(torch.zeros(2, 3)), tnn.Parameter(torch.zeros(1))])
    assert repr(two_n).replace("nabla.", "torch.") == repr(two_t)


def test_deepcopy_and_pickle_keep_structure_and_sharing():
    m = _nested(nn)
    m.shared = m.head
    c = copy.deepcopy(m)
    assert list(c.state_dict()) == list(m.state_dict())
    assert c.shared is c.head and c.head is not m.head
    assert isinstance(c.norm.weight, nn.Parameter) and c.norm.weight.requires_grad
    c.norm.weight._data[0] = 9
    assert m.norm.weight._data[0] != 9
    s = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.LayerNorm(3)).eval()
    p = pickle.loads(pickle.dumps(s))
    x = nabla.randn(2, 4)
    np.testing.assert_array_equal(s(x)._data, p(x)._data)
    assert list(p.state_dict()) == list(s.state_dict())


def test_get_submodule_and_parameter():
    m = _nested(nn)
    assert m.get_submodule("blocks.1.fc") is m.blocks[1].fc
    assert m.get_parameter("norm.weight") is m.norm.weight
    with pytest.raises(AttributeError):
        m.get_submodule("blocks.7")


def test_forward_not_implemented_message():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)
