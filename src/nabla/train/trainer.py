"""The training loop. One epoch: for each mini-batch, forward, loss, backward, optimizer step;
then evaluation on the validation data. Callbacks hook in at fixed points (callbacks.py), every
metric is kept per epoch in ``history``, and a checkpoint holds everything needed to resume."""

import csv
import json
import math
import numbers
import sys

import numpy

from nabla.autograd.grad_mode import no_grad
from nabla.nn.modules.module import Module
from nabla.optim.optimizer import Optimizer
from nabla.tensor import Tensor
from nabla.train import checkpoint as _ckpt
from nabla.train import metrics as _metrics
from nabla.train.callbacks import Callback, GradientClipping, LRScheduler
from nabla.utils.data.dataset import Dataset

_METRICS = {
    "accuracy": _metrics.accuracy,
    "top5": lambda out, y: _metrics.top_k_accuracy(out, y, 5),
}


class History:
    """Per-epoch values of every logged metric: ``history["val_loss"][epoch]``."""

    def __init__(self, data: dict | None = None) -> None:
        self.history = {k: list(v) for k, v in (data or {}).items()}

    def append(self, logs: dict) -> None:
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.history.get("epoch", []))

    def to_json(self, path) -> None:
        with open(path, "w") as f:
            json.dump(self.history, f, indent=1)

    def to_csv(self, path) -> None:
        keys = list(self.history)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(keys)
            for row in zip(*(self.history[k] for k in keys)):
                writer.writerow(row)


class Trainer:
    """Fit a model with an optimizer and a loss, PyTorch style.

    Args:
        model: an ``nn.Module`` mapping a batch of inputs to outputs (logits for classifiers).
        optimizer: an ``optim.Optimizer`` over the model's parameters.
        loss_fn: ``loss_fn(output, target) -> scalar Tensor`` (e.g. ``nn.CrossEntropyLoss()``).
        metrics: names from ``"accuracy"``, ``"top5"`` computed on every epoch's outputs.
        callbacks: ``Callback`` objects (EarlyStopping, ModelCheckpoint, ...).
        scheduler: an LR scheduler, stepped each epoch (``scheduler_interval='batch'`` for
            per-batch schedules such as OneCycleLR); ReduceLROnPlateau watches ``val_loss``.
        grad_clip_norm: clip the gradients' total norm to this value before each step.
        progress: show a progress bar (tqdm) per epoch; False for quiet runs and tests.
    """

    def __init__(self, model, optimizer, loss_fn, *, metrics=("accuracy",), callbacks=(),
                 scheduler=None, scheduler_interval: str = "epoch",
                 grad_clip_norm: float | None = None, progress: bool = True, log=print) -> None:
        _check_setup(model, optimizer, loss_fn, metrics, callbacks, scheduler)
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.metrics = tuple(metrics)
        self.callbacks = list(callbacks)
        if grad_clip_norm is not None:
            self.callbacks.insert(0, GradientClipping(max_norm=grad_clip_norm))
        if scheduler is not None:
            self.callbacks.append(LRScheduler(scheduler, scheduler_interval))
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback objects, got {cb!r}")
        self.progress, self.log = progress, log
        self.history = History()
        self.epoch = 0  # epochs completed
        self.stop_training = False
        self.loader_generators = {}

    @property
    def scheduler(self):
        for cb in self.callbacks:
            if isinstance(cb, LRScheduler):
                return cb.scheduler
        return None

    # -- the loop ---------------------------------------------------------------------------------
    def fit(self, train_loader, val_loader=None, epochs: int = 1) -> History:
        """Train until ``epochs`` epochs are completed in total (a resumed trainer continues
        from ``self.epoch``). Returns the history."""
        if not isinstance(epochs, numbers.Integral) or epochs < 0:
            raise ValueError(f"Trainer.fit: epochs must be an integer >= 0 (the total number "
                             f"of epochs), got {epochs!r}")
        for name, loader in (("train_loader", train_loader), ("val_loader", val_loader)):
            if isinstance(loader, Dataset):
                raise TypeError(f"Trainer.fit: {name} is a {type(loader).__name__}, not a "
                                f"loader of batches; wrap it: DataLoader(dataset, batch_size=64)")
        gen = getattr(train_loader, "generator", None)
        if gen is not None:
            self.loader_generators["train"] = gen
        self.stop_training = False
        self._call("on_train_begin", self)
        while self.epoch < epochs and not self.stop_training:
            epoch = self.epoch
            self._call("on_epoch_begin", self, epoch)
            logs = {"epoch": epoch + 1, **self._train_epoch(train_loader, epoch, epochs)}
            if val_loader is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
            logs["lr"] = self.optimizer.param_groups[0]["lr"]
            self.epoch = epoch + 1
            self._call("on_epoch_end", self, epoch, logs)
            self.history.append(logs)
            if self.log is not None:
                self.log(_format_logs(logs, epochs))
        self._call("on_train_end", self)
        return self.history

    def _train_epoch(self, loader, epoch: int, epochs: int) -> dict:
        self.model.train()
        total, count, outputs, targets = 0.0, 0, [], []
        batches = self._bar(loader, f"epoch {epoch + 1}/{epochs}")
        for i, batch in enumerate(batches):
            x, y = _pair(batch, "Trainer.fit")
            self.optimizer.zero_grad()
            out = self.model(x)
            loss = self.loss_fn(out, y)
            loss.backward()
            self._call("on_after_backward", self)
            self.optimizer.step()
            value = loss.item()
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"Trainer: the loss became {value} at epoch {epoch + 1}, batch {i}; lower the "
                    "learning rate, clip gradients (grad_clip_norm=1.0) or check the inputs. "
                    "nabla.autograd.detect_anomaly() shows the first op that produced it."
                )
            n = len(y)
            total, count = total + value * n, count + n
            if self.metrics:
                outputs.append(out._data)
                targets.append(y._data if isinstance(y, Tensor) else numpy.asarray(y))
            self._call("on_batch_end", self, i, {"loss": value})
            if hasattr(batches, "set_postfix") and i % 10 == 0:
                batches.set_postfix(loss=f"{value:.4f}")
        if count == 0:
            raise ValueError(_NO_BATCHES.format(who="Trainer.fit", what="training loader"))
        return {"loss": total / count, **self._scores(outputs, targets)}

    def evaluate(self, loader) -> dict:
        """Average loss and metrics over ``loader`` in eval mode, without recording a graph."""
        self.model.eval()
        total, count, outputs, targets = 0.0, 0, [], []
        with no_grad():
            for batch in loader:
                x, y = _pair(batch, "Trainer.evaluate")
                out = self.model(x)
                n = len(y)
                total, count = total + self.loss_fn(out, y).item() * n, count + n
                if self.metrics:
                    outputs.append(out._data)
                    targets.append(y._data if isinstance(y, Tensor) else numpy.asarray(y))
        self.model.train()
        if count == 0:
            raise ValueError(_NO_BATCHES.format(who="Trainer.evaluate", what="loader"))
        return {"loss": total / count, **self._scores(outputs, targets)}

    def predict(self, loader) -> Tensor:
        """The model's outputs for every batch of ``loader``, concatenated (eval mode)."""
        self.model.eval()
        with no_grad():
            outs = [self.model(batch[0] if isinstance(batch, (tuple, list)) else batch)._data
                    for batch in loader]
        self.model.train()
        if not outs:
            raise ValueError(_NO_BATCHES.format(who="Trainer.predict", what="loader"))
        return Tensor._make(numpy.concatenate(outs))

    def _scores(self, outputs, targets) -> dict:
        if not outputs:
            return {}
        out, y = numpy.concatenate(outputs), numpy.concatenate(targets)
        return {name: _METRICS[name](out, y) for name in self.metrics}

    # -- checkpoints ------------------------------------------------------------------------------
    def save_checkpoint(self, path) -> None:
        """Everything needed to resume: model, optimizer, scheduler, RNG, epoch, history."""
        latest = {k: v[-1] for k, v in self.history.history.items()}
        _ckpt.save_checkpoint(path, self.model, self.optimizer, self.scheduler, self.epoch,
                              metrics=latest, history=self.history.history,
                              generators=self.loader_generators)

    def load_checkpoint(self, path, train_loader=None) -> dict:
        """Restore a checkpoint written by ``save_checkpoint``; ``fit`` then continues from its
        epoch. Pass the training loader if it shuffles with its own generator."""
        gens = dict(self.loader_generators)
        if train_loader is not None and getattr(train_loader, "generator", None) is not None:
            gens["train"] = train_loader.generator
        ckpt = _ckpt.load_checkpoint(path, self.model, self.optimizer, self.scheduler, gens)
        self.epoch = ckpt["epoch"]
        self.history = History(ckpt["history"])
        return ckpt

    # -- helpers ----------------------------------------------------------------------------------
    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def _bar(self, loader, desc: str):
        if not self.progress:
            return loader
        try:
            from tqdm.auto import tqdm
        except ImportError:  # the 'progress' extra is optional: fall back to per-epoch lines
            return loader
        return tqdm(loader, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)


_NO_BATCHES = ("{who}: the {what} yielded no samples (an empty dataset, or drop_last=True with "
               "fewer samples than batch_size); give it data")


def _pair(batch, who: str) -> tuple:
    """The inputs and targets of a batch: its first two entries."""
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return batch[0], batch[1]
    what = type(batch).__name__
    if isinstance(batch, (tuple, list)):
        what += f" of {len(batch)} item(s)"
    raise TypeError(f"{who}: each batch must be (inputs, targets), got a {what}; load a "
                    f"TensorDataset(x, y)")


def _check_setup(model, optimizer, loss_fn, metrics, callbacks, scheduler) -> None:
    """Refuse a Trainer that would fail (or silently train nothing) at its first batch."""
    if not isinstance(model, Module):
        raise TypeError(f"Trainer: model must be an nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"Trainer: optimizer must be a nabla.optim optimizer, got "
                        f"{type(optimizer).__name__}")
    if isinstance(loss_fn, type) or not callable(loss_fn):
        hint = f"; pass an instance: {loss_fn.__name__}()" if isinstance(loss_fn, type) else ""
        raise TypeError(f"Trainer: loss_fn must be a function (output, target) -> loss, got "
                        f"{getattr(loss_fn, '__name__', type(loss_fn).__name__)}{hint}")
    if isinstance(metrics, str):
        raise TypeError(f"Trainer: metrics must be a list of names, got the string {metrics!r}; "
                        f"write metrics=({metrics!r},)")
    for name in metrics:
        if name not in _METRICS:
            raise ValueError(f"Trainer: unknown metric {name!r}; choose from {list(_METRICS)}")
    if isinstance(callbacks, Callback):
        raise TypeError(f"Trainer: callbacks must be a list, got a single "
                        f"{type(callbacks).__name__}; write callbacks=[...]")
    model_ids = {id(p) for p in model.parameters()}
    if not any(id(p) in model_ids for g in optimizer.param_groups for p in g["params"]):
        raise ValueError("Trainer: none of the optimizer's parameters belong to the model, so "
                         "training would change nothing; build the optimizer from "
                         "model.parameters()")
    if scheduler is not None and getattr(scheduler, "optimizer", optimizer) is not optimizer:
        raise ValueError("Trainer: the scheduler drives another optimizer than the Trainer's; "
                         "build it on the same one")


def _format_logs(logs: dict, epochs: int) -> str:
    parts = [f"epoch {logs['epoch']}/{epochs}"]
    for key, value in logs.items():
        if key != "epoch":
            parts.append(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}")
    return "  ".join(parts)


def fit(model, optimizer, loss_fn, train_loader, val_loader=None, epochs: int = 1,
        **kwargs) -> History:
    """Shortcut: ``Trainer(model, optimizer, loss_fn, **kwargs).fit(train_loader, val_loader,
    epochs)``."""
    return Trainer(model, optimizer, loss_fn, **kwargs).fit(train_loader, val_loader, epochs)
