"""Training checkpoints: model, optimizer, scheduler, random-number state, epoch and metrics in
one file written by ``nabla.save`` (no pickle, atomic). Loading one restores everything needed to
continue a run exactly as if it had never stopped."""

from nabla import random as _random
from nabla.serialization import load, save

FORMAT = "nabla-checkpoint"


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch: int = 0,
                    metrics: dict | None = None, history: dict | None = None,
                    generators: dict | None = None, extra: dict | None = None) -> None:
    """Write a checkpoint to ``path``.

    Args:
        path: file to write (replaced atomically).
        model: the ``nn.Module``; its ``state_dict()`` is stored.
        optimizer, scheduler: stored through their ``state_dict()`` when given.
        epoch: the number of epochs completed.
        metrics: the latest metrics (numbers).
        history: per-epoch metric lists, so plots of a resumed run are complete.
        generators: extra ``nabla.Generator`` objects to restore (e.g. a DataLoader's).
        extra: any other saveable values.
    """
    ckpt = {
        "format": FORMAT,
        "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "rng": _random.get_rng_state(),
        "generators": {k: g.get_state() for k, g in (generators or {}).items()},
        "metrics": dict(metrics or {}),
        "history": dict(history or {}),
        "extra": dict(extra or {}),
    }
    save(ckpt, path)


def load_checkpoint(path, model=None, optimizer=None, scheduler=None,
                    generators: dict | None = None, restore_rng: bool = True) -> dict:
    """Read a checkpoint and load its parts into the objects given; returns the checkpoint dict
    (``epoch``, ``metrics``, ``history``, ...). Raises a ValueError for a file that is not a nabla
    checkpoint."""
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"load_checkpoint: {str(path)!r} was written by nabla.save but is not a "
                         "training checkpoint (save_checkpoint writes those)")
    if model is not None:
        model.load_state_dict(ckpt["model"])
    if optimizer is not None:
        if ckpt["optimizer"] is None:
            raise ValueError(f"load_checkpoint: {str(path)!r} holds no optimizer state")
        optimizer.load_state_dict(ckpt["optimizer"])
    if scheduler is not None and ckpt["scheduler"] is not None:
        scheduler.load_state_dict(ckpt["scheduler"])
    if restore_rng:
        _random.set_rng_state(ckpt["rng"])
        for name, gen in (generators or {}).items():
            if name in ckpt["generators"]:
                gen.set_state(ckpt["generators"][name])
    return ckpt
