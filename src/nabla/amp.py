"""Mixed precision's two tools, as ``torch.amp``: ``GradScaler`` (loss scaling) and ``autocast``.

Loss scaling. In float16 a small gradient rounds to zero (underflow). Multiplying the loss by a
large factor S multiplies every gradient by S, lifting them into range; before the update the
gradients are divided by S again. If any scaled gradient overflowed to inf or NaN, the step is
skipped and S halves; after ``growth_interval`` good steps in a row S doubles. So S settles
just below the largest value that does not overflow::

    scaler = nabla.amp.GradScaler("cpu")
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()      # gradients of S * loss
        scaler.unscale_(optimizer)         # optional: true gradients, e.g. to clip them
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)             # unscales if needed; skipped if a gradient is inf/NaN
        scaler.update()                    # S halves after a skipped step, doubles after good ones

``GradScaler("cpu")`` scales, as PyTorch's does on the CPU. For any other device it warns and
is disabled (``scale`` returns the loss, ``step`` just steps), as PyTorch's ``GradScaler("cuda")``
on a machine without CUDA: nabla computes on the CPU.

``autocast`` runs its block in full precision: nabla has no reduced-precision kernels (NumPy has
no bfloat16, and its float16 matrix products are slower than float32 ones). Enabled, it warns
once per use and is disabled, as PyTorch's autocast for a device it does not have.
"""

import functools
import math
import warnings

import numpy

from nabla.autograd.grad_mode import no_grad
from nabla.tensor import Tensor

__all__ = ["GradScaler", "autocast", "is_autocast_enabled"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """Dynamic loss scaling (see the module's docstring), with ``torch.amp.GradScaler``'s
    arguments, methods, errors and ``state_dict``.

    Args:
        device: "cpu" scales; another device type warns and disables the scaler.
        init_scale: the first scale factor S (default: 2**16).
        growth_factor: S *= growth_factor after ``growth_interval`` steps without inf/NaN.
        backoff_factor: S *= backoff_factor after a step with inf/NaN gradients (skipped).
        growth_interval: good steps in a row before S grows (default: 2000).
        enabled: False makes every method a pass-through.
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = str(device)
        if enabled and self._device.partition(":")[0] != "cpu":
            warnings.warn(f"GradScaler is enabled for device {self._device!r}, which nabla does "
                          "not have (it computes on the CPU): disabling it, as PyTorch does "
                          "without CUDA. Use GradScaler('cpu') to scale losses on the CPU.",
                          stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        if self._enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
            if not backoff_factor < 1.0:
                raise ValueError(f"GradScaler: backoff_factor must be < 1.0, got "
                                 f"{backoff_factor}")
            self._scale = numpy.float32(init_scale)  # float32, as PyTorch's scale tensor
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._growth_tracker = 0
        self._per_optimizer: dict = {}  # id(optimizer) -> {"stage", "found_inf"}

    # -- the training step ----------------------------------------------------------------------
    def scale(self, outputs):
        """``outputs`` times the scale factor: a Tensor, or lists / tuples of them."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * float(self._scale)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError(f"GradScaler.scale: outputs must be a Tensor or an iterable of Tensors, "
                         f"got {type(outputs).__name__}")

    def unscale_(self, optimizer) -> None:
        """Divide the gradients of ``optimizer``'s parameters by the scale, in place, and record
        whether any is inf or NaN. At most once per optimizer between two ``update`` calls."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = float(numpy.float32(1.0 / float(self._scale)))  # PyTorch's float32 inverse
        found_inf = None
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    if g.dtype == numpy.float16:
                        raise ValueError("Attempting to unscale FP16 gradients: keep the "
                                         "parameters (and so their gradients) in float32.")
                    found_inf = bool(found_inf) or not numpy.isfinite(g._data).all()
                    g.mul_(inv_scale)
        state["found_inf"] = found_inf  # None: no gradient at all
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` on the unscaled gradients, unless one is inf or
        NaN (then the step is skipped and None returned)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None) -> None:
        """Set the scale for the next step: ``new_scale`` if given, else back off after an
        inf/NaN gradient or grow after ``growth_interval`` clean steps."""
        if not self._enabled:
            return
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise ValueError("GradScaler.update: new_scale should be a float or a "
                                     "1-element tensor with requires_grad=False")
                new_scale = new_scale.item()
            self._scale = numpy.float32(new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer.values()
                     if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale = numpy.float32(float(self._scale) * self._backoff_factor)
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    with numpy.errstate(over="ignore"):  # checked: PyTorch keeps S then
                        grown = numpy.float32(float(self._scale) * self._growth_factor)
                    if math.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def _state(self, optimizer) -> dict:
        return self._per_optimizer.setdefault(id(optimizer),
                                              {"stage": _READY, "found_inf": None})

    # -- settings and state ---------------------------------------------------------------------
    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        """The current scale factor (1.0 when disabled)."""
        return float(self._scale) if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def state_dict(self) -> dict:
        """Scale, factors, interval and growth tracker (empty when disabled), as PyTorch."""
        if not self._enabled:
            return {}
        return {"scale": float(self._scale), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = numpy.float32(_number(state_dict["scale"]))
        self._growth_factor = _number(state_dict["growth_factor"])
        self._backoff_factor = _number(state_dict["backoff_factor"])
        self._growth_interval = int(_number(state_dict["growth_interval"]))
        self._growth_tracker = int(_number(state_dict["_growth_tracker"]))


def _number(value) -> float:
    """A state_dict entry as a Python number (it may come back from a checkpoint as a 0-d
    tensor or array)."""
    return value.item() if hasattr(value, "item") else value


class autocast:
    """``torch.autocast``'s context manager and decorator; nabla runs the block in full
    precision (see the module's docstring), warning when asked for mixed precision.

    Args:
        device_type: "cpu", "cuda", ... (a string, as PyTorch).
        dtype: the reduced precision asked for (unused).
        enabled: False: no warning, nothing to do.
        cache_enabled: accepted for PyTorch compatibility.
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled=None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: expected device_type of type str (e.g. 'cpu'), got "
                             f"{type(device_type).__name__}")
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = False
        if enabled:
            reason = ("nabla has no reduced-precision kernels (NumPy has no bfloat16, and its "
                      "float16 matrix products are slower than float32 ones)"
                      if device_type == "cpu" else
                      f"device_type {device_type!r} is not available (nabla computes on the CPU)")
            warnings.warn(f"autocast: {reason}: running in full precision. Pass enabled=False "
                          "to silence this.", stacklevel=2)

    def __enter__(self) -> "autocast":
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """False: nabla never autocasts."""
    return False
