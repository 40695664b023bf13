"""Training: the fit loop, callbacks, metrics, checkpoints, cross-validation and plots."""

from nabla.train.bptt import TBPTT, batchify, detach_hidden, truncated_bptt_batches
from nabla.train.callbacks import (
    Callback,
    EarlyStopping,
    GradientClipping,
    GradientFlow,
    LRScheduler,
    ModelCheckpoint,
)
from nabla.train.checkpoint import load_checkpoint, save_checkpoint
from nabla.train.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    precision_recall_f1,
    top_k_accuracy,
)
from nabla.train.plots import plot_history
from nabla.train.trainer import History, Trainer, fit
from nabla.train.validation import cross_validate

__all__ = [
    "Callback", "EarlyStopping", "GradientFlow", "GradientClipping", "LRScheduler",
    "ModelCheckpoint", "load_checkpoint", "save_checkpoint", "accuracy", "classification_report",
    "confusion_matrix", "precision_recall_f1", "top_k_accuracy", "plot_history", "History",
    "Trainer", "fit", "cross_validate", "TBPTT", "batchify", "detach_hidden",
    "truncated_bptt_batches",
]
