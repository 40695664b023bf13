"""Anomaly detection: find the first op that produced a NaN or an infinity.

Under ``with nabla.autograd.detect_anomaly():`` every op checks its output as it runs forward,
remembers where in the user's code it was called, and every backward rule checks the gradients it
returns. The first non-finite value raises an error that names the op, its input shapes, whether
its inputs were already non-finite (then the cause is upstream) and the line that created it.
It costs time: use it to debug, not to train.
"""

import os
import sys

from nabla.autograd.grad_mode import _anomaly as _anomaly_mode
from nabla.backend import array_module

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class detect_anomaly:
    """Context manager (and decorator) turning anomaly detection on; ``check_nan=False`` keeps
    the creation traces but skips the checks."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self.prev = _anomaly_mode.mode
        _anomaly_mode.mode = "check" if self.check_nan else "trace"

    def __exit__(self, *exc) -> None:
        _anomaly_mode.mode = self.prev

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


def set_detect_anomaly(mode: bool, check_nan: bool = True) -> None:
    _anomaly_mode.mode = ("check" if check_nan else "trace") if mode else False


def is_anomaly_enabled() -> bool:
    return bool(_anomaly_mode.mode)


def user_frame() -> str:
    """'file:line in function: source' of the innermost caller outside nabla's own code."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    import linecache

    code = frame.f_code
    line = linecache.getline(code.co_filename, frame.f_lineno).strip()
    return f"{code.co_filename}:{frame.f_lineno} in {code.co_name}: {line}"


def _count_bad(array) -> int:
    xp = array_module(array)
    if getattr(array, "dtype", None) is None or array.dtype.kind not in "fc":
        return 0
    return int(array.size - xp.isfinite(array).sum())


def _largest(outs) -> str:
    """'float32's largest value, 3.4e+38' for the first floating output (or a generic phrase)."""
    for o in outs:
        if getattr(o, "dtype", None) is not None and o.dtype.kind == "f":
            return f"{o.dtype}'s largest value, {float(array_module(o).finfo(o.dtype).max):.2g}"
    return "the dtype's largest value"


def _describe(arrays) -> str:
    parts = []
    for a in arrays:
        if hasattr(a, "shape"):
            bad = _count_bad(a)
            parts.append(f"{tuple(a.shape)} ({bad} non-finite)" if bad else f"{tuple(a.shape)}")
        else:
            parts.append(repr(a))
    return ", ".join(parts)


def check_forward(cls, ctx, raw, out) -> None:
    """Called by Op.apply in anomaly mode: remember the caller, check the output."""
    ctx._anomaly_trace = user_frame()
    if _anomaly_mode.mode != "check":
        return
    outs = out if type(out) is tuple else (out,)
    bad = sum(_count_bad(o) for o in outs if hasattr(o, "shape"))
    if not bad:
        return
    inputs_bad = any(_count_bad(r) for r in raw if hasattr(r, "shape"))
    cause = ("its inputs were already non-finite, so the cause is upstream (the data, or an op "
             "run outside anomaly mode)" if inputs_bad else
             "its inputs were finite, so this op produced them: check its domain (log or sqrt "
             f"of negatives, division by zero) or an overflow past {_largest(outs)} (exp of a "
             "large value, or values that grew step after step: exploding activations or "
             "gradients; lower the learning rate, clip gradients)")
    raise FloatingPointError(
        f"detect_anomaly: {cls.name()} (forward) produced {bad} NaN/Inf value(s). "
        f"Inputs: {_describe(raw)}; {cause}. Called at {ctx._anomaly_trace}"
    )


def check_backward(fn, grads_out, grads_in) -> None:
    """Called by the engine in anomaly mode after each backward rule."""
    if _anomaly_mode.mode != "check":
        return
    arrays_out = [getattr(g, "_data", g) for g in grads_out if g is not None]
    for i, g in enumerate(grads_in):
        if g is None:
            continue
        bad = _count_bad(getattr(g, "_data", g))
        if not bad:
            continue
        incoming_bad = any(_count_bad(a) for a in arrays_out)
        cause = ("the gradient flowing into it was already non-finite" if incoming_bad else
                 "the gradient flowing into it was finite, so its rule produced them (e.g. "
                 "sqrt or log at 0, a division by a tiny number)")
        where = getattr(fn, "_anomaly_trace", "<recorded outside anomaly mode>")
        raise FloatingPointError(
            f"detect_anomaly: {fn.name()}Backward returned {bad} NaN/Inf value(s) in the "
            f"gradient of its input {i} (shape {tuple(g.shape)}); {cause}. The op was created "
            f"at {where}"
        )
