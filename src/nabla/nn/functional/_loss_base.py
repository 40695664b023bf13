"""What the loss files share: argument checks (each error names the loss, the shapes and the
fix) and the reduction helpers (arrays in forward; arrays or Tensors in backward)."""

from nabla.autograd.function import OpIndexError
from nabla.backend import array_module
from nabla.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def reduction_of(name: str, reduction: str, size_average=None, reduce=None, extra=()) -> str:
    """The reduction, with PyTorch's deprecated ``size_average`` / ``reduce`` taking priority."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    if reduction not in _REDUCTIONS + tuple(extra):
        choices = ", ".join(repr(r) for r in _REDUCTIONS + tuple(extra))
        raise ValueError(f"{name}: reduction must be one of {choices}, got {reduction!r}")
    return reduction


def _tensor(name: str, what: str, value) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: {what} must be a Tensor, got {type(value).__name__}")
    return value


def target_is_probabilities(name: str, input: Tensor, target: Tensor) -> bool:
    """True for float targets of the input's shape (probabilities), False for class indices;
    anything else is an error that shows both accepted forms."""
    _tensor(name, "input", input)
    _tensor(name, "target", target)
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point logits, got dtype {input.dtype}; "
                        "convert with input.float()")
    kind = target.dtype.kind
    if kind == "f" and target.shape == input.shape:
        return True
    if kind in "iu":
        return False
    shape = tuple(input.shape)
    index_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    raise TypeError(
        f"{name}: target of shape {tuple(target.shape)} and dtype {target.dtype} does not fit "
        f"input of shape {shape}: expected class indices of shape {index_shape} with an integer "
        f"dtype (convert with target.long()), or class probabilities of shape {shape} with a "
        "float dtype"
    )


def check_class_target(name: str, input: Tensor, target: Tensor) -> None:
    """Class-index target of shape (N, d1, ...) for input (N, C, d1, ...); the values' range is
    checked inside the op (``class_targets_in_range``), where the targets are read anyway."""
    _tensor(name, "target", target)
    shape = tuple(input.shape)
    if input.ndim < 2:
        raise ValueError(f"{name}: input must be (N, C, d1, ...) or (C,), got shape {shape}")
    expected = shape[:1] + shape[2:]
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected class indices of shape {expected} with an integer "
                        f"dtype for input of shape {shape}, got target of shape "
                        f"{tuple(target.shape)} and dtype {target.dtype}; convert with "
                        "target.long()")
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{name}: expected target of shape {expected} for input of shape {shape} (class "
            f"indices: the input's shape without the class dimension 1), got target of shape "
            f"{tuple(target.shape)}. For (N, L, C) logits, pass input.transpose(1, 2) or "
            "input.reshape(-1, C) with target.reshape(-1)."
        )


def class_targets_in_range(name: str, t, n_classes: int, ignore_index: int) -> bool:
    """Check that every class index of array ``t`` is in [0, C) or ``ignore_index``; return
    True when all are in [0, C) (one reduction in that common case: seen as unsigned, a
    negative index is a huge number)."""
    if not t.size or t.view(_UNSIGNED[t.itemsize]).max() < n_classes:
        return True
    kept = t[t != ignore_index]
    if kept.size and (kept.min() < 0 or kept.max() >= n_classes):
        bad = kept.min() if kept.min() < 0 else kept.max()
        raise OpIndexError(f"{name}: target {bad} is out of bounds for {n_classes} classes "
                           f"(expected 0 <= target < {n_classes}, or ignore_index="
                           f"{ignore_index})")
    return False


_UNSIGNED = {1: "u1", 2: "u2", 4: "u4", 8: "u8"}


def check_weight(name: str, weight, input: Tensor) -> None:
    """A class weight is a float tensor of shape (C,)."""
    if weight is None:
        return
    _tensor(name, "weight", weight)
    n_classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    if tuple(weight.shape) != (n_classes,) or weight.dtype.kind != "f":
        raise ValueError(f"{name}: weight must be a float tensor of shape ({n_classes},) (one "
                         f"per class), got shape {tuple(weight.shape)} and dtype {weight.dtype}")


def check_same_shape(name: str, input: Tensor, target: Tensor, fix: str) -> None:
    """Binary losses need a target of the input's exact shape (PyTorch does not broadcast)."""
    _tensor(name, "input", input)
    _tensor(name, "target", target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{name}: target of shape {tuple(target.shape)} must have the same shape "
                         f"as input {tuple(input.shape)}; {fix}")


# -- reductions ---------------------------------------------------------------------------------
def reduce_loss(loss, reduction: str, n=None):
    """Reduce a per-element loss array: as is, its sum, or its sum / n (default: its size)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction != "sum":
        n = loss.size if n is None else n
        total = total / n if n else total * float("nan")  # mean of nothing, as PyTorch
    return array_module(loss).asarray(total, dtype=loss.dtype)


def grad_scale(ctx, grad):
    """The upstream gradient of each element: ``grad`` ('none', 'sum') or ``grad / n``."""
    return grad if ctx.reduction in ("none", "sum") else grad / ctx.n


def raw(value):
    return value._data if isinstance(value, Tensor) else value


def like(grad, array):
    """``array`` as the kind of value the engine passed in: an array or a Tensor."""
    return Tensor._make(array) if isinstance(grad, Tensor) else array


def same_dtype(value, like: Tensor):
    """``value`` (a Tensor or None) cast to the input's float dtype, so weights and targets of
    another precision do not promote the loss (the cast is differentiable)."""
    if value is None or value.dtype == like.dtype or value.dtype.kind not in "fc":
        return value
    return value.to(like.dtype)
