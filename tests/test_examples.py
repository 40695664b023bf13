"""The examples run, and the ones with an accuracy bar reach it."""

import importlib.util
import math
import pathlib
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_autograd_basics_runs(capsys):
    load("autograd_basics")
    out = capsys.readouterr().out
    assert "digraph" in out and "gradcheck(softmax): True" in out


def test_export_onnx_example_agrees_with_nabla(tmp_path):
    pytest.importorskip("onnxruntime")
    result = load("export_onnx").main(epochs=1, out=str(tmp_path), verbose=False)
    assert result["same_predictions"] == 1.0 and result["max_abs_diff"] < 1e-4
    assert (tmp_path / "digits_cnn.onnx").exists()


def test_mlp_on_digits_reaches_95_percent():
    assert load("mlp_digits").main(epochs=30) >= 0.95


def test_mlp_on_mnist1d_reaches_65_percent(tmp_path):
    assert load("mlp_mnist1d").main(out=str(tmp_path), progress=False) >= 0.65


def test_optimizers_example_momentum_and_adam_reach_the_minimum(tmp_path):
    results = load("optimizers").main(steps=2000, out=str(tmp_path))
    assert results["Adam"][0] < 1e-6 and results["Nesterov"][0] < 1e-6
    assert results["SGD"][0] > results["Momentum"][0]  # plain descent crawls along the valley


def test_generalization_example_runs_fast_mode():
    scores = load("generalization").main(epochs=3)
    assert 0.5 < scores["test"] <= 1.0 and 0.5 < scores["cv"] <= 1.0


@pytest.mark.parametrize("name", [
    "mlp_digits", "optimizers", "generalization", "mlp_mnist1d", "exploding_gradients",
    "variable_length", "conv_backprop", "bagging_boosting", "perceptron_xor", "density_outliers",
    "dqn_cartpole", "bert_fables"])
def test_examples_have_a_docstring_naming_their_topics(name):
    text = (EXAMPLES / f"{name}.py").read_text()
    assert text.startswith('"""') and "Topics" in text[:1500]


def test_lm_compare_trains_both_models_at_equal_parameter_count():
    results = load("lm_compare").main(fast=True)
    gpt, lstm = results["Transformer (GPT)"], results["LSTM"]
    assert abs(gpt["params"] - lstm["params"]) <= 0.05 * gpt["params"]
    for r in (gpt, lstm):  # both learn something from the text (uniform guess: 5.9 bits)
        assert 0 < r["bpc"] < 5.9


def test_define_and_run_example_gives_the_same_gradient(capsys):
    times = load("define_and_run").main(seconds=0.03)  # timings: benchmarks/bench.py
    assert "same gradient: True" in capsys.readouterr().out
    assert len(times) == 4 and all(t > 0 for t in times.values())


def test_newton_with_the_autograd_hessian_reaches_the_minimum(capsys):
    history = load("newton_hessian").main()
    assert len(history) <= 31 and history[-1] < 1e-12  # first-order methods need thousands
    assert "H v at the start" in capsys.readouterr().out


def test_exploding_gradients_example_goes_nan_without_clipping_and_trains_with_it(tmp_path):
    runs = load("exploding_gradients").main(fast=True, out=str(tmp_path))
    plain, clipped = runs["no clipping"], runs["clip_grad_norm_(1)"]
    assert plain["grad_norm"][0] > 1e5 and plain["first_non_finite"] is not None
    assert plain["nan_parameters"] == plain["parameters"]  # every weight NaN afterwards
    assert clipped["first_non_finite"] is None and clipped["nan_parameters"] == 0
    assert all(map(math.isfinite, clipped["loss"]))
    assert sum(clipped["loss"][-10:]) / 10 < clipped["loss"][0]


def test_variable_length_example_packing_beats_padding_and_matches_one_by_one():
    results = load("variable_length").main(fast=True)
    assert results["max_difference"] < 1e-5
    assert results["packed"] > 0.95 and results["padded"] < 0.5


def test_conv_backprop_example_gradients_are_convolutions():
    results = load("conv_backprop").main()
    assert max(max(v) if isinstance(v, tuple) else v for v in results.values()) < 1e-12


def test_bagging_boosting_example_boosting_reduces_bias_bagging_does_not():
    results = load("bagging_boosting").main()
    assert abs(results["bagging"] - results["single"]) < 0.02  # same straight line, averaged
    assert results["boosting"] > results["single"] + 0.05


def test_perceptron_example_separable_converges_xor_needs_a_hidden_layer():
    results = load("perceptron_xor").main()
    assert results["AND"] is not None and results["OR"] is not None and results["XOR"] is None
    assert results["mlp_xor"] == [0, 1, 1, 0]


def test_density_outliers_example_vae_likelihood_flags_unseen_data():
    results = load("density_outliers").main(fast=True)
    assert results["seen 0-4"] >= results["elbo_seen"] - 0.5  # importance weighting tightens
    assert results["auroc unseen 5-9"] > 0.65
    assert results["auroc inverted"] > 0.95 and results["auroc noise"] > 0.95
