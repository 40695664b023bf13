"""The Tensor methods of tensor_methods_compat.py and tensor_inplace_compat.py against PyTorch's
methods on the same random data: out-of-place ones (values and gradients, float32 and float64,
gradcheck in float64), in-place ones (values, the same tensor object and memory, the version
bump, and backward through the op on a non-leaf), the in-place shape changes (squeeze_, t_, ...)
in and out of grad mode, the memory facts (stride, storage_offset, nbytes) and the errors."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.jit import TraceError

DTYPES = [torch.float32, torch.float64]


def _nab(t: torch.Tensor, requires_grad: bool = False) -> nabla.Tensor:
    return nabla.tensor(t.detach().numpy().copy(), requires_grad=requires_grad)


def _uniform(shape, low, high, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(shape, generator=g, dtype=dtype)


def case(call, *shapes, low=-2.0, high=2.0):
    """A differentiable method call on random inputs of ``shapes`` drawn in [low, high)."""
    return {"call": call, "shapes": shapes, "low": low, "high": high}


# -- out-of-place methods with a gradient ---------------------------------------------------------
# each call is (lib, *inputs) -> output; the inputs are the tensors whose gradients are compared
METHODS = {
    "dot": case(lambda lib, x, y: x.dot(y), (5,), (5,)),
    "dot, keyword": case(lambda lib, x, y: x.dot(tensor=y), (4,), (4,)),
    "outer": case(lambda lib, x, y: x.outer(y), (3,), (4,)),
    "ger": case(lambda lib, x, y: x.ger(vec2=y), (3,), (2,)),
    "kron": case(lambda lib, x, y: x.kron(y), (2, 3), (3, 2)),
    "ravel of a transpose": case(lambda lib, x: x.t().ravel(), (3, 4)),
    "tile, sizes": case(lambda lib, x: x.tile(2, 1, 2), (2, 3)),
    "tile, a tuple": case(lambda lib, x: x.tile((2,)), (2, 3)),
    "tile, keyword": case(lambda lib, x: x.tile(dims=(1, 3)), (2, 3)),
    "take": case(lambda lib, x: x.take(lib.tensor([[0, 5], [11, -1]])), (3, 4)),
    "select": case(lambda lib, x: x.select(-1, 2), (3, 4)),
    "select, keywords": case(lambda lib, x: x.select(dim=0, index=-1), (3, 4)),
    "diff": case(lambda lib, x: x.diff(), (3, 5)),
    "diff n=2 dim=0": case(lambda lib, x: x.diff(n=2, dim=0), (4, 3)),
    "diff prepend append": case(lambda lib, x, p, a: x.diff(1, 0, prepend=p, append=a),
                                (3, 4), (2, 4), (1, 4)),
    "diff prepend only": case(lambda lib, x, p: x.diff(prepend=p), (3, 4), (3, 2)),
    "lgamma": case(lambda lib, x: x.lgamma(), (3, 4), low=0.2, high=5.0),
    "lgamma of negatives": case(lambda lib, x: x.lgamma(), (6,), low=-2.9, high=-2.1),
    "digamma": case(lambda lib, x: x.digamma(), (3, 4), low=0.2, high=5.0),
    "polygamma(1)": case(lambda lib, x: x.polygamma(1), (3, 4), low=0.3, high=4.0),
    "polygamma(n=2)": case(lambda lib, x: x.polygamma(n=2), (5,), low=0.3, high=4.0),
    "mvlgamma(p=1)": case(lambda lib, x: x.mvlgamma(p=1), (3, 4), low=0.2, high=4.0),
    "mvlgamma(3)": case(lambda lib, x: x.mvlgamma(3), (3, 4), low=1.1, high=4.0),
    "hardshrink": case(lambda lib, x: x.hardshrink(), (4, 5)),
    "hardshrink, lambd": case(lambda lib, x: x.hardshrink(lambd=0.8), (4, 5)),
    "prelu": case(lambda lib, x, w: x.prelu(w), (2, 3, 4), (3,)),
    "prelu, one weight": case(lambda lib, x, w: x.prelu(weight=w), (2, 3), (1,)),
    "conj": case(lambda lib, x: x.conj() * 2, (2, 3)),
    "conj_physical": case(lambda lib, x: x.conj_physical() * 2, (2, 3)),
    "resolve_conj": case(lambda lib, x: x.resolve_conj() * 2, (2, 3)),
    "resolve_neg": case(lambda lib, x: x.resolve_neg() * 2, (2, 3)),
    "adjoint": case(lambda lib, x: x.adjoint(), (2, 3, 4)),
    "mH": case(lambda lib, x: x.mH, (2, 3, 4)),
    "H": case(lambda lib, x: x.H, (3, 4)),
    "H of a 0-d tensor": case(lambda lib, x: x.H * 2, ()),
}


def _inputs(spec, dtype):
    return [_uniform(s, spec["low"], spec["high"], dtype, seed=i)
            for i, s in enumerate(spec["shapes"])]


@pytest.mark.filterwarnings("ignore:.*deprecated on 0-D tensors")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", METHODS)
def test_method_matches_torch_forward_and_backward(name, dtype):
    spec = METHODS[name]
    ts = [t.requires_grad_() for t in _inputs(spec, dtype)]
    ns = [_nab(t, True) for t in ts]
    out, nout = spec["call"](torch, *ts), spec["call"](nabla, *ns)
    assert_close(nout, out, what=name)
    g = torch.randn(out.shape, dtype=dtype, generator=torch.Generator().manual_seed(7))
    out.backward(g)
    nout.backward(_nab(g))
    for i, (n, t) in enumerate(zip(ns, ts, strict=True)):
        assert_close(n.grad, t.grad, what=f"{name}: grad of input {i}")


@pytest.mark.parametrize("name", [n for n in METHODS if not n.startswith(("conj", "resolve"))])
def test_method_gradcheck(name):
    spec = METHODS[name]
    ns = [_nab(t, True) for t in _inputs(spec, torch.float64)]
    assert nabla.autograd.gradcheck(lambda *a: spec["call"](nabla, *a), tuple(ns),
                                    **GRADCHECK_TOL)


# -- out-of-place methods without a gradient ------------------------------------------------------
def test_closeness_and_equality_match_torch():
    x = torch.randn(3, 4, dtype=torch.float64)
    y = x + 1e-6 * torch.randn(3, 4, dtype=torch.float64)
    y[0, 0] = x[0, 0] = float("nan")
    nx, ny = _nab(x), _nab(y)
    for kw in ({}, {"rtol": 1e-9, "atol": 1e-7}, {"equal_nan": True}, {"atol": 1e-3}):
        assert nx.allclose(ny, **kw) == x.allclose(y, **kw)
        assert_close(nx.isclose(ny, **kw), x.isclose(y, **kw))
    assert nx.isclose(other=ny, rtol=0.1).tolist() == x.isclose(other=y, rtol=0.1).tolist()
    assert nx.allclose(ny, 1e-5, 1e-3, True) == x.allclose(y, 1e-5, 1e-3, True) is True
    z = torch.arange(6.0).reshape(2, 3)
    assert _nab(z).equal(_nab(z.clone())) is z.equal(z.clone()) is True
    assert _nab(z).equal(other=_nab(z + 1)) is z.equal(other=z + 1) is False


@pytest.mark.parametrize("dtype", [torch.int64, torch.int16, torch.uint8, torch.bool])
def test_bitwise_and_logical_methods_match_torch(dtype):
    x = torch.randint(0, 50, (3, 4)).to(dtype)
    y = torch.randint(0, 50, (4,)).to(dtype)
    nx, ny = _nab(x), _nab(y)
    assert_close(nx.bitwise_and(ny), x.bitwise_and(y))
    assert_close(nx.bitwise_or(other=ny), x.bitwise_or(other=y))
    assert_close(nx.bitwise_xor(ny), x.bitwise_xor(y))
    assert_close(nx.bitwise_not(), x.bitwise_not())
    assert_close(nx.logical_xor(ny), x.logical_xor(y))
    f = torch.tensor([0.0, 1.5, -2.0, 0.0])
    assert_close(_nab(f).logical_xor(_nab(f.flip(0))), f.logical_xor(f.flip(0)))


def test_bernoulli_method():
    p = torch.tensor([[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    assert_close(_nab(p).bernoulli(), p.bernoulli())  # certain draws: the same as torch's
    nabla.manual_seed(0)
    first = nabla.full((20000,), 0.3).bernoulli()
    nabla.manual_seed(0)
    assert first.tolist() == nabla.full((20000,), 0.3).bernoulli().tolist()
    assert first.dtype == nabla.float32 and set(np.unique(first.numpy())) == {0.0, 1.0}
    assert 0.28 < first.numpy().mean() < 0.32
    gen = nabla.Generator().manual_seed(5)
    draws = nabla.zeros(20000, dtype=nabla.float64).bernoulli(0.8, generator=gen)
    assert draws.dtype == nabla.float64 and 0.78 < draws.numpy().mean() < 0.82
    assert nabla.zeros(3).bernoulli(p=1.0).tolist() == torch.zeros(3).bernoulli(p=1.0).tolist()


@pytest.mark.parametrize("name", ["byte", "char", "short"])
def test_integer_casts_match_torch(name):
    x = torch.tensor([[0.0, 1.7, 99.2], [12.5, 127.0, 3.0]])
    assert_close(getattr(_nab(x), name)(), getattr(x, name)())
    w = nabla.tensor([1.5, 2.0], requires_grad=True)
    assert not getattr(w, name)().requires_grad


def test_ndimension_nbytes_itemsize_get_device():
    for shape, dtype in (((2, 3, 4), torch.float32), ((), torch.float64), ((5, 0), torch.int16)):
        t = torch.zeros(shape, dtype=dtype)
        n = _nab(t)
        assert n.ndimension() == t.ndimension()
        assert (n.nbytes, n.itemsize, n.get_device()) == (t.nbytes, t.itemsize, t.get_device())
    t = torch.zeros(3, 1).expand(3, 4)
    n = nabla.zeros(3, 1).expand(3, 4)
    assert n.nbytes == t.nbytes == 48 and n.stride() == t.stride() == (1, 0)


VIEWS = {  # name -> a view of a (4, 5, 6) tensor; none of them has a size-1 dimension
    "itself": lambda x: x,
    "t of a matrix": lambda x: x[0].t(),
    "transpose(0, 2)": lambda x: x.transpose(0, 2),
    "every second column": lambda x: x[:, :, ::2],
    "a corner": lambda x: x[1:, 2:, 3:],
    "a strided corner": lambda x: x[1:4:2, 1:, ::3],
    "select": lambda x: x.select(1, 3),
    "narrow": lambda x: x.narrow(0, 2, 2),
    "permute then slice": lambda x: x.permute(2, 0, 1)[2:],
    "expand": lambda x: x[0, 0].expand(3, 6),
    "a copy of a view": lambda x: x[:, ::2].contiguous(),
}


@pytest.mark.parametrize("name", VIEWS)
def test_stride_and_storage_offset_match_torch(name):
    t = torch.arange(120.0).reshape(4, 5, 6)
    n, tv = VIEWS[name](_nab(t)), VIEWS[name](t)
    assert n.tolist() == tv.tolist()
    assert n.stride() == tv.stride()
    assert [n.stride(d) for d in range(-n.ndim, n.ndim)] == \
        [tv.stride(d) for d in range(-tv.ndim, tv.ndim)]
    assert n.storage_offset() == tv.storage_offset()


def test_stride_of_a_0d_tensor_and_a_bad_dim():
    assert nabla.tensor(3.0).stride() == torch.tensor(3.0).stride() == ()
    for lib in (nabla, torch):
        with pytest.raises(IndexError, match="(?i)dimension out of range"):
            lib.zeros(2, 3).stride(2)
        with pytest.raises(IndexError, match="(?i)dimension specified as 0 but tensor has no"):
            lib.tensor(3.0).stride(0)


def test_output_nr_and_retains_grad_match_torch():
    for lib in (nabla, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
        assert x.output_nr == 0 and not x.retains_grad
        parts = (x * 2).unbind(0)
        assert [p.output_nr for p in parts] == [0, 1, 2]
        a, b = (x * 1).split(2)
        assert (a.output_nr, b.output_nr) == (0, 1)
        h = x * 2
        assert not h.retains_grad
        h.retain_grad()
        x.retain_grad()  # a leaf keeps its grad anyway: retains_grad stays False
        assert h.retains_grad and not x.retains_grad and not (h + 1).retains_grad
        h.sum().backward()
        assert h.grad.tolist() == [[1.0, 1.0]] * 3
        assert not lib.zeros(2).retains_grad


def test_retain_grad_follows_the_tensor_through_in_place_ops_as_torch():
    """After h.mul_(3), h.grad is the gradient of h's new value, once (not also the old one's);
    retain_grad() twice keeps it once."""
    results = []
    for lib in (nabla, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        h.retain_grad()
        h.mul_(3)
        (h * lib.tensor([1.0, 10.0])).sum().backward()
        results.append((h.retains_grad, h.grad.tolist(), x.grad.tolist()))
    assert results[0] == results[1] == (True, [1.0, 10.0], [6.0, 60.0])


SHAPE_CHANGES = {  # name -> (in-place call, the same change out of place, and back)
    "unsqueeze_": (lambda h: h.unsqueeze_(0), lambda h: h.unsqueeze(0), lambda g: g[0]),
    "squeeze_": (lambda h: h.squeeze_(), lambda h: h.squeeze(), lambda g: g.unsqueeze(1)),
    "t_": (lambda h: h.t_(), lambda h: h.t(), lambda g: g.t()),
    "transpose_": (lambda h: h.transpose_(0, 1), lambda h: h.transpose(0, 1), lambda g: g.t()),
    "swapaxes_": (lambda h: h.swapaxes_(1, 0), lambda h: h.swapaxes(1, 0), lambda g: g.t()),
    "swapdims_": (lambda h: h.swapdims_(0, 1), lambda h: h.swapdims(0, 1), lambda g: g.t()),
}


@pytest.mark.parametrize("name", SHAPE_CHANGES)
def test_retain_grad_follows_the_tensor_through_in_place_shape_changes(name):
    """h.grad is the gradient of h's new value, in h's new shape (what PyTorch's out-of-place
    change retains); PyTorch 2.13's in-place shape changes leave the hook on the old node, so its
    h.grad has the old shape: the same numbers, seen through the inverse change."""
    in_place, out_of_place, back = SHAPE_CHANGES[name]
    a = np.arange(1.0, 4.0).reshape(3, 1)
    x = nabla.tensor(a, requires_grad=True)
    h = x * 2
    h.retain_grad()
    in_place(h)
    w = np.arange(3.0).reshape(tuple(h.shape)) + 1
    (h * nabla.tensor(w)).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    th = out_of_place(tx * 2)
    th.retain_grad()
    (th * torch.tensor(w)).sum().backward()
    assert h.retains_grad
    assert_close(h.grad, th.grad, what="h.grad")
    assert_close(x.grad, tx.grad, what="x.grad")
    tx2 = torch.tensor(a, requires_grad=True)
    th2 = tx2 * 2
    th2.retain_grad()
    in_place(th2)
    (th2 * torch.tensor(w)).sum().backward()
    assert_close(back(h.grad), th2.grad, what="torch's in-place h.grad")


def test_retain_grad_after_unsqueeze_in_place_sums_to_ones_as_torch():
    x = nabla.ones(2, 3, requires_grad=True)
    y = x * 1
    y.retain_grad()
    y.unsqueeze_(0)
    y.sum().backward()
    assert tuple(y.grad.shape) == (1, 2, 3) and y.grad.tolist() == [[[1.0] * 3] * 2]
    assert x.grad.tolist() == [[1.0] * 3] * 2


# -- in-place methods: values, the same tensor and memory, the version bump -----------------------
X = (0.1, 0.9)  # where the tensor's values are drawn: inside every domain below
Y = (-1.0, 1.0)  # the second operand's
INPLACE = {  # name -> call on (lib, x, y), x and y of shape (2, 3); returns what it changed
    "absolute_": lambda lib, x, y: x.sub_(0.5).absolute_(),
    "acos_": lambda lib, x, y: x.acos_(),
    "arccos_": lambda lib, x, y: x.arccos_(),
    "acosh_": lambda lib, x, y: x.add_(1.0).acosh_(),
    "arccosh_": lambda lib, x, y: x.add_(1.5).arccosh_(),
    "asin_": lambda lib, x, y: x.asin_(),
    "arcsin_": lambda lib, x, y: x.arcsin_(),
    "asinh_": lambda lib, x, y: x.asinh_(),
    "arcsinh_": lambda lib, x, y: x.arcsinh_(),
    "atan_": lambda lib, x, y: x.atan_(),
    "arctan_": lambda lib, x, y: x.arctan_(),
    "atanh_": lambda lib, x, y: x.atanh_(),
    "arctanh_": lambda lib, x, y: x.arctanh_(),
    "atan2_": lambda lib, x, y: x.atan2_(y),
    "arctan2_": lambda lib, x, y: x.arctan2_(other=y),
    "cosh_": lambda lib, x, y: x.cosh_(),
    "sinh_": lambda lib, x, y: x.sinh_(),
    "tan_": lambda lib, x, y: x.tan_(),
    "log10_": lambda lib, x, y: x.log10_(),
    "deg2rad_": lambda lib, x, y: x.mul_(180.0).deg2rad_(),
    "rad2deg_": lambda lib, x, y: x.rad2deg_(),
    "erfc_": lambda lib, x, y: x.erfc_(),
    "fix_": lambda lib, x, y: x.sub_(0.5).mul_(7.0).fix_(),
    "sgn_": lambda lib, x, y: x.sub_(0.5).sgn_(),
    "sinc_": lambda lib, x, y: x.sinc_(),
    "logit_": lambda lib, x, y: x.logit_(),
    "logit_ eps": lambda lib, x, y: x.logit_(eps=0.3),
    "xlogy_": lambda lib, x, y: x.xlogy_(y.abs()),
    "hypot_": lambda lib, x, y: x.hypot_(y),
    "copysign_": lambda lib, x, y: x.copysign_(y),
    "heaviside_": lambda lib, x, y: x.mul_(10.0).round_().sub_(5.0).heaviside_(values=y),
    "floor_divide_": lambda lib, x, y: x.mul_(9.0).floor_divide_(y),
    "divide_": lambda lib, x, y: x.divide_(y),
    "divide_ floor": lambda lib, x, y: x.mul_(9.0).divide_(y, rounding_mode="floor"),
    "divide_ trunc": lambda lib, x, y: x.mul_(9.0).divide_(y, rounding_mode="trunc"),
    "true_divide_": lambda lib, x, y: x.true_divide_(y),
    "multiply_": lambda lib, x, y: x.multiply_(y),
    "subtract_": lambda lib, x, y: x.subtract_(y),
    "subtract_ alpha": lambda lib, x, y: x.subtract_(y, alpha=2.5),
    "lgamma_": lambda lib, x, y: x.lgamma_(),
    "digamma_": lambda lib, x, y: x.digamma_(),
    "polygamma_": lambda lib, x, y: x.polygamma_(1),
    "polygamma_ n=2": lambda lib, x, y: x.polygamma_(n=2),
    "mvlgamma_": lambda lib, x, y: x.mvlgamma_(p=1),
    "mvlgamma_ p=2": lambda lib, x, y: x.add_(1.0).mvlgamma_(2),
    "eq_": lambda lib, x, y: x.round_(decimals=1).eq_(y.abs().round(decimals=1)),
    "eq_ scalar": lambda lib, x, y: x.round_(decimals=1).eq_(0.5),
    "ne_": lambda lib, x, y: x.round_(decimals=1).ne_(y.abs().round(decimals=1)),
    "not_equal_": lambda lib, x, y: x.round_(decimals=1).not_equal_(0.5),
    "lt_": lambda lib, x, y: x.lt_(y),
    "less_": lambda lib, x, y: x.less_(0.5),
    "le_": lambda lib, x, y: x.le_(y[0]),
    "less_equal_": lambda lib, x, y: x.less_equal_(y),
    "gt_": lambda lib, x, y: x.gt_(y),
    "greater_": lambda lib, x, y: x.greater_(0.5),
    "ge_": lambda lib, x, y: x.ge_(y),
    "greater_equal_": lambda lib, x, y: x.greater_equal_(other=y),
    "logical_and_": lambda lib, x, y: x.sub_(0.5).round_().logical_and_(y.round()),
    "logical_or_": lambda lib, x, y: x.sub_(0.5).round_().logical_or_(y.round()),
    "logical_xor_": lambda lib, x, y: x.sub_(0.5).round_().logical_xor_(y.round()),
    "logical_not_": lambda lib, x, y: x.sub_(0.5).round_().logical_not_(),
    "addmm_": lambda lib, x, y: x.addmm_(y[:, :2], y, beta=0.5, alpha=2.0),
    "addbmm_": lambda lib, x, y: x.addbmm_(lib.stack([y[:, :2], y[:, 1:]]),
                                           lib.stack([y, y.flip(0)]), alpha=-1.0),
    "baddbmm_": lambda lib, x, y: x.unsqueeze_(0).baddbmm_(y[:, 1:].unsqueeze(0),
                                                           y.unsqueeze(0), beta=2.0),
    "addmv_ into a row": lambda lib, x, y: x[1].addmv_(y.t(), y[0, :2], alpha=3.0),
    "addr_": lambda lib, x, y: x.addr_(y[:, 0], y[1], beta=-1.0),
    "squeeze_": lambda lib, x, y: x.unsqueeze_(1).squeeze_(),
    "squeeze_ dims": lambda lib, x, y: x.unsqueeze_(0).unsqueeze_(-1).squeeze_((0, 3)),
    "unsqueeze_": lambda lib, x, y: x.unsqueeze_(dim=-2),
    "t_": lambda lib, x, y: x.t_(),
    "transpose_": lambda lib, x, y: x.transpose_(0, 1),
    "swapaxes_": lambda lib, x, y: x.swapaxes_(axis0=1, axis1=0),
    "swapdims_": lambda lib, x, y: x.swapdims_(dim0=-1, dim1=0),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", INPLACE)
def test_in_place_matches_torch(name, dtype):
    tx, ty = _uniform((2, 3), *X, dtype, seed=1), _uniform((2, 3), *Y, dtype, seed=2)
    x, y = _nab(tx), _nab(ty)
    memory, version = x._data, x._version[0]
    out, ref = INPLACE[name](nabla, x, y), INPLACE[name](torch, tx, ty)
    assert out is x if name != "addmv_ into a row" else np.shares_memory(out._data, x._data)
    assert np.shares_memory(x._data, memory) and x._version[0] > version
    assert x._version[0] == tx._version, "one bump per in-place op, as in PyTorch"
    assert_close(out, ref, what=name)
    assert_close(x, tx, what=name)
    assert x.stride() == tx.stride()


INT_INPLACE = {  # name -> call on (lib, i, j), integer tensors of shape (2, 3)
    "bitwise_and_": lambda lib, i, j: i.bitwise_and_(j),
    "bitwise_or_": lambda lib, i, j: i.bitwise_or_(other=j[0]),
    "bitwise_xor_": lambda lib, i, j: i.bitwise_xor_(j),
    "bitwise_not_": lambda lib, i, j: i.bitwise_not_(),
    "floor_divide_": lambda lib, i, j: i.floor_divide_(j.add(1)),
    "floor_divide_ negative": lambda lib, i, j: i.neg_().floor_divide_(3),
    "logical_and_": lambda lib, i, j: i.logical_and_(j),
    "logical_or_": lambda lib, i, j: i.logical_or_(j),
    "logical_xor_": lambda lib, i, j: i.logical_xor_(j),
    "logical_not_": lambda lib, i, j: i.logical_not_(),
    "eq_": lambda lib, i, j: i.eq_(j),
    "ne_": lambda lib, i, j: i.ne_(j),
    "lt_ a float": lambda lib, i, j: i.lt_(2.5),
    "le_": lambda lib, i, j: i.le_(j),
    "gt_": lambda lib, i, j: i.gt_(j),
    "ge_": lambda lib, i, j: i.ge_(2),
    "absolute_": lambda lib, i, j: i.sub_(j).absolute_(),
    "sgn_": lambda lib, i, j: i.sub_(j).sgn_(),
    "multiply_": lambda lib, i, j: i.multiply_(j),
    "subtract_": lambda lib, i, j: i.subtract_(j, alpha=3),
    "squeeze_": lambda lib, i, j: i.unsqueeze_(0).squeeze_(0),
}


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8])
@pytest.mark.parametrize("name", INT_INPLACE)
def test_in_place_on_integers_matches_torch(name, dtype):
    if dtype == torch.uint8 and name in ("floor_divide_ negative", "absolute_", "sgn_",
                                         "subtract_"):
        pytest.skip("negative values wrap around in uint8")
    g = torch.Generator().manual_seed(3)
    ti, tj = (torch.randint(0, 5, (2, 3), generator=g).to(dtype) for _ in range(2))
    i, j = _nab(ti), _nab(tj)
    memory = i._data
    out, ref = INT_INPLACE[name](nabla, i, j), INT_INPLACE[name](torch, ti, tj)
    assert out is i and np.shares_memory(i._data, memory) and i._version[0] == ti._version
    assert_close(i, ti, what=name)
    assert_close(out, ref, what=name)


def test_logical_and_comparisons_on_bools_match_torch():
    a = torch.tensor([True, False, True, False])
    b = torch.tensor([True, True, False, False])
    for name in ("logical_and_", "logical_or_", "logical_xor_", "eq_", "ne_", "lt_", "ge_",
                 "bitwise_and_", "bitwise_xor_"):
        x = _nab(a)
        getattr(x, name)(_nab(b))
        assert_close(x, getattr(a.clone(), name)(b), what=name)
    x = _nab(a)
    assert_close(x.logical_not_(), a.clone().logical_not_())
    assert_close(_nab(a).bitwise_not_(), a.clone().bitwise_not_())


def test_float_power_in_place_needs_float64():
    t = torch.tensor([0.5, 1.5, 2.0], dtype=torch.float64, requires_grad=True)
    w = _nab(t, True)
    ref = (t * 1.0).float_power_(2.5)
    out = (w * 1.0).float_power_(2.5)
    assert_close(out, ref)
    g = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    ref.backward(g)
    out.backward(_nab(g))
    assert_close(w.grad, t.grad)
    for lib in (nabla, torch):
        with pytest.raises(RuntimeError, match="float_power_.*|result requires dtype"):
            lib.tensor([1.0, 2.0]).float_power_(2)
        with pytest.raises(RuntimeError):
            lib.tensor([1, 2]).float_power_(2)


# -- in-place methods in the graph: backward through the op on a non-leaf -------------------------
GRAPH = {  # name -> call on (lib, h, v): h = w * 1.5 (a non-leaf, in (0.15, 0.9)), v in (-1, 1)
    "absolute_": lambda lib, h, v: h.sub_(0.5).absolute_(),
    "acos_": lambda lib, h, v: h.acos_(),
    "asin_": lambda lib, h, v: h.asin_(),
    "atan_": lambda lib, h, v: h.arctan_(),
    "cosh_ sinh_ tan_": lambda lib, h, v: h.cosh_().sinh_().mul_(0.5).tan_(),
    "log10_": lambda lib, h, v: h.log10_(),
    "deg2rad_ rad2deg_": lambda lib, h, v: h.deg2rad_().mul_(v).rad2deg_(),
    "erfc_": lambda lib, h, v: h.erfc_(),
    "sinc_": lambda lib, h, v: h.sinc_(),
    "logit_": lambda lib, h, v: h.logit_(),
    "logit_ eps": lambda lib, h, v: h.logit_(0.3),
    "fix_ and sgn_ (zero gradient)": lambda lib, h, v: h.mul_(5.0).fix_().add_(v).sgn_(),
    "lgamma_": lambda lib, h, v: h.lgamma_(),
    "digamma_": lambda lib, h, v: h.digamma_(),
    "polygamma_": lambda lib, h, v: h.polygamma_(2),
    "mvlgamma_": lambda lib, h, v: h.add_(1.0).mvlgamma_(p=2),
    "atan2_": lambda lib, h, v: h.atan2_(v),
    "xlogy_": lambda lib, h, v: h.xlogy_(v.abs()),
    "hypot_": lambda lib, h, v: h.hypot_(v),
    "copysign_": lambda lib, h, v: h.copysign_(v),
    "divide_": lambda lib, h, v: h.divide_(v),
    "true_divide_": lambda lib, h, v: h.true_divide_(v.add(2.0)),
    "multiply_": lambda lib, h, v: h.multiply_(v),
    "subtract_": lambda lib, h, v: h.subtract_(v, alpha=3.0),
    "lt_ (zero gradient, still in the graph)": lambda lib, h, v: h.lt_(v),
    "eq_ of a buffer and a graph tensor": lambda lib, h, v: lib.zeros(2, 3, dtype=v.dtype).eq_(
        v.round()),
    "ge_ then mul_": lambda lib, h, v: h.ge_(0.5).mul_(v),
    "addmm_": lambda lib, h, v: h.addmm_(v[:, :2], v, beta=0.5, alpha=2.0),
    "addmm_ into a buffer": lambda lib, h, v: lib.zeros(2, 3, dtype=h.dtype).addmm_(v[:, :2], h),
    "addbmm_": lambda lib, h, v: h.addbmm_(lib.stack([v[:, :2], h[:, 1:]]),
                                           lib.stack([h, v.flip(0)])),
    "baddbmm_": lambda lib, h, v: h.unsqueeze_(0).baddbmm_(v[:, 1:].unsqueeze(0),
                                                           v.flip(1).unsqueeze(0), alpha=-2.0),
    "addmv_": lambda lib, h, v: h.sum(0).addmv_(v.t(), h[0, :2], beta=3.0),
    "addr_": lambda lib, h, v: h.addr_(v[:, 0], v[1] * 2, alpha=0.5),
    "squeeze_": lambda lib, h, v: h.unsqueeze_(1).mul_(v.unsqueeze(1)).squeeze_(),
    "unsqueeze_ on a view": lambda lib, h, v: h[0].unsqueeze_(0),
    "t_": lambda lib, h, v: h.t_().mul_(v.t()),
    "transpose_ then reshape": lambda lib, h, v: h.transpose_(0, 1).reshape(6),
    "swapaxes_": lambda lib, h, v: h.unsqueeze_(0).swapaxes_(0, 2).sub_(v.t().unsqueeze(2)),
    "swapdims_ twice": lambda lib, h, v: h.swapdims_(0, 1).mul_(2.0).swapdims_(1, 0).mul_(v),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", GRAPH)
def test_backward_through_in_place_matches_torch(name, dtype):
    results = {}
    for lib in (nabla, torch):
        w = lib.tensor(_uniform((2, 3), 0.1, 0.6, dtype, seed=4).numpy(), requires_grad=True)
        v = lib.tensor(_uniform((2, 3), *Y, dtype, seed=5).numpy(), requires_grad=True)
        h = w * 1.5
        out = GRAPH[name](lib, h, v)
        g = lib.tensor(_uniform(out.shape, -1.0, 1.0, dtype, seed=6).numpy())
        (out * g).sum().backward()
        results[lib.__name__] = (out, out.requires_grad, w.grad, v.grad)
    (out, req, *grads), (ref, ref_req, *ref_grads) = results["nabla"], results["torch"]
    assert_close(out, ref, what=name)
    assert req == ref_req
    for which, a, b in zip(("w", "v"), grads, ref_grads, strict=True):
        assert (a is None) == (b is None), f"{name}: grad of {which}"
        if a is not None:
            assert_close(a, b, what=f"{name}: grad of {which}")


@pytest.mark.parametrize("name", GRAPH)
def test_in_place_in_the_graph_gradcheck(name):
    w = _nab(_uniform((2, 3), 0.1, 0.6, torch.float64, seed=4), True)
    v = _nab(_uniform((2, 3), *Y, torch.float64, seed=5), True)
    assert nabla.autograd.gradcheck(lambda a, b: GRAPH[name](nabla, a * 1.5, b), (w, v),
                                    **GRADCHECK_TOL)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["acosh_", "arcsinh_", "atanh_"])
def test_backward_through_in_place_inverse_hyperbolics(name, dtype):
    """PyTorch has no derivative for these three in place: the out-of-place one is the oracle."""
    t = _uniform((2, 3), 1.1, 1.9, dtype, seed=8).requires_grad_()
    w = _nab(t, True)
    shift = -1.0 if name == "atanh_" else 0.0  # atanh's domain is (-1, 1)
    out = getattr(w * 1.0 + shift, name)()
    ref = getattr(t + shift, name.rstrip("_"))()
    assert_close(out, ref)
    g = _uniform((2, 3), -1.0, 1.0, dtype, seed=9)
    out.backward(_nab(g))
    ref.backward(g)
    assert_close(w.grad, t.grad)


def test_shape_change_in_the_graph_keeps_torch_strides_and_allows_later_in_place_ops():
    for lib in (nabla, torch):
        w = lib.ones(2, 3, requires_grad=True)
        h = w * 2
        h.t_()
        assert h.shape == (3, 2) and h.stride() == (1, 3) and not h.is_contiguous()
        h.unsqueeze_(1)  # (a size-1 dim's stride is arbitrary: PyTorch's and NumPy's differ)
        assert h.shape == (3, 1, 2) and h.stride()[::2] == (1, 3)
        h.mul_(lib.arange(3.0).reshape(3, 1, 1))  # not refused as on a view
        h.sum().backward()
        assert w.grad.tolist() == [[0.0, 2.0, 4.0]] * 2


# -- in-place shape changes: memory, versions, grad mode ------------------------------------------
def test_shape_change_keeps_the_memory_and_other_views_keep_their_shape():
    x = nabla.arange(6.0).reshape(2, 3)
    row = x[0]
    row.unsqueeze_(0)  # a view's shape changes alone; its base keeps (2, 3)
    assert row.shape == (1, 3) and x.shape == (2, 3)
    row.mul_(10.0)
    assert x.tolist() == [[0.0, 10.0, 20.0], [3.0, 4.0, 5.0]]
    d = x.detach()
    x.t_()
    assert x.shape == (3, 2) and d.shape == (2, 3) and np.shares_memory(x._data, d._data)
    assert x.stride() == (1, 3) and not x.is_contiguous()
    x[0, 1] = -1.0
    assert d[1, 0].item() == -1.0


def test_shape_change_of_a_leaf_that_requires_grad_is_refused_except_under_no_grad():
    for lib in (nabla, torch):
        w = lib.ones(2, 1, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            w.squeeze_()
        with lib.no_grad():
            w.squeeze_()
        assert w.shape == (2,) and w.requires_grad and w.grad_fn is None
    w = nabla.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"t_: in-place operation on a leaf tensor that "
                                           r"requires grad \(shape \(2, 3\)\). Use the "
                                           r"out-of-place t\(\)"):
        w.t_()


def test_a_node_that_saved_the_tensor_refuses_after_its_shape_changed():
    for lib in (nabla, torch):
        w = lib.ones(2, 3, requires_grad=True)
        h = w * 2
        y = h * h  # saves h
        h.t_()
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            y.sum().backward()


def test_shape_change_of_a_non_leaf_under_no_grad_breaks_its_backward_as_in_torch():
    for lib in (nabla, torch):
        w = lib.ones(2, 3, requires_grad=True)
        h = w * 2
        with lib.no_grad():
            h.t_()
        assert h.shape == (3, 2) and h.requires_grad and h.grad_fn is not None
        with pytest.raises(RuntimeError, match="shape"):
            h.sum().backward()


def test_in_place_ops_are_refused_while_tracing():
    x = nabla.ones(2, 3)
    with pytest.raises(TraceError, match="in-place shape change t_"):
        nabla.jit.trace(lambda a: a.clone().t_() * 2, x)
    with pytest.raises(TraceError, match="in-place write lt_"):
        nabla.jit.trace(lambda a: a.clone().lt_(0.5) * 2, x)


# -- errors ---------------------------------------------------------------------------------------
def test_errors_name_the_method_and_match_torch_refusals():
    for lib in (nabla, torch):
        with pytest.raises(RuntimeError):
            lib.tensor([0, 1]).acos_()  # a float result into an integer tensor
        with pytest.raises(RuntimeError):
            lib.zeros(3).lt_(lib.zeros(2, 3))  # the result would not fit
        with pytest.raises(RuntimeError, match="(?i)matrices"):
            _ = lib.zeros(2, 3, 4).H
        with pytest.raises(RuntimeError, match="(?i)matrices"):
            _ = lib.zeros(3).mH
        with pytest.raises(RuntimeError, match="(?i)matrices"):
            lib.zeros(3).adjoint()
        with pytest.raises(TypeError):
            lib.zeros(3).diff(prepend=1.0)
        with pytest.raises((TypeError, RuntimeError)):
            lib.zeros(3, 2).diff(prepend=lib.zeros(2))
    with pytest.raises(RuntimeError, match=r"acos_: the result type float32 can't be cast"):
        nabla.tensor([0, 1]).acos_()
    with pytest.raises(RuntimeError, match=r"lt_: the result has shape \(2, 3\), which does not "
                                           r"fit this tensor's shape \(3,\)"):
        nabla.zeros(3).lt_(nabla.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"H: only supported on matrices \(2-D tensors\), got "
                                           r"a 3-D tensor of shape \(2, 3, 4\); for batches"):
        _ = nabla.zeros(2, 3, 4).H
    with pytest.raises(TypeError, match=r"diff: prepend must be a tensor with as many dims as "
                                        r"the input \(2\), got a 1-D tensor"):
        nabla.zeros(3, 2).diff(prepend=nabla.zeros(2))
    with pytest.raises(TypeError, match="bitwise_and: expected integer or bool tensors"):
        nabla.zeros(3).bitwise_and(nabla.zeros(3))
    with pytest.raises(RuntimeError, match="conj: complex tensors are not supported"):
        nabla.tensor([1 + 2j]).conj()


def test_conj_family_returns_the_tensor_itself_as_torch():
    for lib in (nabla, torch):
        x = lib.ones(2, 3)
        assert x.conj() is x and x.conj_physical() is x
        assert x.resolve_conj() is x and x.resolve_neg() is x

