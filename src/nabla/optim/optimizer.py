"""Optimizer: the base class that holds parameter groups and per-parameter state.

An optimizer only reads ``p.grad`` and writes ``p``; it never records a graph. Subclasses
implement ``step`` on raw arrays (``p._data``, ``p.grad._data``) with NumPy ``out=`` arguments,
so the hot loop makes no temporaries beyond a few cached scratch arrays, and bump each
parameter's version counter once per update so autograd can detect stale saved values.

The ``state_dict`` format is PyTorch's: parameters are replaced by integer indices (their order
across all groups), and ``state`` is keyed by those indices.
"""

import copy
import warnings
from collections import defaultdict
from itertools import chain

from nabla import dtype as _dt
from nabla.autograd.grad_mode import enable_grad
from nabla.backend import array_module, as_array, ndarray
from nabla.optim.validation import (
    _SET_MESSAGE,
    _check_param,
    _check_saved,
    _check_state_shapes,
    _param_groups,
    _warn_typos,
)
from nabla.tensor import Tensor


class _RequiredParameter:
    """Marks a hyper-parameter that has no default (e.g. SGD's ``lr`` in old PyTorch)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _scalar_dtype():
    """The dtype of a ``step`` counter: float64 if that is the default dtype, else float32."""
    return _dt.float64 if _dt.get_default_dtype() == _dt.float64 else _dt.float32


def _step_tensor(value: float = 0.0) -> Tensor:
    """A 0-d tensor holding a step count, as PyTorch keeps ``state['step']``."""
    return Tensor._make(as_array(float(value), dtype=_scalar_dtype()))


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors (or of ``(name, tensor)`` pairs), or of dicts, each a
            parameter group: ``{"params": [...], "lr": 0.1, ...}``. Hyper-parameters missing from
            a group take the values in ``defaults``.
        defaults: the default hyper-parameters of every group.

    Attributes:
        param_groups: a list of dicts, each with ``params`` and its hyper-parameters.
        state: per-parameter state (momentum buffers, moving averages), keyed by the parameter.
    """

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._scratch: dict = {}  # see _buffers
        self._flat: dict = {}  # id(group) -> FlatGroup (see flat.py)
        self._validate(defaults)
        for group in _param_groups(type(self).__name__, params):
            self.add_param_group(group)

    def _validate(self, group: dict) -> None:
        """Check the hyper-parameters of ``defaults`` or of a parameter group (subclasses)."""

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._scratch = {}
        self._flat = {}

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- parameter groups --------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters (e.g. to unfreeze layers)."""
        owner = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise KeyError(f"{owner}: a parameter group needs a 'params' entry, got keys "
                           f"{sorted(param_group)}. Write {{'params': [...], 'lr': ...}}.")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(_SET_MESSAGE)
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. "
                                 "Some param names are missing")
            param_group["param_names"] = names
        param_group["params"] = params
        for p in params:
            _check_param(owner, p)
        _warn_typos(owner, param_group, self.defaults)
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        self._validate(param_group)
        self._check_unique(params, param_group)
        self.param_groups.append(param_group)

    def _check_unique(self, params: list, param_group: dict) -> None:
        # An identity set: Tensor.__eq__ is elementwise, so sets of tensors must go through id().
        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            raise ValueError("optimizer contains a parameter group with duplicate parameters; "
                             "each parameter may appear only once")
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")

    # -- gradients and steps -----------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none: set ``p.grad = None`` (the default: saves memory, and an optimizer skips
                a parameter whose grad is None) instead of filling the gradient with zeros (then
                the parameter still takes a step: momentum and weight decay move it).
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                try:
                    g._data[...] = 0
                except ValueError:  # a read-only (e.g. broadcast) gradient: replace it
                    g._data = array_module(g._data).zeros(g._data.shape, g._data.dtype)
                g._version[0] += 1

    def step(self, closure=None):
        """Update the parameters once from their ``.grad``.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss (it is
                run with gradients enabled). Optional for all optimizers here.

        Returns:
            The closure's loss, or None.
        """
        raise NotImplementedError

    def _run_closure(self, closure):
        if closure is None:
            return None
        if not callable(closure):
            raise TypeError(f"{type(self).__name__}.step: closure must be a function that "
                            f"re-evaluates the model and returns the loss, got "
                            f"{type(closure).__name__}")
        with enable_grad():
            return closure()

    def _buffers(self, like: ndarray) -> tuple:
        """Three scratch arrays shaped like ``like``, reused across steps (never part of ``state``).

        Views of one (3, n) array per array type and dtype, n the size of the largest parameter
        seen: the update makes no temporaries, and the memory kept is three copies of the largest
        parameter, not of the whole model. The views are kept by shape, so a step's lookup is one
        dict access.
        """
        key = (type(like), like.dtype, like.shape)
        views = self._scratch.get(key)
        if views is None:
            base = self._scratch.get(key[:2])
            if base is None or base.shape[1] < like.size:
                base = array_module(like).empty((3, like.size), dtype=like.dtype)
                for old in [k for k in self._scratch if k[:2] == key[:2]]:
                    del self._scratch[old]  # views of the smaller array would keep it alive
                self._scratch[key[:2]] = base
            views = self._scratch[key] = tuple(row[:like.size].reshape(like.shape) for row in base)
        return views

    # -- serialization -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The optimizer's state as a dict with ``state`` and ``param_groups``.

        Parameters are replaced by their index in the order of ``param_groups``; the state values
        are the live tensors (as in PyTorch): deep-copy the result to keep a snapshot.
        """
        index: dict[int, int] = {}
        start = 0

        def pack(group: dict) -> dict:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state produced by ``state_dict()`` (of an optimizer with the same groups).

        Floating-point state tensors are copied and cast to their parameter's dtype; ``step``
        keeps its own dtype (a plain number becomes a 0-d tensor).
        """
        owner = f"{type(self).__name__}.load_state_dict"
        _check_saved(owner, state_dict)
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"{owner}: loaded state dict has a different number of parameter "
                             f"groups ({len(saved_groups)}) than the optimizer ({len(groups)})")
        for i, (g, s) in enumerate(zip(groups, saved_groups, strict=True)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"{owner}: loaded state dict contains a parameter group that "
                                 f"doesn't match the size of optimizer's group (group {i}: "
                                 f"{len(s['params'])} saved parameters, {len(g['params'])} here)")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups), strict=True))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                _check_state_shapes(owner, k, param, v)
                state[param] = {key: _cast(param, val, key) for key, val in v.items()}
            else:
                state[k] = v
        for g, s in zip(groups, saved_groups, strict=True):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            for name, default in self.defaults.items():
                s.setdefault(name, default)
        self.__setstate__({"state": state, "param_groups": saved_groups})


def _cast(param: Tensor, value, key=None):
    """A copy of a saved state value, as a nabla Tensor cast to the parameter's dtype."""
    if key == "step":
        if isinstance(value, Tensor):
            return Tensor._make(value._data.copy())
        if isinstance(value, ndarray):
            return Tensor._make(value.copy())
        return _step_tensor(value)
    if isinstance(value, (Tensor, ndarray)):
        data = value._data if isinstance(value, Tensor) else value
        if param.is_floating_point() and data.dtype.kind == "f":
            return Tensor._make(data.astype(param.dtype, copy=True))
        return Tensor._make(data.copy())
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return value


def _implementation_flags(foreach=None, fused=None, capturable=False,
                          differentiable=False) -> None:
    """PyTorch's keywords that pick an implementation. nabla has one (NumPy, in place), so they
    are accepted for ported scripts and ignored; ``differentiable=True`` changes the meaning of a
    step (a graph through the update), which nabla does not offer, so it is refused."""
    if differentiable:
        raise NotImplementedError("differentiable=True: nabla's optimizers update parameters in "
                                  "place without recording a graph")
    if fused or foreach or capturable:
        warnings.warn("foreach/fused/capturable have no effect in nabla: there is one NumPy "
                      "implementation", stacklevel=3)


def _decayed_grad(grad: ndarray, param: ndarray, weight_decay: float, maximize: bool,
                  out: ndarray) -> ndarray:
    """``g = ±grad + weight_decay * param`` (L2 penalty), into ``out``; ``grad`` itself if plain.

    The L2 penalty ``(λ/2)||θ||²`` adds ``λθ`` to the gradient: it pulls every weight to zero.
    """
    if weight_decay != 0:
        ufuncs = array_module(param)
        ufuncs.multiply(param, weight_decay, out=out)
        if maximize:
            ufuncs.subtract(out, grad, out=out)
        else:
            ufuncs.add(grad, out, out=out)
        return out
    if maximize:
        return array_module(grad).negative(grad, out=out)
    return grad


def _lerp_(start: ndarray, end: ndarray, weight: float, tmp: ndarray) -> None:
    """``start += weight * (end - start)`` in place, with PyTorch's two formulas for precision."""
    xp = array_module(start)
    xp.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1.0 - weight
        xp.subtract(end, tmp, out=start)


def _average_square_(avg: ndarray, d: ndarray, decay: float, tmp: ndarray) -> None:
    """``avg = decay * avg + (1 - decay) * d * d`` in place: the running average of squared
    gradients of Adam, RMSprop and Adadelta, rounded in PyTorch's order of operations."""
    xp = array_module(avg)
    avg *= decay
    xp.multiply(d, 1 - decay, out=tmp)
    avg += xp.multiply(tmp, d, out=tmp)
