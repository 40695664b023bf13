"""Attention vs PyTorch: F.scaled_dot_product_attention and nn.MultiheadAttention, forward and
backward with random upstream gradients, every mask kind, both layouts, float32 and float64."""

import numpy as np
import pytest
import torch
from conftest import GRADCHECK_TOL, assert_close, tolerance

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.autograd import gradcheck, gradgradcheck

DTYPES = [torch.float32, torch.float64]


def nab(t: torch.Tensor, requires_grad: bool = False) -> nabla.Tensor:
    return nabla.tensor(t.detach().numpy().copy(), requires_grad=requires_grad)


def copy_module(tmod: torch.nn.Module, nmod: nn.Module) -> None:
    result = nmod.load_state_dict({k: v.detach().numpy().copy()
                                   for k, v in tmod.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys


def compare_grads(tmod, nmod, dtype) -> None:
    tparams = dict(tmod.named_parameters())
    for name, p in nmod.named_parameters():
        assert p.grad is not None, name
        assert_close(p.grad, tparams[name].grad, what=f"grad of {name}")


def check_twin(model: nn.Module, twin: torch.nn.Module, x: torch.Tensor) -> None:
    """A nabla model and its PyTorch twin with the same state_dict keys: the nabla weights are
    copied into the twin, then outputs and every parameter's gradient (random upstream) agree."""
    assert list(model.state_dict()) == list(twin.state_dict())
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                          for k, v in model.state_dict().items()})
    out = twin(x)
    nout = model(nab(x))
    assert_close(nout, out)
    g = torch.randn_like(out)
    out.backward(g)
    nout.backward(nab(g))
    compare_grads(twin, model, torch.float32)


# -- scaled_dot_product_attention -------------------------------------------------------------
def _sdpa_case(kind: str, L: int, S: int, dtype):
    if kind == "none":
        return {}
    if kind == "bool":
        m = torch.rand(L, S) > 0.4
        m[:, 0] = True
        return {"attn_mask": m}
    if kind == "bool_dead_row":  # a query row that may attend to nothing: zeros in PyTorch
        m = torch.rand(2, 1, L, S) > 0.4
        m[..., 0] = True
        m[1, 0, 2] = False
        return {"attn_mask": m}
    if kind == "float":
        return {"attn_mask": torch.randn(L, S, dtype=dtype)}
    if kind == "float_dead_row":
        m = torch.randn(L, S, dtype=dtype)
        m[1] = float("-inf")
        return {"attn_mask": m}
    if kind == "causal":
        return {"is_causal": True}
    if kind == "scale":
        return {"scale": 0.3}
    raise ValueError(kind)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["none", "bool", "bool_dead_row", "float", "float_dead_row",
                                  "causal", "scale"])
@pytest.mark.parametrize("L,S", [(5, 7), (6, 4)])
def test_sdpa_matches_torch(dtype, kind, L, S):
    q = torch.randn(2, 3, L, 8, dtype=dtype, requires_grad=True)
    k = torch.randn(2, 3, S, 8, dtype=dtype, requires_grad=True)
    v = torch.randn(2, 3, S, 6, dtype=dtype, requires_grad=True)
    kw = _sdpa_case(kind, L, S, dtype)
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, **kw)
    g = torch.randn_like(out)
    out.backward(g)
    nq, nk, nv = nab(q, True), nab(k, True), nab(v, True)
    nkw = {a: nab(b) if isinstance(b, torch.Tensor) else b for a, b in kw.items()}
    nout = F.scaled_dot_product_attention(nq, nk, nv, **nkw)
    nout.backward(nab(g))
    assert_close(nout, out, what="output")
    for name, a, b in [("q", nq, q), ("k", nk, k), ("v", nv, v)]:
        assert_close(a.grad, b.grad, what=f"grad {name}")
    assert not np.isnan(nout.detach().numpy()).any()


def test_sdpa_three_dim_and_learnable_float_mask():
    q = torch.randn(4, 5, 8, dtype=torch.float64, requires_grad=True)
    k = torch.randn(4, 6, 8, dtype=torch.float64, requires_grad=True)
    v = torch.randn(4, 6, 3, dtype=torch.float64, requires_grad=True)
    m = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)
    g = torch.randn_like(out)
    out.backward(g)
    nq, nk, nv, nm = (nab(t, True) for t in (q, k, v, m))
    nout = F.scaled_dot_product_attention(nq, nk, nv, attn_mask=nm)
    nout.backward(nab(g))
    assert_close(nout, out)
    for a, b in [(nq, q), (nk, k), (nv, v), (nm, m)]:
        assert_close(a.grad, b.grad)


def test_sdpa_grouped_query_attention():
    q = torch.randn(2, 6, 5, 4, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 2, 7, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 2, 7, 4, dtype=torch.float64, requires_grad=True)
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    g = torch.randn_like(out)
    out.backward(g)
    nq, nk, nv = nab(q, True), nab(k, True), nab(v, True)
    nout = F.scaled_dot_product_attention(nq, nk, nv, enable_gqa=True)
    nout.backward(nab(g))
    assert_close(nout, out)
    assert_close(nk.grad, k.grad)
    assert_close(nv.grad, v.grad)


def test_sdpa_gradcheck_and_second_derivative(rng):
    q, k, v = (nabla.tensor(rng.standard_normal(s), requires_grad=True)
               for s in [(2, 3, 4), (2, 5, 4), (2, 5, 3)])
    mask = nabla.tensor(rng.random((3, 5)) > 0.3)
    mask[:, 0] = True

    def fn(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    assert gradcheck(fn, (q, k, v), **GRADCHECK_TOL)
    assert gradgradcheck(fn, (q, k, v), **GRADCHECK_TOL)


def test_sdpa_dropout_is_seeded_and_changes_output():
    q, k, v = (nabla.randn(2, 4, 8) for _ in range(3))
    plain = F.scaled_dot_product_attention(q, k, v)
    nabla.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    nabla.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert np.array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), plain.numpy())


def test_sdpa_errors():
    q = nabla.randn(2, 4, 8)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=nabla.ones(4, 4, dtype=nabla.bool),
                                       is_causal=True)
    with pytest.raises(ValueError, match="do not fit"):
        F.scaled_dot_product_attention(q, nabla.randn(2, 4, 5), q)


def test_sdpa_stable_for_large_scores():
    q = nabla.full((1, 2, 4), 1000.0)
    out = F.scaled_dot_product_attention(q, q, nabla.randn(1, 2, 4))
    assert np.isfinite(out.numpy()).all()


# -- MultiheadAttention ------------------------------------------------------------------------
def _mha_masks(kind: str, n: int, h: int, L: int, S: int, dtype):
    kw = {}
    if kind in ("kpm", "both"):
        m = torch.rand(n, S) > 0.7
        m[:, 0] = False
        kw["key_padding_mask"] = m
    if kind in ("bool2d", "both"):
        m = torch.rand(L, S) > 0.7
        m[:, 0] = False
        kw["attn_mask"] = m
    if kind == "float3d":
        kw["attn_mask"] = torch.randn(n * h, L, S, dtype=dtype)
    if kind == "float_kpm":
        kw["key_padding_mask"] = torch.randn(n, S, dtype=dtype)
    if kind == "causal":
        kw["attn_mask"] = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=dtype)
        kw["is_causal"] = True
    return kw


def _run_mha(tmod, nmod, inputs, kw, dtype, batch_first: bool):
    """Same call on both; compare output, weights and every gradient."""
    tin = [t.detach().requires_grad_() for t in inputs]
    if inputs[0] is inputs[1]:  # self-attention: one tensor, as a layer passes it
        tin = [tin[0]] * 3
    nin = [nab(t, True) for t in tin]
    if tin[0] is tin[1]:
        nin = [nin[0]] * 3
    out, w = tmod(*tin, **kw)
    nkw = {a: nab(b) if isinstance(b, torch.Tensor) else b for a, b in kw.items()}
    nout, nw = nmod(*nin, **nkw)
    assert_close(nout, out, what="output")
    if w is None:
        assert nw is None
    else:
        assert_close(nw, w, what="weights")
    g = torch.randn_like(out)
    gw = None if w is None else torch.randn_like(w)
    loss = (out * g).sum() + (0 if w is None else (w * gw).sum())
    loss.backward()
    nloss = (nout * nab(g)).sum()
    if nw is not None:
        nloss = nloss + (nw * nab(gw)).sum()
    nloss.backward()
    compare_grads(tmod, nmod, dtype)
    for a, b in zip(nin, tin):
        assert_close(a.grad, b.grad, what="input grad")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("kind", ["none", "kpm", "bool2d", "float3d", "both", "float_kpm",
                                  "causal"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_self_attention(dtype, batch_first, kind, need_weights):
    n, L, E, H = 3, 5, 8, 2
    tmod = torch.nn.MultiheadAttention(E, H, batch_first=batch_first, dtype=dtype)
    nmod = nn.MultiheadAttention(E, H, batch_first=batch_first, dtype=nabla.float32
                                 if dtype == torch.float32 else nabla.float64)
    copy_module(tmod, nmod)
    x = torch.randn((n, L, E) if batch_first else (L, n, E), dtype=dtype)
    kw = _mha_masks(kind, n, H, L, L, dtype)
    _run_mha(tmod, nmod, [x, x, x], dict(kw, need_weights=need_weights), dtype, batch_first)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("options", [
    {},
    {"kdim": 6, "vdim": 3},
    {"add_bias_kv": True},
    {"add_zero_attn": True},
    {"bias": False},
    {"add_bias_kv": True, "add_zero_attn": True, "kdim": 5, "vdim": 5},
])
def test_mha_cross_attention_options(batch_first, options):
    dtype = torch.float64
    n, L, S, E, H = 2, 4, 6, 8, 4
    tmod = torch.nn.MultiheadAttention(E, H, batch_first=batch_first, dtype=dtype, **options)
    nmod = nn.MultiheadAttention(E, H, batch_first=batch_first, dtype=nabla.float64, **options)
    assert list(nmod.state_dict()) == list(tmod.state_dict())
    copy_module(tmod, nmod)
    kdim, vdim = options.get("kdim", E), options.get("vdim", E)

    def shape(length, d):
        return (n, length, d) if batch_first else (length, n, d)

    q = torch.randn(shape(L, E), dtype=dtype)
    k = torch.randn(shape(S, kdim), dtype=dtype)
    v = torch.randn(shape(S, vdim), dtype=dtype)
    kw = _mha_masks("both", n, H, L, S, dtype)
    _run_mha(tmod, nmod, [q, k, v], dict(kw, average_attn_weights=False), dtype, batch_first)


def test_mha_key_is_value_and_unbatched():
    dtype = torch.float64
    tmod = torch.nn.MultiheadAttention(8, 2, dtype=dtype)
    nmod = nn.MultiheadAttention(8, 2, dtype=nabla.float64)
    copy_module(tmod, nmod)
    q, kv = torch.randn(3, 8, dtype=dtype), torch.randn(5, 8, dtype=dtype)
    tq, tkv = q.requires_grad_(), kv.requires_grad_()
    out, w = tmod(tq, tkv, tkv)
    nq, nkv = nab(q, True), nab(kv, True)
    nout, nw = nmod(nq, nkv, nkv)
    assert_close(nout, out)
    assert_close(nw, w)
    g = torch.randn_like(out)
    out.backward(g)
    nout.backward(nab(g))
    assert_close(nkv.grad, kv.grad)
    compare_grads(tmod, nmod, dtype)


def _dead_row_case(batch_first=True):
    tmod = torch.nn.MultiheadAttention(4, 2, batch_first=batch_first)
    nmod = nn.MultiheadAttention(4, 2, batch_first=batch_first)
    copy_module(tmod, nmod)
    x = torch.randn(2, 3, 4)
    kpm = torch.zeros(2, 3, dtype=torch.bool)
    kpm[1] = True  # every key of sample 1 is padding
    return tmod, nmod, x, kpm


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_fully_masked_rows_as_torch(need_weights):
    """Regular path: NaN with need_weights (plain softmax), zeros without (PyTorch's SDPA)."""
    tmod, nmod, x, kpm = _dead_row_case()
    out, _ = tmod(x, x, x, key_padding_mask=kpm, need_weights=need_weights)
    nx = nab(x, True)
    nout, _ = nmod(nx, nx, nx, key_padding_mask=nab(kpm), need_weights=need_weights)
    assert np.isnan(out[1].detach().numpy()).all() == need_weights
    assert_close(nout, out)
    assert not np.isnan(nout[0].detach().numpy()).any()


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_fully_masked_rows_inference_fast_path(need_weights):
    """Eval mode without gradients: PyTorch's fast path gives NaN rows either way."""
    tmod, nmod, x, kpm = _dead_row_case()
    tmod.eval()
    nmod.eval()
    with torch.no_grad():
        out, _ = tmod(x, x, x, key_padding_mask=kpm, need_weights=need_weights)
    with nabla.no_grad():
        nx = nab(x)
        nout, _ = nmod(nx, nx, nx, key_padding_mask=nab(kpm), need_weights=need_weights)
    assert np.isnan(out[1].numpy()).all()
    assert_close(nout, out)


def test_mha_dropout_only_in_training():
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = nabla.randn(2, 5, 8)
    a, _ = mha(x, x, x)
    b, _ = mha(x, x, x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    mha.eval()
    a, _ = mha(x, x, x)
    b, _ = mha(x, x, x)
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_mha_init_and_errors():
    mha = nn.MultiheadAttention(8, 2)
    assert tuple(mha.in_proj_weight.shape) == (24, 8)
    assert np.all(mha.in_proj_bias.detach().numpy() == 0)
    assert np.all(mha.out_proj.bias.detach().numpy() == 0)
    bound = (6 / (24 + 8)) ** 0.5
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= bound
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    x = nabla.randn(4, 2, 8)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        mha(x, x, x, attn_mask=nabla.zeros(3, 4))
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mha(x, x, x, is_causal=True)
    assert tolerance(np.float64)["rtol"] < 1e-6  # the float64 checks above are tight


def test_mha_second_derivative(rng):
    """Derived from ops with rules of their own, MHA is twice differentiable."""
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=nabla.float64)
    x = nabla.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    pad = nabla.tensor(np.array([[False, False, True], [False, False, False]]))

    def fn(x):
        return mha(x, x, x, key_padding_mask=pad, need_weights=False)[0]

    assert gradcheck(fn, (x,), **GRADCHECK_TOL)
    assert gradgradcheck(fn, (x,), **GRADCHECK_TOL)
