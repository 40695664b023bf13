"""Adamax: Adam with the infinity norm of past gradients in place of their RMS."""

from nabla.backend import array_module
from nabla.optim.flat import step_each_group
from nabla.optim.optimizer import (
    Optimizer,
    _decayed_grad,
    _implementation_flags,
    _lerp_,
)
from nabla.optim.validation import _betas, _check


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2014, section 7), exactly as ``torch.optim.Adamax``.

    With the gradient ``g_t`` (negated when ``maximize``), at step t::

        g_t ← g_t + λ·θ_{t-1}                      (weight_decay λ ≠ 0)
        m_t ← β1·m_{t-1} + (1 - β1)·g_t            (first moment, as Adam)
        u_t ← max(β2·u_{t-1}, |g_t| + ε)           (exponentially weighted infinity norm)
        θ_t ← θ_{t-1} - lr / (1 - β1^t) · m_t / u_t

    Adam's ``v`` is an average of ``g²`` (an L2 norm over time); Adamax lets the exponent go to
    infinity, which becomes a decayed maximum of ``|g|``. The maximum needs no bias correction,
    and one large gradient shrinks the steps until it has decayed away.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate (default: 2e-3).
        betas: (β1, β2), decay rates of the moment and of the norm (default: (0.9, 0.999)).
        eps: added to ``|g|`` for numerical stability (default: 1e-8).
        weight_decay: L2 penalty λ (default: 0).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _implementation_flags(foreach, None, capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        _check("Adamax", "learning rate", group["lr"])
        _check("Adamax", "epsilon value", group["eps"])
        _betas("Adamax", group["betas"])
        _check("Adamax", "weight_decay value", group["weight_decay"])

    def step(self, closure=None):
        loss = self._run_closure(closure)
        step_each_group(self, lambda group: ("exp_avg", "exp_inf"))
        return loss

    def _update(self, group: dict, param, grad, exp_avg, exp_inf, *, step: float) -> None:
        """One Adamax update of ``param`` in place (arrays: a parameter, or a whole flat
        group)."""
        (beta1, beta2), eps = group["betas"], group["eps"]
        xp = array_module(param)
        tmp, work, _ = self._buffers(param)
        d = _decayed_grad(grad, param, group["weight_decay"], group["maximize"], tmp)
        _lerp_(exp_avg, d, 1 - beta1, work)
        exp_inf *= beta2
        xp.abs(d, out=work)
        work += eps
        xp.maximum(exp_inf, work, out=exp_inf)
        clr = group["lr"] / (1 - beta1**step)
        xp.divide(exp_avg, exp_inf, out=work)
        work *= -clr
        param += work
