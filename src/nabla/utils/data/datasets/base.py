"""The in-memory dataset behind the built-in data sets: samples ``(x, y)`` as tensors."""

from collections.abc import Callable

from nabla.utils.data.dataset import TensorDataset


class ArrayDataset(TensorDataset):
    """Inputs and class labels held in memory, with torchvision's optional transforms.

    Without transforms the DataLoader batches it by slicing (the TensorDataset fast path).

    Args:
        data: inputs of shape (N, ...).
        targets: labels of shape (N,).
        transform: called on each input tensor when a sample is read.
        target_transform: called on each label tensor when a sample is read.
    """

    classes: list[str] = []

    def __init__(self, data, targets, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        super().__init__(data, targets)
        self.transform = transform
        self.target_transform = target_transform

    @property
    def targets(self):
        """The labels, a tensor of shape (N,)."""
        return self.tensors[1]

    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def _fast_arrays(self):
        if self.transform is not None or self.target_transform is not None:
            return None
        if type(self).__getitem__ is not ArrayDataset.__getitem__:
            return None
        return tuple(t._data for t in self.tensors), None

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(samples={len(self)}, "
                f"input_shape={tuple(self.tensors[0].shape[1:])}, classes={len(self.classes)})")
