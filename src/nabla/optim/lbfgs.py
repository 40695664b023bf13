"""L-BFGS: a quasi-Newton method that re-evaluates the loss through a closure."""

from nabla.autograd.grad_mode import enable_grad
from nabla.backend import array_module
from nabla.optim.line_search import strong_wolfe
from nabla.optim.optimizer import Optimizer, _cast
from nabla.optim.validation import _check, _check_saved
from nabla.tensor import Tensor

# a curvature pair (s, y) is kept only when y·s exceeds this, so that the inverse-Hessian estimate
# stays positive definite
_MIN_CURVATURE = 1e-10


class LBFGS(Optimizer):
    """Limited-memory BFGS, with ``torch.optim.LBFGS``'s algorithm, defaults and state names.

    One ``step(closure)`` runs up to ``max_iter`` iterations. Each builds the direction
    ``d = -H·g`` from the last ``history_size`` pairs ``s = θ_{k+1} - θ_k``,
    ``y = g_{k+1} - g_k`` (the two-loop recursion, starting from ``H_0 = (y·s / y·y)·I``) and
    steps ``θ ← θ + t·d``: ``t = lr`` (the very first step ``lr·min(1, 1/‖g‖₁)``), or the step a
    strong-Wolfe line search finds from there. It stops early when the gradient, the step or the
    change of the loss falls under the tolerances, or after ``max_eval`` closure calls.

    All parameters are seen as one flat vector, so there must be a single parameter group.

    Args:
        params: iterable of tensors (one group, one dtype).
        lr: the step length (default: 1).
        max_iter: iterations per ``step`` (default: 20).
        max_eval: closure evaluations per ``step`` (default: ``max_iter * 5 // 4``).
        tolerance_grad: stop when ``max|g| <= tolerance_grad`` (default: 1e-7).
        tolerance_change: stop when the step or the loss changes by less (default: 1e-9).
        history_size: the number of (s, y) pairs kept (default: 100).
        line_search_fn: None (a fixed step) or 'strong_wolfe'.
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): "
                             "pass one list of parameters")
        self._params = self.param_groups[0]["params"]
        if len({p.dtype for p in self._params}) > 1:
            raise TypeError("LBFGS: all parameters must have one dtype (they form one flat "
                            "vector); convert the model first (model.double())")

    def _validate(self, group: dict) -> None:
        _check("LBFGS", "learning rate", group["lr"])

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state produced by ``state_dict()`` of an LBFGS over the same parameters.

        LBFGS keeps its state under the first parameter, as flat vectors over all parameters
        (``d``, ``prev_flat_grad``, the history ``old_dirs`` / ``old_stps``), so their length is
        checked against the total number of elements instead of the first parameter's shape.
        """
        owner = "LBFGS.load_state_dict"
        _check_saved(owner, state_dict)
        state = dict(state_dict["state"])
        groups = state_dict["param_groups"]
        key = groups[0]["params"][0] if len(groups) == 1 and groups[0]["params"] else None
        flat = state.pop(key, None)
        super().load_state_dict({"state": state, "param_groups": groups})
        if flat is not None:
            first = self._params[0]
            _check_flat_state(owner, flat, sum(p.numel() for p in self._params))
            self.state[first] = {k: _cast(first, v, k) for k, v in flat.items()}

    def _flat_grad(self):
        """All gradients as one vector (zeros where a parameter has no gradient)."""
        xp = array_module(self._params[0]._data)
        parts = [p._data.reshape(-1) * 0 if p.grad is None else p.grad._data.reshape(-1)
                 for p in self._params]
        return xp.concatenate(parts)

    def _add(self, t: float, d) -> None:
        """θ ← θ + t·d, parameter by parameter from the flat direction ``d``."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += t * d[offset:offset + n].reshape(p._data.shape)
            p._version[0] += 1
            offset += n

    def _evaluate(self, closure) -> float:
        with enable_grad():
            return float(closure())

    def _search(self, closure, t, d, loss, g, gtd, max_ls: int):
        """The strong-Wolfe step from θ along d, with at most ``max_ls`` more evaluations after
        the first; leaves θ at θ + t·d. Returns (loss, g, t, evaluations)."""
        start = [p._data.copy() for p in self._params]

        def along(step):
            self._add(step, d)
            value, grad = self._evaluate(closure), self._flat_grad()
            for p, x in zip(self._params, start, strict=True):
                p._data[...] = x
            return value, grad

        # torch bounds the search by the evaluations left in this step, and keeps the search's
        # own tolerance_change (1e-9), not the optimizer's
        loss, g, t, evals = strong_wolfe(along, t, d, loss, g, gtd, max_ls=max_ls)
        self._add(t, d)
        return loss, g, t, evals

    def step(self, closure):
        """Run up to ``max_iter`` iterations; returns the loss of the first closure call.

        Args:
            closure: re-evaluates the model (zero_grad, forward, backward) and returns the loss.
        """
        if closure is None or not callable(closure):
            raise TypeError("LBFGS.step: needs a closure that clears the gradients, re-evaluates "
                            "the model, calls backward and returns the loss")
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        xp = array_module(g)
        if xp.abs(g).max() <= group["tolerance_grad"]:
            return orig_loss
        memory = _Memory(state, group["history_size"])
        d = None if state.get("d") is None else state["d"]._data
        t = state.get("t")
        prev_g = None if state.get("prev_flat_grad") is None else state["prev_flat_grad"]._data
        prev_loss = state.get("prev_loss")
        n_iter = 0
        while n_iter < group["max_iter"]:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                memory.clear()
            else:
                memory.push(step=d * t, grad_change=g - prev_g)
                d = memory.direction(g)
            prev_g, prev_loss = g.copy(), loss
            # later steps start at lr itself, of its type (an int lr keeps t an int, as torch)
            t = group["lr"] * min(1.0, 1.0 / float(xp.abs(g).sum())) if state["n_iter"] == 1 \
                else group["lr"]
            gtd = float(g @ d)
            if gtd > -group["tolerance_change"]:  # not a descent direction
                break
            evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                loss, g, t, evals = self._search(closure, t, d, loss, g, gtd,
                                                 group["max_eval"] - current_evals)
                loss, t = float(loss), _plain_number(t)
            else:
                self._add(t, d)
                if n_iter != group["max_iter"]:
                    loss = self._evaluate(closure)
                    g = self._flat_grad()
                    evals = 1
            current_evals += evals
            state["func_evals"] += evals
            if n_iter == group["max_iter"] or current_evals >= group["max_eval"]:
                break
            if xp.abs(g).max() <= group["tolerance_grad"]:
                break
            if float(xp.abs(d * t).max()) <= group["tolerance_change"]:
                break
            if abs(loss - prev_loss) < group["tolerance_change"]:
                break
        state.update(d=Tensor._make(d), t=t, prev_flat_grad=Tensor._make(prev_g),
                     prev_loss=prev_loss)
        memory.save(state)
        return orig_loss


def _plain_number(t):
    """The line search's step as a Python number; a step it returns unchanged (the trial lr,
    or 0) keeps its int type, as torch's."""
    return t if isinstance(t, int) else float(t)


class _Memory:
    """The last ``size`` curvature pairs and the scale of the initial inverse Hessian, under
    torch's state names: ``old_stps`` the steps s, ``old_dirs`` the gradient changes y,
    ``ro`` the 1/(y·s), ``H_diag`` the scale y·s / y·y."""

    def __init__(self, state: dict, size: int) -> None:
        self.size = size
        self.steps = [s._data for s in state.get("old_stps", [])]
        self.changes = [y._data for y in state.get("old_dirs", [])]
        self.ro = [float(r) for r in state.get("ro", [])]
        self.h_diag = float(state.get("H_diag", 1.0))

    def clear(self) -> None:
        self.steps, self.changes, self.ro, self.h_diag = [], [], [], 1.0

    def push(self, step, grad_change) -> None:
        ys = float(grad_change @ step)
        if ys <= _MIN_CURVATURE:
            return
        if len(self.steps) == self.size:
            self.steps.pop(0)
            self.changes.pop(0)
            self.ro.pop(0)
        self.steps.append(step)
        self.changes.append(grad_change)
        self.ro.append(1.0 / ys)
        self.h_diag = ys / float(grad_change @ grad_change)

    def direction(self, g):
        """d = -H·g by the two-loop recursion (newest pair first, then oldest first)."""
        q = -g
        alphas = [0.0] * len(self.steps)
        for i in reversed(range(len(self.steps))):
            alphas[i] = float(self.steps[i] @ q) * self.ro[i]
            q = q - alphas[i] * self.changes[i]
        r = q * self.h_diag
        for i in range(len(self.steps)):
            beta = float(self.changes[i] @ r) * self.ro[i]
            r = r + (alphas[i] - beta) * self.steps[i]
        return r

    def save(self, state: dict) -> None:
        dtype = self.steps[0].dtype if self.steps else None
        h_diag = array_module(None).asarray(self.h_diag, dtype=dtype)
        state.update(old_stps=[Tensor._make(s) for s in self.steps],
                     old_dirs=[Tensor._make(y) for y in self.changes],
                     ro=list(self.ro), H_diag=Tensor._make(h_diag))


def _check_flat_state(owner: str, saved: dict, size: int) -> None:
    """The saved flat vectors must have one element per parameter element of this optimizer."""
    vectors = [(k, saved.get(k)) for k in ("d", "prev_flat_grad")]
    for k in ("old_dirs", "old_stps"):
        vectors += [(f"{k}[{i}]", v) for i, v in enumerate(saved.get(k, []))]
    for name, value in vectors:
        shape = tuple(getattr(value, "shape", (size,)))
        if value is not None and shape != (size,):
            raise RuntimeError(f"{owner}: state {name!r} has shape {shape}, but the parameters "
                               f"have {size} elements in all (LBFGS keeps one flat vector). Load "
                               f"the state of an LBFGS over the same model.")
