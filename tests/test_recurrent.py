"""Recurrent cells and layers against PyTorch: copied weights, random upstream gradients, every
parameter's gradient; finite-difference checks of the fused step ops; a 1,000-step BPTT."""

import importlib.util
import json
import pathlib

import numpy as np
import pytest
import torch
from conftest import assert_close, to_torch

import nabla
import nabla.nn as nn
from nabla.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from nabla.nn.functional import recurrent as R
from nabla.nn.utils.rnn import pack_padded_sequence


def _twin(torch_module, nabla_module, dtype):
    torch_module = torch_module.to(getattr(torch, str(np.dtype(dtype))))
    if np.dtype(dtype) == np.float64:
        nabla_module.double()
    state = {k: nabla.tensor(v.detach().numpy().astype(dtype))
             for k, v in torch_module.state_dict().items()}
    result = nabla_module.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys
    return torch_module


def _loss(outputs, grads, lib):
    total = 0
    for out, g in zip(outputs, grads, strict=True):
        total = total + (out * (lib.tensor(g) if lib is nabla else torch.from_numpy(g))).sum()
    return total


def _flat(out):
    """output, h_n or output, (h_n, c_n) -> a flat list of tensors."""
    y, h = out
    y = y.data if hasattr(y, "batch_sizes") else y
    return [y, *h] if isinstance(h, tuple) else [y, h]


def _compare(nab, tor, inputs, dtype, rng, what):
    """Run both modules on ``inputs`` (arrays; None passes through); compare the outputs, the
    gradients of all parameters and of the inputs under random upstream gradients."""
    n_in = [None if a is None else nabla.tensor(a, requires_grad=True) for a in inputs]
    t_in = [None if a is None else to_torch(a, requires_grad=True) for a in inputs]
    n_out, t_out = _flat(nab(*_pack_args(n_in))), _flat(tor(*_pack_args(t_in)))
    grads = [rng.normal(size=o.shape).astype(dtype) for o in t_out]
    for k, (a, b) in enumerate(zip(n_out, t_out, strict=True)):
        assert_close(a, b, what=f"{what} output {k}")
    _loss(n_out, grads, nabla).backward()
    _loss(t_out, grads, torch).backward()
    t_params = dict(tor.named_parameters())
    for name, p in nab.named_parameters():
        assert_close(p.grad, t_params[name].grad, what=f"{what} grad {name}")
    for k, (a, b) in enumerate(zip(n_in, t_in, strict=True)):
        if a is not None:
            assert_close(a.grad, b.grad, what=f"{what} grad of input {k}")


def _pack_args(args):
    """(x, h) or (x, h, c) -> (x, h) or (x, (h, c)), dropping a None state."""
    if len(args) == 3:
        return (args[0], (args[1], args[2]))
    return tuple(a for a in args if a is not None) if args[1] is None else tuple(args)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_cells_match_torch(kind, dtype):
    rng = np.random.default_rng(0)
    n, i, h = 3, 4, 5
    if kind.startswith("rnn"):
        act = kind[4:]
        nab, tor = nn.RNNCell(i, h, nonlinearity=act), torch.nn.RNNCell(i, h, nonlinearity=act)
    else:
        nab = {"lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind](i, h)
        tor = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[kind](i, h)
    tor = _twin(tor, nab, dtype)
    x = rng.normal(size=(n, i)).astype(dtype)
    states = [rng.normal(size=(n, h)).astype(dtype) for _ in range(2 if kind == "lstm" else 1)]
    n_in = [nabla.tensor(a, requires_grad=True) for a in [x, *states]]
    t_in = [to_torch(a, requires_grad=True) for a in [x, *states]]
    hx_n = tuple(n_in[1:]) if kind == "lstm" else n_in[1]
    hx_t = tuple(t_in[1:]) if kind == "lstm" else t_in[1]
    n_out, t_out = nab(n_in[0], hx_n), tor(t_in[0], hx_t)
    n_out = list(n_out) if kind == "lstm" else [n_out]
    t_out = list(t_out) if kind == "lstm" else [t_out]
    grads = [rng.normal(size=o.shape).astype(dtype) for o in t_out]
    for a, b in zip(n_out, t_out, strict=True):
        assert_close(a, b, what=kind)
    _loss(n_out, grads, nabla).backward()
    _loss(t_out, grads, torch).backward()
    for (name, p), (_, q) in zip(nab.named_parameters(), tor.named_parameters(), strict=True):
        assert_close(p.grad, q.grad, what=f"{kind} {name}")
    for a, b in zip(n_in, t_in, strict=True):
        assert_close(a.grad, b.grad, what=f"{kind} input grad")


def test_cell_default_state_and_unbatched():
    cell, ref = nn.GRUCell(3, 4), torch.nn.GRUCell(3, 4)
    ref = _twin(ref, cell, np.float32)
    x = np.random.default_rng(1).normal(size=(3,)).astype(np.float32)
    assert_close(cell(nabla.tensor(x)), ref(torch.from_numpy(x)), what="unbatched GRUCell")
    lstm, lref = nn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4)
    lref = _twin(lref, lstm, np.float32)
    xb = np.random.default_rng(2).normal(size=(2, 3)).astype(np.float32)
    for a, b in zip(lstm(nabla.tensor(xb)), lref(torch.from_numpy(xb)), strict=True):
        assert_close(a, b, what="LSTMCell zero state")


LAYER_CASES = [
    # (kind, kwargs)
    ("RNN", dict(num_layers=2)),
    ("RNN", dict(nonlinearity="relu", bidirectional=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(batch_first=True, bias=False)),
    ("LSTM", dict(proj_size=3, num_layers=2)),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("GRU", dict()),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,kwargs", LAYER_CASES)
@pytest.mark.parametrize("with_state", [False, True])
def test_layers_match_torch(kind, kwargs, dtype, with_state):
    rng = np.random.default_rng(3)
    i, h, n, steps = 4, 5, 3, 6
    nab, tor = getattr(nn, kind)(i, h, **kwargs), getattr(torch.nn, kind)(i, h, **kwargs)
    tor = _twin(tor, nab, dtype)
    shape = (n, steps, i) if kwargs.get("batch_first") else (steps, n, i)
    x = rng.normal(size=shape).astype(dtype)
    d = 2 if kwargs.get("bidirectional") else 1
    layers = kwargs.get("num_layers", 1)
    h0 = rng.normal(size=(layers * d, n, kwargs.get("proj_size") or h)).astype(dtype)
    c0 = rng.normal(size=(layers * d, n, h)).astype(dtype)
    if not with_state:
        inputs = [x, None]
    else:
        inputs = [x, h0, c0] if kind == "LSTM" else [x, h0]
    _compare(nab, tor, inputs, dtype, rng, f"{kind}{kwargs}")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_match_torch(kind, enforce_sorted):
    rng = np.random.default_rng(4)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    nab = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True)
    tor = _twin(getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True), nab,
                np.float64)
    x = rng.normal(size=(5, 4, 3))
    xn, xt = nabla.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    pn = pack_padded_sequence(xn, lengths, enforce_sorted=enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, enforce_sorted=enforce_sorted)
    h0 = rng.normal(size=(4, 4, 4))
    hn_, ht_ = nabla.tensor(h0), torch.from_numpy(h0)
    state_n = (hn_, nabla.tensor(h0)) if kind == "LSTM" else hn_
    state_t = (ht_, torch.from_numpy(h0)) if kind == "LSTM" else ht_
    out_n, out_t = _flat(nab(pn, state_n)), _flat(tor(pt, state_t))
    grads = [rng.normal(size=o.shape) for o in out_t]
    for k, (a, b) in enumerate(zip(out_n, out_t, strict=True)):
        assert_close(a, b, what=f"packed {kind} output {k}")
    _loss(out_n, grads, nabla).backward()
    _loss(out_t, grads, torch).backward()
    assert_close(xn.grad, xt.grad, what="packed input grad")
    t_params = dict(tor.named_parameters())
    for name, p in nab.named_parameters():
        assert_close(p.grad, t_params[name].grad, what=f"packed {kind} grad {name}")


def test_unbatched_input_and_state_dict_keys():
    nab, tor = nn.LSTM(3, 4, num_layers=2, bidirectional=True), torch.nn.LSTM(3, 4, 2,
                                                                              bidirectional=True)
    assert list(nab.state_dict()) == list(tor.state_dict())
    tor = _twin(tor, nab, np.float32)
    x = np.random.default_rng(5).normal(size=(6, 3)).astype(np.float32)
    (yn, (hn, cn)), (yt, (ht, ct)) = nab(nabla.tensor(x)), tor(torch.from_numpy(x))
    for a, b in ((yn, yt), (hn, ht), (cn, ct)):
        assert_close(a, b, what="unbatched LSTM")


def test_hidden_state_carries_over():
    """Running a sequence in two halves, passing the state, equals running it at once."""
    gru = nn.GRU(3, 4, num_layers=2)
    x = nabla.randn(8, 2, 3)
    y_all, h_all = gru(x)
    y1, h1 = gru(x[:4])
    y2, h2 = gru(x[4:], h1)
    np.testing.assert_allclose(nabla.cat([y1, y2])._data, y_all._data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h2._data, h_all._data, rtol=1e-5, atol=1e-6)


def test_dropout_between_layers_only_in_training():
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = nabla.randn(5, 2, 3)
    lstm.eval()
    a, b = lstm(x)[0], lstm(x)[0]
    np.testing.assert_array_equal(a._data, b._data)
    lstm.train()
    c = lstm(x)[0]
    assert not np.allclose(a._data, c._data)


def test_bad_shapes_are_rejected():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input_size"):
        lstm(nabla.randn(5, 2, 7))
    with pytest.raises(RuntimeError, match="hidden size"):
        lstm(nabla.randn(5, 2, 3), (nabla.randn(2, 2, 4), nabla.randn(2, 2, 4)))


STEP_CASES = {
    "rnn_tanh": (lambda gi, h, w, b: R.rnn_step(gi, h, w, b, "tanh"), 1),
    "rnn_relu": (lambda gi, h, w, b: R.rnn_step(gi, h, w, b, "relu"), 1),
    "lstm": (lambda gi, h, c, w, b: R.lstm_step(gi, h, c, w, b), 4),
    "gru": (lambda gi, h, w, b: R.gru_step(gi, h, w, b), 3),
}


@pytest.mark.parametrize("kind", list(STEP_CASES))
def test_step_ops_gradcheck_float64(kind):
    fn, gates = STEP_CASES[kind]
    rng = np.random.default_rng(6)
    n, h = 2, 3

    def t(*shape):
        return nabla.tensor(rng.normal(size=shape), requires_grad=True)

    args = [t(n, gates * h), t(n, h)] + ([t(n, h)] if kind == "lstm" else [])
    args += [t(gates * h, h), t(gates * h)]
    if kind == "rnn_relu":  # keep the pre-activations away from the kink at 0
        args[0] = nabla.tensor(args[0]._data + 3.0, requires_grad=True)

    def f(*a):
        out = fn(*a)
        return nabla.cat(list(out), 1) if isinstance(out, tuple) else out

    assert gradcheck(f, args, eps=1e-6, atol=1e-6, rtol=1e-4)
    if kind != "rnn_relu":
        assert gradgradcheck(f, args, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_gradcheck_catches_a_wrong_rule(monkeypatch):
    """The check above can fail: a forget-gate gradient off by a factor fails it."""
    original = R.LstmStep.backward

    def wrong(ctx, grad_h, grad_c):
        grads = list(original(ctx, grad_h, grad_c))
        grads[2] = grads[2] * 1.1
        return tuple(grads)

    monkeypatch.setattr(R.LstmStep, "backward", staticmethod(wrong))
    rng = np.random.default_rng(7)
    args = [nabla.tensor(rng.normal(size=s), requires_grad=True)
            for s in [(2, 8), (2, 2), (2, 2), (8, 2), (8,)]]
    with pytest.raises(GradcheckError):
        assert gradcheck(lambda *a: R.lstm_step(*a)[1], args, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_bptt_through_1000_steps():
    """Full backpropagation through 1,000 steps: no recursion error, finite gradients that
    match PyTorch's."""
    nab, tor = nn.LSTM(2, 4), torch.nn.LSTM(2, 4)
    tor = _twin(tor, nab, np.float64)
    x = np.random.default_rng(8).normal(size=(1000, 1, 2))
    yn, _ = nab(nabla.tensor(x))
    yt, _ = tor(torch.from_numpy(x))
    yn[-1].sum().backward()
    yt[-1].sum().backward()
    for (name, p), (_, q) in zip(nab.named_parameters(), tor.named_parameters(), strict=True):
        assert np.isfinite(p.grad._data).all()
        assert_close(p.grad, q.grad, what=f"1000-step {name}")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_deferred_weight_grad_with_retain_graph_and_partial_losses(kind):
    """The LSTM layer collects dW_hh of all steps into one product, returned by the step that
    backward reaches last: a second backward over the same graph (retain_graph) with another
    loss must give PyTorch's gradients again, in both directions."""
    nab = getattr(nn, kind)(3, 4, bidirectional=True)
    tor = _twin(getattr(torch.nn, kind)(3, 4, bidirectional=True), nab, np.float64)
    x = np.random.default_rng(9).normal(size=(6, 2, 3))
    yn, _ = nab(nabla.tensor(x))
    yt, _ = tor(torch.from_numpy(x))
    yn.sum().backward(retain_graph=True)
    yt.sum().backward(retain_graph=True)
    nab.zero_grad()
    tor.zero_grad()
    (yn[2] * 3).sum().backward()
    (yt[2] * 3).sum().backward()
    t_params = dict(tor.named_parameters())
    for name, p in nab.named_parameters():
        assert_close(p.grad, t_params[name].grad, what=f"second pass {name}")


def _example(name: str):
    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rnn_memory_example_fast(tmp_path):
    results = _example("rnn_memory").main(fast=True, out=str(tmp_path))
    norms = results.pop("gradient_norms")
    assert set(results) == {5, 10} and all(0 <= a <= 1 for r in results.values()
                                           for a in r.values())
    assert results[5]["RNN"] > 0.5  # a short delay is learned even in the smoke run
    # BPTT: the vanilla RNN's gradient at step 1 vanishes far more than the gated cells'
    ratio = {cell: n[0] / n[-1] for cell, n in norms.items()}
    assert ratio["RNN"] < 1e-9 and ratio["LSTM"] > 1e-6 and ratio["GRU"] > 1e-6
    assert (tmp_path / "gradient_per_time_step.png").exists()
    assert (tmp_path / "accuracy_vs_delay.png").exists()


def test_sequence_taxonomy_example_fast():
    results = _example("sequence_taxonomy").main(fast=True)
    for row in results.values():
        assert all(np.isfinite(v).all() for v in row.values())


def test_gru_mnist1d_example_fast():
    pytest.importorskip("mnist1d")
    assert 0.0 <= _example("gru_mnist1d").main(fast=True) <= 1.0  # the bar: the full run


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_double_backward_through_layers(kind):
    """create_graph=True through a whole layer (a gradient penalty on the input) matches
    PyTorch: the step rules recompute their gates with recorded ops."""
    nab = getattr(nn, kind)(2, 3, num_layers=2)
    tor = _twin(getattr(torch.nn, kind)(2, 3, num_layers=2), nab, np.float64)
    x = np.random.default_rng(10).normal(size=(4, 2, 2))
    xn, xt = nabla.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    (gn,) = nabla.autograd.grad(nab(xn)[0].tanh().sum(), xn, create_graph=True)
    (gt,) = torch.autograd.grad(tor(xt)[0].tanh().sum(), xt, create_graph=True)
    assert_close(gn, gt, what="first derivative")
    (gn ** 2).sum().backward()
    (gt ** 2).sum().backward()
    t_params = dict(tor.named_parameters())
    for name, p in nab.named_parameters():
        assert_close(p.grad, t_params[name].grad, what=f"second derivative {name}")


@pytest.mark.parametrize("cell, shape", [("gru", (3, 7)), ("lstm", (3, 5, 4)),
                                         ("rnn", (3, 2, 6, 5))])
def test_sequence_classifier_matches_torch_on_signals_sequences_and_image_rows(cell, shape):
    """(N, L): one feature per step; (N, L, F) as is; (N, C, H, W): H rows of C*W features."""
    from nabla.models import SequenceClassifier

    features = {2: 1, 3: shape[-1], 4: shape[1] * shape[-1]}[len(shape)]
    model = SequenceClassifier(features, 4, cell, hidden_size=6, num_layers=2).double()
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        features, 6, 2, batch_first=True).double()
    head = torch.nn.Linear(6, 4).double()
    state = {k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()}
    rnn.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("rnn.")})
    head.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("head.")})
    x = np.random.default_rng(0).standard_normal(shape)
    xn, xt = nabla.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    steps = xt.unsqueeze(-1) if len(shape) == 2 else xt if len(shape) == 3 else \
        xt.permute(0, 2, 1, 3).reshape(shape[0], shape[2], features)
    _, h = rnn(steps)
    expected = head((h[0] if cell == "lstm" else h)[-1])
    got = model(xn)
    assert_close(got, expected)
    g = np.random.default_rng(1).standard_normal((shape[0], 4))
    got.backward(nabla.tensor(g))
    expected.backward(torch.tensor(g))
    assert_close(xn.grad, xt.grad)


def test_sequence_model_for_reads_the_sample_shape_and_refuses_what_it_cannot_read():
    from nabla.models import sequence_model_for

    assert sequence_model_for("gru", (40,), 10).rnn.input_size == 1  # MNIST-1D signals
    assert sequence_model_for("lstm", (50, 1), 1).rnn.input_size == 1  # sine windows
    model = sequence_model_for("rnn", (1, 8, 8), 10, hidden=(32, 32))  # digits, by rows
    assert (model.rnn.input_size, model.rnn.hidden_size, model.rnn.num_layers) == (8, 32, 2)
    with pytest.raises(ValueError, match="one width; got --hidden 64,32"):
        sequence_model_for("gru", (40,), 10, hidden=(64, 32))
    with pytest.raises(ValueError, match=r"gru: needs sequences .* shape \(1, 2, 3, 4\)"):
        sequence_model_for("gru", (1, 2, 3, 4), 10)


def test_cli_trains_a_gru_on_digit_rows_and_an_lstm_on_sine(tmp_path, capsys):
    from nabla.cli import main

    assert main(["train", "--model", "gru", "--dataset", "digits", "--epochs", "3", "--lr",
                 "0.01", "--no-progress", "--out", str(tmp_path / "gru")]) == 0
    metrics = (tmp_path / "gru" / "metrics.json").read_text()
    assert json.loads(metrics)["test"]["accuracy"] > 0.8  # 0.93 measured
    assert main(["train", "--model", "lstm", "--dataset", "sine", "--epochs", "1",
                 "--no-progress", "--out", str(tmp_path / "lstm")]) == 0
    assert "test: loss" in capsys.readouterr().out
