"""``torch.backends`` flags and ``torch.use_deterministic_algorithms``, which training scripts
set while seeding, accepted for porting: they change nothing here, because nabla's CPU results
are already deterministic (the same inputs give the same bits, threads or not)."""

from types import SimpleNamespace

__all__ = ["cudnn", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled"]

cudnn = SimpleNamespace(enabled=False, deterministic=False, benchmark=False)
_deterministic = {"mode": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded for ``are_deterministic_algorithms_enabled``; every nabla op is deterministic."""
    _deterministic["mode"] = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["mode"]
