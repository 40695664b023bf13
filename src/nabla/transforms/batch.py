"""Batch-level augmentation that mixes images *and* labels: MixUp and CutMix, with the API of
torchvision.transforms.v2 (``images, targets = mixup(images, labels)``).

Both pair each image with its neighbour in the batch (the batch rolled by one) and return soft
targets: lam * onehot(y) + (1 - lam) * onehot(y_rolled), which ``F.cross_entropy`` takes as
class probabilities. Like label smoothing, they stop the network from becoming over-confident;
unlike it, the softness is tied to what the input actually contains.
"""

import math

import numpy

from nabla.random import numpy_generator
from nabla.transforms.image import _unwrap, _wrap

__all__ = ["MixUp", "CutMix"]


class _BaseMix:
    def __init__(self, alpha: float = 1.0, num_classes: int | None = None,
                 generator=None) -> None:
        if alpha <= 0:
            raise ValueError(f"{type(self).__name__}: alpha must be > 0, got {alpha}")
        self.alpha, self.num_classes, self.generator = float(alpha), num_classes, generator
        self.lam: float | None = None  # the label weight of the last call

    def _targets(self, labels) -> numpy.ndarray:
        y, _ = _unwrap(labels)
        if y.ndim == 2 and y.dtype.kind == "f":  # already probabilities (e.g. mixed before)
            return y
        if y.ndim != 1 or y.dtype.kind not in "iu":
            raise ValueError(f"{type(self).__name__}: labels must be class indices of shape "
                             f"(N,) or probabilities (N, K); got {y.dtype} of shape {y.shape}")
        if self.num_classes is None:
            raise ValueError(f"{type(self).__name__}: num_classes is needed to one-hot the "
                             "labels")
        return numpy.eye(self.num_classes, dtype=numpy.float32)[y]

    def __call__(self, images, labels):
        x, is_tensor = _unwrap(images)
        if x.ndim < 2 or len(x) < 2:
            raise ValueError(f"{type(self).__name__}: expected a batch of at least two samples, "
                             f"got shape {x.shape}")
        y = self._targets(labels)
        lam = float(numpy_generator(self.generator).beta(self.alpha, self.alpha))
        mixed, lam = self._mix(x, numpy.roll(x, 1, axis=0), lam)
        self.lam = lam
        soft = (lam * y + (1.0 - lam) * numpy.roll(y, 1, axis=0)).astype(y.dtype)
        return _wrap(mixed, is_tensor), _wrap(soft, is_tensor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha}, num_classes={self.num_classes})"


class MixUp(_BaseMix):
    """MixUp (Zhang et al., 2018): x = lam * x_i + (1 - lam) * x_j, targets mixed with the same
    lam ~ Beta(alpha, alpha); j is i's neighbour in the batch.

    Args:
        alpha: the Beta distribution's parameter (1.0: lam uniform in [0, 1]).
        num_classes: to one-hot integer labels.
        generator: a ``nabla.Generator`` (default: the global one).

    Call: ``(images (N, ...), labels (N,) or (N, K)) -> (mixed images, targets (N, K))``;
    ``self.lam`` holds the lam of the last call.
    """

    def _mix(self, x, x_rolled, lam):
        return (lam * x + (1.0 - lam) * x_rolled).astype(x.dtype, copy=False), lam


class CutMix(_BaseMix):
    """CutMix (Yun et al., 2019): paste a rectangle of the neighbouring image; the label weight is
    the share of the image left uncovered.

    As torchvision: lam ~ Beta(alpha, alpha), a box of half-sides (0.5 sqrt(1 - lam) W,
    0.5 sqrt(1 - lam) H) around a uniformly random pixel, clipped to the image; the targets use
    lam = 1 - box area / (H W). ``self.box`` holds (x1, y1, x2, y2) of the last call.

    Args: as ``MixUp``; images must be (N, ..., H, W).
    """

    box: tuple | None = None

    def _mix(self, x, x_rolled, lam):
        h, w = x.shape[-2:]
        rng = numpy_generator(self.generator)
        r_x, r_y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = 0.5 * math.sqrt(1.0 - lam)
        r_w, r_h = int(r * w), int(r * h)
        x1, y1 = max(r_x - r_w, 0), max(r_y - r_h, 0)
        x2, y2 = min(r_x + r_w, w), min(r_y + r_h, h)
        out = x.copy()
        out[..., y1:y2, x1:x2] = x_rolled[..., y1:y2, x1:x2]
        self.box = (x1, y1, x2, y2)
        return out, 1.0 - (x2 - x1) * (y2 - y1) / (w * h)
