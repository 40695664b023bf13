"""How tensors print: ``nabla.set_printoptions``, as ``torch.set_printoptions``.

The options are cosmetic process-wide state (as PyTorch's): they change ``repr`` only, never a
value or a gradient.
"""

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
