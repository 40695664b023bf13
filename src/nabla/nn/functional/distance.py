"""Vector normalization and distances, derived from nabla ops (no rules of their own)."""

from nabla.ops.elementwise import clamp
from nabla.ops.linalg import norm
from nabla.ops.reduce import sum as _sum
from nabla.ops.shape import unsqueeze
from nabla.tensor import Tensor

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "cdist"]


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``.

    Args:
        input: any shape.
        p: the norm's exponent.
        dim: the dimension to normalize.
        eps: lower bound of the divisor (keeps zero vectors finite).

    Returns:
        same shape as input.
    """
    return input / clamp(norm(input, p, dim, keepdim=True), min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along ``dim`` (each side divided by
    its norm first, as PyTorch, so large vectors do not overflow).

    Args:
        x1, x2: broadcastable shapes.
        dim: the dimension of the vectors.

    Returns:
        the broadcast shape without ``dim``.
    """
    n1 = clamp(norm(x1, 2, dim, keepdim=True), min=eps)
    n2 = clamp(norm(x2, 2, dim, keepdim=True), min=eps)
    return _sum((x1 / n1) * (x2 / n2), dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension.

    Args:
        x1, x2: (N, D) or (D), broadcastable.

    Returns:
        (N) (or (N, 1) with keepdim).
    """
    return norm(x1 - x2 + eps, p, -1, keepdim=keepdim)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """||x1_i - x2_j||_p between every row i of x1 and row j of x2 (as torch.cdist; computed
    from the differences, so ``compute_mode`` changes nothing; a zero distance has gradient 0).

    Args:
        x1: (*, P, M); x2: (*, R, M), batch dims broadcastable.
        p: the norm's exponent (>= 0; inf for the largest difference; 0 counts the differing
            coordinates, without gradient).

    Returns:
        (*, P, R).
    """
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: expected (*, P, M) and (*, R, M) with the same M, got "
                           f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    if p < 0:
        raise RuntimeError(f"cdist: p must be >= 0, got {p}")
    return norm(unsqueeze(x1, -2) - unsqueeze(x2, -3), p, -1)
