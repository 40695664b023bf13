"""Data augmentation and preprocessing with torchvision's API: ``from nabla import transforms``
where a PyTorch script has ``from torchvision import transforms``.

Per-image transforms (``image.py``) work on NumPy arrays or nabla tensors of shape (..., C, H, W)
and plug into a data set's ``transform``; MixUp and CutMix (``batch.py``) act on a whole batch
and its labels, as torchvision.transforms.v2's do. All random choices come from nabla's generator
(or a ``generator`` argument), so ``nabla.manual_seed`` makes them repeatable.
"""

from nabla.transforms.batch import CutMix, MixUp
from nabla.transforms.image import (
    Compose,
    Cutout,
    GaussianNoise,
    InterpolationMode,
    Lambda,
    Normalize,
    RandomCrop,
    RandomErasing,
    RandomHorizontalFlip,
    RandomRotation,
    RandomVerticalFlip,
    ToTensor,
    pad,
    rotate,
)

__all__ = ["Compose", "Lambda", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "InterpolationMode", "GaussianNoise",
           "RandomErasing", "Cutout", "MixUp", "CutMix", "pad", "rotate"]
