"""nabla.summary and gradient-flow diagnostics."""

import numpy as np
import pytest

import nabla
from nabla import nn, optim
from nabla.diagnostics import (
    check_gradients,
    gradient_norms,
    plot_time_step_norms,
    time_step_gradient_norms,
    track,
)
from nabla.train import GradientFlow, Trainer
from nabla.utils.data import DataLoader, TensorDataset


def test_summary_of_lenet_counts_params_macs_and_receptive_field():
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    s = nabla.summary(model, (1, 28, 28))
    assert s.total_params == 61706 == sum(p.numel() for p in model.parameters())
    conv1, conv2 = s.layers[0], s.layers[3]
    assert conv1.output_shape == (1, 6, 28, 28) and conv1.params == 6 * 1 * 5 * 5 + 6
    assert conv1.formula == "6*1*5*5 + 6"
    assert conv1.macs == 6 * 28 * 28 * 25
    assert conv2.macs == 16 * 10 * 10 * 6 * 25
    assert [r.receptive_field for r in s.layers[:6]] == [5, None, 6, 14, None, 16]
    assert s.layers[7].formula == "400*120 + 120"
    text = str(s)
    assert "total params: 61,706" in text and "Conv2d" in text and "[1, 16, 10, 10]" in text
    assert model.training  # the summary's eval() is undone


def _measured_receptive_field(model, input_shape):
    """The largest extent, per spatial dim, of the input pixels that one output unit's gradient
    reaches (positive weights, so nothing cancels)."""
    for p in model.parameters():
        p.data.fill_(0.1)
    x = nabla.ones(1, 1, *input_shape, requires_grad=True)
    out = model(x)
    extents = np.zeros(len(input_shape), dtype=int)
    for unit in np.ndindex(*out.shape):
        (g,) = nabla.autograd.grad(out[unit], x, retain_graph=True)
        hit = np.nonzero(g.numpy()[0, 0])
        extents = np.maximum(extents, [h.max() - h.min() + 1 for h in hit])
    return tuple(int(e) for e in extents)


@pytest.mark.parametrize("layers, input_shape", [
    ([nn.Conv2d(1, 1, (3, 5), padding=1), nn.AvgPool2d(2), nn.ReLU(),
      nn.Conv2d(1, 1, 3, stride=2, dilation=(1, 2)), nn.AvgPool2d((2, 3), stride=1)], (30, 34)),
    ([nn.ConvTranspose2d(1, 1, 4, stride=2), nn.ConvTranspose2d(1, 1, (3, 5), stride=(2, 3))],
     (4, 4)),
    ([nn.Conv2d(1, 1, 3, stride=2), nn.ConvTranspose2d(1, 1, 4, stride=2),
      nn.Upsample(scale_factor=2, mode="bilinear")], (12, 12)),
    ([nn.Conv1d(1, 1, 5, stride=3), nn.Upsample(scale_factor=2), nn.Conv1d(1, 1, 3),
      nn.AdaptiveAvgPool1d(3)], (20,)),
    ([nn.Conv3d(1, 1, (1, 3, 3), padding="same"), nn.AvgPool3d(2)], (4, 6, 6)),
])
def test_summary_receptive_field_per_dim_matches_the_gradient(layers, input_shape):
    model = nn.Sequential(*layers)
    rf = nabla.summary(model, (1, *input_shape)).layers[-1].receptive_field
    measured = _measured_receptive_field(model, input_shape)
    assert (rf if isinstance(rf, tuple) else (rf,) * len(input_shape)) == measured


def test_summary_separates_trainable_and_frozen_and_needs_an_input():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
    model[0].requires_grad_(False)
    s = nabla.summary(model, input_data=nabla.randn(3, 4))
    assert s.total_params == 40 + 16 + 18
    assert s.non_trainable_params == 40 and s.trainable_params == 34
    assert s.input_shape == (3, 4)
    with pytest.raises(ValueError, match="input_size"):
        nabla.summary(model)


def test_gradient_norms_match_numpy_and_warnings_name_remedies():
    model = nn.Linear(3, 2)
    model(nabla.randn(5, 3)).pow(2).sum().backward()
    norms = gradient_norms(model)
    assert norms["weight"] == pytest.approx(np.linalg.norm(model.weight.grad.numpy()))
    with pytest.warns(RuntimeWarning, match="exploding gradients.*clip"):
        check_gradients({"w": 1e6})
    with pytest.warns(RuntimeWarning, match="vanishing gradients.*LSTM"):
        check_gradients({"w": 1e-12})
    assert check_gradients({"w": 1.0}) == []


def test_gradient_flow_callback_records_every_step_and_plots(tmp_path):
    data = TensorDataset(nabla.randn(64, 4), nabla.randint(0, 2, (64,)))
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    flow = GradientFlow(warn=False)
    Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
            callbacks=[flow], progress=False, log=None).fit(DataLoader(data, 16), epochs=2)
    assert flow.steps == list(range(1, 9))
    assert set(flow.history) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert all(len(v) == 8 for v in flow.history.values())
    with open(flow.plot(tmp_path / "flow.png"), "rb") as f:
        assert f.read(4) == b"\x89PNG"


def test_time_step_norms_vanish_geometrically_in_a_small_rnn(tmp_path):
    nabla.manual_seed(0)
    w_rec = nabla.tensor(0.3 * np.eye(4), dtype=nabla.float64)
    x = nabla.randn(20, 4, dtype=nabla.float64)
    h = nabla.zeros(4, dtype=nabla.float64, requires_grad=True)
    hs = []
    for t in range(20):  # h_t = tanh(W_rec h_{t-1} + x_t): one factor of W_rec per step back
        h = track((w_rec @ h + x[t]).tanh())
        hs.append(h)
    hs[-1].sum().backward()
    norms = time_step_gradient_norms(hs)
    assert norms[-1] > norms[10] > norms[0] > 0
    assert norms[0] < 1e-6 * norms[-1]
    assert plot_time_step_norms(norms, tmp_path / "t.png").endswith("t.png")
