"""Public names that other tests reach only through a sibling (group_norm through GroupNorm,
TransformerDecoder through Transformer, ...), each compared with PyTorch directly; and a guard
that every public callable of nabla, nn, nn.functional, optim and nn.init is named in some test."""

import inspect
import pathlib
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from conftest import assert_close
from test_attention import compare_grads, copy_module, nab

import nabla
import nabla.nn as nn
import nabla.nn.functional as F


def _backward_both(out, nout, pairs):
    """Backpropagate the same random gradient through both; compare the inputs' gradients."""
    g = torch.randn_like(out)
    out.backward(g)
    nout.backward(nab(g))
    for n, t in pairs:
        assert_close(n.grad, t.grad, what="input grad")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_functional(dtype, affine):
    x = torch.randn(3, 6, 4, 5, dtype=dtype).transpose(2, 3).requires_grad_()  # non-contiguous
    w = torch.randn(6, dtype=dtype, requires_grad=True) if affine else None
    b = torch.randn(6, dtype=dtype, requires_grad=True) if affine else None
    nx = nab(x, True)
    nw, nb = (nab(w, True), nab(b, True)) if affine else (None, None)
    out = TF.group_norm(x, 3, w, b, eps=1e-3)
    nout = F.group_norm(nx, 3, nw, nb, eps=1e-3)
    assert_close(nout, out)
    _backward_both(out, nout, [(nx, x)] + ([(nw, w), (nb, b)] if affine else []))


@pytest.mark.parametrize("dims, name", [(1, "max_pool1d_with_indices"),
                                        (2, "max_pool2d_with_indices"),
                                        (3, "max_pool3d_with_indices")])
def test_max_pool_with_indices(dims, name):
    x = torch.randn((2, 3) + (7,) * dims, dtype=torch.float64, requires_grad=True)
    fn = getattr(F, name)
    out, idx = getattr(TF, name)(x, 3, 2, 1)
    nx = nab(x, True)
    nout, nidx = fn(nx, 3, 2, 1)
    assert_close(nout, out)
    assert np.array_equal(nidx.numpy(), idx.numpy())
    _backward_both(out, nout, [(nx, x)])


@pytest.mark.parametrize("output_size", [None, [9]])
def test_max_unpool1d(output_size):
    x = torch.randn(2, 3, 8, dtype=torch.float64, requires_grad=True)
    out, idx = TF.max_pool1d(x, 2, return_indices=True)
    nx = nab(x, True)
    nout, nidx = F.max_pool1d(nx, 2, return_indices=True)
    up = TF.max_unpool1d(out, idx, 2, output_size=output_size)
    nup = F.max_unpool1d(nout, nidx, 2, output_size=output_size)
    assert_close(nup, up)
    _backward_both(up, nup, [(nx, x)])


@pytest.mark.parametrize("kw", [{"scale_factor": 2},
                                {"size": (5, 7), "mode": "bilinear", "align_corners": False}])
def test_upsample_is_interpolate(kw):
    x = torch.randn(1, 2, 3, 4, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation notice
        out = TF.upsample(x, **kw)
    nx = nab(x, True)
    nout = F.upsample(nx, **kw)
    assert_close(nout, out)
    _backward_both(out, nout, [(nx, x)])


def test_dropout1d_drops_whole_channels():
    nabla.manual_seed(0)
    x = nabla.ones(4, 8, 50, requires_grad=True)
    y = F.dropout1d(x, 0.5, True)
    rows = y.detach().numpy().reshape(32, 50)
    assert all(np.unique(r).size == 1 for r in rows)  # one decision per (sample, channel)
    assert set(np.unique(rows)) == {0.0, 2.0}  # kept channels scaled by 1 / (1 - p)
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), y.detach().numpy())
    assert np.array_equal(F.dropout1d(x, 0.5, False).detach().numpy(), x.detach().numpy())
    layer = nn.Dropout1d(0.3)
    assert repr(layer) == repr(torch.nn.Dropout1d(0.3))
    assert np.array_equal(layer.eval()(x).detach().numpy(), x.detach().numpy())


def test_feature_alpha_dropout_values_match_torch():
    """Dropped channels take SELU's saturation value, then an affine map keeps mean and
    variance: the two values PyTorch produces on ones."""
    nabla.manual_seed(0)
    x = nabla.ones(4, 8, 50)
    values = np.unique(np.round(F.feature_alpha_dropout(x, 0.5, True).numpy(), 5))
    expected = np.unique(np.round(
        TF.feature_alpha_dropout(torch.ones(4, 8, 50), 0.5, True).numpy(), 5))
    assert np.array_equal(values, expected)
    layer = nn.FeatureAlphaDropout(0.5)
    assert repr(layer) == repr(torch.nn.FeatureAlphaDropout(0.5))
    assert np.array_equal(layer.eval()(x).numpy(), x.numpy())


def test_transformer_decoder_stack_with_norm():
    dtype = torch.float64
    layer = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, dtype=dtype)
    tmod = torch.nn.TransformerDecoder(layer, 2, norm=torch.nn.LayerNorm(8, dtype=dtype))
    nlayer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                        dtype=nabla.float64)
    nmod = nn.TransformerDecoder(nlayer, 2, norm=nn.LayerNorm(8, dtype=nabla.float64))
    assert list(nmod.state_dict()) == list(tmod.state_dict())
    copy_module(tmod, nmod)
    tgt = torch.randn(2, 5, 8, dtype=dtype, requires_grad=True)
    memory = torch.randn(2, 6, 8, dtype=dtype, requires_grad=True)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=dtype)
    pad = torch.zeros(2, 6, dtype=torch.bool)
    pad[1, -2:] = True
    out = tmod(tgt, memory, tgt_mask=mask, memory_key_padding_mask=pad)
    ntgt, nmemory = nab(tgt, True), nab(memory, True)
    nout = nmod(ntgt, nmemory, tgt_mask=nab(mask), memory_key_padding_mask=nab(pad))
    assert_close(nout, out)
    _backward_both(out, nout, [(ntgt, tgt), (nmemory, memory)])
    compare_grads(tmod, nmod, dtype)


def test_multi_head_attention_forward_functional():
    e, heads = 8, 2
    mha = torch.nn.MultiheadAttention(e, heads, dtype=torch.float64)
    q = torch.randn(5, 2, e, dtype=torch.float64, requires_grad=True)
    kv = torch.randn(6, 2, e, dtype=torch.float64, requires_grad=True)
    args = [mha.in_proj_weight, mha.in_proj_bias, None, None, False, 0.0, mha.out_proj.weight,
            mha.out_proj.bias]
    out, weights = TF.multi_head_attention_forward(q, kv, kv, e, heads, *args, training=False)
    nq, nkv = nab(q, True), nab(kv, True)
    nargs = [a if a is None or isinstance(a, (bool, float)) else nab(a) for a in args]
    nout, nweights = F.multi_head_attention_forward(nq, nkv, nkv, e, heads, *nargs,
                                                    training=False)
    assert_close(nout, out)
    assert_close(nweights, weights)
    _backward_both(out, nout, [(nq, q), (nkv, kv)])


def test_bernoulli_and_randint_like():
    nabla.manual_seed(0)
    p = nabla.full((20000,), 0.3, dtype=nabla.float64)
    draws = nabla.bernoulli(p)
    assert draws.dtype == nabla.float64 and set(np.unique(draws.numpy())) == {0.0, 1.0}
    assert abs(draws.numpy().mean() - 0.3) < 0.02
    assert nabla.bernoulli(nabla.zeros(5)).numpy().sum() == 0
    ints = nabla.randint_like(nabla.zeros(3, 4), 5)
    assert ints.shape == (3, 4) and ints.dtype == nabla.float32  # like torch: input's dtype
    assert ints.numpy().min() >= 0 and ints.numpy().max() < 5
    assert np.all(ints.numpy() == np.round(ints.numpy()))


def test_is_tensor_and_result_type():
    assert nabla.is_tensor(nabla.zeros(1)) and not nabla.is_tensor(np.zeros(1))
    cases = [((nabla.tensor([1, 2]), 1.0), (torch.tensor([1, 2]), 1.0)),
             ((nabla.tensor([1.0]), nabla.tensor([1.0], dtype=nabla.float64)),
              (torch.tensor([1.0]), torch.tensor([1.0], dtype=torch.float64))),
             ((nabla.tensor([True]), 2), (torch.tensor([True]), 2))]
    for ours, theirs in cases:
        assert str(nabla.result_type(*ours)).split(".")[-1] == \
            str(torch.result_type(*theirs)).split(".")[-1]


def test_inference_mode_records_nothing():
    x = nabla.ones(2, requires_grad=True)
    with nabla.inference_mode():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @nabla.inference_mode()
    def double(a):
        return a * 2

    assert not double(x).requires_grad
    assert (x * 2).requires_grad  # restored on exit


def test_sparse_init_zeros_a_fraction_of_each_column():
    t = nabla.empty(10, 6)
    nn.init.sparse_(t, 0.5, std=0.01)
    a = t.numpy()
    assert np.array_equal((a == 0).sum(0), np.full(6, 5))  # ceil(0.5 * 10) per column, as torch
    assert np.abs(a).max() < 0.1


def test_sinusoidal_position_table_formula():
    table = nn.sinusoidal_position_table(7, 6, dtype=nabla.float64).numpy()
    pos, i = np.arange(7)[:, None], np.arange(0, 6, 2)[None, :]
    angle = pos / 10000.0 ** (i / 6)
    assert np.allclose(table[:, 0::2], np.sin(angle)) and np.allclose(table[:, 1::2], np.cos(angle))


def test_recurrent_base_classes_are_shared():
    assert issubclass(nn.LSTM, nn.RNNBase) and issubclass(nn.GRU, nn.RNNBase)
    assert all(issubclass(c, nn.RNNCellBase) for c in (nn.RNNCell, nn.LSTMCell, nn.GRUCell))
    assert issubclass(torch.nn.LSTM, torch.nn.RNNBase)  # the same hierarchy as PyTorch's


def test_lr_scheduler_subclass_as_torch():
    """A user schedule: subclass LRScheduler and write get_lr, as in PyTorch."""
    def run(lib, make):
        class Halving(lib.optim.lr_scheduler.LRScheduler):
            def get_lr(self):
                return [base * 0.5 ** (self.last_epoch // 2) for base in self.base_lrs]

        opt = lib.optim.SGD([make()], lr=0.8)
        sched = Halving(opt)
        lrs = []
        for _ in range(5):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        return lrs

    ours = run(nabla, lambda: nabla.zeros(2, requires_grad=True))
    theirs = run(torch, lambda: torch.zeros(2, requires_grad=True))
    assert ours == theirs == [0.8, 0.4, 0.4, 0.2, 0.2]


def test_contiguous_copies_only_when_needed():
    t = torch.randn(3, 4, dtype=torch.float64)
    x = nab(t, True)
    assert x.is_contiguous() and x.contiguous() is x
    xt, tt = x.T, t.T
    assert xt.is_contiguous() == tt.is_contiguous() == False  # noqa: E712
    c = xt.contiguous()
    assert c.is_contiguous() and c.contiguous() is c
    assert_close(c, tt.contiguous())
    g = torch.randn(4, 3, dtype=torch.float64)
    (c * nab(g)).sum().backward()
    assert_close(x.grad, g.T)  # the copy passes the gradient back through the transpose
    with nabla.no_grad():
        d = x.detach().T.contiguous()
        d += 1.0
    assert not np.allclose(d.numpy(), x.detach().numpy().T)  # a copy: x is untouched


def test_reshape_as_new_empty_and_sum_to_size():
    t = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    x = nab(t, True)
    assert_close(x.reshape_as(nabla.zeros(6, 4)), t.reshape_as(torch.zeros(6, 4)))
    for size in [(3, 1), (1, 3, 4), (4,), ()]:
        out, nout = t.sum_to_size(*size) if size else t.sum_to_size(size), \
            x.sum_to_size(*size) if size else x.sum_to_size(size)
        assert_close(nout, out)
    out, nout = t.sum_to_size(3, 1), x.sum_to_size((3, 1))
    _backward_both(out, nout, [(x, t)])
    with pytest.raises(RuntimeError, match="sum_to_size"):
        x.sum_to_size(5, 1)
    empty = x.new_empty(2, 5)
    assert empty.shape == (2, 5) and empty.dtype == x.dtype and not empty.requires_grad
    assert x.new_empty((3,), dtype=nabla.int64).dtype == nabla.int64


def _public_callables(module) -> list:
    names = getattr(module, "__all__", None) or dir(module)
    return [n for n in names if not n.startswith("_") and callable(getattr(module, n))
            and not inspect.ismodule(getattr(module, n))]


@pytest.mark.parametrize("module", [nabla, F, nn, nabla.optim, nabla.optim.lr_scheduler,
                                    nn.init, nabla.linalg, nabla.special])
def test_every_public_callable_is_named_in_a_test(module):
    """A cheap guard: a public function or class that no test mentions is untested."""
    here = pathlib.Path(__file__).parent
    text = "\n".join(p.read_text() for p in here.glob("*.py"))
    missing = [n for n in _public_callables(module)
               if not re.search(r"\b" + re.escape(n) + r"\b", text)]
    assert not missing, f"{module.__name__}: no test names {missing}"
