"""What the op table (op_db.py) does not cover for ops/blas_ops.py and ops/aliases.py: beta = 0
ignoring NaN and inf in ``input``, error messages, every alias equal to torch and to the op it
calls, the Tensor methods, and edge values (fmax/fmin at NaN and ties, sinc at 0, copysign at
-0.0 and 0, divide's rounding modes at 0, float_power's dtypes, dist's p = 0 and p < 0)."""

import math

import numpy as np
import pytest
import torch
from conftest import assert_close

import nabla

BLAS = ["addmm", "addbmm", "baddbmm", "addmv", "addr", "mv", "inner", "vdot", "dist"]
ALIASES = ["absolute", "arccos", "arcsin", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh",
           "divide", "multiply", "subtract", "negative", "true_divide", "greater", "greater_equal",
           "less", "less_equal", "not_equal", "positive", "sgn", "fix", "clamp_min", "clamp_max",
           "deg2rad", "rad2deg", "fmax", "fmin", "copysign", "heaviside", "signbit", "sinc",
           "float_power", "logaddexp2"]


def _pair(array, requires_grad=True):
    a = np.asarray(array)
    grad = requires_grad and a.dtype.kind == "f"
    return nabla.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _grads_match(nabla_leaves, torch_leaves):
    for n, t in zip(nabla_leaves, torch_leaves, strict=True):
        if t.grad is None:
            assert n.grad is None or not np.any(n.grad.detach().numpy())
        else:
            assert_close(n.grad, t.grad)


# -- beta * input + alpha * product ---------------------------------------------------------------
def _operands(rng, name):
    """(input with NaN and inf, operand 1, operand 2) of each add* op."""
    shapes = {"addmm": ((2, 4), (2, 3), (3, 4)), "addbmm": ((3, 4), (2, 3, 5), (2, 5, 4)),
              "baddbmm": ((2, 3, 4), (2, 3, 5), (2, 5, 4)), "addmv": ((3,), (3, 4), (4,)),
              "addr": ((3, 4), (3,), (4,))}[name]
    arrays = [rng.standard_normal(s) for s in shapes]
    flat = arrays[0].reshape(-1)
    flat[0], flat[-1] = np.nan, np.inf
    return arrays


@pytest.mark.parametrize("name", ["addmm", "addbmm", "baddbmm", "addmv", "addr"])
@pytest.mark.parametrize("alpha", [1, 0.5])
def test_beta_zero_ignores_nan_and_inf_in_input(name, alpha, rng):
    arrays = _operands(rng, name)
    (ni, ti), (na, ta), (nb, tb) = (_pair(a) for a in arrays)
    nout = getattr(nabla, name)(ni, na, nb, beta=0, alpha=alpha)
    tout = getattr(torch, name)(ti, ta, tb, beta=0, alpha=alpha)
    assert np.isfinite(nout.detach().numpy()).all()
    assert_close(nout, tout)
    v = rng.standard_normal(tuple(tout.shape))
    nout.backward(nabla.tensor(v))
    tout.backward(torch.tensor(v))
    assert ni.grad is not None and not np.any(ni.grad.numpy())  # a zero gradient, as PyTorch
    _grads_match([ni, na, nb], [ti, ta, tb])


@pytest.mark.parametrize("name", ["addmm", "addbmm", "baddbmm", "addmv", "addr"])
@pytest.mark.parametrize(("beta", "alpha"), [(1, 1), (2, 1), (1, -3), (0.25, 4.0), (0, 0)])
def test_beta_alpha_variants_match_torch(name, beta, alpha, rng):
    arrays = _operands(rng, name)
    arrays[0] = rng.standard_normal(arrays[0].shape)
    (ni, ti), (na, ta), (nb, tb) = (_pair(a) for a in arrays)
    nout = getattr(nabla, name)(ni, na, nb, beta=beta, alpha=alpha)
    tout = getattr(torch, name)(ti, ta, tb, beta=beta, alpha=alpha)
    assert_close(nout, tout)
    v = rng.standard_normal(tuple(tout.shape))
    nout.backward(nabla.tensor(v))
    tout.backward(torch.tensor(v))
    _grads_match([ni, na, nb], [ti, ta, tb])


def test_beta_zero_input_without_grad_is_not_read():
    inp = nabla.full((2, 2), float("nan"))
    out = nabla.addmm(inp, nabla.eye(2), nabla.ones(2, 2), beta=0)
    assert np.array_equal(out.detach().numpy(), np.ones((2, 2)))


@pytest.mark.parametrize(("call", "pattern"), [
    (lambda: nabla.addmm(nabla.zeros(2, 4), nabla.zeros(2, 3), nabla.zeros(5, 4)),
     r"addmm: mat1 and mat2 shapes cannot be multiplied \(\(2, 3\) and \(5, 4\)\): 3 != 5.*"
     "Transpose"),
    (lambda: nabla.addmm(nabla.zeros(3, 1), nabla.zeros(2, 3), nabla.zeros(3, 4)),
     r"addmm: input of shape \(3, 1\) cannot be broadcast to the product's shape \(2, 4\)"),
    (lambda: nabla.addmm(nabla.zeros(2, 4), nabla.zeros(2, 3, 1), nabla.zeros(3, 4)),
     r"addmm: expected mat1 to be a 2-D tensor, got shape \(2, 3, 1\).*matmul"),
    (lambda: nabla.baddbmm(nabla.zeros(1), nabla.zeros(2, 3, 4), nabla.zeros(3, 4, 5)),
     r"baddbmm: batch1 and batch2 must hold the same number of matrices.*\(2, 3, 4\)"),
    (lambda: nabla.addbmm(nabla.zeros(1), nabla.zeros(2, 3, 4), nabla.zeros(2, 3, 5)),
     r"addbmm: batch1 and batch2 shapes cannot be multiplied.*4 != 3"),
    (lambda: nabla.addmv(nabla.zeros(2), nabla.zeros(3, 4), nabla.zeros(4)),
     r"addmv: input of shape \(2,\)"),
    (lambda: nabla.addr(nabla.zeros(3, 4), nabla.zeros(3), nabla.zeros(4, 1)),
     r"addr: expected vec2 to be a 1-D tensor, got shape \(4, 1\)"),
    (lambda: nabla.mv(nabla.zeros(3, 4), nabla.zeros(3)),
     r"mv: mat and vec shapes cannot be multiplied \(\(3, 4\) and \(3,\)\): 4 != 3"),
    (lambda: nabla.inner(nabla.zeros(2, 3), nabla.zeros(4)),
     r"inner: the last dims of input \(2, 3\) and other \(4,\) must match"),
    (lambda: nabla.vdot(nabla.zeros(2, 3), nabla.zeros(6)),
     r"vdot: expected two 1-D tensors of the same size, got shapes \(2, 3\) and \(6,\).*flatten"),
    (lambda: nabla.dist(nabla.zeros(2, 3), nabla.zeros(4)),
     r"dist: shapes \(2, 3\) and \(4,\) are not broadcastable"),
    (lambda: nabla.dist(nabla.zeros(3, dtype=nabla.int64), nabla.zeros(3)),
     r"dist: expected floating point tensors.*float\(\)"),
    (lambda: nabla.divide(nabla.ones(2), nabla.ones(2), rounding_mode="round"),
     r"div: rounding_mode must be None, 'trunc' or 'floor', got 'round'"),
    (lambda: nabla.heaviside(nabla.ones(2), nabla.ones(2, dtype=nabla.float64)),
     r"heaviside: input and values must have the same dtype"),
    (lambda: nabla.logaddexp2(nabla.ones(2, 3), nabla.ones(4)),
     r"logaddexp2: shapes \(2, 3\) and \(4,\) are not broadcastable"),
    (lambda: nabla.positive(nabla.ones(2, dtype=nabla.bool)), r"positive: .*bool"),
])
def test_errors_name_the_op_the_shapes_and_the_fix(call, pattern):
    with pytest.raises((ValueError, RuntimeError)) as info:
        call()
    assert info.match(pattern)


def test_integer_division_by_zero_raises():
    with pytest.raises(ZeroDivisionError, match="div"):
        nabla.divide(nabla.tensor([1, 2]), nabla.tensor([1, 0]), rounding_mode="floor")


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize(
    "values", [([-7, 7, 5, -6], [2, 2, -2, 3]), ([-7.5, 7.0, 5.5], [2.0, -2.0, 0.5])])
def test_div_rounding_mode_like_torch(mode, values):
    """torch.div(a, b, rounding_mode=...) and a.div(b, rounding_mode=...) port unchanged."""
    a, b = values
    for call in (lambda lib, x, y: lib.div(x, y, rounding_mode=mode),
                 lambda lib, x, y: x.div(y, rounding_mode=mode)):
        out = call(nabla, nabla.tensor(a), nabla.tensor(b))
        ref = call(torch, torch.tensor(a), torch.tensor(b))
        assert str(out.dtype) == str(ref.dtype).replace("torch.", "")
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


# -- the products on their own --------------------------------------------------------------------
def test_dist_p0_and_negative_p_and_zero_distance():
    a = np.array([[1.0, 2.0, 3.0], [0.5, 2.0, -1.0]])
    b = np.array([1.0, 0.0, 3.0])
    (na, ta), (nb, tb) = _pair(a), _pair(b)
    assert_close(nabla.dist(na, nb, 0), torch.dist(ta, tb, 0))
    nd, td = nabla.dist(na, nb + 0.5, -1), torch.dist(ta, tb + 0.5, -1)
    assert_close(nd, td)
    nd.backward()
    td.backward()
    _grads_match([na, nb], [ta, tb])
    (nx, tx), (ny, ty) = _pair(np.ones(3)), _pair(np.ones(3))
    nabla.dist(nx, ny).backward()
    torch.dist(tx, ty).backward()
    _grads_match([nx, ny], [tx, ty])  # zero distance: gradient 0, not NaN


def test_inner_with_a_0d_operand_scales(rng):
    (na, ta), (nb, tb) = _pair(rng.standard_normal((2, 3))), _pair(np.array(1.5))
    assert_close(nabla.inner(nb, na), torch.inner(tb, ta))
    assert_close(nabla.inner(na, nb), torch.inner(ta, tb))


# -- every alias: the same as torch and as the op it calls ----------------------------------------
def _x(rng, low=-2.0, high=2.0, shape=(3, 4)):
    return rng.uniform(low, high, shape)


ALIAS_OF = [  # (alias, the op it calls, how to call both: (lib, name, x, y) -> result)
    ("absolute", "abs", "unary"), ("arccos", "acos", "unit"), ("arcsin", "asin", "unit"),
    ("arctan", "atan", "unary"), ("arcsinh", "asinh", "unary"), ("arccosh", "acosh", "gt1"),
    ("arctanh", "atanh", "unit"), ("negative", "neg", "unary"), ("sgn", "sign", "unary"),
    ("fix", "trunc", "unary"), ("arctan2", "atan2", "binary"), ("multiply", "mul", "binary"),
    ("divide", "div", "binary"), ("true_divide", "div", "binary"), ("subtract", "sub", "binary"),
    ("greater", "gt", "binary"), ("greater_equal", "ge", "binary"), ("less", "lt", "binary"),
    ("less_equal", "le", "binary"), ("not_equal", "ne", "binary"),
]


def _alias_inputs(rng, kind):
    if kind == "unit":
        return (_x(rng, -0.9, 0.9),)
    if kind == "gt1":
        return (_x(rng, 1.2, 3.0),)
    if kind == "binary":
        y = _x(rng, 0.5, 2.0) * rng.choice([-1, 1], (3, 4))
        return _x(rng), y
    return (_x(rng),)


@pytest.mark.parametrize(("alias", "original", "kind"), ALIAS_OF, ids=[a for a, _, _ in ALIAS_OF])
def test_alias_equals_torch_and_the_op_it_calls(alias, original, kind, rng):
    arrays = _alias_inputs(rng, kind)
    pairs = [_pair(a) for a in arrays]
    nargs, targs = [p[0] for p in pairs], [p[1] for p in pairs]
    got = getattr(nabla, alias)(*nargs)
    assert_close(got, getattr(torch, alias)(*targs))
    same = getattr(nabla, original)(*nargs)
    assert got.dtype == same.dtype
    assert np.array_equal(got.detach().numpy(), same.detach().numpy())


def test_subtract_alpha_and_clamp_bounds_match_torch(rng):
    (nx, tx), (ny, ty) = _pair(_x(rng)), _pair(_x(rng))
    assert_close(nabla.subtract(nx, ny, alpha=2.5), torch.subtract(tx, ty, alpha=2.5))
    assert_close(nabla.clamp_min(nx, 0.3), torch.clamp_min(tx, 0.3))
    assert_close(nabla.clamp_max(nx, ny), torch.clamp_max(tx, ty))
    assert np.array_equal(nabla.clamp_min(nx, 0.3).detach().numpy(),
                          nabla.clamp(nx, min=0.3).detach().numpy())


def test_positive_is_the_input_itself():
    x = nabla.ones(2, requires_grad=True)
    assert nabla.positive(x) is x and x.positive() is x


def test_divide_rounding_modes_match_torch(rng):
    a = np.array([-7.0, 7.0, 3.5, -0.5, 1.0, -1.0, 0.0, 5.0])
    b = np.array([2.0, -2.0, 0.0, 0.5, 0.1, 0.0, 0.0, -0.3])
    for mode in ("trunc", "floor"):
        (na, ta), (nb, tb) = _pair(a), _pair(b)
        nout = nabla.divide(na, nb, rounding_mode=mode)
        tout = torch.divide(ta, tb, rounding_mode=mode)
        assert_close(nout, tout)
        nout.sum().backward()
        tout.sum().backward()
        _grads_match([na, nb], [ta, tb])  # zeros, also where b = 0 (no NaN)
        ints = (np.array([-7, 7, -6, 5, 0]), np.array([2, -2, 4, 5, -3]))
        assert_close(nabla.divide(*map(nabla.tensor, ints), rounding_mode=mode),
                     torch.divide(*map(torch.tensor, ints), rounding_mode=mode))


# -- edge values of the ops with their own gradient rule -------------------------------------------
@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_nan_and_ties_match_torch(name, rng):
    nan = np.nan
    a = np.array([1.0, 2.0, nan, nan, 3.0, -1.0, 0.5])
    b = np.array([1.0, nan, 2.0, nan, 4.0, -1.0, -2.0])
    (na, ta), (nb, tb) = _pair(a), _pair(b)
    nout, tout = getattr(nabla, name)(na, nb), getattr(torch, name)(ta, tb)
    assert_close(nout, tout)
    v = rng.standard_normal(a.shape)
    nout.backward(nabla.tensor(v))
    tout.backward(torch.tensor(v))
    _grads_match([na, nb], [ta, tb])


def test_sinc_at_zero_is_exact():
    x = nabla.tensor([0.0, 1e-9, -1e-5, 3e-3, 0.05, 0.5, 1.3], dtype=nabla.float64,
                     requires_grad=True)
    t = torch.tensor(x.detach().numpy(), requires_grad=True)
    y = nabla.sinc(x)
    assert_close(y, torch.sinc(t))
    (g,) = nabla.autograd.grad(y.sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(torch.sinc(t).sum(), t)
    assert g.detach().numpy()[0] == 0.0
    # the exact derivative: its Taylor series sum_n (-1)^n 2n pi^2n x^(2n-1) / (2n+1)! near 0
    # (8 terms: exact to rounding for |x| < 0.1), (pi x cos(pi x) - sin(pi x)) / (pi x^2) beyond
    xs = [float(v) for v in x.detach().numpy()[1:]]
    exact = [sum((-1) ** n * 2 * n * math.pi ** (2 * n) * v ** (2 * n - 1)
                 / math.factorial(2 * n + 1) for n in range(1, 9)) if abs(v) < 0.1 else
             (math.pi * v * math.cos(math.pi * v) - math.sin(math.pi * v)) / (math.pi * v * v)
             for v in xs]
    np.testing.assert_allclose(g.detach().numpy()[1:], exact, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g.detach().numpy()[4:], tg.detach().numpy()[4:], rtol=1e-9)
    (gg,) = nabla.autograd.grad(g.sum(), x)
    # the second derivative at 0 is -pi^2 / 3 (PyTorch gives NaN there)
    assert gg.detach().numpy()[0] == pytest.approx(-math.pi**2 / 3, rel=1e-12)


def test_copysign_negative_zero_and_gradient_at_zero():
    a = np.array([1.0, -2.0, 0.0, 3.0, -0.0, 4.0])
    b = np.array([-0.0, 1.0, -1.0, 0.0, 2.0, -np.inf])
    (na, ta), (nb, tb) = _pair(a), _pair(b)
    nout, tout = nabla.copysign(na, nb), torch.copysign(ta, tb)
    assert_close(nout, tout)
    assert np.array_equal(np.signbit(nout.detach().numpy()), np.signbit(tout.detach().numpy()))
    nout.sum().backward()
    tout.sum().backward()
    _grads_match([na, nb], [ta, tb])


def test_heaviside_and_signbit_carry_no_gradient():
    x = nabla.tensor([-1.0, 0.0, 2.0, -0.0], requires_grad=True)
    h = nabla.heaviside(x, nabla.tensor(0.5))
    assert np.array_equal(h.detach().numpy(), [0.0, 0.5, 1.0, 0.5]) and not h.requires_grad
    s = nabla.signbit(x)
    assert s.dtype == nabla.bool and np.array_equal(s.detach().numpy(), [True, False, False, True])


def test_float_power_is_float64_and_grads_keep_their_dtype(rng):
    (nx, tx), (ne, te) = (_pair(_x(rng, 0.5, 2.0).astype(np.float32)),
                          _pair(_x(rng).astype(np.float32)))
    nout, tout = nabla.float_power(nx, ne), torch.float_power(tx, te)
    assert nout.dtype == nabla.float64
    assert_close(nout, tout)
    nout.sum().backward()
    tout.sum().backward()
    assert nx.grad.dtype == nabla.float32 and ne.grad.dtype == nabla.float32
    _grads_match([nx, ne], [tx, te])
    assert_close(nabla.float_power(2, ne), torch.float_power(2, te))


def test_deg2rad_of_integers_is_float_and_logaddexp2_has_no_overflow():
    assert_close(nabla.deg2rad(nabla.tensor([180, -90])), torch.deg2rad(torch.tensor([180, -90])))
    big = np.array([2000.0, -2000.0, -np.inf])
    (na, ta), (nb, tb) = _pair(big), _pair(np.array([1999.0, -2001.0, 0.0]))
    assert_close(nabla.logaddexp2(na, nb), torch.logaddexp2(ta, tb))


# -- the Tensor methods ---------------------------------------------------------------------------
def _method_args(rng, name):
    """Positional and keyword arguments of x.<name>(...), as (arrays, kwargs), x first."""
    x, y = _x(rng), _x(rng, 0.5, 2.0)
    two = {"addmm": [_x(rng, shape=(3, 5)), _x(rng, shape=(3, 2)), _x(rng, shape=(2, 5))],
           "addbmm": [_x(rng, shape=(3, 5)), _x(rng, shape=(2, 3, 4)), _x(rng, shape=(2, 4, 5))],
           "baddbmm": [_x(rng, shape=(2, 3, 5)), _x(rng, shape=(2, 3, 4)),
                       _x(rng, shape=(2, 4, 5))],
           "addmv": [_x(rng, shape=(3,)), _x(rng), _x(rng, shape=(4,))],
           "addr": [x, _x(rng, shape=(3,)), _x(rng, shape=(4,))],
           "mv": [x, _x(rng, shape=(4,))], "inner": [x, _x(rng, shape=(2, 4))],
           "vdot": [_x(rng, shape=(4,)), _x(rng, shape=(4,))], "dist": [x, y],
           "arccos": [x / 2.5], "arcsin": [x / 2.5], "arctanh": [x / 2.5], "arccosh": [y + 1.0],
           "heaviside": [np.where(x > 0, x, 0.0), y], "float_power": [y, x],
           "clamp_min": [x, 0.3], "clamp_max": [x, -0.3]}
    if name in two:
        return two[name], {}
    kwargs = {"addmm": {}, "divide": {"rounding_mode": "floor"},
              "subtract": {"alpha": 2.0}}.get(name, {})
    binary = name in ("arctan2", "divide", "multiply", "subtract", "true_divide", "greater",
                      "greater_equal", "less", "less_equal", "not_equal", "fmax", "fmin",
                      "copysign", "logaddexp2")
    return ([x, y] if binary else [x]), kwargs


@pytest.mark.parametrize("name", BLAS + ALIASES)
def test_tensor_method_matches_torch(name, rng):
    assert hasattr(torch.Tensor, name)
    arrays, kwargs = _method_args(rng, name)
    n = [nabla.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    t = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    assert_close(getattr(n[0], name)(*n[1:], **kwargs), getattr(t[0], name)(*t[1:], **kwargs))
    # the method is the function of the same name
    assert np.array_equal(getattr(n[0], name)(*n[1:], **kwargs).detach().numpy(),
                          getattr(nabla, name)(*n, **kwargs).detach().numpy())


def test_every_new_name_is_public():
    for name in BLAS + ALIASES:
        assert name in nabla.ops.__all__ and hasattr(nabla, name), name
