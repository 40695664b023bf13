"""``torch.cuda``'s questions, answered for nabla: no GPU backend yet, so the usual porting
line ``device = nabla.device("cuda" if nabla.cuda.is_available() else "cpu")`` picks the CPU,
and seeding helpers that also seed the GPU run unchanged. ``nabla.cuda.amp`` holds PyTorch's
deprecated ``torch.cuda.amp`` spellings."""

from nabla.cuda import amp

__all__ = ["amp", "is_available", "device_count", "manual_seed", "manual_seed_all",
           "synchronize"]


def is_available() -> bool:
    """False: nabla computes on the CPU (NumPy)."""
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Nothing to seed (no GPU stream); ``nabla.manual_seed`` seeds the CPU one."""


def manual_seed_all(seed: int) -> None:
    """Nothing to seed (no GPU stream)."""


def synchronize(device=None) -> None:
    """Nothing to wait for: CPU work is done when the call returns."""
