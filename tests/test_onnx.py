"""nabla.onnx.export: the exported file, run by onnxruntime, computes what the nabla model does
(also at another batch size where the batch dim is dynamic), with clear errors otherwise."""

import numpy as np
import pytest

import nabla
from nabla import models, nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
DYNAMIC = {"x": {0: "batch"}, "y": {0: "batch"}}


def _run(path, feeds: dict) -> list:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)


def _agrees(model, x, tmp_path, dynamic=True, other_batch=None, tol=1e-5, **options):
    """Export ``model`` on ``x``; compare onnxruntime with nabla on x (and on a batch of
    ``other_batch`` samples when the batch dim is dynamic)."""
    path = tmp_path / "model.onnx"
    if isinstance(model, nn.Module):
        model.eval()  # what export runs: dropout off, batch norm on its running statistics
    nabla.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"],
                      dynamic_axes=DYNAMIC if dynamic else None, **options)
    xs = [x]
    if other_batch:
        xs.append(nabla.tensor(np.resize(x.numpy(), (other_batch,) + tuple(x.shape[1:]))))
    for xi in xs:
        with nabla.no_grad():
            expected = model(xi).numpy()
        (got,) = _run(path, {"x": xi.numpy()})
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


class _Indexing(nn.Module):
    def forward(self, x):
        a = x[:, 1:, ..., ::-1, None, 2] * 2.0  # slices, ellipsis, negative step, None, int
        b = nabla.stack(x[:, 0:1, -1:0:-2, 1].split([1, 1], 2), 0)  # split, stack
        c = x[:, 0, 0, 0].reshape(1, -1, 1, 1)  # the batch dim moves
        parts = x.unbind(1)
        d = nabla.cat([parts[0], parts[3]], 1).permute(0, 2, 1).amax(1).sum(-1)
        return a.sum((1, 2, 3)) + (b + c).mean((0, 2, 3)).clamp(-0.5, 0.5) + d


class _Arithmetic(nn.Module):
    def forward(self, x):
        lo = x.mean(1, keepdim=True)
        y = (3 - x) / (x.abs() + 1) ** 2 - (-x).exp().log1p() + x.sin() * x.cos()
        y = nabla.maximum(y, lo).clamp(min=lo - 1) + x.sign() + (x * x + 1).rsqrt().sqrt()
        y = y + (x.expm1() - 1).clamp(max=2.0) + nabla.minimum(x, lo).log_softmax(-1)
        ints = nabla.arange(x.shape[1])  # an int64 constant, promoted to float
        return nabla.nn.functional.pad(y + ints, (1, 2), value=0.5).to(nabla.float64)


class _VaeDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.vae = models.ConvVAE(latent_dim=3, width=4)

    def forward(self, z):
        return self.vae.decode(z)


ACTIVATIONS = nn.Sequential(
    nn.Linear(5, 6), nn.GELU(), nn.Linear(6, 6), nn.GELU("tanh"), nn.SiLU(), nn.ELU(0.7),
    nn.LeakyReLU(0.1), nn.Softplus(2.0, 1.0), nn.Tanh(), nn.Sigmoid(), nn.Hardtanh(-0.2, 0.6),
    nn.LayerNorm(6), nn.Dropout(0.5), nn.Softmax(-1))


@pytest.mark.parametrize("name, make, shape", [
    ("mlp", lambda: ACTIVATIONS, (3, 5)),
    ("lenet5", models.LeNet5, (2, 1, 28, 28)),
    ("resnet20", models.resnet20, (2, 3, 16, 16)),
    ("cnn1d_bn", models.cnn1d_bn, (2, 1, 40)),
    ("densenet", lambda: models.DenseNet(growth_rate=4, block_config=(2, 2),
                                         num_init_features=8, num_classes=5), (2, 3, 16, 16)),
    ("pooling", lambda: nn.Sequential(
        nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
        nn.MaxPool2d(2, 2, ceil_mode=True), nn.AdaptiveAvgPool2d((3, 2)), nn.Flatten()),
     (2, 3, 17, 15)),
    ("norms", lambda: nn.Sequential(
        nn.Conv2d(4, 8, 3, groups=2, padding=2, dilation=2, stride=2), nn.GroupNorm(2, 8),
        nn.InstanceNorm2d(8, affine=True), nn.BatchNorm2d(8), nn.AvgPool2d(2)), (2, 4, 9, 9)),
    ("volumes", lambda: nn.Sequential(
        nn.Conv3d(2, 4, (3, 2, 3), padding=(1, 0, 2), stride=(1, 2, 1), dilation=(2, 1, 1)),
        nn.BatchNorm3d(4), nn.ReLU(), nn.MaxPool3d(2, ceil_mode=True),
        nn.AvgPool3d(2, 1, 1, count_include_pad=False), nn.Conv3d(4, 6, 1, groups=2),
        nn.AdaptiveAvgPool3d(1), nn.Flatten()), (2, 2, 7, 8, 6)),
    ("transposed", lambda: nn.Sequential(
        nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1),
        nn.ConvTranspose2d(6, 4, (3, 2), stride=(1, 3), dilation=2, groups=2, bias=False),
        nn.Conv2d(4, 2, 1)), (2, 4, 5, 4)),
    ("transposed_1d_3d", lambda: nn.Sequential(
        nn.Unflatten(2, (1, 1, 6)), nn.ConvTranspose3d(3, 2, (1, 2, 3), stride=(1, 2, 2),
                                                       padding=(0, 0, 1), output_padding=(0, 1, 1)),
        nn.Flatten(2), nn.ConvTranspose1d(2, 3, 4, stride=3, padding=1)), (2, 3, 6)),
    ("dcgan_generator", lambda: models.DCGANGenerator(latent_dim=8, width=4), (2, 8)),
    ("conv_vae_decoder", _VaeDecoder, (2, 3)),
    ("indexing", _Indexing, (3, 4, 5, 6)),
    ("arithmetic", _Arithmetic, (3, 4)),
])
def test_exported_model_matches_nabla(name, make, shape, tmp_path):
    nabla.manual_seed(0)
    model = make()
    _agrees(model, nabla.randn(*shape), tmp_path, other_batch=shape[0] + 2)


def test_gpt_with_token_ids_and_dynamic_batch(tmp_path):
    nabla.manual_seed(0)
    model = models.GPT(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    _agrees(model, nabla.randint(0, 11, (2, 8)), tmp_path, other_batch=3)


def test_float64_model_and_opset_18(tmp_path):
    nabla.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.LayerNorm(5), nn.ReLU()).double()
    x = nabla.randn(3, 4, dtype=nabla.float64)
    _agrees(model, x, tmp_path, opset_version=18, tol=1e-12)


def test_parameters_are_initializers_named_by_state_dict_keys(tmp_path):
    model = models.LeNet5()
    proto = nabla.onnx.export(model, nabla.randn(1, 1, 28, 28), tmp_path / "m.onnx")
    names = {init.name for init in proto.graph.initializer}
    assert set(model.state_dict()) - {k for k in model.state_dict() if "num_batches" in k} \
        <= names
    loaded = onnx.load(tmp_path / "m.onnx")  # the file on disk is the returned model
    assert loaded.SerializeToString() == proto.SerializeToString()
    assert [i.name for i in loaded.graph.input] == ["input_0"]
    assert [o.name for o in loaded.graph.output] == ["output_0"]


def test_exports_in_eval_mode_and_restores_the_modes(tmp_path):
    nabla.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 2))
    model.train()
    model(nabla.randn(16, 4))  # running statistics that differ from the batch's
    x = nabla.randn(5, 4)
    nabla.onnx.export(model, x, tmp_path / "m.onnx", input_names=["x"], output_names=["y"])
    assert model.training and all(m.training for m in model.modules())
    model.eval()
    with nabla.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", {"x": x.numpy()})[0], expected,
                               rtol=1e-5, atol=1e-6)


def test_several_inputs_and_outputs_and_a_function(tmp_path):
    def fn(a, b):
        return a @ b, (a.sum(0) * 2.0).exp()

    a, b = nabla.randn(3, 4), nabla.randn(4, 2)
    nabla.onnx.export(fn, (a, b), tmp_path / "f.onnx")
    got = _run(tmp_path / "f.onnx", {"input_0": a.numpy(), "input_1": b.numpy()})
    for g, e in zip(got, fn(a, b)):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-6)


class _Reshaped(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 6)

    def forward(self, x):
        return self.linear(x).reshape(-1, 2, 3).sum(-1), x.sum()


def test_output_dims_that_follow_a_dynamic_input_dim_are_named(tmp_path):
    """Only the input's batch dim named: the outputs' dims that follow it are symbolic too (the
    file declared the example's size, which onnxruntime may fold into a final Reshape)."""
    model = _Reshaped()
    proto = nabla.onnx.export(model, nabla.randn(3, 4), tmp_path / "r.onnx", input_names=["x"],
                              output_names=["y", "total"], dynamic_axes={"x": {0: "batch"}})
    dims = [[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]
            for o in proto.graph.output]
    assert dims == [["y_dim_0", 2], []]
    for n in (1, 5):
        x = nabla.randn(n, 4)
        with nabla.no_grad():
            want = [t.numpy() for t in model(x)]
        for got, expected in zip(_run(tmp_path / "r.onnx", {"x": x.numpy()}), want):
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_size_computed_from_a_dynamic_dim_is_refused(tmp_path):
    model = models.ViT(image_size=8, patch_size=4, in_channels=1, num_classes=3, dim=8, depth=1,
                       heads=2, mlp_dim=16)
    x = nabla.randn(2, 1, 8, 8)
    with pytest.raises(nabla.onnx.ExportError, match="BroadcastTo uses a size computed"):
        nabla.onnx.export(model, x, tmp_path / "v.onnx", input_names=["x"],
                          output_names=["y"], dynamic_axes=DYNAMIC)
    _agrees(model, x, tmp_path, dynamic=False)  # a fixed batch size exports


def test_unsupported_ops_are_named():
    with pytest.raises(nabla.onnx.ExportError,
                       match="Lgamma has no ONNX conversion yet.*Linear"):
        nabla.onnx.export(lambda x: x.lgamma(), nabla.randn(3, 4), None)
    with pytest.raises(nabla.onnx.ExportError, match="histogram .*no ONNX conversion yet"):
        nabla.onnx.export(lambda x: nabla.histogram(x, 4).hist, nabla.randn(3, 4), None)


def test_bad_arguments():
    x = nabla.randn(2, 3)
    with pytest.raises(TypeError, match="args must be a Tensor"):
        nabla.onnx.export(lambda x: x, np.ones(3), None)
    with pytest.raises(ValueError, match="opset_version must be >= 17"):
        nabla.onnx.export(lambda x: x * 2, x, None, opset_version=13)
    with pytest.raises(ValueError, match="1 inputs and 1 outputs, got 2 input names"):
        nabla.onnx.export(lambda x: x * 2, x, None, input_names=["a", "b"])
    with pytest.raises(nabla.onnx.ExportError, match="must return a Tensor"):
        nabla.onnx.export(lambda x: 3, x, None)


class _Recurrent(nn.Module):
    """An LSTM, a GRU and a ReLU RNN over (N, L, E), their last hidden states summed."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, num_layers=2, batch_first=True)
        self.gru = nn.GRU(6, 5, batch_first=True, bidirectional=True)
        self.rnn = nn.RNN(10, 3, nonlinearity="relu", batch_first=True, bias=False)

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        y, _ = self.gru(y)
        y, h_rnn = self.rnn(y)
        return y.sum(1) + h_rnn[0] + c[-1, :, :3]


@pytest.mark.parametrize("opset", [17, 18])
def test_recurrent_layers_unrolled(opset, tmp_path):
    nabla.manual_seed(0)
    _agrees(_Recurrent(), nabla.randn(2, 5, 4), tmp_path, dynamic=False, opset_version=opset)


def test_recurrent_layers_refuse_a_dynamic_batch():
    """Recurrent layers run on rows of packed time steps, split by batch size (and start from
    a zero state of the example's batch size): a file for one batch size, refused otherwise."""
    lstm = nn.LSTM(4, 6, batch_first=True)
    with pytest.raises(nabla.onnx.ExportError, match="uses a size computed in Python"):
        nabla.onnx.export(lambda x: lstm(x)[0], nabla.randn(2, 5, 4), None, input_names=["x"],
                          output_names=["y"], dynamic_axes=DYNAMIC)


def test_shape_dependent_control_flow_is_refused(monkeypatch):
    def branches(x):
        return x * 2.0 if x.shape[0] > 2 else x + 1.0

    with pytest.raises(nabla.onnx.ExportError, match="runs other ops when a dynamic dim"):
        nabla.onnx.export(branches, nabla.randn(2, 3), None, input_names=["x"],
                          output_names=["y"], dynamic_axes=DYNAMIC)
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install nabla\[onnx\]"):
        nabla.onnx.export(lambda x: x, nabla.randn(2), None)
