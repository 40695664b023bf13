"""nabla.func's differentiating transforms (grad, grad_and_value, vjp, jvp, linearize, jacrev,
jacfwd, hessian) against torch.func on random inputs: values, shapes and structures, argnums and
has_aux, nesting, and the errors (vmap and functional_call: test_func_vmap.py)."""

import numpy as np
import pytest
import torch
import torch.func as tfunc
from conftest import assert_close

import nabla
import nabla.func as nfunc

DTYPES = [np.float32, np.float64]


def _pair(rng, shape, dtype=np.float64):
    a = rng.standard_normal(shape).astype(dtype)
    return nabla.tensor(a), torch.tensor(a)


def _same(actual, expected, what="result"):
    """Nested tuples/lists/dicts of tensors: the same structure, shapes, dtypes and values."""
    if isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected), f"{what}: {type(actual)} != {type(expected)}"
        assert len(actual) == len(expected), f"{what}: length {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _same(a, e, f"{what}[{i}]")
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected), what
        for k in expected:
            _same(actual[k], expected[k], f"{what}[{k!r}]")
    else:
        assert_close(actual, expected, what=what)


# x (3,), w (2, 3) -> a scalar
def scalar_fn(x, w):
    return ((w @ x).tanh() ** 2).sum() + (x ** 3).sum() * w.sum()


def vector_fn(x, w):  # -> (2,)
    return ((w @ x).tanh() * x[:2]).exp()


def two_outputs(x, w):  # -> ((2, 3), ())
    return w * x.sin(), (x * x).sum()


# -- grad, grad_and_value ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0), -1])
def test_grad_matches_torch(rng, dtype, argnums):
    (nx, tx), (nw, tw) = _pair(rng, 3, dtype), _pair(rng, (2, 3), dtype)
    _same(nfunc.grad(scalar_fn, argnums)(nx, nw), tfunc.grad(scalar_fn, argnums)(tx, tw))


@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_and_value_and_has_aux(rng, dtype):
    (nx, tx), (nw, tw) = _pair(rng, 3, dtype), _pair(rng, (2, 3), dtype)

    def f(x, w):
        return scalar_fn(x, w), {"y": vector_fn(x, w), "n": x.sum()}

    ng, (nv, naux) = nfunc.grad_and_value(f, (0, 1), has_aux=True)(nx, nw)
    tg, (tv, taux) = tfunc.grad_and_value(f, (0, 1), has_aux=True)(tx, tw)
    _same(ng, tg)
    assert_close(nv, tv, what="value")
    _same(naux, taux, "aux")
    assert not naux["y"].requires_grad and not nv.requires_grad  # no history at the top level
    g, aux = nfunc.grad(f, has_aux=True)(nx, nw)
    _same(g, tg[0])
    ng, nv = nfunc.grad_and_value(scalar_fn)(nx, nw)
    assert_close(nv, tv)


def test_grad_passes_keyword_arguments_through(rng):
    (nx, tx), (nw, tw) = _pair(rng, 3), _pair(rng, (2, 3))
    _same(nfunc.grad(scalar_fn)(nx, w=nw), tfunc.grad(scalar_fn)(tx, w=tw))


def test_grad_of_a_dict_argument_gives_a_dict(rng):
    (nx, tx), (nw, tw), (nb, tb) = _pair(rng, 3), _pair(rng, (2, 3)), _pair(rng, 2)

    def f(params, x):
        return ((params["w"] @ x + params["b"]).sin() ** 2).sum()

    _same(nfunc.grad(f)({"w": nw, "b": nb}, nx), tfunc.grad(f)({"w": tw, "b": tb}, tx))


def test_grad_result_has_no_history_at_the_top_level(rng):
    nx, _ = _pair(rng, 3)
    g = nfunc.grad(lambda x: (x.sin() * x).sum())(nx)
    assert not g.requires_grad and g.grad_fn is None
    assert not nx.requires_grad


@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_of_grad_is_the_second_derivative(rng, dtype):
    nx, tx = _pair(rng, (), dtype)

    def f(x):
        return (x * 1.5).sin() * x.exp()

    assert_close(nfunc.grad(nfunc.grad(f))(nx), tfunc.grad(tfunc.grad(f))(tx))
    assert_close(nfunc.grad(nfunc.grad(nfunc.grad(f)))(nx),
                 tfunc.grad(tfunc.grad(tfunc.grad(f)))(tx))
    # a vector input: d/dx of sum(grad f), a Hessian-row sum
    (nv, tv), (nw, tw) = _pair(rng, 3, dtype), _pair(rng, (2, 3), dtype)
    ng = nfunc.grad(lambda x: nfunc.grad(scalar_fn)(x, nw).sum())(nv)
    tg = tfunc.grad(lambda x: tfunc.grad(scalar_fn)(x, tw).sum())(tv)
    assert_close(ng, tg)


def test_grad_keeps_the_graph_to_tensors_outside(rng):
    """A closed-over tensor that requires grad (a model's weight) stays differentiable through
    grad's result, as in PyTorch (a gradient penalty)."""
    (nx, tx), (nw, tw) = _pair(rng, 3), _pair(rng, (2, 3))
    nw.requires_grad_()
    tw.requires_grad_()
    ng = nfunc.grad(lambda x: scalar_fn(x, nw))(nx)
    tg = tfunc.grad(lambda x: scalar_fn(x, tw))(tx)
    assert ng.requires_grad
    (ng ** 2).sum().backward()
    (tg ** 2).sum().backward()
    assert_close(nw.grad, tw.grad, what="grad of the closed-over weight")
    # an input that requires grad: grad's result is differentiable with respect to it
    nx.requires_grad_()
    tx.requires_grad_()
    nfunc.grad(lambda x: (x.sin() * x).sum())(nx).sum().backward()
    tfunc.grad(lambda x: (x.sin() * x).sum())(tx).sum().backward()
    assert_close(nx.grad, tx.grad)


def test_grad_under_no_grad_still_differentiates(rng):
    nx, tx = _pair(rng, 3)
    with nabla.no_grad():
        ng = nfunc.grad(lambda x: (x.exp() * x).sum())(nx)
    assert_close(ng, tfunc.grad(lambda x: (x.exp() * x).sum())(tx))
    assert not ng.requires_grad


def test_grad_errors(rng):
    nx, _ = _pair(rng, 3)
    with pytest.raises(RuntimeError, match=r"scalar Tensor, got a tensor of shape \(3,\)"):
        nfunc.grad(lambda x: x * 2)(nx)
    with pytest.raises(RuntimeError, match="expected f.*to return a Tensor, got float"):
        nfunc.grad(lambda x: 1.0)(nx)
    with pytest.raises(RuntimeError, match=r"should be a tuple: \(output, aux\)"):
        nfunc.grad(lambda x: x.sum(), has_aux=True)(nx)
    with pytest.raises(RuntimeError, match="argnum=2, but only 1 positional inputs"):
        nfunc.grad(lambda x: x.sum(), argnums=2)(nx)
    with pytest.raises(RuntimeError, match="argnums elements must be unique"):
        nfunc.grad(lambda x: x.sum(), argnums=(0, 0))
    with pytest.raises(ValueError, match="must be Tensors, got float"):
        nfunc.grad(lambda x: x * 2)(3.0)
    with pytest.raises(RuntimeError, match="only floating-point"):
        nfunc.grad(lambda x: x.sum())(nabla.tensor([1, 2]))


def test_grad_of_an_unused_input_is_zeros(rng):
    (nx, tx), (nw, tw) = _pair(rng, 3), _pair(rng, 2)
    _same(nfunc.grad(lambda x, w: (x ** 2).sum(), (0, 1))(nx, nw),
          tfunc.grad(lambda x, w: (x ** 2).sum(), (0, 1))(tx, tw))
    _same(nfunc.grad(lambda x: nabla.tensor(2.0, dtype=nabla.float64))(nx),
          tfunc.grad(lambda x: torch.tensor(2.0, dtype=torch.float64))(tx))


# -- vjp, jvp ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_vjp_matches_torch(rng, dtype):
    (nx, tx), (nw, tw) = _pair(rng, 3, dtype), _pair(rng, (2, 3), dtype)
    nout, nfn = nfunc.vjp(two_outputs, nx, nw)
    tout, tfn = tfunc.vjp(two_outputs, tx, tw)
    _same(nout, tout, "output")
    for _ in range(2):  # vjp_fn may be called again, with other cotangents
        (nu, tu), (ns, ts) = _pair(rng, (2, 3), dtype), _pair(rng, (), dtype)
        _same(nfn((nu, ns)), tfn((tu, ts)), "vjp")
    nout, nfn, naux = nfunc.vjp(lambda x: (vector_fn(x, nw), x.sum()), nx, has_aux=True)
    tout, tfn, taux = tfunc.vjp(lambda x: (vector_fn(x, tw), x.sum()), tx, has_aux=True)
    nu, tu = _pair(rng, 2, dtype)
    _same((nout, nfn(nu), naux), (tout, tfn(tu), taux))


def test_vjp_errors(rng):
    nx, _ = _pair(rng, 3)
    _, fn = nfunc.vjp(lambda x: (x.sin(), x.cos()), nx)
    with pytest.raises(RuntimeError, match="structure of the outputs"):
        fn(nabla.ones(3, dtype=nabla.float64))
    with pytest.raises(RuntimeError, match=r"cotangent 1 has shape \(2,\) but the output has "
                                           r"shape \(3,\)"):
        fn((nabla.ones(3, dtype=nabla.float64), nabla.ones(2, dtype=nabla.float64)))
    with pytest.raises(RuntimeError, match="floating-point"):
        nfunc.vjp(lambda x: (x > 0), nx)


@pytest.mark.parametrize("dtype", DTYPES)
def test_jvp_matches_torch(rng, dtype):
    (nx, tx), (nw, tw) = _pair(rng, 3, dtype), _pair(rng, (2, 3), dtype)
    (nv, tv), (nu, tu) = _pair(rng, 3, dtype), _pair(rng, (2, 3), dtype)
    _same(nfunc.jvp(two_outputs, (nx, nw), (nv, nu)), tfunc.jvp(two_outputs, (tx, tw), (tv, tu)))
    _same(nfunc.jvp(vector_fn, (nx, nw), (nv, nu)), tfunc.jvp(vector_fn, (tx, tw), (tv, tu)))
    _same(nfunc.jvp(lambda x: x, (nx,), (nv,)), tfunc.jvp(lambda x: x, (tx,), (tv,)))
    n = nfunc.jvp(lambda x: (x.exp(), x.sum()), (nx,), (nv,), has_aux=True)
    t = tfunc.jvp(lambda x: (x.exp(), x.sum()), (tx,), (tv,), has_aux=True)
    _same(n, t)


def test_jvp_errors(rng):
    nx, _ = _pair(rng, 3)
    with pytest.raises(RuntimeError, match="expected primals to be a tuple"):
        nfunc.jvp(lambda x: x, nx, nx)
    with pytest.raises(RuntimeError, match="same structure"):
        nfunc.jvp(lambda x: x, (nx,), (nx, nx))
    with pytest.raises(RuntimeError, match=r"tangent 0 has shape \(2,\) but the primal has "
                                           r"shape \(3,\)"):
        nfunc.jvp(lambda x: x, (nx,), (nabla.ones(2, dtype=nabla.float64),))
    with pytest.raises(RuntimeError, match="independent of the inputs"):
        nfunc.jvp(lambda x: nabla.ones(2), (nx,), (nx,), strict=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linearize_matches_torch(rng, dtype):
    (nx, tx), (nw, tw) = _pair(rng, 3, dtype), _pair(rng, (2, 3), dtype)
    nout, nfn = nfunc.linearize(two_outputs, nx, nw)
    tout, tfn = tfunc.linearize(two_outputs, tx, tw)
    _same(nout, tout, "output")
    for _ in range(2):
        (nv, tv), (nu, tu) = _pair(rng, 3, dtype), _pair(rng, (2, 3), dtype)
        _same(nfn(nv, nu), tfn(tv, tu), "jvp_fn")
    with pytest.raises(RuntimeError, match="linearize: jvp_fn.*same structure"):
        nfn(nv)


# -- jacrev, jacfwd, hessian ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacobians_match_torch(rng, dtype, name, argnums):
    (nx, tx), (nw, tw) = _pair(rng, 3, dtype), _pair(rng, (2, 3), dtype)
    njac, tjac = getattr(nfunc, name), getattr(tfunc, name)
    for f in (vector_fn, two_outputs, scalar_fn):
        _same(njac(f, argnums)(nx, nw), tjac(f, argnums)(tx, tw), f"{name} of {f.__name__}")


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobian_shapes_and_aux(rng, name):
    njac, tjac = getattr(nfunc, name), getattr(tfunc, name)
    (ns, ts), (nm, tm) = _pair(rng, ()), _pair(rng, (2, 2))
    _same(njac(lambda s, m: m * s.sin())(ns, nm), tjac(lambda s, m: m * s.sin())(ts, tm))
    _same(njac(lambda s, m: (m * s).sum(), 1)(ns, nm), tjac(lambda s, m: (m * s).sum(), 1)(ts, tm))
    _same(njac(lambda m: {"a": m.exp(), "b": m[0]})(nm), tjac(lambda m: {"a": m.exp(),
                                                                          "b": m[0]})(tm))
    kw = {"has_aux": True}
    _same(njac(lambda m: (m.tanh(), m.sum()), **kw)(nm), tjac(lambda m: (m.tanh(), m.sum()),
                                                               **kw)(tm))


@pytest.mark.parametrize("dtype", DTYPES)
def test_hessian_matches_torch_and_jacrev_of_jacrev(rng, dtype):
    (nx, tx), (nw, tw) = _pair(rng, 3, dtype), _pair(rng, (2, 3), dtype)
    for argnums in (0, 1, (0, 1)):
        nh = nfunc.hessian(scalar_fn, argnums)(nx, nw)
        _same(nh, tfunc.hessian(scalar_fn, argnums)(tx, tw), f"hessian argnums={argnums}")
        twice = nfunc.jacrev(nfunc.jacrev(scalar_fn, argnums), argnums)(nx, nw)
        _same(twice, tfunc.hessian(scalar_fn, argnums)(tx, tw), "jacrev of jacrev")
    assert tuple(nfunc.hessian(scalar_fn, 1)(nx, nw).shape) == (2, 3, 2, 3)
    # the Jacobian of a vector function, twice: out.shape + in.shape + in.shape
    _same(nfunc.jacfwd(nfunc.jacrev(vector_fn))(nx, nw),
          tfunc.jacfwd(tfunc.jacrev(vector_fn))(tx, tw))


def test_transforms_nest_in_any_order(rng):
    """jvp of jvp, grad of a vjp, jacrev of grad, and a Hessian over a dict of parameters."""
    (nx, tx), (nv, tv) = _pair(rng, 3), _pair(rng, 3)

    def f(x):
        return x.sin() * x.exp()

    _same(nfunc.jvp(lambda x: nfunc.jvp(f, (x,), (nv,))[1], (nx,), (nv,)),
          tfunc.jvp(lambda x: tfunc.jvp(f, (x,), (tv,))[1], (tx,), (tv,)))

    def through_vjp(func, fvjp, v):
        return lambda x: (fvjp(func, x)[1](v)[0] ** 2).sum()

    _same(nfunc.grad(through_vjp(f, nfunc.vjp, nv))(nx),
          tfunc.grad(through_vjp(f, tfunc.vjp, tv))(tx))
    _same(nfunc.jacrev(nfunc.grad(lambda x: (f(x) ** 2).sum()))(nx),
          tfunc.jacrev(tfunc.grad(lambda x: (f(x) ** 2).sum()))(tx))
    (nw, tw), (nb, tb) = _pair(rng, (2, 3)), _pair(rng, 2)

    def loss(params, x):
        return ((params["w"] @ x + params["b"]).tanh() ** 2).sum()

    _same(nfunc.hessian(loss)({"w": nw, "b": nb}, nx),
          tfunc.hessian(loss)({"w": tw, "b": tb}, tx))
    # grad of a sum over per-sample gradients (grad inside vmap inside grad)
    (na, ta) = _pair(rng, (4, 3))

    def inner(lib, rows):
        w = nw if lib is nabla else tw
        return lib.func.vmap(lib.func.grad(scalar_fn), in_dims=(0, None))(rows, w)

    _same(nfunc.grad(lambda a: (inner(nabla, a) ** 2).sum())(na),
          tfunc.grad(lambda a: (inner(torch, a) ** 2).sum())(ta))
