"""Callbacks: code that runs at fixed points of the training loop. Each one is a small class
with the hooks it needs (the base class's hooks do nothing):

    on_train_begin(trainer)          on_epoch_begin(trainer, epoch)
    on_after_backward(trainer)       on_batch_end(trainer, batch, logs)
    on_epoch_end(trainer, epoch, logs)   on_train_end(trainer)
"""

import math
import numbers

from nabla.autograd.grad_mode import no_grad
from nabla.diagnostics.gradient_flow import (
    EXPLODING,
    VANISHING,
    check_gradients,
    gradient_norms,
    plot_gradient_flow,
)


class Callback:
    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer, epoch: int) -> None: ...

    def on_after_backward(self, trainer) -> None: ...

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, trainer) -> None: ...


def _improved(mode: str, value: float, best: float, min_delta: float) -> bool:
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


def _mode_for(monitor: str, mode: str, who: str) -> str:
    if mode == "auto":
        return "min" if "loss" in monitor else "max"
    if mode not in ("min", "max"):
        raise ValueError(f"{who}: mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


def _logged(logs: dict, monitor: str, who: str) -> float:
    if monitor not in logs:
        raise KeyError(f"{who}: metric {monitor!r} is not logged; available: {sorted(logs)}. "
                       "Pass a validation loader to fit() to get the val_* metrics.")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when the monitored metric has not improved by ``min_delta`` for ``patience`` epochs
    (stop before the validation loss rises: the classic regularizer). With
    ``restore_best_weights`` the model ends with the weights of its best epoch."""

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False) -> None:
        if not isinstance(patience, numbers.Integral) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0 (epochs without "
                             f"improvement before stopping), got {patience!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.mode = _mode_for(monitor, mode, "EarlyStopping")
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch, self.wait, self.best_state, self.stopped_epoch = -1, 0, None, None

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = _logged(logs, self.monitor, "EarlyStopping")
        if _improved(self.mode, value, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = {k: v.detach().clone() for k, v in
                                   trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer) -> None:
        if self.restore_best_weights and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)


class ModelCheckpoint(Callback):
    """Write a checkpoint after each epoch (``path`` may contain ``{epoch}``), or only when the
    monitored metric improves (``save_best_only``)."""

    def __init__(self, path, monitor: str = "val_loss", mode: str = "auto",
                 save_best_only: bool = False) -> None:
        self.path, self.monitor, self.save_best_only = str(path), monitor, save_best_only
        try:
            self.path.format(epoch=1)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"ModelCheckpoint: path {self.path!r} can only contain the "
                             f"placeholder {{epoch}} ({type(err).__name__}: {err}); write "
                             f"literal braces as {{{{ }}}}") from None
        self.mode = _mode_for(monitor, mode, "ModelCheckpoint")
        self.best = math.inf if self.mode == "min" else -math.inf
        self.saved = []

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.save_best_only:
            value = _logged(logs, self.monitor, "ModelCheckpoint")
            if not _improved(self.mode, value, self.best, 0.0):
                return
            self.best = value
        path = self.path.format(epoch=epoch + 1)
        trainer.save_checkpoint(path)
        self.saved.append(path)


class LRScheduler(Callback):
    """Step a learning-rate scheduler every epoch (or every batch). ReduceLROnPlateau gets the
    monitored metric."""

    def __init__(self, scheduler, interval: str = "epoch", monitor: str | None = None) -> None:
        if interval not in ("epoch", "batch"):
            raise ValueError(f"LRScheduler: interval must be 'epoch' or 'batch', got {interval!r}")
        if hasattr(scheduler, "param_groups") or not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"LRScheduler: expected a learning-rate scheduler, got "
                            f"{type(scheduler).__name__}; build one on the optimizer, e.g. "
                            f"optim.lr_scheduler.StepLR(optimizer, 10)")
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor
        if monitor is None and type(scheduler).__name__ == "ReduceLROnPlateau":
            self.monitor = "val_loss"

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None:
        if self.interval == "batch":
            self.scheduler.step()

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.interval != "epoch":
            return
        if self.monitor is not None:
            self.scheduler.step(_logged(logs, self.monitor, "LRScheduler"))
        else:
            self.scheduler.step()


class GradientClipping(Callback):
    """Clip gradients between backward and the optimizer step: by total norm (``max_norm``) and/or
    by value (``max_value``); the remedy for exploding gradients."""

    def __init__(self, max_norm: float | None = None, max_value: float | None = None,
                 norm_type: float = 2.0) -> None:
        if max_norm is None and max_value is None:
            raise ValueError("GradientClipping: give max_norm, max_value or both")
        for name, value in (("max_norm", max_norm), ("max_value", max_value)):
            if value is not None and not value > 0:  # a negative bound flips the gradients
                raise ValueError(f"GradientClipping: {name} must be > 0, got {value}")
        self.max_norm, self.max_value, self.norm_type = max_norm, max_value, norm_type
        self.last_norm = None

    def on_after_backward(self, trainer) -> None:
        from nabla.nn.utils import clip_grad_norm_, clip_grad_value_

        params = [p for p in trainer.model.parameters() if p.grad is not None]
        with no_grad():
            if self.max_value is not None:
                clip_grad_value_(params, self.max_value)
            if self.max_norm is not None:
                self.last_norm = float(clip_grad_norm_(params, self.max_norm, self.norm_type))


class GradientFlow(Callback):
    """Record per-parameter gradient norms during training (every ``every`` steps); warn when
    they vanish or explode; ``plot(path)`` draws them per layer over training."""

    def __init__(self, every: int = 1, vanishing: float = VANISHING,
                 exploding: float = EXPLODING, warn: bool = True) -> None:
        self.every, self.vanishing, self.exploding, self.warn = every, vanishing, exploding, warn
        self.steps, self.history, self._count = [], {}, 0

    def on_after_backward(self, trainer) -> None:
        self._count += 1
        if (self._count - 1) % self.every:
            return
        norms = gradient_norms(trainer.model)
        self.steps.append(self._count)
        for name, value in norms.items():
            self.history.setdefault(name, []).append(value)
        if self.warn:
            check_gradients(norms, self.vanishing, self.exploding, f" at step {self._count}")

    def plot(self, path, title: str = "gradient norm per layer") -> str:
        return plot_gradient_flow(self.history, path, steps=self.steps, title=title)
