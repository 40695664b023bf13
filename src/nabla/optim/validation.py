"""Checks of what a user hands an optimizer (its parameters, hyper-parameters and a saved
state) or a learning-rate scheduler.

Messages keep PyTorch's words where it has them ("Invalid learning rate: -1", "empty parameter
list") after the optimizer's name, and add the values involved and the fix.
"""

import difflib
import numbers
import warnings

from nabla.tensor import Tensor

_SET_MESSAGE = ("optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead.")


def _param_groups(owner: str, params) -> list:
    """The groups given to an optimizer: a list of dicts, or of tensors made into one group."""
    if isinstance(params, Tensor):
        raise TypeError(f"{owner}: params argument given to the optimizer should be an iterable "
                        f"of Tensors or dicts, but got Tensor. Wrap it in a list: [tensor].")
    if isinstance(params, set):
        raise TypeError(_SET_MESSAGE)
    try:
        groups = list(params)
    except TypeError:
        hint = ": pass model.parameters()" if hasattr(params, "parameters") else ""
        raise TypeError(f"{owner}: params argument given to the optimizer should be an iterable "
                        f"of Tensors or dicts, but got {type(params).__name__}{hint}") from None
    if len(groups) == 0:
        raise ValueError(f"{owner}: optimizer got an empty parameter list. A generator such as "
                         f"model.parameters() is used up by the first optimizer: call it again.")
    if not isinstance(groups[0], dict):
        groups = [{"params": groups}]
    return groups


def _check_param(owner: str, p) -> None:
    if not isinstance(p, Tensor):
        hint = " (a module: pass model.parameters())" if hasattr(p, "parameters") else ""
        raise TypeError(f"{owner}: optimizer can only optimize Tensors, but one of the params "
                        f"is {type(p).__name__}{hint}")
    if not p.is_leaf:
        raise ValueError(f"{owner}: can't optimize a non-leaf Tensor (one computed from others, "
                         f"grad_fn={type(p.grad_fn).__name__}); optimize the leaves it comes "
                         f"from, or use t.detach().requires_grad_()")


def _warn_typos(owner: str, group: dict, defaults: dict) -> None:
    """Warn about a group key that looks like a misspelt hyper-parameter ('momemtum'): it would
    be kept without effect. Other extra keys (a group's 'name') are the user's business."""
    for key in group:
        if key in defaults or key in ("params", "param_names"):
            continue
        close = difflib.get_close_matches(key, list(defaults), n=1, cutoff=0.8)
        if close:
            warnings.warn(f"{owner}: parameter group key {key!r} is not a hyper-parameter of "
                          f"{owner} and has no effect; did you mean {close[0]!r}?", stacklevel=4)


def _check_saved(owner: str, state_dict) -> None:
    if not isinstance(state_dict, dict):
        raise TypeError(f"{owner}: expected the dict returned by optimizer.state_dict(), got "
                        f"{type(state_dict).__name__}")
    missing = [k for k in ("state", "param_groups") if k not in state_dict]
    if missing:
        raise KeyError(f"{owner}: the dict has no {' or '.join(map(repr, missing))} entry (keys: "
                       f"{sorted(map(str, state_dict))[:6]}); pass optimizer.state_dict() (a "
                       f"model's state_dict goes to model.load_state_dict)")


def _check_state_shapes(owner: str, index: int, param: Tensor, saved: dict) -> None:
    """Every state tensor here but ``step`` is shaped like its parameter (a momentum buffer, a
    moving average): a different shape means the state of another model."""
    for key, value in saved.items():
        shape = getattr(value, "shape", ())
        if key != "step" and len(shape) and tuple(shape) != tuple(param.shape):
            raise RuntimeError(f"{owner}: state {key!r} of parameter {index} has shape "
                               f"{tuple(shape)}, but the parameter has shape "
                               f"{tuple(param.shape)}. Load the state of an optimizer over "
                               f"the same model.")


def _check(owner: str, what: str, value, low: float = 0.0, high: float | None = None,
           high_open: bool = False) -> None:
    """Refuse a hyper-parameter outside [low, high] (or [low, high) when ``high_open``) with
    PyTorch's words, 'Invalid learning rate: -1', after the optimizer's name. NaN is refused."""
    try:
        ok = value >= low and (high is None or (value < high if high_open else value <= high))
    except TypeError:
        raise TypeError(f"{owner}: {what} must be a number, got {type(value).__name__} "
                        f"{value!r}") from None
    if not ok:
        bound = f">= {low}" if high is None else f"in [{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{owner}: Invalid {what}: {value} (it must be {bound}).")


def _betas(owner: str, betas) -> tuple[float, float]:
    """Adam's (β1, β2), each in [0, 1), as floats."""
    if not isinstance(betas, (tuple, list)):
        raise TypeError(f"{owner}: betas must be a pair (beta1, beta2) such as (0.9, 0.999), "
                        f"got {type(betas).__name__} {betas!r}")
    if len(betas) != 2:
        # PyTorch raises IndexError for a single value (it reads betas[1]); a third is nonsense
        error = IndexError if len(betas) < 2 else ValueError
        raise error(f"{owner}: betas must be a pair (beta1, beta2) such as (0.9, 0.999), got "
                    f"{len(betas)} values {tuple(betas)}")
    for i, beta in enumerate(betas):
        _check(owner, f"beta parameter at index {i}", beta, 0.0, 1.0, high_open=True)
    return float(betas[0]), float(betas[1])


# -- schedulers ------------------------------------------------------------------------------------
def _check_state(owner: str, state_dict) -> None:
    """A scheduler's saved state must be a dict, and not an optimizer's by mistake."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"{owner}.load_state_dict: expected the dict returned by "
                        f"scheduler.state_dict(), got {type(state_dict).__name__}")
    if "param_groups" in state_dict:
        raise ValueError(f"{owner}.load_state_dict: this is an optimizer's state_dict (it has "
                         f"'param_groups'); pass scheduler.state_dict(), and the optimizer's to "
                         f"optimizer.load_state_dict")


def _positive_int(owner: str, name: str, value) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer (a number of epochs), "
                         f"got {value!r}")


def _factor(owner: str, fn, epoch: int):
    """``fn(epoch)``, which must be a number (a 0-d tensor will do)."""
    value = fn(epoch)
    if not isinstance(value, numbers.Real) and getattr(value, "ndim", None) != 0:
        raise TypeError(f"{owner}: lr_lambda({epoch}) returned {type(value).__name__} "
                        f"{value!r}; it must return a number, the factor of the lr")
    return value
