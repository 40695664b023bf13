"""The training loop, callbacks, metrics, checkpoints (exact resume), cross-validation, plots and
the command line."""

import json

import numpy as np
import pytest

import nabla
from nabla import nn, optim
from nabla.train import (
    EarlyStopping,
    GradientClipping,
    ModelCheckpoint,
    Trainer,
    accuracy,
    confusion_matrix,
    cross_validate,
    load_checkpoint,
    plot_history,
    precision_recall_f1,
    save_checkpoint,
    top_k_accuracy,
)
from nabla.utils.data import DataLoader, TensorDataset


def _blobs(n=120, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 4)) + 4.0 * np.eye(3, 4)[y]
    return TensorDataset(nabla.tensor(x.astype(dtype)), nabla.tensor(y))


def _model(dtype=nabla.float32, dropout=0.0):
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))
    return model.to(dtype)


def test_metrics_match_hand_computed_values():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 2.0], [0.0, 2.0, 1.0]])
    target = np.array([0, 1, 1, 2])
    assert accuracy(logits, target) == 0.5
    assert top_k_accuracy(logits, target, 2) == 0.75
    cm = confusion_matrix(logits, target, 3)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 1, 1], [0, 1, 0]])
    scores = precision_recall_f1(cm)
    np.testing.assert_allclose(scores["precision"], [1.0, 0.5, 0.0])
    np.testing.assert_allclose(scores["recall"], [1.0, 0.5, 0.0])
    np.testing.assert_allclose(scores["f1"], [1.0, 0.5, 0.0])
    with pytest.raises(ValueError, match="k=4"):
        top_k_accuracy(logits, target, 4)


def test_fit_learns_and_records_history():
    nabla.manual_seed(0)
    data = _blobs()
    model = _model()
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.05), nn.CrossEntropyLoss(),
                      progress=False, log=None)
    hist = trainer.fit(DataLoader(data, 32, shuffle=True), DataLoader(data, 64), epochs=15)
    assert len(hist) == 15 and hist["epoch"] == list(range(1, 16))
    assert hist["loss"][-1] < hist["loss"][0]
    assert hist["val_accuracy"][-1] > 0.9
    assert set(hist.history) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}


def _run(epochs_a, epochs_b, tmp_path, resume):
    """Train in float64 with shuffling and dropout; optionally stop, save, reload and go on."""
    nabla.manual_seed(123)
    data = _blobs(dtype=np.float64)

    def make():
        model = _model(nabla.float64, dropout=0.2)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        loader = DataLoader(data, 16, shuffle=True, generator=nabla.Generator(7))
        trainer = Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched, progress=False,
                          log=None)
        return model, trainer, loader

    model, trainer, loader = make()
    trainer.fit(loader, epochs=epochs_a)
    if resume:
        path = tmp_path / "ckpt.pt"
        trainer.save_checkpoint(path)
        nabla.manual_seed(999)  # the checkpoint must restore the random state
        model, trainer, loader = make()
        trainer.load_checkpoint(path, loader)
    trainer.fit(loader, epochs=epochs_a + epochs_b)
    return model, trainer


def test_resume_from_checkpoint_equals_uninterrupted_run(tmp_path):
    straight, t1 = _run(2, 2, tmp_path, resume=False)
    resumed, t2 = _run(2, 2, tmp_path, resume=True)
    for (k, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    assert t1.history["loss"] == t2.history["loss"]
    assert t2.epoch == 4 and len(t2.history) == 4


def test_checkpoint_rejects_other_files(tmp_path):
    path = tmp_path / "plain.pt"
    nabla.save({"w": nabla.ones(2)}, path)
    with pytest.raises(ValueError, match="not a training checkpoint"):
        load_checkpoint(path, _model())
    model = _model()
    save_checkpoint(tmp_path / "c.pt", model, epoch=3, metrics={"loss": 0.5})
    ckpt = load_checkpoint(tmp_path / "c.pt", _model())
    assert ckpt["epoch"] == 3 and ckpt["metrics"] == {"loss": 0.5}


def test_early_stopping_restores_best_weights():
    nabla.manual_seed(0)
    data = _blobs()
    model = _model()
    # min_delta so large that no epoch after the first counts as an improvement
    stopper = EarlyStopping("val_loss", patience=2, min_delta=1e9, restore_best_weights=True)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                      callbacks=[stopper], progress=False, log=None)
    hist = trainer.fit(DataLoader(data, 32), DataLoader(data, 64), epochs=50)
    assert stopper.stopped_epoch == 2 and len(hist) == 3
    assert hist["val_loss"][2] < hist["val_loss"][0]  # training went on improving...
    restored = trainer.evaluate(DataLoader(data, 64))["loss"]
    assert restored == pytest.approx(hist["val_loss"][0], rel=1e-6)  # ...but epoch 1 is kept


def test_model_checkpoint_and_gradient_clipping(tmp_path):
    nabla.manual_seed(0)
    data = _blobs()
    model = _model()
    saver = ModelCheckpoint(tmp_path / "e{epoch}.pt", monitor="loss")
    clip = GradientClipping(max_norm=0.01)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                      callbacks=[saver, clip], progress=False, log=None)
    trainer.fit(DataLoader(data, 40), epochs=2)
    assert [p.split("/")[-1] for p in saver.saved] == ["e1.pt", "e2.pt"]
    assert clip.last_norm is not None and clip.last_norm > 0.01
    total = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in model.parameters()))
    assert total <= 0.01 + 1e-6


def test_nonfinite_loss_stops_with_advice():
    data = _blobs()
    model = _model()
    with nabla.no_grad():
        model[0].weight.fill_(float("nan"))
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                      progress=False, log=None)
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        trainer.fit(DataLoader(data, 40), epochs=1)


def test_cross_validate_reports_each_fold_with_mean_and_spread():
    nabla.manual_seed(0)
    result = cross_validate(_model, _blobs(90), k=3,
                            optimizer_fn=lambda p: optim.Adam(p, lr=0.05),
                            loss_fn=nn.CrossEntropyLoss(), epochs=5)
    assert len(result["folds"]) == 3
    accs = [f["accuracy"] for f in result["folds"]]
    assert result["mean"]["accuracy"] == pytest.approx(np.mean(accs))
    assert result["std"]["accuracy"] == pytest.approx(np.std(accs))
    assert result["mean"]["accuracy"] > 0.8


def test_plot_history_writes_a_png(tmp_path):
    hist = {"epoch": [1, 2, 3], "loss": [1.0, 0.7, 0.5], "val_loss": [1.1, 0.8, 0.7],
            "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.4, 0.6, 0.7], "lr": [0.1] * 3}
    path = plot_history(hist, tmp_path / "curves.png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_cli_trains_and_writes_outputs(tmp_path, capsys):
    from nabla.cli import main

    out = tmp_path / "run"
    code = main(["train", "--model", "mlp", "--dataset", "digits", "--epochs", "3",
                 "--hidden", "32", "--lr", "0.01", "--out", str(out), "--no-progress"])
    assert code == 0
    text = capsys.readouterr().out
    assert "test: loss" in text and "accuracy" in text
    for name in ("checkpoint.pt", "history.csv", "history.json", "metrics.json",
                 "learning_curves.png"):
        assert (out / name).exists(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.8
    assert main(["datasets"]) == 0
    assert "digits" in capsys.readouterr().out


def test_cli_threads_sets_nablas_threads_and_refuses_zero(tmp_path, capsys, monkeypatch):
    import nabla
    from nabla.cli import main

    seen = []
    monkeypatch.setattr(nabla, "set_num_threads", seen.append)  # the process keeps its own
    code = main(["train", "--dataset", "digits", "--hidden", "8", "--epochs", "1", "--threads",
                 "1", "--out", str(tmp_path / "run"), "--no-progress"])
    assert code == 0 and seen == [1]
    assert main(["train", "--threads", "0"]) == 2
    assert "argument --threads: must be >= 1, got 0" in capsys.readouterr().err
    assert seen == [1]


@pytest.mark.parametrize("name", ["adamax", "nadam", "radam", "rprop", "asgd"])
def test_cli_trains_with_the_other_optimizers(tmp_path, capsys, name):
    from nabla.cli import main

    out = tmp_path / "run"
    args = ["train", "--dataset", "digits", "--hidden", "16", "--epochs", "2", "--optimizer",
            name, "--lr", "0.01" if name != "asgd" else "0.1", "--out", str(out),
            "--no-progress"]
    assert main(args) == 0
    losses = json.loads((out / "history.json").read_text())["loss"]
    assert losses[-1] < losses[0]
    if name == "rprop":
        assert main(args + ["--weight-decay", "0.1"]) == 2
        assert "rprop has no weight decay" in capsys.readouterr().err


def test_cli_resume_continues_an_adam_run(tmp_path, capsys):
    """Adam keeps a 0-d step count per parameter: it must survive the checkpoint as 0-d."""
    from nabla.cli import main

    out = str(tmp_path / "run")
    args = ["train", "--dataset", "digits", "--hidden", "16", "--optimizer", "adam",
            "--out", out, "--no-progress"]
    assert main(args + ["--epochs", "2"]) == 0
    assert main(args + ["--epochs", "3", "--resume"]) == 0
    assert "resumed from" in capsys.readouterr().out
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3]
