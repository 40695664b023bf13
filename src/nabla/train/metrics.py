"""Classification metrics: accuracy, top-k accuracy, confusion matrix, per-class precision,
recall and F1. They take logits or predicted labels as tensors or arrays and return plain
numbers / NumPy arrays (metrics are reported, not differentiated)."""

import numpy

from nabla.tensor import Tensor


def _array(x) -> numpy.ndarray:
    return x._data if isinstance(x, Tensor) else numpy.asarray(x)


def _labels(pred) -> numpy.ndarray:
    """Predicted labels from logits (N, C) or labels (N,)."""
    pred = _array(pred)
    return pred.argmax(axis=1) if pred.ndim == 2 else pred


def _same_length(who: str, pred: numpy.ndarray, target: numpy.ndarray) -> None:
    if len(pred) != len(target):
        raise ValueError(f"{who}: {len(pred)} predictions but {len(target)} targets; give one "
                         f"prediction per sample")


def _class_indices(who: str, name: str, labels: numpy.ndarray) -> numpy.ndarray:
    """Labels as int64, refusing 1.5 (a probability?) and -1 (an ignore index?)."""
    if labels.dtype.kind == "f" and not numpy.all(labels == numpy.round(labels)):
        raise ValueError(f"{who}: {name} must be class indices, got fractional values such as "
                         f"{labels[labels != numpy.round(labels)][0]}")
    labels = labels.astype(numpy.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"{who}: {name} must be class indices >= 0, got {labels.min()}")
    return labels


def accuracy(pred, target) -> float:
    """Fraction of samples whose predicted class (argmax of logits) equals the target.

    Args:
        pred: logits (N, C) or predicted labels (N,).
        target: class indices (N,).
    """
    target, pred = _array(target), _array(pred)
    if target.ndim != 1:
        raise ValueError(f"accuracy: expected targets of shape (N,), got {target.shape} (for "
                         f"regression, pass metrics=() to the Trainer)")
    if pred.ndim == 2 and pred.shape[1] == 1:
        raise ValueError("accuracy: logits of shape (N, 1) hold one class; threshold a binary "
                         "output instead: accuracy(logits.reshape(-1) > 0, target)")
    pred = _labels(pred)
    _same_length("accuracy", pred, target)
    if target.size == 0:
        return 0.0
    return float((pred == target).mean())


def top_k_accuracy(logits, target, k: int = 5) -> float:
    """Fraction of samples whose target is among the k largest logits (N, C)."""
    logits, target = _array(logits), _array(target)
    if logits.ndim != 2:
        raise ValueError(f"top_k_accuracy: expected logits of shape (N, C), got shape "
                         f"{logits.shape}")
    _same_length("top_k_accuracy", logits, target)
    if target.ndim != 1:
        raise ValueError(f"top_k_accuracy: expected targets of shape (N,), got {target.shape}")
    if not 1 <= k <= logits.shape[1]:
        raise ValueError(f"top_k_accuracy: k={k} must be between 1 and the number of classes "
                         f"{logits.shape[1]}")
    top = numpy.argpartition(-logits, k - 1, axis=1)[:, :k]
    return float((top == target[:, None]).any(axis=1).mean())


def confusion_matrix(pred, target, num_classes: int | None = None) -> numpy.ndarray:
    """Counts C[i, j] of samples of true class i predicted as class j."""
    pred = _class_indices("confusion_matrix", "predictions", _labels(pred))
    target = _class_indices("confusion_matrix", "targets", _array(target))
    _same_length("confusion_matrix", pred, target)
    largest = int(max(pred.max(initial=0), target.max(initial=0)))
    if num_classes is None:
        num_classes = largest + 1
    elif largest >= num_classes:
        raise ValueError(f"confusion_matrix: class {largest} does not fit num_classes="
                         f"{num_classes}; pass num_classes={largest + 1} or more")
    flat = target * num_classes + pred
    return numpy.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def precision_recall_f1(confusion: numpy.ndarray) -> dict:
    """Per-class precision TP/(TP+FP), recall TP/(TP+FN) and F1 (their harmonic mean), plus
    macro averages. A class never predicted (or never present) gets 0, as scikit-learn does."""
    confusion = numpy.asarray(confusion, dtype=numpy.float64)
    tp = numpy.diag(confusion)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = numpy.divide(tp, predicted, out=numpy.zeros_like(tp), where=predicted > 0)
    recall = numpy.divide(tp, actual, out=numpy.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = numpy.divide(2 * precision * recall, denom, out=numpy.zeros_like(tp), where=denom > 0)
    return {
        "precision": precision, "recall": recall, "f1": f1,
        "macro_precision": float(precision.mean()), "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
    }


def classification_report(pred, target, num_classes: int | None = None) -> str:
    """A text table of per-class precision, recall, F1 and support."""
    cm = confusion_matrix(pred, target, num_classes)
    scores = precision_recall_f1(cm)
    lines = [f"{'class':>5} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}"]
    for c in range(cm.shape[0]):
        lines.append(f"{c:>5} {scores['precision'][c]:>9.3f} {scores['recall'][c]:>7.3f} "
                     f"{scores['f1'][c]:>6.3f} {int(cm[c].sum()):>7}")
    lines.append(f"{'macro':>5} {scores['macro_precision']:>9.3f} {scores['macro_recall']:>7.3f} "
                 f"{scores['macro_f1']:>6.3f} {int(cm.sum()):>7}")
    return "\n".join(lines)
