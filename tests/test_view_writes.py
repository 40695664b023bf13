"""Views as in PyTorch: an in-place write into the result of a view op (``v.fill_(1)``,
``v[0] = 3``, ``v.add_(1)``, ...) changes its base, a write into the base shows in the view, and
the two share a version counter; ops that copy in PyTorch (ravel of a strided tensor, diag of a
matrix, reshape that cannot view) copy here too. Then the diagonal view itself (forward, backward,
gradcheck, its writes under no_grad, the clear refusals when a write needs a gradient, trace and
export), and the few places where nabla refuses a write PyTorch lets through."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close

import nabla
from nabla.autograd import gradcheck, gradgradcheck

DTYPES = [np.float32, np.float64]


def _lib(t):
    return torch if isinstance(t, torch.Tensor) else nabla


# -- the table: every op PyTorch documents as returning a view ------------------------------------
VIEWS = {  # id -> view of a (3, 4) tensor t
    "slice": lambda t: t[1:, ::2],
    "int index": lambda t: t[1],
    "negative int and slice": lambda t: t[-1, 1:],
    "ellipsis": lambda t: t[..., 0],
    "None": lambda t: t[None, 0],
    "None and slices": lambda t: t[1:2, None, :, None],
    "adjoint": lambda t: t.adjoint(),
    "as_strided": lambda t: t.as_strided((2, 2), (1, 3)),
    "as_strided function": lambda t: _lib(t).as_strided(t, (3,), (5,), 0),
    "detach": lambda t: t.detach(),
    "diagonal": lambda t: t.diagonal(),
    "diagonal above": lambda t: t.diagonal(1),
    "diagonal below": lambda t: t.diagonal(-1),
    "diagonal dims reversed": lambda t: _lib(t).diagonal(t, 0, 1, 0),
    "diagonal keywords": lambda t: t.diagonal(offset=1, dim1=-1, dim2=-2),
    "diagonal 3-d": lambda t: t.reshape(2, 3, 2).diagonal(0, 0, 2),
    "diagonal 3-d below": lambda t: t.reshape(2, 3, 2).diagonal(-1, -1, 1),
    "diagonal of a transpose": lambda t: t.T.diagonal(1),
    "slice of a diagonal": lambda t: t.diagonal()[1:],
    "diagonal of a diagonal": lambda t: t.reshape(2, 2, 3).diagonal(0, 0, 1).diagonal(),
    "movedim": lambda t: t.movedim(0, 1),
    "moveaxis": lambda t: _lib(t).moveaxis(t, 1, 0),
    "narrow": lambda t: t.narrow(1, 1, 2),
    "narrow function": lambda t: _lib(t).narrow(t, 0, 1, 2),
    "permute": lambda t: t.permute(1, 0),
    "select": lambda t: t.select(1, 2),
    "select function": lambda t: _lib(t).select(t, 0, 1),
    "squeeze": lambda t: t[None].squeeze(0),
    "squeeze function": lambda t: _lib(t).squeeze(t.unsqueeze(1), 1),
    "transpose": lambda t: t.transpose(0, 1),
    "swapaxes": lambda t: t.swapaxes(0, 1),
    "swapdims": lambda t: _lib(t).swapdims(t, 0, 1),
    "t": lambda t: t.t(),
    "T": lambda t: t.T,
    "H": lambda t: t.H,
    "mT": lambda t: t.mT,
    "mH": lambda t: t.mH,
    "unflatten": lambda t: t.unflatten(1, (2, 2)),
    "unfold": lambda t: t.unfold(1, 2, 2),
    "unsqueeze": lambda t: t.unsqueeze(0),
    "view": lambda t: t.view(12),
    "view of a transpose": lambda t: t.T.view(4, 1, 3),
    "view_as": lambda t: t.view_as(_lib(t).zeros(2, 6)),
    "unbind": lambda t: t.unbind(0)[1],
    "unbind function": lambda t: _lib(t).unbind(t, 1)[2],
    "split": lambda t: t.split(2, 1)[1],
    "split_with_sizes": lambda t: t.split_with_sizes([1, 3], 1)[1],
    "tensor_split": lambda t: t.tensor_split(2, 1)[1],
    "tensor_split indices": lambda t: _lib(t).tensor_split(t, [1, 3], 1)[1],
    "chunk": lambda t: t.chunk(2, 1)[1],
    "hsplit": lambda t: t.hsplit(2)[1],
    "vsplit": lambda t: t.vsplit(3)[1],
    "dsplit": lambda t: t.reshape(3, 2, 2).dsplit(2)[1],
    "reshape": lambda t: t.reshape(2, 6),
    "flatten": lambda t: t.flatten(),
    "flatten from dim 1": lambda t: t.reshape(3, 2, 2).flatten(1),
    "ravel": lambda t: t.ravel(),
    "chained": lambda t: t.T[1:3, ::2].unsqueeze(0).select(2, 1),
}

WRITES = {  # id -> an in-place write into the view v
    "fill_": lambda v: v.fill_(7.0),
    "zero_": lambda v: v.zero_(),
    "add_": lambda v: v.add_(1.5),
    "mul_": lambda v: v.mul_(-2.0),
    "setitem": lambda v: v.__setitem__(0, 5.0),
    "setitem all": lambda v: v.__setitem__(Ellipsis, -3.0),
    "copy_": lambda v: v.copy_(v * 0 + 9.0),
    "+=": lambda v: v.__iadd__(2.0),
    "exp_": lambda v: v.exp_(),
}

BASES = {  # id -> a (3, 4) float64 base: contiguous, or a strided view of a bigger tensor
    "contiguous": lambda lib: lib.arange(12, dtype=lib.float64).reshape(3, 4) / 4,
    "transposed": lambda lib: (lib.arange(12, dtype=lib.float64).reshape(4, 3) / 4).t(),
    "strided": lambda lib: (lib.arange(30, dtype=lib.float64).reshape(5, 6) / 4)[1:4, 1:5],
}


def _twins(base: str) -> tuple:
    return BASES[base](nabla), BASES[base](torch)


def _viewable(view: str, base: str) -> bool:
    """PyTorch's view() refuses a transposed or strided base (see the copy tests below), and
    as_strided reads a non-contiguous tensor's storage, which nabla does not expose."""
    return base == "contiguous" or not view.startswith(("view", "as_strided"))


VIEW_BASES = [(v, b) for v in VIEWS for b in BASES if _viewable(v, b)]


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("view,base", VIEW_BASES)
def test_a_write_into_a_view_reaches_the_base_as_in_torch(view, base, write):
    nx, tx = _twins(base)
    nv, tv = VIEWS[view](nx), VIEWS[view](tx)
    WRITES[write](nv)
    WRITES[write](tv)
    assert_close(nv, tv, what="the view")
    assert_close(nx, tx, what="the base")


@pytest.mark.parametrize("view,base", VIEW_BASES)
def test_a_write_into_the_base_shows_in_the_view_and_bumps_its_version(view, base):
    nx, tx = _twins(base)
    nv, tv = VIEWS[view](nx), VIEWS[view](tx)
    before = nv._version[0], tv._version
    nx.add_(100.0)
    tx.add_(100.0)
    assert_close(nv, tv, what="the view")
    assert nv._version[0] - before[0] == tv._version - before[1]  # 0 where both copied


# -- what PyTorch copies is a copy here too -------------------------------------------------------
COPIES = {  # id -> (function of t, the base it is applied to)
    "reshape of a transpose": (lambda t: t.reshape(12), "transposed"),
    "flatten of a strided tensor": (lambda t: t.flatten(), "strided"),
    "ravel of a strided tensor": (lambda t: t.ravel(), "strided"),
    "ravel of a transpose": (lambda t: _lib(t).ravel(t), "transposed"),
    "diag of a matrix": (lambda t: t.diag(), "contiguous"),
    "diag function above": (lambda t: _lib(t).diag(t, 1), "contiguous"),
    "contiguous of a transpose": (lambda t: t.contiguous(), "transposed"),
    "clone": (lambda t: t.clone(), "contiguous"),
    "integer array index": (lambda t: t[[0, 2]], "contiguous"),
    "boolean mask": (lambda t: t[t > 1], "contiguous"),
    "index_select": (lambda t: t.index_select(1, _lib(t).tensor([0, 2])), "contiguous"),
}


@pytest.mark.parametrize("write", ["fill_", "add_", "setitem"])
@pytest.mark.parametrize("case", COPIES)
def test_a_write_into_a_copy_leaves_the_base_as_in_torch(case, write):
    fn, base = COPIES[case]
    nx, tx = _twins(base)
    nv, tv = fn(nx), fn(tx)
    WRITES[write](nv)
    WRITES[write](tv)
    assert_close(nv, tv, what="the result")
    assert_close(nx, tx, what="the base")
    assert_close(nx, BASES[base](torch), what="the base, unchanged")


@pytest.mark.parametrize("base", ["transposed", "strided"])
@pytest.mark.parametrize("view", ["view", "view_as"])
def test_view_that_would_need_a_copy_is_refused_as_in_torch(view, base):
    fn = (lambda t: t.view(12)) if view == "view" else (lambda t: t.view_as(_lib(t).zeros(12)))
    nx, tx = _twins(base)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        fn(tx)
    with pytest.raises(RuntimeError, match=rf"{view}: size \(12,\) is not compatible with .*"
                                           r"shape \(3, 4\) .*use \.reshape"):
        fn(nx)
    assert tuple(nx.reshape(12).shape) == (12,)  # reshape copies instead


# -- writes nabla refuses: memory that more than one element shares -------------------------------
@pytest.mark.parametrize("write", ["fill_", "zero_", "add_", "setitem", "copy_"])
@pytest.mark.parametrize("view", ["expand", "overlapping unfold", "diagonal of an expand"])
def test_writes_into_shared_memory_are_refused_with_the_fix(view, write):
    """PyTorch refuses add_ / copy_ into an expand() and lets fill_ through; it lets every write
    into overlapping unfold() windows through (the result then depends on the order of the
    writes). nabla refuses all of them alike."""
    make = {"expand": lambda x: x[:, :1].expand(3, 4),
            "overlapping unfold": lambda x: x.unfold(1, 2, 1),
            "diagonal of an expand": lambda x: x[:1].expand(4, 4).diagonal()}[view]
    x = nabla.arange(12.0).reshape(3, 4)
    with pytest.raises(RuntimeError, match="memory is read-only.*clone\\(\\)"):
        WRITES[write](make(x))
    assert x.tolist() == nabla.arange(12.0).reshape(3, 4).tolist()


# -- the diagonal view -----------------------------------------------------------------------------
DIAGONALS = [  # (shape, offset, dim1, dim2, non-contiguous input)
    ((4, 3), 0, 0, 1, False),
    ((3, 5), 2, 0, 1, True),
    ((5, 3), -2, 0, 1, False),
    ((2, 4, 3), 1, 2, 0, True),
    ((2, 3, 4), -1, -1, 1, False),
    ((3, 3), 5, 0, 1, False),  # past the corner: empty
    ((2, 0, 3), 0, 1, 2, False),  # an empty dim
]


def _input(rng, shape, transposed, dtype):
    a = rng.standard_normal(shape[::-1] if transposed else shape).astype(dtype)
    return a.transpose() if transposed else a


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", DIAGONALS, ids=str)
def test_diagonal_forward_and_backward_match_torch(case, dtype, rng):
    shape, offset, dim1, dim2, transposed = case
    a = _input(rng, shape, transposed, dtype)
    nx = nabla.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    ny, ty = nx.diagonal(offset, dim1, dim2), tx.diagonal(offset, dim1, dim2)
    assert_close(ny, ty, what="output")
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ny.backward(nabla.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(nx.grad, tx.grad, what="grad")


@pytest.mark.parametrize("case", [c for c in DIAGONALS if 0 not in c[0]], ids=str)
def test_diagonal_gradcheck_and_double_backward(case, rng):
    shape, offset, dim1, dim2, transposed = case
    x = nabla.tensor(_input(rng, shape, transposed, np.float64), requires_grad=True)

    def fn(v):
        return v.diagonal(offset, dim1, dim2) * v.diagonal(offset, dim1, dim2)

    assert gradcheck(fn, (x,), **GRADCHECK_TOL)
    assert gradgradcheck(fn, (x,), **GRADCHECK_TOL)


def test_diagonal_double_backward_matches_torch(rng):
    a = rng.standard_normal((3, 4))
    results = []
    for lib in (nabla, torch):
        x = lib.tensor(a, requires_grad=True)
        (g,) = lib.autograd.grad((x.diagonal(1) ** 3).sum(), x, create_graph=True)
        (g * lib.tensor(a)).sum().backward()
        results.append((g.detach().numpy(), x.grad.numpy()))
    for n, t in zip(*results):
        np.testing.assert_allclose(n, t, rtol=1e-12)


def test_filling_a_weight_diagonal_under_no_grad_as_in_torch():
    """The usual uses: W.diagonal().fill_(0) on a parameter, a mask on attention scores."""
    results = []
    for lib in (nabla, torch):
        w = lib.nn.Parameter(lib.ones(3, 4, dtype=lib.float64))
        with lib.no_grad():
            w.diagonal().fill_(0)
            w.diagonal(-1).mul_(5)
        attn = lib.arange(18, dtype=lib.float64).reshape(2, 3, 3)
        attn.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        eye = lib.zeros(3, 3, dtype=lib.float64)
        eye.diagonal()[:] = 1
        eye.diagonal(1).copy_(lib.tensor([2.0, 3.0]))
        results.append([t.detach().numpy() for t in (w, attn, eye)])
    for n, t in zip(*results):
        np.testing.assert_array_equal(n, t)


def test_a_write_through_the_diagonal_bumps_the_version_a_saved_node_checks():
    for lib in (nabla, torch):
        w = lib.ones(3, 3, requires_grad=True)
        y = (w * w).sum()  # saved w
        with lib.no_grad():
            w.diagonal().zero_()
        assert w._version == 1 or w._version[0] == 1
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            y.backward()


@pytest.mark.parametrize("write", ["add_", "copy_", "setitem"])
def test_a_write_through_the_diagonal_that_needs_a_gradient_is_refused_clearly(write):
    """Here nabla refuses what PyTorch records on the base (clone the view, or write the
    out-of-place result back); the base keeps its values."""
    v = nabla.tensor([1.0, 2.0, 3.0], requires_grad=True)
    calls = {"add_": lambda d: d.add_(v), "copy_": lambda d: d.copy_(v * 2),
             "setitem": lambda d: d.__setitem__(slice(None), v)}
    x = nabla.zeros(3, 3)
    h = x * 1.0
    h.requires_grad_()
    h = h * 1.0  # a non-leaf in the graph
    with pytest.raises(RuntimeError, match="needs a gradient on a view or slice"):
        calls[write](h.diagonal())
    assert h.tolist() == [[0.0] * 3] * 3


def test_a_write_into_the_diagonal_of_a_graph_tensor_without_a_gradient_argument():
    """fill_ / zero_ into a view that requires grad are refused as every write into a graph
    tensor is; on a plain tensor with a gradient-carrying value, copy_ names the view."""
    h = nabla.ones(3, 3, requires_grad=True) * 2
    for write in (lambda d: d.fill_(0), lambda d: d.zero_()):
        with pytest.raises(RuntimeError, match="in-place operation on a tensor that is part "
                                               "of the graph"):
            write(h.diagonal())
    w = nabla.ones(3, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation on a tensor that is part of the "
                                           "graph"):
        w.diagonal().fill_(0)  # PyTorch: "a view of a leaf Variable that requires grad"
    x = nabla.zeros(3, 3)
    with pytest.raises(RuntimeError, match="needs a gradient on a view or slice"):
        x.diagonal().copy_(nabla.ones(3, requires_grad=True))
    assert x.tolist() == [[0.0] * 3] * 3


def test_augmented_assignment_into_a_diagonal_with_a_gradient_writes_the_base():
    """``d += v`` with v requiring grad: the base gets the values as in PyTorch, and d is rebound
    to the recorded sum (its gradient reaches v; the base records nothing)."""
    results = []
    for lib in (nabla, torch):
        x = lib.zeros(3, 3, dtype=lib.float64)
        v = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        d = x.diagonal()
        d += v
        (d * lib.tensor([1.0, 10.0, 100.0], dtype=lib.float64)).sum().backward()
        results.append((x.detach().numpy().tolist(), v.grad.tolist()))
    assert results[0] == results[1]


def test_diagonal_views_report_torch_strides_and_storage_offsets():
    views = [lambda t: t.diagonal(2), lambda t: t[1:].diagonal(-1), lambda t: t.T.diagonal(1),
             lambda t: t.reshape(2, 3, 4).diagonal(1, 2, 1), lambda t: t[1:].unfold(1, 2, 2)]
    for view in views:
        nv, tv = view(nabla.arange(24.0).reshape(4, 6)), view(torch.arange(24.0).reshape(4, 6))
        assert (nv.stride(), nv.storage_offset()) == (tv.stride(), tv.storage_offset())


def test_gradients_read_off_a_diagonal_do_not_share_memory_with_other_grads():
    """diagonal_scatter's gradient for src is the diagonal of the incoming gradient, which
    another input may keep as its .grad: the second backward must add to each one once."""
    results = []
    for lib in (nabla, torch):
        a = lib.zeros(3, 3, requires_grad=True)
        s = lib.zeros(3, requires_grad=True)
        for _ in range(2):
            ((a + lib.diagonal_scatter(lib.zeros(3, 3), s)) * 2).sum().backward()
        results.append((a.grad.tolist(), s.grad.tolist()))
    assert results[0] == results[1]


def test_diagonal_scatter_leaves_its_input_alone():
    x = nabla.zeros(3, 4)
    y = nabla.diagonal_scatter(x, nabla.ones(3), 1)
    assert x.tolist() == [[0.0] * 4] * 3 and x._version[0] == 0
    expected = torch.diagonal_scatter(torch.zeros(3, 4), torch.ones(3), 1)
    assert_close(y, expected)


def test_diagonal_in_a_trace_replays_and_backwards_like_eager(rng):
    a = rng.standard_normal((2, 4, 3))

    def fn(x):
        return (x.diagonal(1, 2, 1) * 2).sum(-1) + x.diagonal(0, 0, 2).sum()

    x = nabla.tensor(a, requires_grad=True)
    traced = nabla.jit.trace(fn, (x,))
    for k in range(2):
        xs = [nabla.tensor(a + k, requires_grad=True) for _ in range(2)]
        got, want = traced(xs[0]), fn(xs[1])
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
        g = rng.standard_normal(tuple(want.shape))
        got.backward(nabla.tensor(g))
        want.backward(nabla.tensor(g))
        np.testing.assert_allclose(xs[0].grad.numpy(), xs[1].grad.numpy(), rtol=1e-12)


def test_diagonal_exports_to_onnx(tmp_path, rng):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")

    class Diagonals(nabla.nn.Module):
        def forward(self, x):
            parts = [x.diagonal(1, 0, 2), x.diagonal(-1, -1, 1), nabla.diagonal(x, 0, 2, 1),
                     x[0].diagonal(2), x[0].diag(), x[0].trace().reshape(1)]
            return nabla.cat([p.reshape(-1) for p in parts]) * 2

    x = nabla.tensor(rng.standard_normal((3, 4, 5)).astype(np.float32))
    path = tmp_path / "diagonal.onnx"
    nabla.onnx.export(Diagonals(), (x,), path, input_names=["x"], output_names=["y"])
    (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x.numpy()})
    with nabla.no_grad():
        np.testing.assert_allclose(got, Diagonals()(x).numpy(), rtol=1e-6)
