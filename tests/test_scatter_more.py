"""Index writes against PyTorch: index_copy, index_fill, index_put, put, masked_scatter
(ops/scatter_more.py), scatter_reduce and index_reduce (ops/scatter_reduction.py). Forward and
backward with random upstream gradients (float32, float64), negative dims, repeated indices with
accumulate, broadcasting, non-contiguous inputs, integer tensors; ties and zeros in the
reductions' rules; float64 gradcheck and double backward; replays under jit.trace with other
indices; the in-place methods; the errors."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close
from test_ops_shape import DTYPES, check, transposed

import nabla
from nabla.autograd import gradcheck, gradgradcheck

# PyTorch warns that its index_reduce is in beta
pytestmark = pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")

I = np.array  # noqa: E741  (short for index arrays in the table)
REDUCES = ["sum", "prod", "mean", "amax", "amin"]


def _spread(index, shape, dim):
    """A 1-D index spread over every slice (what scatter_reduce needs to act as index_reduce)."""
    along = [1] * len(shape)
    along[dim] = len(index)
    return np.broadcast_to(index.reshape(along), shape).copy()


# name, call(lib, *args), args(rng)
CASES = [
    ("index_copy", lambda lib, x, s, i: lib.index_copy(x, 0, i, s),
     lambda r: [r.standard_normal((4, 3)), r.standard_normal((2, 3)), I([3, 0])]),
    ("index_copy negative dim, 3-d", lambda lib, x, s, i: x.index_copy(-2, i, s),
     lambda r: [r.standard_normal((2, 5, 3)), r.standard_normal((2, 3, 3)), I([4, 0, 2])]),
    ("index_copy non-contiguous", lambda lib, x, s, i: lib.index_copy(x, 1, i, s),
     lambda r: [transposed(r, 3, 4), transposed(r, 3, 2), I([1, 3])]),
    ("index_fill number", lambda lib, x, i: lib.index_fill(x, -1, i, -2.5),
     lambda r: [r.standard_normal((3, 4)), I([0, 2, 2])]),
    ("index_fill 0-d tensor", lambda lib, x, v, i: x.index_fill(0, i, v),
     lambda r: [r.standard_normal((4, 2, 3)), r.standard_normal(()), I([3, 1, 3])]),
    ("index_put", lambda lib, x, v, i, j: lib.index_put(x, (i, j), v),
     lambda r: [r.standard_normal((4, 3)), r.standard_normal(3), I([0, 3, 1]), I([2, 2, 0])]),
    ("index_put broadcast indices and value", lambda lib, x, v, i, j: x.index_put((i, j), v),
     lambda r: [r.standard_normal((4, 3)), r.standard_normal(2), I([[0], [3]]), I([2, 0])]),
    ("index_put rows", lambda lib, x, v, i: lib.index_put(x, (i,), v),
     lambda r: [r.standard_normal((4, 3, 2)), r.standard_normal((3, 2)), I([-1, 1])]),
    ("index_put mask", lambda lib, x, v, m: lib.index_put(x, (m,), v),
     lambda r: [r.standard_normal((4, 3)), r.standard_normal(3), r.random(4) < 0.5]),
    ("index_put accumulate repeats", lambda lib, x, v, i, j: lib.index_put(x, (i, j), v, True),
     lambda r: [r.standard_normal((4, 3)), r.standard_normal(5), I([0, 3, 0, 0, 1]),
                I([2, 1, 2, 2, -1])]),
    ("index_put accumulate rows", lambda lib, x, v, i: x.index_put((i,), v, accumulate=True),
     lambda r: [r.standard_normal((4, 3)), r.standard_normal((1, 3)), I([2, 2, 0])]),
    ("index_put accumulate 2-d mask", lambda lib, x, v, m: lib.index_put(x, (m,), v, True),
     lambda r: [r.standard_normal((3, 4, 2)), r.standard_normal(2), r.random((3, 4)) < 0.5]),
    ("put", lambda lib, x, s, i: lib.put(x, i, s),
     lambda r: [r.standard_normal((3, 4)), r.standard_normal((2, 2)), I([[0, 11], [-2, 5]])]),
    ("put accumulate repeats", lambda lib, x, s, i: x.put(i, s, accumulate=True),
     lambda r: [r.standard_normal((3, 4)), r.standard_normal(5), I([0, 11, 0, -12, 3])]),
    ("masked_scatter", lambda lib, x, s, m: lib.masked_scatter(x, m, s),
     lambda r: [r.standard_normal((3, 4)), r.standard_normal((4, 4)), r.random((3, 4)) < 0.5]),
    ("masked_scatter broadcast mask", lambda lib, x, s, m: x.masked_scatter(m, s),
     lambda r: [r.standard_normal((3, 4)), r.standard_normal(13), r.random(4) < 0.5]),
    ("masked_scatter broadcast input", lambda lib, x, s, m: lib.masked_scatter(x, m, s),
     lambda r: [r.standard_normal(4), r.standard_normal(12), r.random((3, 4)) < 0.5]),
    *[(f"scatter_reduce {reduce}{' without self' * (not inc)}",
       lambda lib, x, s, i, reduce=reduce, inc=inc: lib.scatter_reduce(x, 0, i, s, reduce,
                                                                       include_self=inc),
       lambda r: [r.standard_normal((4, 3)), r.standard_normal((6, 3)),
                  r.integers(0, 4, (6, 3))])
      for reduce in REDUCES for inc in (True, False)],
    *[(f"scatter_reduce {reduce} dim -1",
       lambda lib, x, s, i, reduce=reduce: x.scatter_reduce(-1, i, s, reduce),
       lambda r: [r.standard_normal((2, 3, 4)), r.standard_normal((2, 3, 5)),
                  r.integers(0, 4, (2, 3, 5))])
      for reduce in ("prod", "amin")],
    *[(f"index_reduce {reduce}{' without self' * (not inc)}",
       lambda lib, x, s, i, reduce=reduce, inc=inc: lib.index_reduce(x, 1, i, s, reduce,
                                                                     include_self=inc),
       lambda r: [r.standard_normal((2, 4, 3)), r.standard_normal((2, 5, 3)),
                  I([3, 0, 3, 1, 3])])
      for reduce in REDUCES[1:] for inc in (True, False)],
    ("index_reduce negative dim", lambda lib, x, s, i: x.index_reduce(-1, i, s, "amax"),
     lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 2)), I([3, 1])]),
]
NAMES = [c[0] for c in CASES]


def _case(name):
    return next(c for c in CASES if c[0] == name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_against_torch(name, dtype, rng):
    _, call, make = _case(name)
    args = [a.astype(dtype) if a.dtype.kind == "f" else a for a in make(rng)]
    check(call, *args, rng=rng)


def _nabla_args(make, rng):
    arrays = make(rng)
    return [nabla.tensor(a, requires_grad=True) for a in arrays if a.dtype.kind == "f"], \
        [nabla.tensor(a) for a in arrays if a.dtype.kind != "f"]


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck(name, rng):
    _, call, make = _case(name)
    floats, indices = _nabla_args(make, rng)
    assert gradcheck(lambda *f: call(nabla, *f, *indices), floats, **GRADCHECK_TOL)


@pytest.mark.parametrize("name", ["index_copy", "index_fill 0-d tensor", "index_put",
                                  "index_put accumulate repeats", "put", "masked_scatter",
                                  "scatter_reduce prod", "scatter_reduce mean without self",
                                  "scatter_reduce amax", "index_reduce prod without self"])
def test_double_backward(name, rng):
    _, call, make = _case(name)
    check(call, *make(rng), rng=rng, gradgrad=True)
    floats, indices = _nabla_args(make, rng)
    assert gradgradcheck(lambda *f: call(nabla, *f, *indices), floats, **GRADCHECK_TOL)


@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_reduce_with_an_index_smaller_than_src(reduce, rng):
    """Only src's part that the index covers is read (PyTorch's backward fails on this case, so
    its reference takes that part); the rest of src gets a zero gradient."""
    x, src = rng.standard_normal((4, 3)), rng.standard_normal((6, 4))
    index = rng.integers(0, 4, (5, 2))
    nx, ns = nabla.tensor(x, requires_grad=True), nabla.tensor(src, requires_grad=True)
    tx, ts = torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)
    ny = nabla.scatter_reduce(nx, 0, nabla.tensor(index), ns, reduce)
    ty = torch.scatter_reduce(tx, 0, torch.from_numpy(index), ts[:5, :2], reduce)
    assert_close(ny, ty)
    g = rng.standard_normal((4, 3))
    ny.backward(nabla.tensor(g))
    ty.backward(torch.from_numpy(g))
    assert_close(nx.grad, tx.grad)
    assert_close(ns.grad, ts.grad)


def test_sum_and_mean_keep_only_the_index():
    """Their rules read no values: changing the input in place afterwards is fine (prod needs
    the input's values, and refuses, as PyTorch)."""
    for reduce, fine in (("sum", True), ("mean", True), ("prod", False)):
        x = nabla.ones(3)
        src = nabla.tensor([2.0, 3.0], requires_grad=True)
        y = nabla.scatter_reduce(x, 0, nabla.tensor([0, 0]), src, reduce)
        x.add_(1.0)
        if fine:
            y.sum().backward()
            assert src.grad is not None
        else:
            with pytest.raises(RuntimeError, match="modified by an in-place operation"):
                y.sum().backward()


def test_prod_rule_with_zeros_matches_torch(rng):
    """One zero among a position's factors: only it gets a gradient (the product of the others);
    two zeros: none does. With and without the input's own value."""
    x = I([2.0, 0.0, 3.0, 0.0])
    src = I([0.0, 4.0, 5.0, 0.0, 0.0, 2.0, 1.5])
    index = I([0, 0, 1, 1, 2, 2, 3])
    for inc in (True, False):
        check(lambda lib, a, s, i, inc=inc: lib.scatter_reduce(a, 0, i, s, "prod",
                                                               include_self=inc),
              x, src, index, rng=rng)
        check(lambda lib, a, s, i, inc=inc: lib.index_reduce(a, 0, i, s, "prod",
                                                             include_self=inc),
              x, src, index, rng=rng)


def test_amax_amin_ties_share_the_gradient_as_torch(rng):
    x = I([[5.0, 1.0], [2.0, 7.0], [4.0, 4.0]])
    src = I([[5.0, 3.0], [5.0, 1.0], [1.0, 7.0], [4.0, 2.0], [4.0, 4.0]])
    index = I([[0, 0], [0, 0], [1, 1], [2, 2], [2, 2]])
    for reduce in ("amax", "amin"):
        check(lambda lib, a, s, i, reduce=reduce: lib.scatter_reduce(a, 0, i, s, reduce),
              x, src, index, rng=rng)
        check(lambda lib, a, s, i, reduce=reduce: lib.index_reduce(a, 0, i[:, 0], s, reduce),
              x, src, index, rng=rng)


def test_amax_without_self_does_not_count_the_input_among_ties():
    """Documented difference: PyTorch also counts an input element equal to the result among
    the ties when include_self=False (src's share is then 1/2 though the input took no part);
    nabla gives src the whole gradient, which is the derivative (see gradcheck)."""
    x = nabla.tensor([5.0, 2.0], dtype=nabla.float64, requires_grad=True)
    src = nabla.tensor([5.0, 1.0], dtype=nabla.float64, requires_grad=True)
    i = nabla.tensor([0, 1])
    y = nabla.scatter_reduce(x, 0, i, src, "amax", include_self=False)
    y.backward(nabla.tensor([1.0, 1.0], dtype=nabla.float64))
    np.testing.assert_array_equal(src.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    ts = torch.tensor([5.0, 1.0], dtype=torch.float64, requires_grad=True)
    torch.tensor([5.0, 2.0], dtype=torch.float64).scatter_reduce(
        0, torch.tensor([0, 1]), ts, "amax", include_self=False).sum().backward()
    np.testing.assert_array_equal(ts.grad.numpy(), [0.5, 1.0])  # PyTorch's share


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
def test_integer_scatter_reduce_and_index_reduce(reduce, include_self, rng):
    """Integer tensors as PyTorch: mean rounds down (also for negative sums), extremes start
    from the dtype's limits without the input."""
    x = rng.integers(-9, 9, (4, 3))
    src = rng.integers(-9, 9, (5, 3))
    index = rng.integers(0, 4, (5, 3))
    for dt in (np.int64, np.int32):
        kw = dict(include_self=include_self)
        assert_close(nabla.scatter_reduce(nabla.tensor(x.astype(dt)), 0, nabla.tensor(index),
                                          nabla.tensor(src.astype(dt)), reduce, **kw),
                     torch.from_numpy(x.astype(dt)).scatter_reduce(
                         0, torch.from_numpy(index), torch.from_numpy(src.astype(dt)), reduce,
                         **kw))
        if reduce != "sum":
            assert_close(nabla.index_reduce(nabla.tensor(x.astype(dt)), 0,
                                            nabla.tensor(index[:, 0]),
                                            nabla.tensor(src.astype(dt)), reduce, **kw),
                         torch.from_numpy(x.astype(dt)).index_reduce(
                             0, torch.from_numpy(index[:, 0]),
                             torch.from_numpy(src.astype(dt)), reduce, **kw))


def test_integer_writes_match_torch(rng):
    x = rng.integers(-5, 5, (4, 3))
    calls = [
        lambda lib, a: lib.index_copy(a, 0, lib.tensor([2, 0]), lib.tensor([[7] * 3, [8] * 3])),
        lambda lib, a: lib.index_fill(a, 1, lib.tensor([1]), 2.7),  # truncated, as PyTorch
        lambda lib, a: lib.index_put(a, (lib.tensor([1, 1]),), lib.tensor([1, 2, 3]), True),
        lambda lib, a: lib.put(a, lib.tensor([0, -1]), lib.tensor([9, 9])),
        lambda lib, a: lib.masked_scatter(a, a > 0, lib.arange(12).reshape(4, 3)),
    ]
    for call in calls:
        assert_close(call(nabla, nabla.tensor(x)), call(torch, torch.from_numpy(x)))


def test_zero_dim_inputs_as_torch():
    calls = [
        lambda lib, a: lib.index_copy(a, 0, lib.tensor([0]), lib.tensor(2.0)),
        lambda lib, a: lib.index_fill(a, 0, lib.tensor([0]), 3.0),
        lambda lib, a: lib.scatter_reduce(a, 0, lib.tensor(0), lib.tensor(2.0), "prod"),
        lambda lib, a: lib.put(a, lib.tensor([0]), lib.tensor([4.0]), accumulate=True),
    ]
    for call in calls:
        check(call, np.array(1.5, dtype=np.float32), rng=np.random.default_rng(0))


def test_index_fill_value_of_another_dtype_gets_its_gradient():
    x = torch.randn(3, 2)
    v = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    nv = nabla.tensor(2.0, dtype=nabla.float64, requires_grad=True)
    ny = nabla.index_fill(nabla.tensor(x.numpy()), 0, nabla.tensor([0, 2]), nv)
    ty = x.index_fill(0, torch.tensor([0, 2]), v)
    assert_close(ny, ty)
    g = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.from_numpy(g))
    assert_close(nv.grad, v.grad)


# -- jit.trace: index tensors and masks are read at each replay ---------------------------------
TRACED = [
    lambda x, s, i, j, m: nabla.scatter_reduce(x, 0, j, s, "amax") * 2,
    lambda x, s, i, j, m: nabla.scatter_reduce(x, 1, j[:4], s[:4], "prod", include_self=False),
    lambda x, s, i, j, m: nabla.index_reduce(x, 0, i, s, "mean"),
    lambda x, s, i, j, m: nabla.index_copy(x, 0, (i[:2] % 2) * 3, s[:2]),
    lambda x, s, i, j, m: nabla.index_fill(x, 0, i, s[0, 0]),
    lambda x, s, i, j, m: nabla.index_put(x, (i, j[:, 0] % 3), s[:, 0], accumulate=True),
    lambda x, s, i, j, m: nabla.index_put(x, (m,), s.reshape(-1)[:1]),
    lambda x, s, i, j, m: nabla.put(x, j, s, accumulate=True),
    lambda x, s, i, j, m: nabla.masked_scatter(x, m, s),
]


@pytest.mark.parametrize("k", range(len(TRACED)))
def test_trace_reads_the_indices_at_each_replay(k, rng):
    fn = TRACED[k]

    def inputs(r):
        return (nabla.tensor(rng.standard_normal((4, 3)), requires_grad=True),
                nabla.tensor(rng.standard_normal((6, 3)), requires_grad=True),
                nabla.tensor(r.integers(0, 4, 6)), nabla.tensor(r.integers(0, 3, (6, 3))),
                nabla.tensor(r.random((4, 3)) < 0.5))

    traced = nabla.jit.trace(fn, inputs(rng))  # check_trace replays on permuted indices too
    for seed in range(3):
        args = inputs(np.random.default_rng(seed))
        got, want = traced(*args), fn(*args)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
        g = nabla.tensor(rng.standard_normal(want.shape))
        grads = [nabla.autograd.grad(y, args[:2], g) for y in (got, want)]
        for a, b in zip(*grads, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    assert len(traced._programs) == 1


# -- in-place methods ----------------------------------------------------------------------------
INPLACE = [
    ("index_copy_", lambda lib: ((0, lib.tensor([2, 0]), lib.ones(2, 3) * 5), {})),
    ("index_fill_", lambda lib: ((1, lib.tensor([0, 2]), -1.0), {})),
    ("index_put_", lambda lib: (((lib.tensor([0, 0, 3]), lib.tensor([1, 1, 2])),
                                 lib.tensor([1.0, 2.0, 3.0])), {"accumulate": True})),
    ("put_", lambda lib: ((lib.tensor([0, 11]), lib.tensor([4.0, 5.0])), {})),
    ("masked_scatter_", lambda lib: ((lib.tensor([True, False, True]), lib.arange(12.0)), {})),
    ("scatter_reduce_", lambda lib: ((1, lib.tensor([[0, 0], [2, 1]]),
                                      lib.tensor([[5.0, 6.0], [0.5, 2.0]]), "amax"),
                                     {"include_self": False})),
    ("index_reduce_", lambda lib: ((0, lib.tensor([1, 1]), lib.full((2, 3), 2.0), "prod"),
                                   {})),
]


@pytest.mark.parametrize("name", [c[0] for c in INPLACE])
def test_in_place_methods_match_torch(name, rng):
    make = dict(INPLACE)[name]
    x = rng.standard_normal((4, 3)).astype(np.float32)
    n, t = nabla.tensor(x), torch.from_numpy(x.copy())
    (nargs, nkw), (targs, tkw) = make(nabla), make(torch)
    assert getattr(n, name)(*nargs, **nkw) is n
    getattr(t, name)(*targs, **tkw)
    assert_close(n, t)
    # in the graph: a non-leaf written in place; gradients reach the input through it
    leaf_n = nabla.tensor(x, requires_grad=True)
    leaf_t = torch.tensor(x, requires_grad=True)
    yn, yt = leaf_n * 2, leaf_t * 2
    getattr(yn, name)(*nargs, **nkw)
    getattr(yt, name)(*targs, **tkw)
    g = rng.standard_normal((4, 3)).astype(np.float32)
    yn.backward(nabla.tensor(g))
    yt.backward(torch.from_numpy(g))
    assert_close(leaf_n.grad, leaf_t.grad)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(nabla.tensor(x, requires_grad=True), name)(*nargs, **nkw)


def test_in_place_write_records_the_gradient_of_the_values():
    w = nabla.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = nabla.zeros(4, 3) * 1
    y.index_put_((nabla.tensor([1, 1]),), w * 2, accumulate=True)
    y.index_copy_(0, nabla.tensor([3]), w.reshape(1, 3))
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [5.0, 5.0, 5.0])


def test_masked_scatter_in_place_keeps_the_shape():
    with pytest.raises(RuntimeError, match=r"masked_scatter_: mask of shape \(2, 3\)"):
        nabla.zeros(3).masked_scatter_(nabla.ones(2, 3, dtype=nabla.bool), nabla.ones(6))


# -- errors --------------------------------------------------------------------------------------
def _x():
    return nabla.zeros(4, 3)


ERRORS = [
    (lambda: nabla.index_copy(_x(), 0, nabla.tensor([0.0]), nabla.ones(1, 3)),
     RuntimeError, "index_copy: index must be a 1-D integer tensor"),
    (lambda: nabla.index_copy(_x(), 0, nabla.tensor([4]), nabla.ones(1, 3)),
     IndexError, r"index_copy: index 4 is out of range for dim 0 with size 4"),
    (lambda: nabla.index_copy(_x(), 0, nabla.tensor([1, 2]), nabla.ones(3, 3)),
     RuntimeError, r"index_copy: source of shape \(3, 3\) .* must have shape \(2, 3\)"),
    (lambda: nabla.index_copy(_x(), 0, nabla.tensor([1]), nabla.ones(1, 3).double()),
     RuntimeError, "index_copy: input and source must have the same dtype"),
    (lambda: nabla.index_fill(_x(), 2, nabla.tensor([1]), 0.0),
     IndexError, "index_fill: dim 2 is out of range"),
    (lambda: nabla.index_fill(_x(), 1, nabla.tensor([1]), nabla.ones(2)),
     RuntimeError, r"index_fill: value must be a number or a 0-d tensor, .* shape \(2,\)"),
    (lambda: nabla.index_put(_x(), (nabla.tensor([0.5]),), nabla.ones(())),
     IndexError, "index_put: tensors used as indices must be integer or boolean"),
    (lambda: nabla.index_put(_x(), (nabla.tensor([0]), nabla.tensor([3])), nabla.ones(())),
     IndexError, "index_put: index 3 is out of range for dim 1 with size 3"),
    (lambda: nabla.index_put(_x(), (nabla.tensor([True, False]),), nabla.ones(())),
     IndexError, r"index_put: the mask of shape \(2,\) does not match .* \(4,\)"),
    (lambda: nabla.index_put(_x(), (nabla.tensor([0, 1]),), nabla.ones(2, 2)),
     RuntimeError, r"index_put: values of shape \(2, 2\) do not broadcast to the indexed "
     r"shape \(2, 3\)"),
    (lambda: nabla.index_put(_x(), nabla.tensor([0]), nabla.ones(())),
     TypeError, "index_put: indices must be a tuple of tensors"),
    (lambda: nabla.put(_x(), nabla.tensor([1, 2]), nabla.ones(3)),
     RuntimeError, r"put: source and index must have the same number of elements, got source "
     r"\(3,\) and index \(2,\)"),
    (lambda: nabla.put(_x(), nabla.tensor([12]), nabla.ones(1)),
     IndexError, "put: index 12 is out of range for dim 0 with size 12"),
    (lambda: nabla.masked_scatter(_x(), nabla.ones(4, 3, dtype=nabla.bool), nabla.ones(5)),
     RuntimeError, r"masked_scatter: the mask selects 12 elements but source of shape \(5,\)"),
    (lambda: nabla.masked_scatter(_x(), nabla.ones(4, 3), nabla.ones(12)),
     RuntimeError, "masked_scatter: mask must be a boolean tensor"),
    (lambda: nabla.masked_scatter(_x(), nabla.ones(2, dtype=nabla.bool), nabla.ones(12)),
     RuntimeError, r"masked_scatter: mask of shape \(2,\) and input of shape \(4, 3\) do not"),
    (lambda: nabla.scatter_reduce(_x(), 0, nabla.tensor([[0]]), nabla.ones(1, 1), "max"),
     RuntimeError, "scatter_reduce: reduce must be one of sum, prod, mean, amax, amin"),
    (lambda: nabla.scatter_reduce(_x(), 0, nabla.tensor([[0.0]]), nabla.ones(1, 1), "sum"),
     RuntimeError, "scatter_reduce: index must be an integer tensor"),
    (lambda: nabla.scatter_reduce(_x(), 0, nabla.tensor([[4]]), nabla.ones(1, 1), "sum"),
     IndexError, "scatter_reduce: index 4 is out of range"),
    (lambda: nabla.scatter_reduce(_x(), 0, nabla.tensor([[0, 0]]), nabla.ones(1, 1), "sum"),
     RuntimeError, r"scatter_reduce: index of shape \(1, 2\) is larger than"),
    (lambda: nabla.scatter_reduce(_x(), 0, nabla.tensor([[0]]), nabla.ones(1, 1).double(),
                                  "sum"),
     RuntimeError, "scatter_reduce: input and source must have the same dtype"),
    (lambda: nabla.index_reduce(_x(), 0, nabla.tensor([0]), nabla.ones(1, 3), "sum"),
     RuntimeError, "index_reduce: reduce must be one of prod, mean, amax, amin, got 'sum'"),
    (lambda: nabla.index_reduce(_x(), 0, nabla.tensor([0]), nabla.ones(1, 2), "prod"),
     RuntimeError, r"index_reduce: source of shape \(1, 2\) does not match input \(4, 3\)"),
    (lambda: nabla.index_reduce(_x(), 0, nabla.tensor([[0]]), nabla.ones(1, 3), "prod"),
     RuntimeError, "index_reduce: index must be a 1-D integer tensor"),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_name_the_op_and_the_shapes(k):
    call, kind, pattern = ERRORS[k]
    with pytest.raises(kind, match=pattern):
        call()
