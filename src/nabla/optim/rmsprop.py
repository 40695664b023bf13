"""RMSprop: divide the gradient by a moving average of its recent magnitude."""

from nabla.backend import array_module
from nabla.optim.flat import step_each_group
from nabla.optim.optimizer import (
    Optimizer,
    _average_square_,
    _decayed_grad,
    _implementation_flags,
    _lerp_,
)
from nabla.optim.validation import _check


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), exactly as ``torch.optim.RMSprop``.

    With the gradient ``g_t`` (negated when ``maximize``), at step t::

        g_t ← g_t + λ·θ_{t-1}                      (weight_decay λ ≠ 0)
        v_t ← α·v_{t-1} + (1 - α)·g_t²             (moving average of squared gradients)
        ṽ_t ← v_t                                  (or, if centered:)
        m_t ← α·m_{t-1} + (1 - α)·g_t,   ṽ_t ← v_t - m_t²
        b_t ← μ·b_{t-1} + g_t / (√ṽ_t + ε),   θ_t ← θ_{t-1} - lr·b_t     (momentum μ > 0)
        θ_t ← θ_{t-1} - lr·g_t / (√ṽ_t + ε)                              (otherwise)

    RMSprop: moving average of squared gradients. Like Adagrad each coordinate is scaled by the
    size of its gradients, but the exponential average forgets the distant past, so rates adapt
    instead of decaying to zero. ``centered`` divides by an estimate of the gradient's variance
    rather than its raw second moment.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate (default: 1e-2).
        alpha: smoothing constant α (default: 0.99).
        eps: added to the denominator for numerical stability (default: 1e-8).
        weight_decay: L2 penalty λ (default: 0).
        momentum: momentum factor μ (default: 0).
        centered: normalize by the estimated variance of the gradient.
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _implementation_flags(foreach, None, capturable, differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        _check("RMSprop", "learning rate", group["lr"])
        _check("RMSprop", "epsilon value", group["eps"])
        _check("RMSprop", "momentum value", group["momentum"])
        _check("RMSprop", "weight_decay value", group["weight_decay"])
        _check("RMSprop", "alpha value", group["alpha"])

    def step(self, closure=None):
        loss = self._run_closure(closure)

        def keys(group):  # the buffers the group's options ask for, named as in state
            return (("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ())
                    + (("grad_avg",) if group["centered"] else ()))

        step_each_group(self, keys, counted_update=False)
        return loss

    def _update(self, group: dict, param, grad, square_avg, momentum_buffer=None,
                grad_avg=None) -> None:
        """One RMSprop update of ``param`` in place (arrays: a parameter, or a whole flat group);
        the buffers are named as in ``state``: ``momentum_buffer`` if momentum > 0, ``grad_avg``
        if centered."""
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        xp = array_module(param)
        tmp, work, avg = self._buffers(param)
        d = _decayed_grad(grad, param, group["weight_decay"], group["maximize"], tmp)
        _average_square_(square_avg, d, alpha, work)
        if grad_avg is not None:
            _lerp_(grad_avg, d, 1 - alpha, work)
            xp.subtract(square_avg, xp.multiply(grad_avg, grad_avg, out=avg), out=avg)
            xp.sqrt(avg, out=avg)
        else:
            xp.sqrt(square_avg, out=avg)
        avg += eps
        if momentum_buffer is not None:
            momentum_buffer *= group["momentum"]
            momentum_buffer += xp.divide(d, avg, out=work)
            param += xp.multiply(momentum_buffer, -lr, out=work)
        else:
            xp.multiply(d, -lr, out=work)
            param += xp.divide(work, avg, out=work)
