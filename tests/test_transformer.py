"""Transformer layers vs PyTorch with copied state_dicts: outputs and every gradient, masks,
both batch layouts, post-/pre-norm, activations, float32 and float64; positional encodings."""

import math

import numpy as np
import pytest
import torch
from conftest import assert_close
from test_attention import compare_grads, copy_module, nab

import nabla
import nabla.nn as nn

NP_DTYPE = {torch.float32: nabla.float32, torch.float64: nabla.float64}
ACTIVATIONS = {
    "relu": ("relu", "relu"),
    "gelu": ("gelu", "gelu"),
    "module": (torch.nn.GELU(), nn.GELU()),
    "callable": (torch.tanh, nabla.tanh),
}


def _layout(batch_first: bool, n: int, length: int, e: int) -> tuple:
    return (n, length, e) if batch_first else (length, n, e)


def _backward_both(out, nout, inputs, ninputs):
    g = torch.randn_like(out)
    out.backward(g)
    nout.backward(nab(g))
    for a, b in zip(ninputs, inputs):
        assert_close(a.grad, b.grad, what="input grad")


def _masks(kind: str, n: int, length: int, dtype) -> dict:
    if kind == "none":
        return {}
    pad = torch.zeros(n, length, dtype=torch.bool)
    pad[0, -2:] = True
    if kind == "causal_float":
        return {"mask": torch.nn.Transformer.generate_square_subsequent_mask(length,
                                                                             dtype=dtype)}
    if kind == "bool_and_padding":
        m = torch.rand(length, length) > 0.7
        m.fill_diagonal_(False)
        return {"mask": m, "padding": pad}
    if kind == "padding":
        return {"padding": pad}
    raise ValueError(kind)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("mask", ["none", "causal_float", "bool_and_padding"])
def test_encoder_layer(dtype, batch_first, norm_first, mask):
    n, length, e = 2, 5, 8
    kw = {"dim_feedforward": 16, "dropout": 0.0, "batch_first": batch_first,
          "norm_first": norm_first}
    tmod = torch.nn.TransformerEncoderLayer(e, 2, dtype=dtype, **kw)
    nmod = nn.TransformerEncoderLayer(e, 2, dtype=NP_DTYPE[dtype], **kw)
    copy_module(tmod, nmod)
    x = torch.randn(_layout(batch_first, n, length, e), dtype=dtype, requires_grad=True)
    m = _masks(mask, n, length, dtype)
    out = tmod(x, src_mask=m.get("mask"), src_key_padding_mask=m.get("padding"))
    nx = nab(x, True)
    nout = nmod(nx, src_mask=None if "mask" not in m else nab(m["mask"]),
                src_key_padding_mask=None if "padding" not in m else nab(m["padding"]))
    assert_close(nout, out, what="output")
    _backward_both(out, nout, [x], [nx])
    compare_grads(tmod, nmod, dtype)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_encoder_layer_activations_and_no_bias(activation):
    tact, nact = ACTIVATIONS[activation]
    kw = {"dim_feedforward": 12, "dropout": 0.0, "batch_first": True,
          "bias": activation != "relu"}
    tmod = torch.nn.TransformerEncoderLayer(8, 4, activation=tact, dtype=torch.float64, **kw)
    nmod = nn.TransformerEncoderLayer(8, 4, activation=nact, dtype=nabla.float64, **kw)
    assert list(nmod.state_dict()) == list(tmod.state_dict())
    copy_module(tmod, nmod)
    x = torch.randn(3, 4, 8, dtype=torch.float64, requires_grad=True)
    nx = nab(x, True)
    out, nout = tmod(x), nmod(nx)
    assert_close(nout, out)
    _backward_both(out, nout, [x], [nx])
    compare_grads(tmod, nmod, torch.float64)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer(dtype, batch_first, norm_first):
    n, t, s, e = 2, 4, 6, 8
    kw = {"dim_feedforward": 16, "dropout": 0.0, "batch_first": batch_first,
          "norm_first": norm_first}
    tmod = torch.nn.TransformerDecoderLayer(e, 2, dtype=dtype, **kw)
    nmod = nn.TransformerDecoderLayer(e, 2, dtype=NP_DTYPE[dtype], **kw)
    copy_module(tmod, nmod)
    tgt = torch.randn(_layout(batch_first, n, t, e), dtype=dtype, requires_grad=True)
    mem = torch.randn(_layout(batch_first, n, s, e), dtype=dtype, requires_grad=True)
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(t, dtype=dtype)
    mem_pad = torch.zeros(n, s, dtype=torch.bool)
    mem_pad[1, -3:] = True
    tgt_pad = torch.zeros(n, t, dtype=torch.bool)
    tgt_pad[0, -1] = True
    out = tmod(tgt, mem, tgt_mask=tgt_mask, tgt_key_padding_mask=tgt_pad,
               memory_key_padding_mask=mem_pad, tgt_is_causal=True)
    ntgt, nmem = nab(tgt, True), nab(mem, True)
    nout = nmod(ntgt, nmem, tgt_mask=nab(tgt_mask), tgt_key_padding_mask=nab(tgt_pad),
                memory_key_padding_mask=nab(mem_pad), tgt_is_causal=True)
    assert_close(nout, out, what="output")
    _backward_both(out, nout, [tgt, mem], [ntgt, nmem])
    compare_grads(tmod, nmod, dtype)


@pytest.mark.parametrize("batch_first,extra", [
    (True, {}),
    (False, {}),
    (True, {"norm_first": True, "activation": "gelu", "bias": False}),
])
def test_full_transformer(batch_first, extra):
    dtype = torch.float64
    kw = {"d_model": 8, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 2,
          "dim_feedforward": 16, "dropout": 0.0, "batch_first": batch_first, **extra}
    tmod = torch.nn.Transformer(dtype=dtype, **kw)
    nmod = nn.Transformer(dtype=nabla.float64, **kw)
    assert list(nmod.state_dict()) == list(tmod.state_dict())
    copy_module(tmod, nmod)
    src = torch.randn(_layout(batch_first, 2, 6, 8), dtype=dtype, requires_grad=True)
    tgt = torch.randn(_layout(batch_first, 2, 5, 8), dtype=dtype, requires_grad=True)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=dtype)
    nmask = nn.Transformer.generate_square_subsequent_mask(5, dtype=nabla.float64)
    assert_close(nmask, tmask)
    pad = torch.zeros(2, 6, dtype=torch.bool)
    pad[1, -2:] = True
    out = tmod(src, tgt, tgt_mask=tmask, src_key_padding_mask=pad, memory_key_padding_mask=pad)
    nsrc, ntgt = nab(src, True), nab(tgt, True)
    nout = nmod(nsrc, ntgt, tgt_mask=nmask, src_key_padding_mask=nab(pad),
                memory_key_padding_mask=nab(pad))
    assert_close(nout, out)
    _backward_both(out, nout, [src, tgt], [nsrc, ntgt])
    compare_grads(tmod, nmod, dtype)


def test_transformer_init_is_xavier():
    model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
                           dim_feedforward=32)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = math.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    a, b = model.encoder.layers
    assert a.linear1.weight is not b.linear1.weight  # deep copies, not shared


@pytest.mark.parametrize("padding", [False, True])
def test_encoder_stack_inference_matches_torch(padding):
    """Eval mode without gradients: PyTorch runs a nested tensor and zeroes padded positions."""
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)
    tmod = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(8),
                                       enable_nested_tensor=True).eval()
    nmod = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2,
                                 norm=nn.LayerNorm(8)).eval()
    copy_module(tmod, nmod)
    x = torch.randn(3, 5, 8)
    pad = torch.zeros(3, 5, dtype=torch.bool)
    pad[0, -2:] = True
    kw = {"src_key_padding_mask": pad} if padding else {}
    with torch.no_grad():
        out = tmod(x, **kw)
    with nabla.no_grad():
        nout = nmod(nab(x), **{k: nab(v) for k, v in kw.items()})
    assert_close(nout, out)


def test_sinusoidal_encoding_formula_and_layouts():
    d, length = 6, 7
    pe = nn.SinusoidalPositionalEncoding(d, dropout=0.0, max_len=20)
    pos = np.arange(20)[:, None]
    i = np.arange(0, d, 2)[None, :]
    np.testing.assert_allclose(pe.pe.numpy()[:, 0::2], np.sin(pos / 10000 ** (i / d)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pe.pe.numpy()[:, 1::2], np.cos(pos / 10000 ** (i / d)),
                               rtol=1e-5, atol=1e-6)
    x = nabla.zeros(length, 2, d)
    np.testing.assert_allclose(pe(x).numpy()[:, 1], pe.pe.numpy()[:length])
    pe_bf = nn.SinusoidalPositionalEncoding(d, dropout=0.0, max_len=20, batch_first=True)
    np.testing.assert_allclose(pe_bf(nabla.zeros(2, length, d)).numpy()[1],
                               pe.pe.numpy()[:length])
    assert list(pe.state_dict()) == []
    with pytest.raises(ValueError, match="max_len"):
        pe(nabla.zeros(21, 1, d))
    odd = nn.SinusoidalPositionalEncoding(5, dropout=0.0, max_len=4)
    assert tuple(odd.pe.shape) == (4, 5)


def test_learned_positional_embedding_gradient():
    pos = nn.LearnedPositionalEmbedding(10, 4)
    x = nabla.randn(3, 6, 4, requires_grad=True)
    y = pos(x)
    g = nabla.randn(3, 6, 4)
    y.backward(g)
    want = np.zeros((10, 4), dtype=np.float32)
    want[:6] = g.numpy().sum(0)
    np.testing.assert_allclose(pos.weight.grad.numpy(), want, rtol=1e-5, atol=1e-6)
    assert list(pos.state_dict()) == ["weight"]


@pytest.mark.parametrize("inference", [False, True])
def test_encoder_layer_fully_masked_row_as_torch(inference):
    """A query row that may attend to nothing: zeros from attention on the regular path, NaN
    on PyTorch's inference fast path (eval mode, no gradient); nabla returns the same."""
    tmod = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True)
    nmod = nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True)
    copy_module(tmod, nmod)
    x = torch.randn(2, 4, 8)
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[1] = True
    if inference:
        tmod.eval()
        nmod.eval()
    with torch.set_grad_enabled(not inference):
        out = tmod(x, src_mask=mask)
    with nabla.set_grad_enabled(not inference):
        nout = nmod(nab(x), src_mask=nab(mask))
    assert np.isnan(out.detach().numpy()).any() == inference
    assert_close(nout, out)


def test_unbatched_encoder_and_decoder_layers():
    dtype = torch.float64
    enc = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, dtype=dtype)
    dec = torch.nn.TransformerDecoderLayer(8, 2, 16, 0.0, dtype=dtype)
    nenc = nn.TransformerEncoderLayer(8, 2, 16, 0.0, dtype=nabla.float64)
    ndec = nn.TransformerDecoderLayer(8, 2, 16, 0.0, dtype=nabla.float64)
    copy_module(enc, nenc)
    copy_module(dec, ndec)
    src = torch.randn(5, 8, dtype=dtype, requires_grad=True)
    tgt = torch.randn(3, 8, dtype=dtype, requires_grad=True)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=dtype)
    out = dec(tgt, enc(src), tgt_mask=mask)
    nsrc, ntgt = nab(src, True), nab(tgt, True)
    nout = ndec(ntgt, nenc(nsrc), tgt_mask=nab(mask))
    assert_close(nout, out)
    _backward_both(out, nout, [src, tgt], [nsrc, ntgt])
    compare_grads(enc, nenc, dtype)
    compare_grads(dec, ndec, dtype)
