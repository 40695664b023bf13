"""NAdam: Adam with Nesterov momentum (a look-ahead first moment)."""

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


class NAdam(Optimizer):
    """NAdam (Dozat, 2016), exactly as ``torch.optim.NAdam``.

    With the gradient ``g_t`` (negated when ``maximize``), at step t::

        g_t ← g_t + λ·θ_{t-1}          (weight_decay λ; decoupled: θ_{t-1} ← (1 - lr·λ)·θ_{t-1})
        μ_t ← β1·(1 - ½·0.96^(t·ψ)),   μ_{t+1} ← β1·(1 - ½·0.96^((t+1)·ψ))   (momentum_decay ψ)
        Π_t ← Π_{t-1}·μ_t                          (mu_product, Π_0 = 1)
        m_t ← β1·m_{t-1} + (1 - β1)·g_t,   v_t ← β2·v_{t-1} + (1 - β2)·g_t²
        D_t ← √(v_t / (1 - β2^t)) + ε
        θ_t ← θ_{t-1} - lr·(1 - μ_t)/(1 - Π_t)·g_t/D_t - lr·μ_{t+1}/(1 - Π_t·μ_{t+1})·m_t/D_t

    Nesterov momentum applied to Adam: the step uses the momentum the *next* step will have
    (``μ_{t+1}·m_t``) plus the current gradient's share, so it looks ahead along the momentum as
    Nesterov SGD does. The momentum schedule ``μ_t`` warms up from β1/2 towards β1.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate (default: 2e-3).
        betas: (β1, β2), decay rates of the two moments (default: (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay λ (default: 0).
        momentum_decay: ψ, the speed of the momentum warm-up (default: 4e-3).
        decoupled_weight_decay: decay the weights directly as AdamW does (NAdamW; default: False).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _implementation_flags(foreach, None, capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        _check("NAdam", "learning rate", group["lr"])
        _check("NAdam", "epsilon value", group["eps"])
        _betas("NAdam", group["betas"])
        _check("NAdam", "weight_decay value", group["weight_decay"])
        _check("NAdam", "momentum_decay value", group["momentum_decay"])

    def step(self, closure=None):
        loss = self._run_closure(closure)
        step_each_group(self, lambda group: ("exp_avg", "exp_avg_sq"), scalars={"mu_product": 1.0})
        return loss

    def _update(self, group: dict, param, grad, exp_avg, exp_avg_sq, *, step: float,
                mu_product) -> None:
        """One NAdam update of ``param`` in place (arrays: a parameter, or a whole flat group);
        ``mu_product`` is updated in place too: the parameter's 0-d product, or the group's
        array of products (all equal, as its step counts are: see flat.py)."""
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        wd, psi = group["weight_decay"], group["momentum_decay"]
        xp = array_module(param)
        bias_correction2 = 1 - beta2**step
        if group["decoupled_weight_decay"] and wd != 0:
            param *= 1 - lr * wd
            wd = 0
        tmp, work, denom = self._buffers(param)
        d = _decayed_grad(grad, param, wd, group["maximize"], tmp)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        mu_product *= mu_product.dtype.type(mu)  # in the state's dtype, as PyTorch multiplies
        _lerp_(exp_avg, d, 1 - beta1, work)
        _average_square_(exp_avg_sq, d, beta2, work)
        xp.divide(exp_avg_sq, bias_correction2, out=denom)
        xp.sqrt(denom, out=denom)
        denom += eps
        product = float(mu_product.flat[0])
        xp.divide(d, denom, out=work)
        work *= -lr * (1.0 - mu) / (1.0 - product)
        param += work
        xp.divide(exp_avg, denom, out=work)
        work *= -lr * mu_next / (1.0 - product * mu_next)
        param += work
