"""Adam and AdamW: momentum plus RMSprop, with bias correction."""

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


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), exactly as ``torch.optim.Adam``.

    With the gradient ``g_t`` (negated when ``maximize``), at step t::

        g_t ← g_t + λ·θ_{t-1}                      (weight_decay λ ≠ 0; AdamW: see below)
        m_t ← β1·m_{t-1} + (1 - β1)·g_t            (first moment: momentum)
        v_t ← β2·v_{t-1} + (1 - β2)·g_t²           (second moment: RMSprop)
        v_t^max ← max(v_{t-1}^max, v_t)            (amsgrad only; then use v^max below)
        m̂_t ← m_t / (1 - β1^t),   v̂_t ← v_t / (1 - β2^t)
        θ_t ← θ_{t-1} - lr·m̂_t / (√v̂_t + ε)

    Adam = momentum + RMSprop, bias-corrected. ``m`` keeps the previous direction as momentum
    does and ``v`` scales each coordinate as RMSprop does. Both averages start at zero, so early
    on they underestimate; dividing by ``1 - β^t`` removes that bias (it tends to 1 as t grows).
    AMSGrad divides by the largest ``v`` seen so far, so the step size never grows back.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate (default: 1e-3).
        betas: (β1, β2), decay rates of the two moments (default: (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default: 1e-8).
        weight_decay: L2 penalty λ added to the gradient (default: 0).
        amsgrad: use the AMSGrad variant (default: False).
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: decay the weights directly as AdamW does (default: False).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused=None, decoupled_weight_decay: bool = False) -> None:
        _check(type(self).__name__, "learning rate", lr)  # first, as in PyTorch
        betas = _betas(type(self).__name__, betas)
        _implementation_flags(foreach, fused, capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        owner = type(self).__name__
        _check(owner, "learning rate", group["lr"])
        _check(owner, "epsilon value", group["eps"])
        _betas(owner, group["betas"])
        _check(owner, "weight_decay value", group["weight_decay"])

    def step(self, closure=None):
        loss = self._run_closure(closure)
        step_each_group(self, lambda group: ("exp_avg", "exp_avg_sq")
                        + (("max_exp_avg_sq",) if group["amsgrad"] else ()))
        return loss

    def _update(self, group: dict, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *,
                step: float) -> None:
        """One Adam update of ``param`` in place (arrays: a parameter, or a whole flat group)."""
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        wd, maximize = group["weight_decay"], group["maximize"]
        xp = array_module(param)
        if group["decoupled_weight_decay"] and wd != 0:
            param *= 1 - lr * wd
            wd = 0
        tmp, work, denom = self._buffers(param)
        d = _decayed_grad(grad, param, wd, maximize, tmp)
        _lerp_(exp_avg, d, 1 - beta1, work)
        _average_square_(exp_avg_sq, d, beta2, work)
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        if max_exp_avg_sq is not None:
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            xp.sqrt(max_exp_avg_sq, out=denom)
        else:
            xp.sqrt(exp_avg_sq, out=denom)
        # lr m̂ / (√v̂ + ε) = (lr c / (1 - β1^t)) m / (√v + ε c) with c = √(1 - β2^t): one pass
        # over the parameters fewer than dividing √v by c
        denom += eps * bias_correction2_sqrt
        xp.divide(exp_avg, denom, out=work)
        work *= -lr * bias_correction2_sqrt / bias_correction1
        param += work


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2017): Adam with decoupled weight decay.

    Same as :class:`Adam`, except that the decay shrinks the weights directly instead of being
    added to the gradient::

        θ_{t-1} ← θ_{t-1} - lr·λ·θ_{t-1}          (before the moments are updated)

    With Adam's L2 penalty the decay term passes through ``1/√v̂``, so weights with large
    gradients are barely regularized; decoupling makes every weight decay at the same rate.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate (default: 1e-3).
        betas: (β1, β2) (default: (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default: 1e-8).
        weight_decay: decoupled weight-decay coefficient λ (default: 1e-2).
        amsgrad: use the AMSGrad variant (default: False).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach=None, capturable: bool = False, differentiable: bool = False,
                 fused=None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
