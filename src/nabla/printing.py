"""How tensors print: ``repr(tensor)`` as PyTorch prints it, and ``nabla.set_printoptions``, as
``torch.set_printoptions``.

The options are cosmetic process-wide state (as PyTorch's): they change ``repr`` only, never a
value or a gradient.
"""

import sys

from nabla import dtype as _dt
from nabla.backend import array_module

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80),
}

options = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print.

    Args:
        precision: digits after the decimal point (default 4).
        threshold: number of elements above which the middle is summarized with "..."
            (default 1000).
        edgeitems: elements shown at each end of a summarized dimension (default 3).
        linewidth: characters per line before wrapping (default 80).
        profile: "default", "short" or "full" (all elements), applied before the others.
        sci_mode: True for scientific notation, False for none, None to decide per tensor.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        options.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            options[key] = value
    options["sci_mode"] = sci_mode


def tensor_repr(t) -> str:
    """The text of ``repr(t)``, as PyTorch prints it under the current options."""
    xp = array_module(t._data)
    data = t._data
    opts = options
    threshold, p, sci = opts["threshold"], opts["precision"], opts["sci_mode"]
    style = dict(separator=", ", prefix="tensor(", precision=p, edgeitems=opts["edgeitems"],
                 max_line_width=opts["linewidth"] + 1,  # NumPy counts one more char
                 threshold=sys.maxsize if threshold == float("inf") else int(threshold))
    if data.dtype.kind == "f" and sci:
        body = xp.array2string(data, formatter={"float_kind": lambda v: f"{v:.{p}e}"},
                               **style)
    else:
        # As PyTorch: integral floats print as "1.", fractions or exponents with fixed digits
        fixed = data.dtype.kind == "f" and bool((data[xp.isfinite(data)] % 1 != 0).any())
        body = xp.array2string(data, floatmode="fixed" if fixed else "maxprec", **style)
        if data.dtype.kind == "f" and "e" in body:  # sci_mode=False: never an exponent
            body = xp.array2string(data, floatmode="fixed", **style) if sci is None else \
                xp.array2string(data, formatter={"float_kind": lambda v: f"{v:.{p}f}"},
                                **style)
    body = body.replace(", ...,", ",  ...,")  # PyTorch pads the elided columns
    extra = ""
    if data.size == 0 and data.shape != (0,):
        extra += f", size={data.shape}"
    if data.dtype not in (_dt.float32, _dt.int64, _dt.bool):
        extra += f", dtype=nabla.{data.dtype}"
    if t.grad_fn is not None:
        extra += f", grad_fn={t.grad_fn!r}"
    elif t._requires_grad:
        extra += ", requires_grad=True"
    return f"tensor({body}{extra})"
