"""Embedding lookup and one-hot encoding."""

from functools import partial

from nabla.autograd.function import Op
from nabla.autograd.grad_mode import no_grad
from nabla.backend import array_module
from nabla.ops.reduce import _plain
from nabla.tensor import Tensor

__all__ = ["embedding", "one_hot"]


class Embedding(Op):
    """y = W[idx];  dy/dW = grad rows added into the rows named by idx (padding_idx's row gets
    nothing)."""

    @staticmethod
    def forward(ctx, w, idx, padding_idx):
        ctx.save_for_backward(idx)
        ctx.num, ctx.padding_idx = w.shape[0], padding_idx
        return w[idx]

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_tensors
        return EmbeddingBackward.apply(grad, idx, ctx.num, ctx.padding_idx), None, None


class EmbeddingBackward(Op):
    """G = zeros(num, E) with grad's rows added at idx (scatter-add);  dG/dgrad = G's gradient
    gathered back at idx (zero where idx is padding_idx)."""

    @staticmethod
    def forward(ctx, grad, idx, num, padding_idx):
        ctx.save_for_backward(idx)
        ctx.padding_idx = padding_idx
        xp = array_module(grad)
        flat = idx.reshape(-1)
        g2 = grad.reshape(flat.size, -1)
        out = xp.zeros((num, g2.shape[1]), grad.dtype)
        xp.add.at(out, flat, g2)
        if padding_idx is not None:
            out[padding_idx] = 0
        return out

    @staticmethod
    def backward(ctx, gg):
        (idx,) = ctx.saved_tensors
        grad_grad = Embedding.apply(gg, idx, None)
        if ctx.padding_idx is not None:
            keep = array_module(idx._data).expand_dims(idx._data != ctx.padding_idx, -1)
            grad_grad = grad_grad * Tensor._make(keep)
        return grad_grad, None, None, None


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` selected by the integer ``input``.

    Args:
        input: integer indices, any shape (*).
        weight: (num_embeddings, embedding_dim).
        padding_idx: the row that gets no gradient (negative counts from the end).
        max_norm: rows looked up are first renormalized in place to at most this norm.

    Returns:
        (*, embedding_dim).
    """
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    idx = input._data if isinstance(input, Tensor) else array_module(input).asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: expected integer indices (Long), got {idx.dtype}")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError(f"embedding: index out of range for {num} embeddings "
                         f"(got indices in [{idx.min()}, {idx.max()}])")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, Tensor._make(idx), padding_idx)


def _renorm_rows(weight: Tensor, idx, max_norm: float, norm_type: float) -> None:
    """Scale the rows named in ``idx`` whose norm exceeds ``max_norm`` down to it, in place."""
    xp = array_module(weight._data)
    rows = xp.unique(idx.reshape(-1))
    with no_grad():
        w = weight._data
        norms = xp.sum(xp.abs(w[rows]) ** norm_type, axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        w[rows] *= scale[:, None].astype(w.dtype)
        weight._version[0] += 1


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer classes (*) -> int64 one-hot (*, num_classes); -1 infers max + 1."""
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    top = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or (num_classes != -1 and top > num_classes)):
        raise RuntimeError(f"one_hot: class values must be in [0, num_classes="
                           f"{top if num_classes == -1 else num_classes}), got values in "
                           f"[{idx.min()}, {idx.max()}]")
    return _plain(partial(_one_hot, num_classes=num_classes), tensor)


def _one_hot(idx, num_classes: int):
    """(*) integer array -> (*, num_classes) int64 one-hot array; num_classes -1 is the largest
    class + 1 (computed here, so a jit.trace replay counts the classes of its own input)."""
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    return (idx[..., None] == array_module(idx).arange(num_classes)).astype("int64")
