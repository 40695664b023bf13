"""CyclicLR (public as ``nabla.optim.lr_scheduler``): the lr goes back and forth between two
bounds, per batch. Kept apart from ``lr_scheduler_adaptive.py`` (OneCycleLR's file) to keep
both files short."""

import math
import types

from nabla.optim.lr_scheduler import LRScheduler, _check_optimizer
from nabla.optim.lr_scheduler_adaptive import _per_group
from nabla.optim.optimizer import Optimizer
from nabla.optim.validation import _check_state

_MODES = ("triangular", "triangular2", "exp_range")


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017): per batch, up from ``base_lr`` to ``max_lr`` in
    ``step_size_up`` steps and back down in ``step_size_down``, with the amplitude scaled::

        c = ⌊1 + t / T⌋,   x = 1 + t / T - c              (T = up + down, t = last_epoch)
        h = x / r  if x ≤ r  else  (x - 1) / (r - 1)       (r = up / T; h: 0 -> 1 -> 0)
        lr = base_lr + (max_lr - base_lr)·h·f(c or t)
        momentum = max_momentum - (max_momentum - base_momentum)·h·f(c or t)

    ``f`` is 1 ('triangular'), 1/2^(c-1) ('triangular2': halved each cycle) or γ^t
    ('exp_range'), or ``scale_fn`` of the cycle c (``scale_mode='cycle'``) or of the step t
    ('iterations'). With ``cycle_momentum`` the momentum (SGD, RMSprop) or β1 (Adam and its
    relatives) moves opposite to the lr. Call ``step()`` after every batch.

    Args:
        optimizer: the wrapped optimizer.
        base_lr: the lower bound of the lr (one per group, or one for all).
        max_lr: the upper bound of the lr (one per group, or one for all).
        step_size_up: steps from base_lr up to max_lr (default: 2000).
        step_size_down: steps back down (default: step_size_up).
        mode: 'triangular', 'triangular2' or 'exp_range' (ignored when scale_fn is given).
        gamma: γ of 'exp_range' (default: 1.0).
        scale_fn: a function of one argument, with ``0 ≤ scale_fn(x) ≤ 1``, for custom cycles.
        scale_mode: 'cycle' or 'iterations', what ``scale_fn`` is a function of.
        cycle_momentum: cycle the momentum too (default: True).
        base_momentum: its lower bound (default: 0.8).
        max_momentum: its upper bound (default: 0.9).
        last_epoch: index of the last batch; -1 starts the schedule.
    """

    def __init__(self, optimizer: Optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular", gamma: float = 1.0,
                 scale_fn=None, scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum=0.8, max_momentum=0.9, last_epoch: int = -1) -> None:
        _check_optimizer("CyclicLR", optimizer)
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        up, down = _step_sizes(step_size_up, step_size_down)
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in _MODES and scale_fn is None:
            raise ValueError(f"CyclicLR: mode is invalid and scale_fn is None: mode {mode!r} "
                             f"must be one of {_MODES}, or pass scale_fn")
        if scale_fn is not None and scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations' (what "
                             f"scale_fn is a function of), got {scale_mode!r}")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"CyclicLR: scale_fn must be a function of one argument, got "
                            f"{type(scale_fn).__name__}")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._init_momentum(base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        """The built-in modes fix what their scale is a function of, as in PyTorch."""
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def _init_momentum(self, base_momentum, max_momentum, last_epoch: int) -> None:
        optimizer = self.optimizer
        if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError(f"CyclicLR: optimizer must support momentum or beta1 with "
                             f"`cycle_momentum` option enabled ({type(optimizer).__name__} "
                             f"has neither); pass cycle_momentum=False")
        self.use_beta1 = "betas" in optimizer.defaults
        self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
        self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
        if last_epoch == -1:
            for m_max, m_base, group in zip(self.max_momentums, self.base_momentums,
                                            optimizer.param_groups, strict=True):
                self._set_momentum(group, m_max)
                group["max_momentum"] = m_max
                group["base_momentum"] = m_base

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def scale_fn(self, x) -> float:
        """The amplitude's factor at ``x`` (the cycle, or the step for 'iterations')."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * height * scale
               for base, top in zip(self.base_lrs, self.max_lrs, strict=True)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums, strict=True):
                self._set_momentum(group, high - (high - low) * height * scale)
        return lrs

    def state_dict(self) -> dict:
        """As PyTorch's: a scale_fn is saved only as a callable object's ``__dict__``."""
        state = {k: v for k, v in self.__dict__.items() if k != "optimizer"}
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None
        if fn is not None and not isinstance(fn, types.FunctionType):
            state["_scale_fn_custom"] = fn.__dict__.copy()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        _check_state("CyclicLR", state_dict)
        state = {k: v for k, v in state_dict.items() if k != "_scale_fn_custom"}
        self.__dict__.update(state)
        saved = state_dict.get("_scale_fn_custom")
        if saved is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(saved)
        self._init_scale_fn()


def _step_sizes(step_size_up, step_size_down) -> tuple[float, float]:
    """The up and down lengths as floats; PyTorch divides by zero on an empty rise."""
    up = float(step_size_up)
    down = float(step_size_down) if step_size_down is not None else up
    if not up > 0 or not down >= 0:
        raise ValueError(f"CyclicLR: step_size_up must be positive and step_size_down "
                         f"non-negative (numbers of batches), got step_size_up={step_size_up}, "
                         f"step_size_down={step_size_down}")
    return up, down
