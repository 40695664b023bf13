"""Schedulers made of schedulers (public as ``nabla.optim.lr_scheduler``): SequentialLR runs
them one after another, ChainedScheduler steps them together so their factors multiply."""

from bisect import bisect_right

from nabla.optim.lr_scheduler import LRScheduler, _group_lrs
from nabla.optim.lr_scheduler_adaptive import ReduceLROnPlateau
from nabla.optim.optimizer import Optimizer
from nabla.optim.validation import _check_state


def _check_schedulers(owner: str, optimizer: Optimizer, schedulers: list) -> None:
    if not isinstance(schedulers, (list, tuple)):
        raise TypeError(f"{owner}: schedulers must be a list of schedulers, got "
                        f"{type(schedulers).__name__}; write [scheduler]")
    if len(schedulers) < 1:
        raise ValueError(f"{owner} expects at least one scheduler, but got no scheduler.")
    for i, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{owner} at index {i} should have `optimizer` as its attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{owner} does not support `ReduceLROnPlateau` scheduler as it "
                             f"needs a metric in `step`, but got one at index {i}.")
        if optimizer is not scheduler.optimizer:
            raise ValueError(f"{owner} expects all schedulers to belong to the same optimizer, "
                             f"but the one at index {i} does not.")


def _check_milestones(milestones, n_schedulers: int) -> None:
    if not isinstance(milestones, (list, tuple)):
        raise TypeError(f"SequentialLR: milestones must be a list of epochs, got "
                        f"{type(milestones).__name__} {milestones!r}")
    if len(milestones) != n_schedulers - 1:
        raise ValueError("SequentialLR: Sequential Schedulers expects number of schedulers "
                         "provided to be one more than the number of milestone points, but got "
                         f"{n_schedulers} schedulers and {len(milestones)} milestones "
                         f"{list(milestones)}")
    if any(b <= a for a, b in zip(milestones, milestones[1:])):
        raise ValueError(f"SequentialLR: milestones must increase (the epochs at which the next "
                         f"scheduler takes over), got {list(milestones)}")


class _Combined(LRScheduler):
    """What SequentialLR and ChainedScheduler share: their state holds their schedulers'."""

    _schedulers: list

    def state_dict(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        owner = type(self).__name__
        _check_state(owner, state_dict)
        saved = state_dict.get("_schedulers")
        if not isinstance(saved, list) or len(saved) != len(self._schedulers):
            count = len(saved) if isinstance(saved, list) else "no"
            raise ValueError(f"{owner}.load_state_dict: the state holds {count} schedulers' "
                             f"states, but this {owner} has {len(self._schedulers)}")
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for s, state in zip(self._schedulers, saved, strict=True):
            s.load_state_dict(state)


class SequentialLR(_Combined):
    """Run schedulers one after another, switching at the milestones (e.g. warm-up, then decay).

    Example: ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt,
    95)], milestones=[5])``. At a milestone the next scheduler starts from its epoch 0.
    """

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list,
                 last_epoch: int = -1) -> None:
        _check_schedulers("SequentialLR", optimizer, schedulers)
        _check_milestones(milestones, len(schedulers))
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo(self)  # the sub-schedulers' constructors each took a step: take it back
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()

    def _undo(self, sched) -> None:
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._undo(s)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Combined):
    """Step several chainable schedulers together: their factors multiply (e.g. a constant
    warm-up factor times an exponential decay)."""

    def __init__(self, schedulers: list, optimizer: Optimizer | None = None) -> None:
        if isinstance(schedulers, (list, tuple)) and len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained, "
                             "but got no scheduler.")
        if optimizer is None and isinstance(schedulers, (list, tuple)):
            optimizer = getattr(schedulers[0], "optimizer", None)
        _check_schedulers("ChainedScheduler", optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _group_lrs(optimizer)

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = _group_lrs(self.optimizer)
