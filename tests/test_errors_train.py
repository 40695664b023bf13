"""Mistakes with the Trainer, its callbacks and metrics, nabla.save / nabla.load and the command
line get a clear error naming the function, the values and the fix (never an IndexError from
inside the loop, a loss of 0 over nothing, a bare KeyError or a traceback from the CLI)."""

import io
import json
import pickle
import re

import numpy as np
import pytest
import torch
from test_errors_optim import Case, assert_torch_refuses

import nabla
from nabla import nn, optim
from nabla.cli import main as cli_main
from nabla.train import (
    TBPTT,
    EarlyStopping,
    GradientClipping,
    LRScheduler,
    ModelCheckpoint,
    Trainer,
    accuracy,
    batchify,
    confusion_matrix,
    cross_validate,
    top_k_accuracy,
)
from nabla.utils.data import DataLoader, TensorDataset

X = np.random.default_rng(0).standard_normal((12, 4)).astype(np.float32)
Y = np.arange(12) % 3


def loader(n=12, batch_size=4):
    return DataLoader(TensorDataset(nabla.tensor(X[:n]), nabla.tensor(Y[:n])), batch_size)


def trainer(**kw):
    model = nn.Linear(4, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    return Trainer(model, opt, nn.CrossEntropyLoss(), progress=False, log=None, **kw)


def _trainer_with(model=None, optimizer=None, loss_fn=None, **kw):
    def run():
        m = model() if model is not None else nn.Linear(4, 3)
        o = optimizer(m) if optimizer is not None else optim.SGD(m.parameters(), lr=0.1)
        return Trainer(m, o, loss_fn or nn.CrossEntropyLoss(), progress=False, log=None, **kw)
    return run


def _scheduler_of_another_optimizer():
    other = optim.SGD([nabla.zeros(2, requires_grad=True)], lr=0.1)
    return _trainer_with(scheduler=optim.lr_scheduler.StepLR(other, 1))()


@pytest.mark.parametrize("make, error, match", [
    (_trainer_with(model=lambda: 5, optimizer=lambda m: optim.SGD(nn.Linear(2, 2).parameters())),
     TypeError, r"Trainer: model must be an nn.Module, got int"),
    (_trainer_with(optimizer=lambda m: None), TypeError,
     r"Trainer: optimizer must be a nabla.optim optimizer, got NoneType"),
    (_trainer_with(loss_fn=nn.CrossEntropyLoss), TypeError,
     r"Trainer: loss_fn must be a function .*got CrossEntropyLoss; pass an instance: "
     r"CrossEntropyLoss\(\)"),
    (_trainer_with(metrics="accuracy"), TypeError,
     r"Trainer: metrics must be a list of names, got the string 'accuracy'"),
    (_trainer_with(callbacks=EarlyStopping()), TypeError,
     r"Trainer: callbacks must be a list, got a single EarlyStopping"),
    (_trainer_with(optimizer=lambda m: optim.SGD(nn.Linear(4, 3).parameters(), lr=0.1)),
     ValueError, r"Trainer: none of the optimizer's parameters belong to the model"),
    (_scheduler_of_another_optimizer, ValueError,
     r"Trainer: the scheduler drives another optimizer than the Trainer's"),
    (lambda: trainer().fit(loader(0)), ValueError,
     r"Trainer.fit: the training loader yielded no samples \(an empty dataset, or "
     r"drop_last=True"),
    (lambda: trainer().fit(loader(), loader(0)), ValueError,
     r"Trainer.evaluate: the loader yielded no samples"),
    (lambda: trainer().predict([]), ValueError, r"Trainer.predict: the loader yielded no samples"),
    (lambda: trainer().fit(TensorDataset(nabla.tensor(X), nabla.tensor(Y))), TypeError,
     r"Trainer.fit: train_loader is a TensorDataset, not a loader of batches; wrap it: "
     r"DataLoader"),
    (lambda: trainer().fit(loader(), epochs=-1), ValueError,
     r"Trainer.fit: epochs must be an integer >= 0 .*got -1"),
    (lambda: trainer().fit(loader(), epochs=2.5), ValueError, r"epochs must be an integer"),
    (lambda: trainer().fit(DataLoader(TensorDataset(nabla.tensor(X)), 4)), TypeError,
     r"Trainer.fit: each batch must be \(inputs, targets\), got a list of 1 item\(s\)"),
])
def test_trainer_mistakes_are_reported(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_callback_mistakes_are_reported(tmp_path):
    with pytest.raises(ValueError, match=r"EarlyStopping: patience must be an integer >= 0"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match=r"EarlyStopping: mode must be 'min', 'max' or 'auto', "
                                         r"got 'minimum'"):
        EarlyStopping(mode="minimum")
    with pytest.raises(ValueError, match=r"ModelCheckpoint: path .* can only contain the "
                                         r"placeholder \{epoch\} \(KeyError: 'x'\)"):
        ModelCheckpoint(str(tmp_path / "c{epoch}{x}.npz"))
    with pytest.raises(ValueError, match=r"GradientClipping: max_norm must be > 0, got -1"):
        GradientClipping(max_norm=-1)  # it would flip every gradient
    with pytest.raises(TypeError, match=r"LRScheduler: expected a learning-rate scheduler, got "
                                        r"SGD"):
        LRScheduler(optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1))
    with pytest.raises(KeyError, match=r"EarlyStopping: metric 'val_loss' is not logged; "
                                       r"available: .*Pass a validation loader"):
        trainer(callbacks=[EarlyStopping()]).fit(loader())


def test_a_checkpoint_under_a_file_names_the_path(tmp_path):
    (tmp_path / "afile").write_text("")
    run = trainer(callbacks=[ModelCheckpoint(tmp_path / "afile" / "ckpt.npz")])
    with pytest.raises(OSError, match=r"nabla.save: cannot write .*afile.*ckpt.npz.*its folder "
                                      r"must be creatable and writable"):
        run.fit(loader())


@pytest.mark.parametrize("make, match", [
    (lambda: accuracy(np.zeros((5, 3)), np.zeros(4)),
     r"accuracy: 5 predictions but 4 targets"),
    (lambda: accuracy(np.zeros(4), np.zeros((4, 1))),
     r"accuracy: expected targets of shape \(N,\), got \(4, 1\)"),
    (lambda: accuracy(np.zeros((4, 1)), np.zeros(4)),
     r"accuracy: logits of shape \(N, 1\) hold one class; threshold a binary output"),
    (lambda: top_k_accuracy(np.zeros(5), np.zeros(5), 1),
     r"top_k_accuracy: expected logits of shape \(N, C\), got shape \(5,\)"),
    (lambda: top_k_accuracy(np.zeros((5, 3)), np.zeros(4), 1),
     r"top_k_accuracy: 5 predictions but 4 targets"),
    (lambda: confusion_matrix(np.array([0, 1]), np.array([0, -1])),
     r"confusion_matrix: targets must be class indices >= 0, got -1"),
    (lambda: confusion_matrix(np.array([0, 5]), np.array([0, 1]), num_classes=2),
     r"confusion_matrix: class 5 does not fit num_classes=2; pass num_classes=6"),
    (lambda: confusion_matrix(np.array([0.5, 1.0]), np.array([0, 1])),
     r"confusion_matrix: predictions must be class indices, got fractional values such as 0.5"),
    (lambda: batchify(nabla.ones(10), 0), r"batchify: batch_size must be a positive integer"),
    (lambda: TBPTT(nn.Linear(2, 2), optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1))
     .train_epoch(nabla.ones(1, 2)),
     r"TBPTT.train_epoch: a stream of 1 rows holds no \(input, next item\) pair"),
])
def test_metric_and_bptt_mistakes_are_reported(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_cross_validate_refuses_stratifying_regression_targets_but_takes_float_labels():
    kw = dict(optimizer_fn=lambda p: optim.SGD(p, lr=0.1), epochs=1, batch_size=4)
    targets = np.linspace(0, 1, 12).astype(np.float32)
    regression = TensorDataset(nabla.tensor(X), nabla.tensor(targets))
    with pytest.raises(ValueError, match=r"cross_validate: stratified=True needs class indices "
                                         r"as targets, got values such as 0.0909"):
        cross_validate(lambda: nn.Linear(4, 1), regression, k=2, loss_fn=nn.MSELoss(),
                       metrics=(), **kw)
    labels = TensorDataset(nabla.tensor(X), nabla.tensor(Y.astype(np.float32)[:, None]))
    result = cross_validate(lambda: nn.Linear(4, 1), labels, k=2, loss_fn=nn.MSELoss(),
                            metrics=(), **kw)  # 0.0 / 1.0 / 2.0 still stratify
    assert len(result["folds"]) == 2


# -- nabla.save / nabla.load --------------------------------------------------------------------

class Custom:
    pass


def _torch_save(obj):
    return lambda: torch.save(obj, io.BytesIO())


PICKLE_ERRORS = (AttributeError, pickle.PicklingError)


@pytest.mark.parametrize("case", [
    Case("a lambda", lambda: nabla.save({"fn": lambda x: x}, "x.npz"), TypeError,
         r"cannot store an object of type function at obj\['fn'\]; code is never stored",
         _torch_save({"fn": lambda x: x}), PICKLE_ERRORS),
    Case("a set (pickled by PyTorch)", lambda: nabla.save({"s": {1, 2}}, "x.npz"), TypeError,
         r"cannot store an object of type set at obj\['s'\]; store sorted\(...\) of it"),
    Case("a custom class, nested", lambda: nabla.save({"m": {"layers": [1, Custom()]}}, "x.npz"),
         TypeError, r"cannot store an object of type Custom at obj\['m'\]\['layers'\]\[1\]\. "
         r"nabla.save stores dicts, lists, tuples, tensors, arrays, numbers, strings and None"),
    Case("a module (pickled by PyTorch)", lambda: nabla.save(nn.Linear(2, 2), "x.npz"),
         TypeError, r"cannot store an object of type Linear at obj; save its .state_dict\(\)"),
    Case("an object array (saved, then unloadable)",
         lambda: nabla.save({"o": np.array([1, None], dtype=object)}, "x.npz"), TypeError,
         r"cannot store obj\['o'\], an array of Python objects \(dtype object\)"),
    Case("path None", lambda: nabla.save({}, None), TypeError,
         r"nabla.save: expected a file path \(str or os.PathLike\) or a binary file object, got "
         r"NoneType",
         lambda: torch.save({}, None), AttributeError),
], ids=repr)
def test_save_mistakes_are_reported(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(case.error, match=case.match):
        case.ours()
    assert_torch_refuses(case)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_save_to_a_folder_or_under_a_file_names_the_path(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"nabla.save: .* is a folder; give a file path "
                                                r"such as .*model.npz"):
        nabla.save({}, tmp_path)
    (tmp_path / "afile").write_text("")
    with pytest.raises(FileExistsError, match=r"nabla.save: cannot write .*afile.*x.npz"):
        nabla.save({}, tmp_path / "afile" / "x.npz")


def _npz_with_structure(path, structure):
    raw = np.frombuffer(json.dumps(structure).encode(), np.uint8)
    np.savez(path, __structure__=raw)
    return path


@pytest.mark.parametrize("write, match", [
    (lambda p: p.write_bytes(b""), r"is not a file written by nabla.save: it is empty"),
    (lambda p: p.write_bytes(b"garbage" * 5),
     r"is not a file written by nabla.save: it is not a .npz archive \(it starts b'garb'\)"),
    (lambda p: torch.save({"a": torch.ones(2)}, p),
     r"is not a file written by nabla.save: a zip archive without its __structure__ entry "
     r"\(a PyTorch file: read it with torch.load\)"),
    (lambda p: _npz_with_structure(p, {"format": "nabla-save", "version": 99, "obj": 1}),
     r"was written by a newer nabla \(format version 99; this one reads up to 1\)"),
    (lambda p: _npz_with_structure(p, {"format": "nabla-save", "version": 1,
                                       "obj": {"__tensor__": 5, "requires_grad": False}}),
     r"is truncated or corrupt \(KeyError: 5\)"),
])
def test_load_of_a_wrong_file_says_what_it_is(tmp_path, write, match):
    path = tmp_path / "file.npz"
    write(path)
    with pytest.raises(ValueError, match=match):
        nabla.load(path)


def test_load_of_a_folder_or_a_missing_file(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"nabla.load: .* is a folder, not a file"):
        nabla.load(tmp_path)
    with pytest.raises(IsADirectoryError):
        torch.load(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"nabla.load: no such file"):
        nabla.load(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError):
        torch.load(tmp_path / "missing.pt")


def test_load_of_a_broken_safetensors_file(tmp_path):
    pytest.importorskip("safetensors")
    from safetensors.numpy import save_file

    garbage = tmp_path / "g.safetensors"
    garbage.write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"is truncated or corrupt \(SafetensorError"):
        nabla.load(garbage)
    plain = tmp_path / "plain.safetensors"
    save_file({"a": np.ones(2)}, str(plain))
    with pytest.raises(ValueError, match=r"not a file written by nabla.save: a safetensors file "
                                         r"without its metadata"):
        nabla.load(plain)


# -- the command line ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, match", [
    (["--dataset", "mnits"], r"argument --dataset: invalid choice: 'mnits' \(choose from "
                             r"digits, .*see `nabla datasets`\)"),
    (["--dataset", "mnist"], r"--dataset mnist is read from local files: pass --root FOLDER"),
    (["--dataset", "mnist", "--root", "{tmp}"], r"MNIST: files not found in"),
    (["--epochs", "0"], r"argument --epochs: must be >= 1, got 0"),
    (["--hidden", "12,abc"], r"argument --hidden: expected comma-separated integers"),
    (["--val-fraction", "1"], r"argument --val-fraction: must be in \[0, 1\), got 1.0"),
    (["--grad-clip", "-1"], r"argument --grad-clip: must be > 0, got -1.0"),
    (["--label-smoothing", "2"], r"argument --label-smoothing: must be in \[0, 1\], got 2.0"),
    (["--out", "{tmp}/afile"], r"argument --out: .*afile' is a file, not a folder"),
    (["--lr", "-1", "--out", "{tmp}/run"], r"Adam: Invalid learning rate: -1.0"),
    (["--model", "cnn", "--dataset", "moons", "--out", "{tmp}/run"],
     r"cnn: needs images of shape \(C, H, W\) or signals \(C, L\)"),
])
def test_cli_mistakes_are_one_line_and_exit_2(tmp_path, capsys, args, match):
    (tmp_path / "afile").write_text("")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert cli_main(["train", "--epochs", "1", "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nabla train: error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert re.search(match, err), err
