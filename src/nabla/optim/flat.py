"""Flat parameter groups: the speed-up behind one-call-per-group updates (PyTorch's "foreach").

An optimizer's update is a dozen elementwise NumPy calls. Run per parameter, a small model with
many small tensors pays a dozen Python-level calls per tensor, which costs more than the
arithmetic. ``FlatGroup`` keeps each per-parameter state buffer as a view into one contiguous
array per buffer kind, gathers the parameters and gradients into one array each (two calls),
runs the dozen calls once for the whole group, and writes the parameters back in place (one
call each). Parameters keep their arrays (memory shared with ``p.numpy()`` stays shared) and
``optimizer.state`` keeps PyTorch's per-parameter tensors, so ``state_dict`` is unchanged.

Used by SGD (with momentum), Adam, AdamW, Adamax, NAdam, RAdam, RMSprop, Adagrad and Adadelta: each
gathers, runs the same ``_update`` its per-parameter path runs on the flat arrays, and scatters
(``step_each_group``, at the end, is that loop for the optimizers with a step count and zero-started
buffers; SGD and Adagrad start theirs differently and keep their own). The 0-d state entries (the
``step`` counters, NAdam's ``mu_product``) are 0-d views of one array per key as well, so counting a
step is one call. The group is rebuilt when anything no longer matches (a parameter's array was
replaced, a state tensor was loaded, the set of parameters changed), and groups that mix dtypes or
devices, hold a non-contiguous parameter, or whose parameters' 0-d entries differ (a parameter that
skipped a step), are updated parameter by parameter.
"""

from itertools import accumulate

from nabla.backend import array_module, as_array
from nabla.optim.optimizer import _scalar_dtype, _step_tensor
from nabla.tensor import Tensor


class FlatGroup:
    """The state buffers ``keys`` of ``params`` as views of one array each, and scratch arrays
    ``param`` / ``grad`` that ``gather`` fills and ``scatter`` writes back."""

    def __init__(self, params: list, state: dict, keys: tuple, scalars: dict) -> None:
        first = params[0]._data
        xp = array_module(first)
        self.xp, self.params, self.keys = xp, list(params), keys
        ends = list(accumulate(p._data.size for p in params))
        self.bounds = list(zip([0] + ends[:-1], ends))
        total = ends[-1]
        self.param = xp.empty(total, first.dtype)
        self.grad = xp.empty(total, first.dtype)
        # each parameter's own array (ready() checks it is still the one), seen flat, and its
        # slice of self.param: gather and scatter copy between them without reshaping
        self.datas = [p._data for p in params]
        self.flat_datas = [d.reshape(-1) for d in self.datas]  # views: contiguous (flat_group)
        self.slices = [self.param[a:b] for a, b in self.bounds]
        # True when the state did not exist yet: SGD starts its momentum buffer from the gradient,
        # Adagrad (a group added later) its sums at initial_accumulator_value
        self.fresh = all(state[p].get(keys[0]) is None for p in params) if keys else False
        # the 0-d entries (step counters, NAdam's mu_product): each parameter's state[key] a 0-d
        # view of one array per key, so counting a step is one call for the whole group. Made
        # first so that new state lists its keys in PyTorch's order (``step`` first).
        self.scalars, self.state_views, self.buffers = {}, {}, {}
        for key, (value, dtype) in scalars.items():
            values = as_array([value] * len(params), dtype=dtype)
            views = [values[i:i + 1].reshape(()) for i in range(len(params))]
            for p, view in zip(params, views):
                state[p][key] = Tensor._make(view)
            self.scalars[key], self.state_views[key] = values, views
        self.steps = self.scalars.get("step")
        for key in keys:
            flat = xp.zeros(total, first.dtype)
            views = []
            for p, (a, b) in zip(params, self.bounds):
                old = state[p].get(key)
                view = flat[a:b].reshape(p._data.shape)
                if old is not None:  # keep the values of state that already existed
                    view[...] = old._data
                state[p][key] = Tensor._make(view)
                views.append(view)
            self.buffers[key], self.state_views[key] = flat, views
        # per parameter, its (state key, array) pairs that ready() checks are still in place
        self.views = [[(key, views[i]) for key, views in self.state_views.items()]
                      for i in range(len(params))]

    def ready(self, params: list, state: dict) -> bool:
        """Still valid for this step: the same parameters with the same arrays, each with a
        gradient of its shape, and the same state tensors as when built. One pass: this runs
        at every step."""
        if len(params) != len(self.params):
            return False
        for p, mine, data, views in zip(params, self.params, self.datas, self.views):
            g = p.grad
            if p is not mine or p._data is not data or type(g) is not Tensor \
                    or g._data.shape != data.shape:
                return False
            st = state[p]
            for key, view in views:
                t = st.get(key)
                if t is None or t._data is not view:
                    return False
        return True

    def gather(self) -> None:
        """Copy every parameter and every gradient into ``self.param`` / ``self.grad``."""
        xp = self.xp
        xp.concatenate(self.flat_datas, out=self.param)
        xp.concatenate([p.grad._data.ravel() for p in self.params], out=self.grad)

    def scatter(self) -> None:
        """Write the updated values back into each parameter's own array; bump its version."""
        for p, data, part in zip(self.params, self.flat_datas, self.slices):
            data[...] = part
            p._version[0] += 1


def flat_group(cache: dict, group: dict, state: dict, keys: tuple, counted: bool = False,
               scalars: dict | None = None):
    """The FlatGroup for ``group`` (built or rebuilt as needed), or None when the group cannot
    be flattened: a parameter without gradient or not C-contiguous, mixed dtypes or array
    modules, or 0-d entries that differ between the parameters. ``counted``: the state holds a
    ``step`` counter (from 0); ``scalars``: other 0-d state entries and their starting values
    (NAdam's ``{"mu_product": 1.0}``)."""
    params = group["params"]
    if len(params) < 2:
        return None  # nothing to gain
    flat = cache.get(id(group))
    if flat is not None and flat.ready(params, state):
        return flat  # the common case: nothing changed since the last step
    cache.pop(id(group), None)  # stale: rebuilt below, or the group goes parameter by parameter
    if not all(isinstance(p.grad, Tensor) for p in params):
        return None  # first: a lazy module's parameters before its first call have no data
    first = params[0]._data
    xp = array_module(first)
    for p in params:
        if p._data.dtype != first.dtype or array_module(p._data) is not xp \
                or p.grad._data.shape != p._data.shape or not p._data.flags.c_contiguous:
            return None
    present = {all(state[p].get(k) is not None for k in keys) for p in params}
    if len(present) > 1 or any(state[p].get(k) is not None for p in params
                               for k in keys) and present == {False}:
        return None  # some parameters have state and others not: update one by one
    starts = ({"step": 0.0} if counted else {}) | (scalars or {})
    common = {}
    for key, start in starts.items():
        found = {_scalar(state[p].get(key), start) for p in params}
        if len(found) > 1:
            return None  # e.g. a parameter that skipped a step: its count fell behind
        common[key] = found.pop()
    flat = cache[id(group)] = FlatGroup(params, state, keys, common)
    return flat


def _scalar(value, start: float) -> tuple:
    """(value, dtype) of a 0-d state entry, or of its starting value where there is none yet:
    the flat array keeps the dtype the per-parameter update would have used."""
    if value is None:
        return start, _scalar_dtype()
    return float(value._data), value._data.dtype


def step_each_group(opt, keys_of, scalars: dict | None = None, counted_update: bool = True) -> None:
    """The step loop of the optimizers whose state is a ``step`` count, per-element buffers named
    ``keys_of(group)`` (zeros at first) and 0-d ``scalars`` (name -> starting value): a group in
    one update of its FlatGroup where it can be flat, else parameter by parameter. Either way
    ``opt._update(group, param, grad, **named)`` runs on arrays, with the buffers and scalars
    named as in ``state``, plus ``step=`` the count when ``counted_update``."""
    scalars = scalars or {}
    for group in opt.param_groups:
        keys = keys_of(group)
        flat = flat_group(opt._flat, group, opt.state, keys, counted=True, scalars=scalars)
        if flat is not None:  # the whole group in one update
            flat.steps += 1
            flat.gather()
            named = {**flat.buffers, **{k: flat.scalars[k] for k in scalars}}
            if counted_update:
                named["step"] = float(flat.steps[0])
            opt._update(group, flat.param, flat.grad, **named)
            flat.scatter()
            continue
        for p in group["params"]:
            if p.grad is None:
                continue
            state = opt.state[p]
            if len(state) == 0:  # PyTorch's order of keys; 0-d entries of the step's dtype
                state["step"] = _step_tensor(0.0)
                for key, start in scalars.items():
                    state[key] = _step_tensor(start)
                for key in keys:
                    state[key] = Tensor._make(array_module(p._data).zeros_like(p._data))
            state["step"]._data += 1
            named = {k: state[k]._data for k in (*scalars, *keys)}
            if counted_update:
                named["step"] = float(state["step"]._data)
            opt._update(group, p._data, p.grad._data, **named)
            p._version[0] += 1
