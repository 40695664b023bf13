"""Generic tests over the op table (tests/op_db.py): every op against PyTorch.

forward (float32 and float64, dtype preserved), backward with random upstream gradients,
float64 gradcheck, gradgradcheck and double backward against PyTorch, nothing recorded under
no_grad, and bad shapes rejected with an error that names the op.
"""

import re

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close
from hypothesis import given, settings
from op_db import OP_DB, Const, Maker

import nabla
from nabla.autograd import gradcheck, gradgradcheck

DTYPES = [np.float32, np.float64]
DIFFERENTIABLE = [op for op in OP_DB if op.differentiable]
GRADGRAD = [op for op in OP_DB if op.gradgrad]
WITH_ERRORS = [op for op in OP_DB if op.errors is not None]


def _ids(ops):
    return [op.name for op in ops]


def _require(op) -> None:
    for name in op.requires:
        if not hasattr(nabla.ops, name):
            pytest.skip(f"nabla.{name} not implemented yet")


# -- building a sample's arguments in either library ----------------------------------------------
def _build(obj, make):
    """The sample's structure with every array replaced by ``make(array, differentiable)``."""
    if isinstance(obj, Const):
        return make(obj.array, False)
    if isinstance(obj, np.ndarray):
        return make(obj, obj.dtype.kind == "f")
    if isinstance(obj, tuple):
        return tuple(_build(o, make) for o in obj)
    if isinstance(obj, list):
        return [_build(o, make) for o in obj]
    if isinstance(obj, dict):
        return {k: _build(v, make) for k, v in obj.items()}
    return obj


def _nabla_maker(leaves, supply=None):
    """Arrays as nabla tensors sharing their memory (views stay non-contiguous); differentiable
    ones become leaves that require grad, or are taken in order from ``supply``."""
    def make(a, diff):
        if diff and supply is not None:
            return next(supply)
        t = nabla.Tensor._make(a)
        if diff:
            t.requires_grad_()
            leaves.append(t)
        return t
    return make


def _torch_maker(leaves):
    def make(a, diff):
        t = torch.from_numpy(np.array(a, copy=True, order="C"))
        if diff:
            t.requires_grad_()
            leaves.append(t)
        return t
    return make


def _run(op, lib, sample, make):
    args, kwargs = _build(sample.args, make), _build(sample.kwargs, make)
    return _flat(op.call(lib, *args, **kwargs))


def _flat(result) -> list:
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _flat(r)]
    return [result]


def _both(op, sample):
    """Run a sample in nabla and in PyTorch: (outputs, leaves) of each."""
    nleaves, tleaves = [], []
    nout = _run(op, nabla, sample, _nabla_maker(nleaves))
    tout = _run(op, torch, sample, _torch_maker(tleaves))
    assert len(nout) == len(tout), f"{len(nout)} outputs, PyTorch gives {len(tout)}"
    return nout, nleaves, tout, tleaves


def _label(op, sample) -> str:
    return f"{op.name}[{sample.name or sample.args[1:] or 'sample'}]"


def _rand_like(rng, t: torch.Tensor) -> np.ndarray:
    return rng.standard_normal(tuple(t.shape)).astype(t.detach().numpy().dtype)


def _grad_pairs(nout, tout, what):
    """Indices of the outputs gradients flow from (floating and requiring grad in PyTorch)."""
    idx = [k for k, t in enumerate(tout) if t.requires_grad]
    for k in idx:
        assert nout[k].requires_grad, f"{what}: output {k} does not require grad"
    return idx


def _assert_grads(ngrads, tgrads, leaves, dtype, what):
    for i, (g, t, x) in enumerate(zip(ngrads, tgrads, leaves, strict=True)):
        want = torch.from_numpy(np.zeros(x.shape, x.dtype)) if t is None else t
        got = nabla.Tensor._make(np.zeros(x.shape, x.dtype)) if g is None else g
        assert_close(got, want.detach(), dtype, what=f"{what} gradient of input {i}")


def _for_each_sample(op, dtype, rng, kind, check) -> None:
    """Run ``check(sample)`` on every sample. A sample marked ``known[kind]`` must still fail
    (an xfail naming the reason); once it passes, the test fails so the mark gets removed."""
    expected = []
    for sample in op.samples(Maker(rng, dtype)):
        reason = sample.known.get(kind)
        if reason is None:
            check(sample)
            continue
        try:
            check(sample)
        except Exception as err:  # noqa: BLE001 - any failure is the known one
            expected.append(f"{_label(op, sample)}: {reason} ({type(err).__name__})")
            continue
        pytest.fail(f"{_label(op, sample)} now passes {kind}: remove known={{'{kind}': ...}}")
    if expected:
        pytest.xfail("known bugs: " + "; ".join(expected))


# -- the tests ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("op", OP_DB, ids=_ids(OP_DB))
def test_forward_matches_torch(op, dtype, rng):
    _require(op)

    def check(sample):
        arrays = []
        _build((sample.args, sample.kwargs), lambda a, diff: arrays.append(a))
        before = [a.copy() for a in arrays]
        nout, _, tout, _ = _both(op, sample)
        for k, (n, t) in enumerate(zip(nout, tout, strict=True)):
            assert_close(n, t, dtype, what=f"{_label(op, sample)} output {k}")
        for i, (a, b) in enumerate(zip(arrays, before, strict=True)):
            assert np.array_equal(a, b, equal_nan=True), f"{_label(op, sample)}: input {i} changed"

    _for_each_sample(op, dtype, rng, "forward", check)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("op", DIFFERENTIABLE, ids=_ids(DIFFERENTIABLE))
def test_backward_matches_torch(op, dtype, rng):
    _require(op)

    def check(sample):
        what = _label(op, sample)
        nout, nleaves, tout, tleaves = _both(op, sample)
        idx = _grad_pairs(nout, tout, what)
        if not idx or not sample.torch_backward:
            return
        vs = [_rand_like(rng, tout[k]) for k in idx]
        tg = torch.autograd.grad([tout[k] for k in idx], tleaves,
                                 [torch.from_numpy(v) for v in vs], allow_unused=True)
        # nabla gets the same upstream values in Fortran order: rules must not assume C order
        ng = nabla.autograd.grad([nout[k] for k in idx], nleaves,
                                 [nabla.Tensor._make(np.array(v, order="F")) for v in vs],
                                 allow_unused=True)
        _assert_grads(ng, tg, nleaves, dtype, what)

    _for_each_sample(op, dtype, rng, "backward", check)


def _as_function(op, sample):
    """The sample as a function of its differentiable inputs, for gradcheck."""
    def fn(*xs):
        return tuple(_run(op, nabla, sample, _nabla_maker([], iter(xs))))
    return fn


@pytest.mark.parametrize("op", DIFFERENTIABLE, ids=_ids(DIFFERENTIABLE))
def test_gradcheck(op, rng):
    _require(op)

    def check(sample):
        leaves = []
        _run(op, nabla, sample, _nabla_maker(leaves))
        assert gradcheck(_as_function(op, sample), tuple(leaves), **GRADCHECK_TOL)

    _for_each_sample(op, np.float64, rng, "gradcheck", check)


@pytest.mark.parametrize("op", GRADGRAD, ids=_ids(GRADGRAD))
def test_gradgradcheck_and_double_backward(op, rng):
    _require(op)

    def check(sample):
        what = _label(op, sample)
        nout, nleaves, tout, tleaves = _both(op, sample)
        idx = _grad_pairs(nout, tout, what)
        if not idx:
            return
        assert gradgradcheck(_as_function(op, sample), tuple(nleaves), **GRADCHECK_TOL), what
        if sample.torch_backward:
            _check_double_backward(rng, nout, nleaves, tout, tleaves, idx, what)

    _for_each_sample(op, np.float64, rng, "gradgrad", check)


def _check_double_backward(rng, nout, nleaves, tout, tleaves, idx, what):
    """d/d(inputs, v) of w . (v^T J), in both libraries, for random v and w."""
    vs = [_rand_like(rng, tout[k]) for k in idx]
    tv = [torch.from_numpy(v).requires_grad_() for v in vs]
    nv = [nabla.Tensor._make(v).requires_grad_() for v in vs]
    tg = torch.autograd.grad([tout[k] for k in idx], tleaves, tv, create_graph=True,
                             allow_unused=True)
    ng = nabla.autograd.grad([nout[k] for k in idx], nleaves, nv, create_graph=True,
                             allow_unused=True)
    ws = [None if g is None else _rand_like(rng, g) for g in tg]
    t_roots = [(g, torch.from_numpy(w)) for g, w in zip(tg, ws, strict=True) if g is not None and
               g.requires_grad]
    n_roots = [(g, nabla.Tensor._make(w)) for g, w in zip(ng, ws, strict=True) if g is not None and
               g.requires_grad and w is not None]
    if not t_roots:
        return
    t2 = torch.autograd.grad([g for g, _ in t_roots], tleaves + tv, [w for _, w in t_roots],
                             allow_unused=True)
    n2 = [None] * len(t2)
    if n_roots:
        n2 = nabla.autograd.grad([g for g, _ in n_roots], nleaves + nv, [w for _, w in n_roots],
                                 allow_unused=True)
    _assert_grads(n2, t2, nleaves + nv, np.float64, f"{what} double backward:")


@pytest.mark.parametrize("op", OP_DB, ids=_ids(OP_DB))
def test_no_grad_records_nothing(op, rng):
    _require(op)

    def check(sample):
        what = _label(op, sample)
        with nabla.no_grad():
            outs = _run(op, nabla, sample, _nabla_maker([]))
        outs_enabled = [] if op.differentiable else _run(op, nabla, sample, _nabla_maker([]))
        for k, t in enumerate(outs + outs_enabled):
            assert isinstance(t, nabla.Tensor), f"{what}: output {k} is {type(t)}"
            assert t.grad_fn is None, f"{what}: output {k} has grad_fn {t.grad_fn!r}"
            assert not t.requires_grad, f"{what}: output {k} requires grad"

    _for_each_sample(op, np.float64, rng, "no_grad", check)


@pytest.mark.parametrize("op", WITH_ERRORS, ids=_ids(WITH_ERRORS))
def test_bad_shapes_rejected_naming_the_op(op, rng):
    _require(op)
    for sample in op.errors(Maker(rng, np.float64)):
        shapes = [getattr(a, "shape", a) for a in _flat(list(sample.args))]
        # the sample really is invalid: PyTorch refuses it
        with pytest.raises((ValueError, RuntimeError, TypeError, IndexError)):
            _run(op, torch, sample, _torch_maker([]))
        with pytest.raises((ValueError, RuntimeError, TypeError, IndexError)) as info:
            _run(op, nabla, sample, _nabla_maker([]))
        pattern = sample.match or op.name
        assert re.search(pattern, str(info.value), re.IGNORECASE), (
            f"{op.name} with shapes {shapes}: the error does not name the op: {info.value!r}")


# The ops the table must keep covering (the curriculum's list); a removed entry fails here.
REQUIRED_OPS = """add sub mul div neg pow rpow exp log log1p expm1 sqrt rsqrt abs sign sin cos tanh
sigmoid relu maximum minimum clamp where masked_fill sum mean var std max min amax amin argmax
argmin logsumexp prod cumsum softmax log_softmax matmul reshape view flatten permute transpose
squeeze unsqueeze expand broadcast_to repeat getitem gather scatter_add index_select cat stack
split chunk pad tril triu einsum eq ne lt le gt ge logical_and logical_or logical_not isnan
isfinite""".split()


def test_table_covers_the_required_ops():
    names = {op.name for op in OP_DB}
    assert not set(REQUIRED_OPS) - names, f"missing from OP_DB: {set(REQUIRED_OPS) - names}"


_BINARY = {"add": (lambda a, b: a + b), "mul": (lambda a, b: a * b),
           "div": (lambda a, b: a / b), "maximum": (lambda a, b: a.maximum(b))}


@settings(max_examples=30, deadline=None, derandomize=True)  # reproducible, as the seeds
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                 min_side=0, max_side=3),
       name=st.sampled_from(sorted(_BINARY)), seed=st.integers(0, 2**16))
def test_binary_broadcasting_property(shapes, name, seed):
    """Any pair of broadcastable shapes: same result and gradients as PyTorch."""
    rng = np.random.default_rng(seed)
    a, b = (np.asarray(rng.uniform(0.5, 2, s) * rng.choice([-1, 1], s))
            for s in shapes.input_shapes)
    fn = _BINARY[name]
    na, nb = (nabla.Tensor._make(x).requires_grad_() for x in (a, b))
    ta, tb = (torch.from_numpy(x).requires_grad_() for x in (a, b))
    nout, tout = fn(na, nb), fn(ta, tb)
    assert_close(nout, tout, np.float64, what=name)
    v = rng.standard_normal(tout.shape)
    tg = torch.autograd.grad(tout, (ta, tb), torch.from_numpy(v))
    ng = nabla.autograd.grad(nout, (na, nb), nabla.Tensor._make(v))
    _assert_grads(ng, tg, [na, nb], np.float64, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", [0.01, 0.2, 1.0, 0.0, -0.5, 3.0])
def test_leaky_relu_matches_torch_exactly_for_every_slope(dtype, slope):
    """max(x, s x) for 0 < s <= 1, where() otherwise: the same values, zeros' signs, inf and
    NaN as PyTorch, and the same gradient."""
    special = np.array([-3.0, -1e-30, -0.0, 0.0, 2.0, np.nan, np.inf, -np.inf])
    x = np.concatenate([special, np.random.default_rng(0).normal(size=2000)]).astype(dtype)
    g = np.random.default_rng(1).normal(size=x.shape).astype(dtype)
    n, t = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, want = nabla.nn.functional.leaky_relu(n, slope), torch.nn.functional.leaky_relu(t, slope)
    y, y_torch = got.detach().numpy(), want.detach().numpy()
    np.testing.assert_array_equal(y, y_torch)
    np.testing.assert_array_equal(np.signbit(y), np.signbit(y_torch))
    got.backward(nabla.tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_array_equal(n.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("other_shape", [(96, 64), (64,), (96, 1)])
def test_where_on_large_tensors_matches_torch(dtype, other_shape):
    """From 4096 elements where() blends bitwise (backend.select): values and gradients as
    PyTorch's, with broadcasting, a number operand and a random mask."""
    rng = np.random.default_rng(3)
    cond = rng.random((96, 64)) > 0.5
    x = rng.normal(size=(96, 64)).astype(dtype)
    x[::7] = np.inf
    y = rng.normal(size=other_shape).astype(dtype)
    g = rng.normal(size=(96, 64)).astype(dtype)
    nx, ny = nabla.tensor(x, requires_grad=True), nabla.tensor(y, requires_grad=True)
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    got = nabla.where(nabla.tensor(cond), nx, ny)
    want = torch.where(torch.tensor(cond), tx, ty)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    got.backward(nabla.tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(nx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ny.grad.numpy(), ty.grad.numpy(), rtol=1e-5)
    np.testing.assert_array_equal(nabla.where(nabla.tensor(cond), nx, -0.0).detach().numpy(),
                                  torch.where(torch.tensor(cond), tx, -0.0).detach().numpy())


@pytest.mark.parametrize("name, call", [
    ("elu", lambda F, x, y: F.elu(x, 0.7)),
    ("softplus", lambda F, x, y: F.softplus(x, beta=2.0, threshold=3.0)),
    ("huber", lambda F, x, y: F.huber_loss(x, y, reduction="none", delta=0.8)),
    ("masked_fill_", lambda F, x, y: (x * 1).masked_fill_(y > 0, -2.5)),
])
def test_select_backed_ops_on_large_tensors_match_torch(name, call):
    """Ops whose forward picks with backend.select, at 96x64 (its bitwise path) vs torch."""
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(2, 96, 64)) * 3
    nx, tx = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, want = call(nabla.nn.functional, nx, nabla.tensor(y)), \
        call(torch.nn.functional, tx, torch.tensor(y))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12,
                               atol=1e-15, err_msg=name)
    g = rng.normal(size=(96, 64))
    got.backward(nabla.tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(nx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_and_kl_div_on_large_tensors_match_torch_at_0_and_1(dtype):
    """binary_cross_entropy's logs clamped at -100 (log(1 - p) as log1p(-p), exact for tiny p)
    and kl_div's 0 log 0 = 0 pick with backend.select from 4096 elements: exact 0 and 1
    probabilities and subnormal ones, against torch."""
    rng = np.random.default_rng(5)
    p = rng.random((96, 64)).astype(dtype)
    p[::5], p[1::5], p[2::7] = 0.0, 1.0, 1e-45 if dtype == np.float32 else 1e-300
    y = (rng.random((96, 64)) > 0.5).astype(dtype)
    got = nabla.nn.functional.binary_cross_entropy(nabla.tensor(p), nabla.tensor(y),
                                                   reduction="none")
    want = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y),
                                                    reduction="none")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    logq = np.log(rng.random((96, 64)).astype(dtype))
    got = nabla.nn.functional.kl_div(nabla.tensor(logq), nabla.tensor(p), reduction="none")
    want = torch.nn.functional.kl_div(torch.tensor(logq), torch.tensor(p), reduction="none")
    atol = 1e-6 if dtype == np.float32 else 1e-14  # y log y - y x cancels: absolute rounding
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=atol)


@pytest.mark.parametrize("name, call", [
    ("leaky_relu 0.2", lambda x, y: nabla.nn.functional.leaky_relu(x, 0.2)),
    ("leaky_relu 3", lambda x, y: nabla.nn.functional.leaky_relu(x, 3.0)),
    ("silu", lambda x, y: nabla.nn.functional.silu(x)),
    ("bce", lambda x, y: nabla.nn.functional.binary_cross_entropy(x.sigmoid(), y.sigmoid())),
    ("where", lambda x, y: nabla.where(x > 0.1, x, y)),
    ("clone channels_last", lambda x, y: (x.reshape(1, 2, 3, 4) * y.reshape(1, 2, 3, 4))
     .clone(memory_format=nabla.channels_last)),
])
def test_gradcheck_of_the_rewritten_rules(name, call):
    """float64 gradcheck of the rules this file's speed-ups rewrote (both inputs, away from
    the kinks)."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=24)
    x[np.abs(x) < 0.2] += 0.5  # no value within the finite difference of 0 or 0.1
    x[np.abs(x - 0.1) < 0.05] += 0.3
    inputs = (nabla.tensor(x, requires_grad=True),
              nabla.tensor(rng.normal(size=24), requires_grad=True))
    assert gradcheck(call, inputs, **GRADCHECK_TOL), name


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_and_silu_match_torch_over_the_whole_range(dtype):
    """1 / (1 + exp(-x)) with exp(-x) = inf below about -88 (float32) or -709 (float64): 0 in the
    limit, subnormal results on the way, 1 above; NaN stays NaN."""
    x = np.concatenate([np.linspace(-800, 800, 4001), np.linspace(-110, -80, 301),
                        [-np.inf, np.inf, np.nan, 0.0, -0.0]]).astype(dtype)
    for name in ("sigmoid", "silu"):
        fn = getattr(nabla.nn.functional, name)
        got = fn(nabla.tensor(x))._data
        want = getattr(torch.nn.functional, name)(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dtype).eps, atol=0,
                                   err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("copies", [1, 300])  # 300: 2100 values, against shared zeros
def test_relu_of_a_negative_is_positive_zero_as_in_torch(dtype, copies):
    x = np.tile(np.array([-3.0, -1e-30, 0.0, 2.0, np.nan, np.inf, -np.inf], dtype), copies)
    x = x.reshape(copies, 7).T  # non-contiguous
    got = nabla.relu(nabla.tensor(x))._data
    want = torch.relu(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    got[...] = 5.0  # the result is the caller's own array, not the shared zeros
    assert not nabla.relu(nabla.tensor(-np.ones_like(x)))._data.any()
