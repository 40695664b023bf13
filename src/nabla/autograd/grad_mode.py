"""Grad mode: whether ops record the graph (thread-local, as in PyTorch); anomaly mode (see
anomaly.py; process-wide, as PyTorch's); and the active tracer of ``nabla.jit.trace`` (see jit.py).
The only global switches of autograd."""

import functools
import threading


class _GradMode(threading.local):
    enabled = True  # the class attribute is each thread's starting value


class _AnomalyMode:
    """Process-wide: read by every op, so a plain attribute (a thread-local read costs more)."""

    __slots__ = ("mode",)

    def __init__(self) -> None:
        self.mode = False  # False, "trace" (record where ops are created) or "check" (and raise)


class _TraceState:
    """The tracer of ``nabla.jit.trace`` while it records a function, else None. Process-wide
    (a plain attribute, read by every op); the tracer ignores ops run by other threads."""

    __slots__ = ("tracer",)

    def __init__(self) -> None:
        self.tracer = None


_mode = _GradMode()
_anomaly = _AnomalyMode()
_trace = _TraceState()


def is_grad_enabled() -> bool:
    return _mode.enabled


class set_grad_enabled:
    """Context manager and decorator that turns graph recording on or off.

    As a plain call, ``set_grad_enabled(False)`` switches the mode at once, as in PyTorch.
    """

    def __init__(self, mode: bool) -> None:
        self.prev = _mode.enabled
        self.mode = bool(mode)
        _mode.enabled = self.mode

    def __enter__(self) -> None:
        _mode.enabled = self.mode

    def __exit__(self, *exc) -> None:
        _mode.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.mode):
                return fn(*args, **kwargs)

        _mode.enabled = self.prev  # creating the decorator must not change the mode
        return wrapper


class _ModeContext:
    """Base of no_grad / enable_grad: usable as ``with no_grad():``, as ``@no_grad()`` and, as
    in PyTorch, as a bare ``@no_grad``."""

    mode = True

    def __new__(cls, func=None):
        if func is None:
            return super().__new__(cls)
        return cls()(func)  # bare decorator: no_grad(func)

    def __enter__(self) -> None:
        self.prev = _mode.enabled
        _mode.enabled = self.mode

    def __exit__(self, *exc) -> None:
        _mode.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_ModeContext):
    """Ops inside record no graph: for evaluation and parameter updates."""

    mode = False


class enable_grad(_ModeContext):
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class _InferenceMode(threading.local):
    enabled = False


_inference = _InferenceMode()


class inference_mode:
    """no_grad that also makes ``is_inference_mode_enabled()`` True, as ``torch.inference_mode``:
    ``with inference_mode():``, ``@inference_mode()``, bare ``@inference_mode``;
    ``inference_mode(False)`` leaves grad mode as it is. (Tensors made inside are ordinary
    tensors: nabla does not mark them, so ``is_inference()`` is False.)"""

    def __new__(cls, mode=True):
        if callable(mode):  # bare decorator: @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self.prev = (_mode.enabled, _inference.enabled)
        _inference.enabled = self.mode
        if self.mode:
            _mode.enabled = False

    def __exit__(self, *exc) -> None:
        _mode.enabled, _inference.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self.mode):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    return _inference.enabled
