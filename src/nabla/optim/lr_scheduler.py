"""Learning-rate schedulers, with the API and the exact lr sequences of ``torch.optim``.

A scheduler rewrites ``group["lr"]`` of its optimizer's parameter groups each time its
``step()`` is called (once per epoch, or per batch for OneCycleLR), after ``optimizer.step()``.
Most schedules here are *chainable* as in PyTorch: each step multiplies the current lr by a
factor, so two schedulers can act on the same optimizer. ``step(epoch)`` (deprecated in PyTorch)
uses the closed form instead.

CosineAnnealingWarmRestarts, OneCycleLR and ReduceLROnPlateau live in ``lr_scheduler_adaptive.py``,
CyclicLR in ``lr_scheduler_cyclic.py``, the combinators SequentialLR and ChainedScheduler in
``lr_scheduler_combined.py``; all are re-exported here.
"""

import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter

from nabla.optim.optimizer import Optimizer
from nabla.optim.validation import _check, _check_state, _factor, _positive_int

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available."
)


def _group_lrs(optimizer: Optimizer, key: str = "lr") -> list:
    return [group[key] for group in optimizer.param_groups]


def _check_optimizer(owner: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        kind = type(optimizer)
        name = kind.__name__ if kind.__module__.startswith("nabla") else \
            f"{kind.__module__}.{kind.__qualname__}"
        raise TypeError(f"{owner}: {name} is not an Optimizer; build the scheduler on a "
                        f"nabla.optim optimizer, e.g. {owner}(optim.SGD(model.parameters()), ...)")


class LRScheduler:
    """Base class: keeps ``last_epoch`` and ``base_lrs`` and writes new lrs into the groups.

    Args:
        optimizer: the wrapped optimizer.
        last_epoch: index of the last epoch; -1 starts the schedule (and stores each group's lr
            as ``initial_lr``); to resume, pass the epoch and have ``initial_lr`` in the groups.
    """

    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming a scheduler with last_epoch >= 0: load the "
                                   "optimizer's state_dict first")
        self.base_lrs = _group_lrs(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Set the lrs of epoch ``last_epoch + 1`` (epoch 0 for a fresh schedule)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict:
        """Every attribute except the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        _check_state(type(self).__name__, state_dict)
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list:
        """The lrs set by the last ``step()``, one per parameter group."""
        return self._last_lr

    def get_lr(self) -> list:
        """The lrs for epoch ``last_epoch`` (chainable form); implemented by each schedule."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``, deprecated) and update the groups' lrs."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = _group_lrs(self.optimizer)


_LRScheduler = LRScheduler  # PyTorch's old name


def _lambdas(owner: str, optimizer: Optimizer, lr_lambda) -> list:
    """One function of the epoch per parameter group (one function is shared by all)."""
    _check_optimizer(owner, optimizer)
    groups = len(optimizer.param_groups)
    if not isinstance(lr_lambda, (list, tuple)):
        lr_lambda = [lr_lambda] * groups
    elif len(lr_lambda) != groups:
        raise ValueError(f"{owner}: Expected {groups} lr_lambdas, but got {len(lr_lambda)} (one "
                         f"per parameter group, or a single function for all)")
    for fn in lr_lambda:
        if not callable(fn):
            raise TypeError(f"{owner}: lr_lambda should be a function of the epoch, such as "
                            f"lambda epoch: 0.95 ** epoch, but got {type(fn).__name__}")
    return list(lr_lambda)


class _LambdaState:
    """state_dict of schedulers holding functions: plain functions are not saved, callable
    objects save their ``__dict__`` (as PyTorch does)."""

    def state_dict(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        _check_state(type(self).__name__, state_dict)
        state = {k: v for k, v in state_dict.items() if k != "lr_lambdas"}
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, state_dict["lr_lambdas"], strict=True):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaState, LRScheduler):
    """lr = initial_lr · lr_lambda(epoch): any schedule given as a function of the epoch."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas("LambdaLR", optimizer, lr_lambda)
        self.optimizer = optimizer
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        return [base * _factor("LambdaLR", fn, self.last_epoch)
                for fn, base in zip(self.lr_lambdas, self.base_lrs, strict=True)]


class MultiplicativeLR(_LambdaState, LRScheduler):
    """lr ← lr · lr_lambda(epoch) at every epoch after the first."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas("MultiplicativeLR", optimizer, lr_lambda)
        self.optimizer = optimizer
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self._is_initial:
            return _group_lrs(self.optimizer)
        return [g["lr"] * _factor("MultiplicativeLR", fn, self.last_epoch)
                for fn, g in zip(self.lr_lambdas, self.optimizer.param_groups, strict=True)]


class StepLR(LRScheduler):
    """lr = initial_lr · gamma^(epoch // step_size): decay by gamma every step_size epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if not (isinstance(step_size, float) and step_size > 0):  # torch takes 1.0 or 2.5 too
            _positive_int("StepLR", "step_size", step_size)
        _check("StepLR", "gamma", gamma)  # a negative lr would climb the loss
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _group_lrs(self.optimizer)
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base * self.gamma ** (self.last_epoch // self.step_size)
                for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = initial_lr · gamma^(number of milestones passed)."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        try:
            self.milestones = Counter(milestones)
        except TypeError:
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs such as [30, 80], "
                            f"got {type(milestones).__name__} {milestones!r}") from None
        _check("MultiStepLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch not in self.milestones:
            return _group_lrs(self.optimizer)
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [g["lr"] * factor for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = initial_lr · factor until epoch total_iters, then initial_lr."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError(f"ConstantLR: Constant multiplicative factor expected to be between "
                             f"0 and 1, got {factor}.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return _group_lrs(self.optimizer)
        if self.factor == 0:  # lr 0 cannot be divided back (PyTorch: ZeroDivisionError)
            return list(self.base_lrs)
        return [g["lr"] * (1.0 / self.factor) for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class LinearLR(LRScheduler):
    """lr goes linearly from initial_lr · start_factor to initial_lr · end_factor over
    total_iters epochs (a linear warm-up when start_factor < end_factor)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                             "less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0:
            return [g["lr"] * self.start_factor for g in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_lrs(self.optimizer)
        span = self.end_factor - self.start_factor
        factor = 1.0 + span / (self.total_iters * self.start_factor
                               + (self.last_epoch - 1) * span)
        return [g["lr"] * factor for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        span = self.end_factor - self.start_factor
        return [base * (self.start_factor
                        + span * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = initial_lr · gamma^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self._is_initial:
            return _group_lrs(self.optimizer)
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = initial_lr · (1 - min(epoch, total_iters) / total_iters)^power."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_lrs(self.optimizer)
        factor = ((1.0 - self.last_epoch / self.total_iters)
                  / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [g["lr"] * factor for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters)
                ** self.power for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing (SGDR without restarts)::

        lr_t = η_min + (initial_lr - η_min) · (1 + cos(π·t / T_max)) / 2

    computed recursively as PyTorch does; past T_max the cosine continues (the lr rises again).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not isinstance(T_max, numbers.Real) or T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive number of epochs (the "
                             f"half period of the cosine), got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        groups = self.optimizer.param_groups
        t, T, eta = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return _group_lrs(self.optimizer)
        if self._step_count == 1 and t > 0:
            return [eta + (base - eta) * (1 + math.cos(t * math.pi / T)) / 2
                    for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [g["lr"] + (base - eta) * (1 - math.cos(math.pi / T)) / 2
                    for base, g in zip(self.base_lrs, groups, strict=True)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (g["lr"] - eta) + eta for g in groups]

    def _get_closed_form_lr(self) -> list:
        return [self.eta_min + (base - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]


from nabla.optim.lr_scheduler_adaptive import (  # noqa: E402
    CosineAnnealingWarmRestarts,
    OneCycleLR,
    ReduceLROnPlateau,
)
from nabla.optim.lr_scheduler_combined import ChainedScheduler, SequentialLR  # noqa: E402
from nabla.optim.lr_scheduler_cyclic import CyclicLR  # noqa: E402

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "SequentialLR",
           "ChainedScheduler", "CosineAnnealingWarmRestarts", "OneCycleLR", "CyclicLR",
           "ReduceLROnPlateau"]
