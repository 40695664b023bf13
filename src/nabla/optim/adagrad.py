"""Adagrad: per-parameter learning rates from the sum of all squared gradients."""

from nabla.backend import array_module
from nabla.optim.flat import flat_group
from nabla.optim.optimizer import (
    Optimizer,
    _decayed_grad,
    _implementation_flags,
    _step_tensor,
)
from nabla.optim.validation import _check
from nabla.tensor import Tensor


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), exactly as ``torch.optim.Adagrad``.

    With the gradient ``g_t`` (negated when ``maximize``), at step t::

        g_t ← g_t + λ·θ_{t-1}                      (weight_decay λ ≠ 0)
        η_t ← lr / (1 + (t - 1)·lr_decay)
        s_t ← s_{t-1} + g_t²                       (s_0 = initial_accumulator_value)
        θ_t ← θ_{t-1} - η_t·g_t / (√s_t + ε)

    Each coordinate gets its own rate ``η/√s``: a parameter with large past gradients takes small
    steps, a rarely updated one (a rare word's embedding) keeps large steps. Adagrad's rates
    shrink to zero: ``s`` only grows, so learning eventually stalls, which is what Adadelta and
    RMSprop fix by forgetting old gradients.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate (default: 1e-2).
        lr_decay: learning-rate decay (default: 0).
        weight_decay: L2 penalty λ (default: 0).
        initial_accumulator_value: starting value of the sum ``s`` (default: 0).
        eps: added to the denominator for numerical stability (default: 1e-10).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None) -> None:
        _implementation_flags(foreach, fused, False, differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        # Like PyTorch, the state exists from the start (share_memory needs it before step 1).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def _validate(self, group: dict) -> None:
        _check("Adagrad", "learning rate", group["lr"])
        _check("Adagrad", "lr_decay value", group["lr_decay"])
        _check("Adagrad", "weight_decay value", group["weight_decay"])
        _check("Adagrad", "initial_accumulator_value value", group["initial_accumulator_value"])
        _check("Adagrad", "epsilon value", group["eps"])

    def _init_state(self, p: Tensor, initial_value: float) -> dict:
        state = self.state[p]
        state["step"] = _step_tensor(0.0)
        state["sum"] = Tensor._make(array_module(p._data).full_like(p._data, initial_value))
        return state

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            flat = flat_group(self._flat, group, self.state, ("sum",), counted=True)
            if flat is not None:  # the whole group in one update (see flat.py)
                if flat.fresh:  # a group added after construction: its sums start as below
                    flat.buffers["sum"][...] = self.defaults["initial_accumulator_value"]
                    flat.fresh = False
                flat.steps += 1
                flat.gather()
                self._update(group, flat.param, flat.grad, flat.buffers["sum"],
                             step=float(flat.steps[0]))
                flat.scatter()
                continue
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:  # a group added after construction
                    state = self._init_state(p, self.defaults["initial_accumulator_value"])
                state["step"]._data += 1
                self._update(group, p._data, p.grad._data, state["sum"]._data,
                             step=float(state["step"]._data))
                p._version[0] += 1
        return loss

    def _update(self, group: dict, param, grad, state_sum, *, step: float) -> None:
        """One Adagrad update of ``param`` in place (arrays: a parameter, or a whole flat
        group)."""
        xp = array_module(param)
        tmp, work, scaled = self._buffers(param)
        d = _decayed_grad(grad, param, group["weight_decay"], group["maximize"], tmp)
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum += xp.multiply(d, d, out=work)
        std = xp.sqrt(state_sum, out=work)
        std += group["eps"]
        xp.divide(xp.multiply(d, -clr, out=scaled), std, out=work)
        param += work
