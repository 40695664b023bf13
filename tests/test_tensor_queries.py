"""Tensor queries (is_* methods and properties, layout, data_ptr), the lower-level Tensor API
(new, new_empty_strided, narrow_copy, apply_, map_, resize_, as_strided_, share_memory_,
view(dtype), register_post_accumulate_grad_hook),
bit shifts, the incomplete gamma functions and the cauchy_ / geometric_ fills, against PyTorch."""

import math

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close, to_torch

import nabla
from nabla.autograd import gradcheck, gradgradcheck

DTYPES = [np.float32, np.float64]


# -- queries -------------------------------------------------------------------------------------
DTYPE_PAIRS = [(nabla.float32, torch.float32), (nabla.float64, torch.float64),
               (nabla.float16, torch.float16), (nabla.int64, torch.int64),
               (nabla.int8, torch.int8), (nabla.uint8, torch.uint8), (nabla.bool, torch.bool)]


@pytest.mark.parametrize("ndtype,tdtype", DTYPE_PAIRS)
def test_boolean_queries_match_torch(ndtype, tdtype):
    x, t = nabla.zeros(2, 3, dtype=ndtype), torch.zeros(2, 3, dtype=tdtype)
    for name in ("is_complex", "is_signed", "is_conj", "is_neg", "is_inference", "is_pinned",
                 "is_shared", "is_floating_point", "is_contiguous"):
        assert getattr(x, name)() == getattr(t, name)(), name
    for name in ("is_cpu", "is_cuda", "is_sparse", "is_sparse_csr", "is_quantized", "is_meta",
                 "is_mkldnn", "is_nested"):
        assert getattr(x, name) == getattr(t, name), name
    assert nabla.is_complex(x) == torch.is_complex(t)
    assert nabla.is_signed(x) == torch.is_signed(t)
    assert nabla.is_inference(x) == torch.is_inference(t)
    assert nabla.is_conj(x) == torch.is_conj(t) and nabla.is_neg(x) == torch.is_neg(t)
    assert x.layout is nabla.strided and repr(x.layout) == "nabla.strided"
    assert isinstance(nabla.strided, nabla.layout)


def test_is_cuda_follows_the_device():
    x = nabla.ones(2)
    assert x.device.type == "cpu" and x.is_cpu and not x.is_cuda
    assert x.get_device() == -1


def test_is_nonzero_and_is_same_size():
    for value in ([0.0], [1.5], 3, [[True]]):
        assert nabla.tensor(value).is_nonzero() == torch.tensor(value).is_nonzero()
        assert nabla.is_nonzero(nabla.tensor(value)) == torch.is_nonzero(torch.tensor(value))
    for bad, what in (([1.0, 2.0], "more than one value"), ([], "no values")):
        with pytest.raises(RuntimeError, match=f"is_nonzero: .*{what}"):
            nabla.tensor(bad).is_nonzero()
    a, b = nabla.ones(2, 3), nabla.ones(3, 2)
    assert a.is_same_size(nabla.zeros(2, 3)) and not a.is_same_size(b)
    assert nabla.is_same_size(a, a) and not nabla.is_same_size(a, b)


def test_data_ptr_is_the_address_of_the_first_element():
    x = nabla.arange(12, dtype=nabla.float64).reshape(3, 4)
    assert x.data_ptr() == x._data.ctypes.data
    assert x[1:].data_ptr() - x.data_ptr() == 4 * 8
    assert x.t().data_ptr() == x.data_ptr()
    assert nabla.empty(0).data_ptr() == torch.empty(0).data_ptr() == 0
    assert x.view(-1).data_ptr() == x.data_ptr()


# -- new, new_empty_strided, narrow_copy --------------------------------------------------------
def test_new():
    x, t = nabla.ones(2, dtype=nabla.float64), torch.ones(2, dtype=torch.float64)
    assert_close(x.new([1, 2]), t.new([1, 2]))
    assert x.new(2, 3).shape == tuple(t.new(2, 3).shape) and x.new(2, 3).dtype == x.dtype
    assert x.new((2, 3)).shape == (2, 3)  # a tuple is sizes (nabla's shape is a tuple)
    assert x.new(x.shape).shape == (2,)
    assert x.new().shape == tuple(t.new().shape) == (0,)
    assert_close(x.new(np.array([3, 4])), t.new(np.array([3, 4])))
    y = x.new(x)  # the same memory, as torch
    y[0] = 5.0
    assert x[0].item() == 5.0
    with pytest.raises(TypeError, match="new: expected a tensor of dtype float64"):
        x.new(nabla.ones(2))
    with pytest.raises(TypeError, match="new: sizes must be non-negative integers"):
        x.new(2, -1)


def test_new_empty_strided():
    x, t = nabla.ones(1), torch.ones(1)
    for size, stride in (((2, 3), (1, 2)), ((2, 3), (3, 1)), ((4,), (2,)), ((2, 0), (1, 1))):
        a, b = x.new_empty_strided(size, stride), t.new_empty_strided(size, stride)
        assert a.shape == tuple(b.shape) and a.stride() == b.stride() and a.dtype == np.float32
        a.fill_(1.0)  # writable
    a = x.new_empty_strided((2, 2), (2, 1), dtype=nabla.float64, requires_grad=True)
    assert a.dtype == np.float64 and a.requires_grad
    with pytest.raises(RuntimeError, match="new_empty_strided: size .* same length"):
        x.new_empty_strided((2, 3), (1,))
    a, b = nabla.empty_strided((2, 3), (1, 2), dtype=nabla.float64), \
        torch.empty_strided((2, 3), (1, 2), dtype=torch.float64)
    assert a.shape == tuple(b.shape) and a.stride() == b.stride() and a.dtype == np.float64


@pytest.mark.parametrize("dtype", DTYPES)
def test_narrow_copy(dtype, rng):
    a = rng.standard_normal((3, 5)).astype(dtype)
    x, t = nabla.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, r = x.narrow_copy(1, 1, 3), t.narrow_copy(1, 1, 3)
    assert_close(y, r)
    g = rng.standard_normal((3, 3)).astype(dtype)
    y.backward(nabla.tensor(g))
    r.backward(torch.tensor(g))
    assert_close(x.grad, t.grad)
    assert_close(nabla.narrow_copy(x, 0, 1, 2), torch.narrow_copy(t, 0, 1, 2))
    z = x.detach().narrow_copy(0, 0, 2)
    z.fill_(7.0)
    assert not (x._data == 7.0).any()


# -- apply_, map_ --------------------------------------------------------------------------------
def test_apply_and_map():
    x, t = nabla.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    assert x.apply_(lambda v: v * 2 + 1) is x
    t.apply_(lambda v: v * 2 + 1)
    assert_close(x, t)
    i = nabla.arange(4)
    i.apply_(lambda v: v * v)
    assert i.tolist() == [0, 1, 4, 9] and i.dtype == np.int64
    y, r = nabla.arange(3.0), torch.arange(3.0)
    x.map_(y, lambda a, b: a * b)
    t.map_(r, lambda a, b: a * b)
    assert_close(x, t)
    with pytest.raises(RuntimeError, match=r"map_: the tensor of shape \(2,\) does not broadcast"):
        x.map_(nabla.ones(2), lambda a, b: a)
    x.map2_(y, nabla.tensor([[1.0], [2.0]]), lambda a, b, c: a + b * c)
    t.map2_(r, torch.tensor([[1.0], [2.0]]), lambda a, b, c: a + b * c)
    assert_close(x, t)
    with pytest.raises(RuntimeError, match=r"map2_: a tensor of shape \(4,\) does not"):
        x.map2_(y, nabla.ones(4), lambda a, b, c: a)
    v = x._version[0]
    x.apply_(abs)
    assert x._version[0] == v + 1  # a write: saved copies notice it


def test_apply_and_map_refuse_tensors_that_require_grad():
    x = nabla.ones(2, requires_grad=True)
    for call in (lambda: x.apply_(abs), lambda: x.map_(nabla.ones(2), max),
                 lambda: x.map2_(x, x, max), lambda: x.resize_(3)):
        with pytest.raises(RuntimeError, match="requires grad.*detach"):
            call()


# -- resize_ -------------------------------------------------------------------------------------
def _both(shape_fn):
    return shape_fn(nabla), shape_fn(torch)


def test_resize_keeps_the_storage_order():
    cases = [
        (lambda m: m.arange(6.0), (2, 3)),
        (lambda m: m.arange(6.0).reshape(2, 3), (3, 2)),
        (lambda m: m.arange(6.0).reshape(2, 3), (4,)),  # smaller: a prefix
        (lambda m: m.arange(6.0).reshape(2, 3).t(), (6,)),  # the storage, not the strides
        (lambda m: m.arange(6.0)[2:], (2, 2)),  # from the view's first element on
        (lambda m: m.arange(6.0).reshape(2, 3), (2, 3)),  # the same size: unchanged
    ]
    for make, shape in cases:
        x, t = _both(make)
        x.resize_(*shape)
        t.resize_(*shape)
        assert_close(x, t)


def test_resize_grows_and_shares_memory():
    x = nabla.arange(6.0)
    y = x[:2]
    y.resize_(4)  # still within x's memory: shares it, as in PyTorch
    assert y.tolist() == [0.0, 1.0, 2.0, 3.0]
    y[3] = 30.0
    assert x[3].item() == 30.0
    z = nabla.arange(4.0)
    z.resize_((3, 3))  # larger: new memory, the old elements first
    assert z.shape == (3, 3) and z.reshape(-1)[:4].tolist() == [0.0, 1.0, 2.0, 3.0]
    a = nabla.ones(2, 3)
    assert a.resize_as_(nabla.zeros(3, 2)).shape == (3, 2)
    assert nabla.resize_as_(a, nabla.zeros(6)).shape == (6,)


def test_resize_as_matches_torch():
    for make, template in ((lambda m: m.arange(6.0).reshape(2, 3), (3, 2)),
                           (lambda m: m.arange(6.0).reshape(2, 3).t(), (6,)),
                           (lambda m: m.arange(6.0)[2:], (2, 2))):
        x, t = _both(make)
        x.resize_as_(nabla.zeros(template))
        t.resize_as_(torch.zeros(template))
        assert_close(x, t)


# -- as_strided_, share_memory_, view(dtype) -----------------------------------------------------
@pytest.mark.parametrize("make,size,stride,offset", [
    (lambda m: m.arange(12.0), (3, 2), (2, 1), None),
    (lambda m: m.arange(12.0).reshape(3, 4), (2, 2), (1, 4), 1),
    (lambda m: m.arange(12.0)[2:6], (3, 2), (2, 1), None),  # past its own end, in its memory
    (lambda m: m.arange(12.0)[4:], (2,), (3,), 0),  # an offset from the start of the memory
    (lambda m: m.arange(12.0), (3, 3), (1, 1), None),  # overlapping windows
])
def test_as_strided__matches_torch(make, size, stride, offset):
    x, t = _both(make)
    assert x.as_strided_(size, stride, offset) is x
    t.as_strided_(size, stride, offset)
    assert_close(x, t)
    assert x.storage_offset() == t.storage_offset()


def test_as_strided__shares_memory_and_refuses_grad():
    base = nabla.zeros(6)
    x = base[:2]
    x.as_strided_((2, 2), (3, 1))
    x[1, 1] = 7.0
    assert base.tolist() == [0.0, 0.0, 0.0, 0.0, 7.0, 0.0]
    with pytest.raises(RuntimeError, match="as_strided: size .* reach element 6"):
        nabla.zeros(6).as_strided_((2, 2), (3, 3))
    with pytest.raises(RuntimeError, match="as_strided_: can't change a tensor that requires"):
        nabla.zeros(6, requires_grad=True).as_strided_((2,), (1,))


def test_share_memory_is_seen_by_a_forked_process():
    import multiprocessing

    x, t = nabla.arange(4.0), torch.arange(4.0)
    assert x.is_shared() == t.is_shared() is False
    assert x.share_memory_() is x and t.share_memory_() is t
    assert x.is_shared() == t.is_shared() is True
    assert x.share_memory_().is_shared()  # again: nothing changes
    assert_close(x, t)
    assert x[1:].is_shared() and x.view(nabla.int64).is_shared()
    p = nabla.nn.Parameter(nabla.ones(3))
    assert p.share_memory_() is p and p.is_shared() and p.requires_grad

    def write(tensor):
        tensor[0] = 42.0

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs the fork start method")
    worker = multiprocessing.get_context("fork").Process(target=write, args=(x,))
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == 0
    assert x[0].item() == 42.0


VIEW_DTYPES = [(nabla.float32, torch.float32), (nabla.int32, torch.int32),
               (nabla.float64, torch.float64), (nabla.int16, torch.int16),
               (nabla.uint8, torch.uint8), (nabla.int64, torch.int64)]


@pytest.mark.parametrize("ndtype,tdtype", VIEW_DTYPES)
@pytest.mark.parametrize("shape", [(2, 4), (8,), (3, 2, 4)])
def test_view_dtype_matches_torch(ndtype, tdtype, shape, rng):
    values = rng.standard_normal(shape).astype(np.float32)
    x, t = nabla.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    y, u = x.view(ndtype), t.view(tdtype)
    assert not y.requires_grad and not u.requires_grad  # a bit reinterpretation: no gradient
    assert_close(y, u)
    assert_close(nabla.tensor([True, False]).view(nabla.uint8),
                 torch.tensor([True, False]).view(torch.uint8))


def test_view_dtype_shares_memory_and_errors_match_torch():
    x = nabla.zeros(4, dtype=nabla.uint8)
    x.view(nabla.int8)[0] = -1
    assert x.tolist() == [255, 0, 0, 0]
    for make, dtype in ((lambda m: m.zeros(2, 3), "float64"), (lambda m: m.tensor(1.0), "int16"),
                        (lambda m: m.zeros(2, 3).t(), "int16")):
        x, t = _both(make)
        with pytest.raises(RuntimeError) as expected:
            t.view(getattr(torch, dtype))
        message = str(expected.value).split(" to view")[0]
        with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
            x.view(getattr(nabla, dtype))
    assert_close(nabla.zeros(2, 3).t().view(nabla.int32), torch.zeros(2, 3).t().view(torch.int32))


# -- register_post_accumulate_grad_hook ----------------------------------------------------------
def test_post_accumulate_grad_hook_matches_torch():
    p, tp = nabla.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    seen, tseen = [], []
    h = p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    th = tp.register_post_accumulate_grad_hook(lambda t: tseen.append(t.grad.tolist()))
    for m, x in ((nabla, p), (torch, tp)):
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        m.autograd.grad((x * 2).sum(), x)  # no accumulation: no call
        (x * 2).sum().backward(inputs=[x])
    assert seen == tseen == [[2.0, 2.0], [5.0, 5.0], [7.0, 7.0]]
    h.remove()
    th.remove()
    (p * 2).sum().backward()
    assert len(seen) == 3


def test_optimizer_in_backward_steps_each_parameter_in_its_hook(rng):
    """The "optimizer in backward" pattern: one optimizer per parameter, stepped (and the
    gradient freed) in the hook; the result equals an ordinary step."""
    w0 = rng.standard_normal((3, 4))
    x = nabla.tensor(rng.standard_normal((5, 3)))
    model = nabla.nn.Linear(3, 4)
    ref = nabla.nn.Linear(3, 4)
    for m in (model, ref):
        with nabla.no_grad():
            m.weight.copy_(nabla.tensor(w0.T.astype(np.float32)))
            m.bias.zero_()
    optims = {p: nabla.optim.SGD([p], lr=0.1) for p in model.parameters()}

    def step(p):
        optims[p].step()
        optims[p].zero_grad()

    for p in model.parameters():
        p.register_post_accumulate_grad_hook(step)
    model(x).pow(2).sum().backward()
    opt = nabla.optim.SGD(ref.parameters(), lr=0.1)
    ref(x).pow(2).sum().backward()
    opt.step()
    for p, q in zip(model.parameters(), ref.parameters(), strict=True):
        np.testing.assert_allclose(p._data, q._data, rtol=1e-6)
        assert p.grad is None


def test_post_accumulate_grad_hook_errors_and_lifetime():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        nabla.ones(2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (nabla.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)
    from nabla.autograd import post_accumulate

    before = len(post_accumulate.hooks)
    p = nabla.ones(2, requires_grad=True)
    p.register_post_accumulate_grad_hook(print)
    assert len(post_accumulate.hooks) == before + 1
    del p  # the registry holds the tensor weakly: its entry goes with it
    assert len(post_accumulate.hooks) == before


# -- bit shifts ----------------------------------------------------------------------------------
SHIFT_CASES = [
    (np.array([1, -8, 3, 5]), np.array([1, 2, 64, 70])),  # shifts past the width: 0 / -1
    (np.array([[1, 200]], np.uint8), np.array([[1], [9]], np.uint8)),  # broadcasting
    (np.array([1, 2], np.int8), 7),
    (np.array([5, -5], np.int32), 1),
    (np.array([True, False]), 1),
]


@pytest.mark.parametrize("a,b", SHIFT_CASES)
def test_bit_shifts_match_torch(a, b):
    x, t = nabla.tensor(a), torch.tensor(a)
    y, r = (nabla.tensor(b), torch.tensor(b)) if isinstance(b, np.ndarray) else (b, b)
    assert_close(nabla.bitwise_left_shift(x, y), torch.bitwise_left_shift(t, r))
    assert_close(nabla.bitwise_right_shift(x, y), torch.bitwise_right_shift(t, r))
    assert_close(x << y, t << r)
    assert_close(x >> y, t >> r)
    assert_close(x.bitwise_left_shift(y), t.bitwise_left_shift(r))
    assert_close(3 << nabla.tensor([1, 2]), 3 << torch.tensor([1, 2]))
    assert_close(64 >> nabla.tensor([1, 2]), 64 >> torch.tensor([1, 2]))


def test_conj_physical_in_place_is_the_identity():
    x = nabla.ones(2)
    assert x.conj_physical_() is x and x.tolist() == [1.0, 1.0]


def test_bit_shifts_in_place_and_errors():
    x, t = nabla.tensor([1, 2, 3]), torch.tensor([1, 2, 3])
    x <<= 2
    t <<= 2
    x.bitwise_right_shift_(1)
    t.bitwise_right_shift_(1)
    assert_close(x, t)
    x >>= nabla.tensor([0, 1, 2])
    t >>= torch.tensor([0, 1, 2])
    assert_close(x, t)
    with pytest.raises(TypeError, match="bitwise_left_shift: expected integer"):
        nabla.ones(2) << 1
    with pytest.raises(TypeError, match="bitwise_right_shift: expected integer"):
        nabla.tensor([1, 2]) >> 1.5


# -- igamma / igammac ----------------------------------------------------------------------------
def _gamma_inputs(rng, n=40):
    a = rng.uniform(0.05, 30.0, n)
    x = np.concatenate([rng.uniform(0.0, 60.0, n - 10), a[:10] * rng.uniform(0.9, 1.1, 10)])
    return a, x  # x near a: where the two expansions meet


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_igamma_matches_torch(upper, dtype, rng):
    a, x = (v.astype(dtype) for v in _gamma_inputs(rng))
    na, nx = nabla.tensor(a), nabla.tensor(x, requires_grad=True)
    ta, tx = torch.tensor(a), torch.tensor(x, requires_grad=True)
    name = "igammac" if upper else "igamma"
    out, ref = getattr(nabla, name)(na, nx), getattr(torch, name)(ta, tx)
    # PyTorch's float64 kernel itself is about 1e-9 relative from SciPy's (nabla's is 1e-13)
    np.testing.assert_allclose(out._data, ref.detach().numpy(), rtol=1e-8 if dtype ==
                               np.float64 else 1e-4, atol=1e-12 if dtype == np.float64 else 1e-6)
    assert out.dtype == dtype
    g = rng.standard_normal(a.shape).astype(dtype)
    out.backward(nabla.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(nx.grad._data, tx.grad.numpy(), rtol=1e-6 if dtype ==
                               np.float64 else 1e-3, atol=1e-12 if dtype == np.float64 else 1e-6)
    special = nabla.special.gammaincc if upper else nabla.special.gammainc
    np.testing.assert_array_equal(special(na, nx)._data, out._data)
    method = getattr(na, name)(nx)
    np.testing.assert_array_equal(method._data, out._data)


def test_igamma_edge_values_and_broadcasting():
    a = [0.0, 0.0, 1.0, -1.0, 1.0, math.inf, 1.0, 0.5, 100.0, 1e-3]
    x = [1.0, 0.0, 0.0, 1.0, -1.0, 1.0, math.inf, 1e-4, 90.0, 5.0]
    for name in ("igamma", "igammac"):
        out = getattr(nabla, name)(nabla.tensor(a, dtype=nabla.float64),
                                   nabla.tensor(x, dtype=nabla.float64))
        ref = getattr(torch, name)(torch.tensor(a, dtype=torch.float64),
                                   torch.tensor(x, dtype=torch.float64))
        np.testing.assert_allclose(out._data, ref.numpy(), rtol=1e-8, equal_nan=True)
    out = nabla.igamma(nabla.tensor([[1.0], [2.0]]), nabla.tensor([0.5, 1.0, 2.0]))
    ref = torch.igamma(torch.tensor([[1.0], [2.0]]), torch.tensor([0.5, 1.0, 2.0]))
    assert_close(out, ref)
    assert_close(nabla.igamma(nabla.tensor([2.0]), nabla.tensor([1.0], dtype=nabla.float64)),
                 torch.igamma(torch.tensor([2.0]), torch.tensor([1.0], dtype=torch.float64)))


def test_igamma_gradients(rng):
    a, x = _gamma_inputs(rng, 12)
    na = nabla.tensor(a)
    nx = nabla.tensor(x + 0.1, requires_grad=True)
    for fn in (nabla.igamma, nabla.igammac):
        assert gradcheck(lambda v, fn=fn: fn(na, v), (nx,), **GRADCHECK_TOL)
        assert gradgradcheck(lambda v, fn=fn: fn(na, v), (nx,), **GRADCHECK_TOL)
    with pytest.raises(RuntimeError, match="igamma: the derivative with respect to the first"):
        nabla.igamma(nabla.tensor(a, requires_grad=True), nx).sum().backward()
    with pytest.raises(TypeError, match="igamma: expected floating point tensors"):
        nabla.igamma(nabla.tensor([1, 2]), nabla.tensor([1, 2]))


def test_igamma_in_place():
    a, t = nabla.tensor([2.0, 3.0]), torch.tensor([2.0, 3.0])
    a.igamma_(nabla.tensor([3.0, 1.0]))
    t.igamma_(torch.tensor([3.0, 1.0]))
    assert_close(a, t)
    a, t = nabla.tensor([2.0, 3.0]), torch.tensor([2.0, 3.0])
    a.igammac_(nabla.tensor([3.0, 1.0]))
    t.igammac_(torch.tensor([3.0, 1.0]))
    assert_close(a, t)


# -- cauchy_, geometric_ -------------------------------------------------------------------------
def test_cauchy_fill():
    x = nabla.empty(200_000, dtype=nabla.float64)
    assert x.cauchy_(median=2.0, sigma=0.5) is x
    # the median and the quartiles of Cauchy(2, 0.5) are 2 and 2 -+ 0.5
    np.testing.assert_allclose(np.quantile(x._data, [0.25, 0.5, 0.75]), [1.5, 2.0, 2.5],
                               atol=0.02)
    nabla.manual_seed(3)
    a = nabla.empty(5).cauchy_()
    nabla.manual_seed(3)
    b = nabla.empty(5).cauchy_()
    assert a.tolist() == b.tolist() and a.dtype == np.float32
    g = nabla.Generator().manual_seed(1)
    c = nabla.empty(5).cauchy_(generator=g)
    assert c.tolist() == nabla.empty(5).cauchy_(generator=nabla.Generator().manual_seed(1)).tolist()
    with pytest.raises(RuntimeError, match="cauchy_: expected a floating point tensor"):
        nabla.zeros(2, dtype=nabla.int64).cauchy_()


def test_geometric_fill():
    x = nabla.empty(200_000, dtype=nabla.float64)
    x.geometric_(0.25)
    assert x._data.min() == 1.0 and (x._data == np.round(x._data)).all()
    np.testing.assert_allclose(x._data.mean(), 4.0, rtol=0.02)  # mean 1 / p
    i = nabla.zeros(10, dtype=nabla.int64).geometric_(1.0)
    assert i.tolist() == [1] * 10 and i.dtype == np.int64
    assert to_torch(i).dtype == torch.int64
    with pytest.raises(RuntimeError, match=r"geometric_: p must be in \(0, 1\]"):
        x.geometric_(0.0)
