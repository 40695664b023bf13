"""Adadelta: a moving window of squared gradients and squared updates; no learning rate."""

from nabla.backend import array_module
from nabla.optim.flat import step_each_group
from nabla.optim.optimizer import (
    Optimizer,
    _average_square_,
    _decayed_grad,
    _implementation_flags,
)
from nabla.optim.validation import _check


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), exactly as ``torch.optim.Adadelta``.

    With the gradient ``g_t`` (negated when ``maximize``), at step t::

        g_t ← g_t + λ·θ_{t-1}                      (weight_decay λ ≠ 0)
        v_t ← ρ·v_{t-1} + (1 - ρ)·g_t²             (moving average of squared gradients)
        Δ_t ← √(u_{t-1} + ε) / √(v_t + ε) · g_t
        u_t ← ρ·u_{t-1} + (1 - ρ)·Δ_t²             (moving average of squared updates)
        θ_t ← θ_{t-1} - lr·Δ_t

    Adagrad's sum over the whole history becomes a window (an exponential moving average with
    factor ρ), so the rates no longer shrink to zero. Adadelta needs no learning rate: the
    numerator ``√(u + ε)`` carries the units of the parameter, so the ratio is itself a step
    size; ``lr`` (default 1.0) only scales it, as in PyTorch.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: coefficient that scales delta before it is applied (default: 1.0).
        rho: decay of the moving averages (default: 0.9).
        eps: added inside the square roots for numerical stability (default: 1e-6).
        weight_decay: L2 penalty λ (default: 0).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _implementation_flags(foreach, None, capturable, differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        _check("Adadelta", "learning rate", group["lr"])
        _check("Adadelta", "rho value", group["rho"], 0.0, 1.0)
        _check("Adadelta", "epsilon value", group["eps"])
        _check("Adadelta", "weight_decay value", group["weight_decay"])

    def step(self, closure=None):
        loss = self._run_closure(closure)
        step_each_group(self, lambda group: ("square_avg", "acc_delta"), counted_update=False)
        return loss

    def _update(self, group: dict, param, grad, square_avg, acc_delta) -> None:
        """One Adadelta update of ``param`` in place (arrays: a parameter, or a whole flat
        group)."""
        rho, eps = group["rho"], group["eps"]
        xp = array_module(param)
        tmp, work, delta = self._buffers(param)
        d = _decayed_grad(grad, param, group["weight_decay"], group["maximize"], tmp)
        _average_square_(square_avg, d, rho, work)
        std = xp.sqrt(xp.add(square_avg, eps, out=work), out=work)
        xp.sqrt(xp.add(acc_delta, eps, out=delta), out=delta)
        delta /= std
        delta *= d
        _average_square_(acc_delta, delta, rho, work)
        param += xp.multiply(delta, -group["lr"], out=work)
