"""Shape ops (shape.py, join.py) against PyTorch: forward, backward with random upstream gradients
(float32 and float64), float64 finite differences, double backward, views, error messages.

``check`` and ``fd_check`` are imported by test_ops_index.py too.
"""

import numpy as np
import pytest
import torch
from conftest import assert_close

import nabla

DTYPES = [np.float32, np.float64]


def _F(lib):
    """``torch.nn.functional`` for torch, the ops namespace for nabla (pad lives there)."""
    return torch.nn.functional if lib is torch else lib


def _to(lib, a, leaves):
    """An argument for ``lib``: floating arrays become leaves that require grad, integer and bool
    arrays plain tensors, lists and tuples of arrays are converted elementwise."""
    if isinstance(a, list):
        return [_to(lib, x, leaves) for x in a]
    if not isinstance(a, np.ndarray):
        return a
    if lib is torch:
        t = torch.from_numpy(np.array(a, copy=True, order="C"))
        if a.dtype.kind == "f":
            t.requires_grad_(True)
    else:
        t = nabla.Tensor(a, requires_grad=a.dtype.kind == "f")  # keeps a non-contiguous view
    if a.dtype.kind == "f":
        leaves.append(t)
    return t


def _outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def check(call, *args, rng, gradgrad=False):
    """Compare ``call(nabla, *args)`` with ``call(torch, *args)``: outputs, gradients of every
    floating input for a random upstream gradient, and (gradgrad) the second derivative with
    respect to that upstream gradient, which runs each backward rule's own backward."""
    nb_leaves, th_leaves = [], []
    out_n = _outputs(call(nabla, *[_to(nabla, a, nb_leaves) for a in args]))
    out_t = _outputs(call(torch, *[_to(torch, a, th_leaves) for a in args]))
    assert len(out_n) == len(out_t), f"{len(out_n)} outputs, PyTorch gives {len(out_t)}"
    for i, (a, b) in enumerate(zip(out_n, out_t, strict=True)):
        assert_close(a, b, what=f"output {i}")
    pairs = [(a, b) for a, b in zip(out_n, out_t, strict=True) if b.requires_grad]
    if not pairs or not th_leaves:
        return
    dtype = np.dtype(pairs[0][1].detach().numpy().dtype)
    vs = [rng.standard_normal(b.shape).astype(dtype) for _, b in pairs]
    v_n = [nabla.tensor(v, requires_grad=gradgrad) for v in vs]
    v_t = [torch.from_numpy(v).requires_grad_(gradgrad) for v in vs]
    g_n = nabla.autograd.grad([a for a, _ in pairs], nb_leaves, v_n, allow_unused=True,
                              create_graph=gradgrad)
    g_t = torch.autograd.grad([b for _, b in pairs], th_leaves, v_t, allow_unused=True,
                              create_graph=gradgrad, materialize_grads=True)
    for i, (a, b) in enumerate(zip(g_n, g_t, strict=True)):
        if a is None:
            a = nabla.zeros(*b.shape, dtype=dtype)
        assert_close(a, b, what=f"gradient of input {i}")
    if gradgrad:
        ws = [rng.standard_normal(b.shape).astype(dtype) for b in g_t]
        used = [(a, b, w) for a, b, w in zip(g_n, g_t, ws, strict=True) if a is not None]
        gg_n = nabla.autograd.grad([a for a, _, _ in used], v_n,
                                   [nabla.tensor(w) for _, _, w in used], allow_unused=True)
        gg_t = torch.autograd.grad([b for _, b, _ in used], v_t,
                                   [torch.from_numpy(w) for _, _, w in used],
                                   allow_unused=True, materialize_grads=True)
        for i, (a, b) in enumerate(zip(gg_n, gg_t, strict=True)):
            assert_close(a if a is not None else nabla.zeros(*b.shape, dtype=dtype), b,
                         what=f"double backward, upstream gradient {i}")


def fd_check(call, *args, rng, eps=1e-6, tol=1e-6):
    """float64 central differences of f(x) = sum(v * call(x)) for a random v, against the
    gradient nabla computes, for every floating input element."""
    args = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in args]

    def value(arrays):
        outs = _outputs(call(nabla, *[nabla.tensor(a) if isinstance(a, np.ndarray) else a
                                      for a in arrays]))
        return sum(float((o._data * v).sum()) for o, v in zip(outs, vs, strict=True))

    leaves = []
    outs = _outputs(call(nabla, *[_to(nabla, a, leaves) for a in args]))
    vs = [rng.standard_normal(o.shape) for o in outs]
    grads = nabla.autograd.grad(list(outs), leaves, [nabla.tensor(v) for v in vs],
                                allow_unused=True)
    k = 0
    for i, a in enumerate(args):
        if not (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
            continue
        analytic = np.zeros(a.shape) if grads[k] is None else grads[k]._data
        k += 1
        for j in np.ndindex(a.shape):
            plus, minus = [x.copy() if x is a else x for x in args], [
                x.copy() if x is a else x for x in args]
            plus[i][j] += eps
            minus[i][j] -= eps
            numeric = (value(plus) - value(minus)) / (2 * eps)
            assert abs(numeric - analytic[j]) <= tol + 1e-5 * abs(numeric), (
                f"input {i} element {j}: analytic {analytic[j]}, numeric {numeric}")


def transposed(rng, *shape):
    """A non-contiguous array of ``shape``: a transposed view."""
    return rng.standard_normal(shape[::-1]).T


# name, call, args(rng)
CASES = [
    ("flatten", lambda lib, x: lib.flatten(x), lambda r: [r.standard_normal((2, 3, 4))]),
    ("flatten middle", lambda lib, x: x.flatten(1, -2),
     lambda r: [r.standard_normal((2, 3, 4, 2))]),
    ("flatten 0-d", lambda lib, x: lib.flatten(x), lambda r: [r.standard_normal(())]),
    ("unflatten", lambda lib, x: lib.unflatten(x, -1, (2, -1)), lambda r: [transposed(r, 3, 6)]),
    ("permute", lambda lib, x: lib.permute(x, (2, -3, 1)),
     lambda r: [r.standard_normal((2, 3, 4))]),
    ("permute method", lambda lib, x: x.permute(1, 0), lambda r: [transposed(r, 3, 4)]),
    ("transpose", lambda lib, x: lib.transpose(x, -1, 0), lambda r: [r.standard_normal((2, 3, 4))]),
    ("swapaxes", lambda lib, x: lib.swapaxes(x, 0, 1), lambda r: [r.standard_normal((2, 3))]),
    ("T and mT", lambda lib, x: (x[0].T, x.mT, x[0].t()), lambda r: [r.standard_normal((2, 3, 4))]),
    ("movedim", lambda lib, x: lib.movedim(x, 0, -1), lambda r: [r.standard_normal((2, 3, 4))]),
    ("movedim tuple", lambda lib, x: lib.movedim(x, (0, 3), (2, 0)),
     lambda r: [r.standard_normal((2, 3, 4, 5))]),
    ("squeeze all", lambda lib, x: lib.squeeze(x), lambda r: [r.standard_normal((1, 3, 1, 2))]),
    ("squeeze dim", lambda lib, x: (x.squeeze(-2), x.squeeze(1)),
     lambda r: [r.standard_normal((3, 1, 1))]),
    ("squeeze tuple", lambda lib, x: lib.squeeze(x, (0, 1, 3)),
     lambda r: [r.standard_normal((1, 2, 3, 1))]),
    ("squeeze to 0-d", lambda lib, x: x.squeeze(), lambda r: [r.standard_normal((1, 1))]),
    ("unsqueeze", lambda lib, x: (lib.unsqueeze(x, -1), lib.unsqueeze(x, 0), x.unsqueeze(1)),
     lambda r: [transposed(r, 3, 4)]),
    ("unsqueeze 0-d", lambda lib, x: lib.unsqueeze(x, -1), lambda r: [r.standard_normal(())]),
    ("expand", lambda lib, x: x.expand(2, -1, 4), lambda r: [r.standard_normal((3, 1))]),
    ("expand 0-d", lambda lib, x: x.expand(3, 2), lambda r: [r.standard_normal(())]),
    ("expand_as", lambda lib, x, y: x.expand_as(y),
     lambda r: [r.standard_normal((1, 4)), r.standard_normal((3, 4))]),
    ("repeat", lambda lib, x: x.repeat(2, 1, 3), lambda r: [transposed(r, 2, 3)]),
    ("repeat 0-d", lambda lib, x: x.repeat(3), lambda r: [r.standard_normal(())]),
    ("cat", lambda lib, a, b, c: lib.cat([a, b, c], -1),
     lambda r: [r.standard_normal((2, 3)), transposed(r, 2, 1), r.standard_normal((2, 0))]),
    ("cat dim 0, no-grad input", lambda lib, a, b: lib.cat((a, b.detach())),
     lambda r: [r.standard_normal((2, 3)), r.standard_normal((1, 3))]),
    ("concat", lambda lib, a, b: lib.concat([a, b], 1),
     lambda r: [r.standard_normal((2, 1, 2)), r.standard_normal((2, 3, 2))]),
    ("stack", lambda lib, a, b: lib.stack([a, b], -1),
     lambda r: [r.standard_normal((2, 3)), transposed(r, 2, 3)]),
    ("stack 0-d", lambda lib, a, b: lib.stack([a, b]),
     lambda r: [r.standard_normal(()), r.standard_normal(())]),
    ("split int", lambda lib, x: lib.split(x, 2, 1), lambda r: [r.standard_normal((3, 5))]),
    ("split list", lambda lib, x: x.split([1, 0, 3], -1), lambda r: [transposed(r, 2, 4)]),
    ("chunk", lambda lib, x: lib.chunk(x, 3), lambda r: [r.standard_normal((7, 2))]),
    ("chunk fewer", lambda lib, x: x.chunk(4, -1), lambda r: [r.standard_normal((2, 6))]),
    ("unbind", lambda lib, x: lib.unbind(x, -1), lambda r: [transposed(r, 2, 3)]),
    ("narrow", lambda lib, x: lib.narrow(x, 1, -3, 2), lambda r: [r.standard_normal((2, 4))]),
    ("pad", lambda lib, x: _F(lib).pad(x, (1, 2)), lambda r: [r.standard_normal((2, 3))]),
    ("pad two dims, value", lambda lib, x: _F(lib).pad(x, (0, 1, 2, 1), value=-1.5),
     lambda r: [transposed(r, 2, 3)]),
    ("pad crop", lambda lib, x: _F(lib).pad(x, (-1, 2, 1, -2)),
     lambda r: [r.standard_normal((3, 4))]),
    ("pad reflect", lambda lib, x: _F(lib).pad(x, (2, 1, 1, 2), mode="reflect"),
     lambda r: [r.standard_normal((1, 3, 4))]),
    ("pad replicate", lambda lib, x: _F(lib).pad(x, (3, 1), mode="replicate"),
     lambda r: [r.standard_normal((1, 2, 3))]),
    ("pad circular", lambda lib, x: _F(lib).pad(x, (2, 1, 1, 0), mode="circular"),
     lambda r: [r.standard_normal((1, 1, 3, 4))]),
    ("tril", lambda lib, x: (lib.tril(x), x.tril(1), lib.tril(x, -1)),
     lambda r: [r.standard_normal((2, 3, 4))]),
    ("triu", lambda lib, x: (lib.triu(x), x.triu(-1), lib.triu(x, 2)),
     lambda r: [transposed(r, 4, 3)]),
    ("flip", lambda lib, x: (lib.flip(x, (0, -1)), lib.flip(x, [1])),
     lambda r: [r.standard_normal((2, 3, 4))]),
    ("roll", lambda lib, x: (lib.roll(x, 2, 1), lib.roll(x, (1, -1), (0, 1)), lib.roll(x, 3)),
     lambda r: [r.standard_normal((3, 4))]),
    ("reshape methods", lambda lib, x: (x.view(4, 3), x.reshape(-1), x.view_as(x.T)),
     lambda r: [r.standard_normal((3, 4))]),
    ("empty dims", lambda lib, x: (x.permute(1, 0, 2), x.flatten(), lib.cat([x, x], 0),
                                   x.unsqueeze(0), x.expand(2, 0, 2, 3)),
     lambda r: [r.standard_normal((0, 2, 3))]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,call,make", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, call, make, dtype, rng):
    args = [a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in make(rng)]
    check(call, *args, rng=rng)


FD_CASES = ["unflatten", "movedim tuple", "repeat", "cat", "stack", "split list", "pad crop",
            "pad reflect", "pad circular", "triu", "roll", "narrow"]


@pytest.mark.parametrize("name", FD_CASES)
def test_finite_differences(name, rng):
    _, call, make = next(c for c in CASES if c[0] == name)
    fd_check(call, *make(rng), rng=rng)


@pytest.mark.parametrize("name", ["cat", "stack", "repeat", "pad reflect", "pad crop", "split int",
                                  "flip", "T and mT", "roll", "triu"])
def test_double_backward(name, rng):
    _, call, make = next(c for c in CASES if c[0] == name)
    check(call, *make(rng), rng=rng, gradgrad=True)


def test_integer_tensors_keep_dtype():
    x = np.arange(12).reshape(3, 4)
    n, t = nabla.tensor(x), torch.from_numpy(x)
    for call in (lambda lib, a: lib.cat([a, a], 1), lambda lib, a: lib.stack([a, a]),
                 lambda lib, a: a.permute(1, 0), lambda lib, a: _F(lib).pad(a, (1, 1), value=7),
                 lambda lib, a: lib.flip(a, (0,)), lambda lib, a: a.repeat(2, 1)):
        assert_close(call(nabla, n), call(torch, t))


@pytest.mark.parametrize("n,chunks", [(0, 3), (1, 3), (5, 5), (6, 4), (7, 2)])
def test_chunk_and_split_counts(n, chunks, rng):
    x = rng.standard_normal((n, 2))
    check(lambda lib, a: lib.chunk(a, chunks), x, rng=rng)
    check(lambda lib, a: lib.split(a, chunks), x, rng=rng)


def test_views_share_memory_and_version():
    x = nabla.randn(3, 4, 2, requires_grad=True)
    views = [x.permute(2, 0, 1), x.transpose(0, 1), x.unsqueeze(0), x[:1].squeeze(0),
             x[:, :1].expand(3, 5, 2), nabla.narrow(x, 1, 1, 2),
             *nabla.split(x, 2, 1), *nabla.unbind(x, 2)]
    for v in views:
        assert np.shares_memory(v._data, x._data)
        assert v._version is x._version
    copies = [nabla.cat([x, x]), x.repeat(1, 1, 1), nabla.pad(x, (1, 1)), nabla.tril(x),
              nabla.flip(x, (0,)), nabla.rot90(x, 1), nabla.rot90(x, 2), nabla.fliplr(x),
              nabla.flipud(x)]  # copies in PyTorch too
    for c in copies:
        assert not np.shares_memory(c._data, x._data)
    y = nabla.arange(3.0)
    flipped = y.flip(0)
    flipped.add_(1)  # writes into the copy only, as in PyTorch
    assert y.tolist() == [0.0, 1.0, 2.0] and flipped.stride() == (1,)


def test_no_graph_under_no_grad():
    x = nabla.randn(2, 3, requires_grad=True)
    with nabla.no_grad():
        outs = [nabla.cat([x, x]), x.permute(1, 0), nabla.pad(x, (1, 1)), *nabla.chunk(x, 2)]
    assert all(o.grad_fn is None and not o.requires_grad for o in outs)


def test_checks_can_fail(monkeypatch, rng):
    """A deliberately wrong rule (flip's gradient not flipped back) must fail both checks."""
    from nabla.ops.flip import Flip

    monkeypatch.setattr(Flip, "backward", staticmethod(lambda ctx, grad: (grad, None)))
    call = CASES[[c[0] for c in CASES].index("flip")][1]
    with pytest.raises(AssertionError):
        check(call, rng.standard_normal((2, 3, 4)), rng=rng)
    with pytest.raises(AssertionError):
        fd_check(call, rng.standard_normal((2, 3, 4)), rng=rng)


ERRORS = [
    (lambda x: nabla.cat([x, nabla.zeros(2, 5)]), RuntimeError,
     r"cat: sizes must match except in dim 0: expected size 4 but got size 5 in dim 1"),
    (lambda x: nabla.cat([x, nabla.zeros(4)], 0), RuntimeError, r"cat: .*same number of dim"),
    (lambda x: nabla.cat([]), RuntimeError, r"cat: expected a non-empty"),
    (lambda x: nabla.cat([x], 2), IndexError, r"cat: dim 2 is out of range .* dimension 2"),
    (lambda x: nabla.stack([x, x.T]), RuntimeError, r"stack: .*\(3, 4\) at entry 0 and \(4, 3\)"),
    (lambda x: x.permute(0, 0), RuntimeError, r"permute: dim \(0, 0\) repeats"),
    (lambda x: x.permute(0), RuntimeError, r"permute: dims \(0,\) must list all 2"),
    (lambda x: x.transpose(0, 2), IndexError, r"transpose: dim 2 is out of range"),
    (lambda x: x.squeeze(3), IndexError, r"squeeze: dim 3 is out of range"),
    (lambda x: x.unsqueeze(3), IndexError, r"unsqueeze: dim 3 is out of range"),
    (lambda x: x.expand(3, 5), RuntimeError, r"expand: the expanded size 5 must match .* 4"),
    (lambda x: x.expand(-1, 3, 4), RuntimeError, r"expand: size -1 is not allowed"),
    (lambda x: x.expand(4), RuntimeError, r"expand: the number of sizes"),
    (lambda x: x.repeat(2), RuntimeError, r"repeat: the number of repeats"),
    (lambda x: nabla.split(x, [1, 1]), RuntimeError, r"split: sections \[1, 1\] .* size 3"),
    (lambda x: nabla.split(x, 0), RuntimeError, r"split: split_size must be positive"),
    (lambda x: nabla.chunk(x, 0), RuntimeError, r"chunk: chunks must be positive"),
    (lambda x: nabla.narrow(x, 0, 2, 2), RuntimeError, r"narrow: start \(2\) \+ length \(2\)"),
    (lambda x: nabla.narrow(x, 1, 5, 1), IndexError, r"narrow: start 5 is out of range"),
    (lambda x: nabla.pad(x, (1,)), RuntimeError, r"pad: the padding \(1,\) must have an even"),
    (lambda x: nabla.pad(x, (-3, -2)), RuntimeError, r"pad: padding .* negative size"),
    (lambda x: nabla.pad(x, (4, 0), mode="reflect"), RuntimeError,
     r"pad: reflect padding \(4, 0\) of dim 1 must be smaller than its size 4"),
    (lambda x: nabla.pad(x, (1, 0), mode="wrap"), ValueError, r"pad: mode must be"),
    (lambda x: nabla.tril(x[0]), RuntimeError, r"tril: input must have at least 2 dim"),
    (lambda x: nabla.unflatten(x, 1, (3, -1)), RuntimeError, r"unflatten: sizes \(3, -1\)"),
    (lambda x: nabla.flatten(x, 1, 0), RuntimeError, r"flatten: start_dim 1 comes after"),
    (lambda x: nabla.movedim(x, (0, 1), 0), RuntimeError, r"movedim: source"),
    (lambda x: nabla.roll(x, (1, 2), 0), RuntimeError, r"roll: shifts \(1, 2\) and dims"),
    (lambda x: x.reshape(5, 2), ValueError, r"Reshape: .*\(3, 4\)"),
    (lambda x: x[0, 0].unbind(0), IndexError, r"unbind: a 0-d tensor has no dimension 0"),
    (lambda x: nabla.split(x.sum(), 1), IndexError, r"split: a 0-d tensor has no dimension"),
]


@pytest.mark.parametrize("call,error,match", ERRORS)
def test_error_messages(call, error, match):
    with pytest.raises(error, match=match):
        call(nabla.randn(3, 4, requires_grad=True))


def test_torch_rejects_the_same_inputs():
    """The error cases above are errors in PyTorch too (nabla is not stricter than the oracle)."""
    x = torch.randn(3, 4)
    for call in (lambda: torch.cat([x, torch.zeros(2, 5)]), lambda: x.permute(0, 0),
                 lambda: x.expand(3, 5), lambda: torch.split(x, [1, 1]),
                 lambda: torch.narrow(x, 0, 2, 2), lambda: torch.tril(x[0]),
                 lambda: torch.nn.functional.pad(x[None], (4, 0), mode="reflect"),
                 lambda: torch.nn.functional.pad(x, (-3, -2)), lambda: x.unsqueeze(3)):
        with pytest.raises((RuntimeError, IndexError, ValueError)):
            call()


def test_split_is_one_node_and_unused_pieces_get_zero_gradient(rng):
    x = nabla.randn(6, 2, requires_grad=True)
    pieces = nabla.split(x, 2)
    assert len({id(p.grad_fn) for p in pieces}) == 1
    check(lambda lib, a: lib.split(a, [1, 2, 3])[1], rng.standard_normal((6, 2)), rng=rng)
    check(lambda lib, a: lib.unbind(a, 1)[2], rng.standard_normal((2, 4)), rng=rng)
    assert nabla.unbind(nabla.zeros(2, 0), 1) == () == torch.unbind(torch.zeros(2, 0), 1)


def test_unchanged_shape_is_still_a_new_view():
    """As PyTorch: a no-op squeeze/reshape/expand of a tensor that requires grad is a new node,
    and under no_grad a tensor that does not require grad (not the input itself)."""
    x = nabla.randn(3, 4, requires_grad=True)
    for y in (x.squeeze(0), x.reshape(3, 4), x.expand(3, 4), x.flatten(1), nabla.flip(x, ())):
        assert y is not x and y.grad_fn is not None
    with nabla.no_grad():
        for y in (x.squeeze(), x.view(3, 4), x.broadcast_to((3, 4)), x.permute(0, 1)):
            assert y is not x and not y.requires_grad


MORE = [
    ("tile", lambda lib, x: (lib.tile(x, (2,)), lib.tile(x, (2, 1, 3))),
     lambda r: [transposed(r, 2, 3)]),
    ("ravel", lambda lib, x: lib.ravel(x), lambda r: [transposed(r, 2, 3)]),
    ("select", lambda lib, x: (lib.select(x, 1, -1), lib.select(x, 0, 1)),
     lambda r: [r.standard_normal((2, 3, 4))]),
    ("hstack", lambda lib, a, b: (lib.hstack([a, b]), lib.hstack([a[0], b[1]])),
     lambda r: [r.standard_normal((2, 3)), r.standard_normal((2, 1))]),
    ("vstack", lambda lib, a, b: lib.vstack([a, b]),
     lambda r: [r.standard_normal(3), r.standard_normal((2, 3))]),
    ("dstack", lambda lib, a, b, c: lib.dstack([a, b, c]),
     lambda r: [r.standard_normal(3), r.standard_normal((1, 3)), r.standard_normal((1, 3, 2))]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,call,make", MORE, ids=[c[0] for c in MORE])
def test_derived_against_torch(name, call, make, dtype, rng):
    check(call, *[a.astype(dtype) for a in make(rng)], rng=rng)


def test_select_errors():
    with pytest.raises(IndexError, match=r"select: index 3 is out of range for dim 1 with size 3"):
        nabla.select(nabla.zeros(2, 3), 1, 3)
