"""``torch.backends`` flags and ``torch.use_deterministic_algorithms``, which training scripts
set while seeding, accepted for porting: they change nothing here, because nabla's CPU results
are already deterministic (the same inputs give the same bits, threads or not)."""

from types import SimpleNamespace

__all__ = ["cudnn", "mps", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled"]

cudnn = SimpleNamespace(enabled=False, deterministic=False, benchmark=False)


def _no_metal() -> bool:
    """nabla has no Metal (Apple GPU) backend: scripts that probe for one pick the CPU."""
    return False


mps = SimpleNamespace(is_available=_no_metal, is_built=_no_metal)
_deterministic = {"mode": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded for ``are_deterministic_algorithms_enabled``; every nabla op is deterministic."""
    _deterministic["mode"] = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["mode"]
