"""RAdam: Adam with its adaptive rate switched on only once the variance estimate is sound."""

from nabla.backend import array_module
from nabla.optim.flat import step_each_group
from nabla.optim.optimizer import (
    Optimizer,
    _average_square_,
    _decayed_grad,
    _implementation_flags,
    _lerp_,
)
from nabla.optim.validation import _betas, _check


class RAdam(Optimizer):
    """RAdam (Liu et al., 2019), exactly as ``torch.optim.RAdam``.

    With the gradient ``g_t`` (negated when ``maximize``), at step t::

        g_t ← g_t + λ·θ_{t-1}          (weight_decay λ; decoupled: θ_{t-1} ← (1 - lr·λ)·θ_{t-1})
        m_t ← β1·m_{t-1} + (1 - β1)·g_t,   v_t ← β2·v_{t-1} + (1 - β2)·g_t²
        m̂_t ← m_t / (1 - β1^t)
        ρ_∞ ← 2/(1 - β2) - 1,   ρ_t ← ρ_∞ - 2t·β2^t / (1 - β2^t)
        r_t ← √((ρ_t - 4)(ρ_t - 2)ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2)ρ_t))
        θ_t ← θ_{t-1} - lr·m̂_t·r_t·√(1 - β2^t) / (√v_t + ε)      (ρ_t > 5)
        θ_t ← θ_{t-1} - lr·m̂_t                                     (otherwise: SGD with momentum)

    Early on ``v`` rests on a few gradients, so Adam's ``1/√v̂`` has a large variance and the
    first steps can be wild (why Adam needs a warm-up). RAdam takes plain momentum steps until
    ``ρ_t`` (the length of the average behind ``v``) exceeds 5, then scales the adaptive step by
    ``r_t``, which rectifies its variance and tends to 1.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate (default: 1e-3).
        betas: (β1, β2), decay rates of the two moments (default: (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay λ (default: 0).
        decoupled_weight_decay: decay the weights directly as AdamW does (default: False).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _implementation_flags(foreach, None, capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        _check("RAdam", "learning rate", group["lr"])
        _check("RAdam", "epsilon value", group["eps"])
        _betas("RAdam", group["betas"])
        _check("RAdam", "weight_decay value", group["weight_decay"])

    def step(self, closure=None):
        loss = self._run_closure(closure)
        step_each_group(self, lambda group: ("exp_avg", "exp_avg_sq"))
        return loss

    def _update(self, group: dict, param, grad, exp_avg, exp_avg_sq, *, step: float) -> None:
        """One RAdam update of ``param`` in place (arrays: a parameter, or a whole flat
        group)."""
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        wd = group["weight_decay"]
        xp = array_module(param)
        if group["decoupled_weight_decay"] and wd != 0:
            param *= 1 - lr * wd
            wd = 0
        tmp, work, denom = self._buffers(param)
        d = _decayed_grad(grad, param, wd, group["maximize"], tmp)
        _lerp_(exp_avg, d, 1 - beta1, work)
        _average_square_(exp_avg_sq, d, beta2, work)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        xp.divide(exp_avg, bias_correction1, out=work)
        work *= lr
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            xp.sqrt(exp_avg_sq, out=denom)
            denom += eps
            work *= xp.divide(bias_correction2**0.5, denom, out=denom)
            work *= rect
        param -= work
