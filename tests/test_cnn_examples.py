"""The CNN examples run in their fast modes; the digits CNN reaches its bar; `nabla train
--model cnn` works."""

import importlib.util
import pathlib
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
NAMES = ["cnn_digits", "cnn_mnist1d", "conv_parameter_savings", "residual_vs_plain",
         "augmentation"]


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_cnn_on_digits_reaches_98_percent():
    assert load("cnn_digits").main(epochs=8, verbose=False) >= 0.98  # 99.7% measured


def test_cnn_on_mnist1d_fast_mode_learns(capsys):
    acc = load("cnn_mnist1d").main(epochs=1)
    out = capsys.readouterr().out
    assert acc > 0.4  # chance is 0.1; one epoch of the full run
    assert "total params: 37,962" in out and "49,856" in out  # summary, conv vs dense


def test_conv_parameter_savings_numbers():
    r = load("conv_parameter_savings").main(verbose=False)
    assert r["8x8 digit -> 32 maps"] == (320, 133_120)
    assert r["2x3x3"] == (2 * (256 * 256 * 9 + 256), 5) and r["5x5"] == (256 * 256 * 25 + 256, 5)
    assert r["3x3x3"][1] == r["7x7"][1] == 7 and r["3x3x3"][0] < r["7x7"][0]
    assert r["1x1 then 5x5"] < r["5x5 direct"] / 9
    assert r["vgg16 conv"] == 14_714_688


def test_residual_vs_plain_fast_mode(tmp_path):
    r = load("residual_vs_plain").main(depth=8, epochs=1, n_train=128, out=str(tmp_path))
    assert set(r) == {"residual", "plain"}
    assert all(len(v["loss"]) == 1 and 0 < v["loss"][0] < 5 for v in r.values())
    with pytest.raises(ValueError, match="6n"):
        load("residual_vs_plain").main(depth=10)


def test_augmentation_fast_mode(capsys):
    scores = load("augmentation").main(epochs=1, n_train=100, verbose=True)
    out = capsys.readouterr().out
    assert set(scores) == {"none", "shift + rotation", "Cutout", "MixUp", "CutMix"}
    assert all(0 <= a <= 1 and 0 <= b <= 1 for a, b in scores.values())
    assert "MixUp of a" in out and "CutMix: box" in out


def test_cli_trains_a_cnn(tmp_path, capsys):
    from nabla.cli import main as cli_main

    assert cli_main(["train", "--model", "cnn", "--dataset", "digits", "--epochs", "1",
                     "--no-progress", "--out", str(tmp_path)]) == 0
    assert "test: loss" in capsys.readouterr().out and (tmp_path / "metrics.json").exists()


def test_cnn_for_builds_by_sample_shape():
    from nabla.models import CNN1d, ConvNet, LeNet5, cnn_for

    assert isinstance(cnn_for("cnn", (1, 40), 10), CNN1d)
    assert isinstance(cnn_for("cnn", (1, 8, 8), 10), ConvNet)
    assert isinstance(cnn_for("lenet", (1, 28, 28), 10), LeNet5)
    with pytest.raises(ValueError, match="images"):
        cnn_for("resnet20", (40,), 10)


@pytest.mark.parametrize("name", NAMES)
def test_cnn_examples_have_a_docstring_naming_their_topics_and_numbers(name):
    text = (EXAMPLES / f"{name}.py").read_text()
    assert text.startswith('"""') and "Topics" in text[:1500] and "Measured" in text[:2000]
