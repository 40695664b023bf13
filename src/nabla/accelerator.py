"""``torch.accelerator``'s questions, answered for nabla: no accelerator backend yet, so the
porting line ``device = nabla.accelerator.current_accelerator().type if
nabla.accelerator.is_available() else "cpu"`` picks the CPU."""

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "synchronize"]


def is_available() -> bool:
    """False: nabla computes on the CPU (NumPy)."""
    return False


def current_accelerator(check_available: bool = False):
    """The accelerator's device type, or None: there is none (the CPU is not one)."""
    return None


def device_count() -> int:
    return 0


def current_device_index() -> int:
    """Raises: there is no accelerator device to index."""
    raise RuntimeError("accelerator.current_device_index: nabla has no accelerator backend; "
                       "check accelerator.is_available() first and use the 'cpu' device")


def synchronize(device=None) -> None:
    """Nothing to wait for: CPU work is done when the call returns."""
