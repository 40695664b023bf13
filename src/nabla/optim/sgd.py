"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from nabla.backend import array_module
from nabla.optim.flat import flat_group
from nabla.optim.optimizer import Optimizer, _decayed_grad, _implementation_flags
from nabla.optim.validation import _check
from nabla.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), exactly as ``torch.optim.SGD``.

    Gradient descent steps against the gradient: ``θ ← θ - lr·g``. Too large a learning rate
    overshoots and diverges, too small a one crawls (the learning-rate problem).

    With the gradient ``g_t`` (negated when ``maximize``), at step t::

        g_t ← g_t + λ·θ_{t-1}                      (weight_decay λ ≠ 0: the L2 penalty)
        b_t ← g_t                                  (momentum μ ≠ 0, first step)
        b_t ← μ·b_{t-1} + (1 - τ)·g_t              (later steps; dampening τ)
        g_t ← g_t + μ·b_t    if nesterov, else  g_t ← b_t
        θ_t ← θ_{t-1} - lr·g_t

    Momentum keeps the previous direction: the buffer ``b`` is a running sum of past gradients,
    so steps along a consistent direction grow (up to 1/(1-μ) times) while oscillating
    components cancel. Nesterov evaluates the look-ahead gradient: it steps as if from the point
    the momentum is about to carry it to (``g + μ·b``), which corrects an overshoot one step
    earlier. (PyTorch's formulation puts lr outside the buffer, unlike Sutskever et al.)

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate (default: 1e-3).
        momentum: momentum factor μ (default: 0).
        dampening: dampening τ of the momentum (default: 0).
        weight_decay: L2 penalty λ (default: 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None) -> None:
        _implementation_flags(foreach, fused, False, differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        _check("SGD", "learning rate", group["lr"])
        _check("SGD", "momentum value", group["momentum"])
        _check("SGD", "weight_decay value", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, "
                             f"dampening={group['dampening']})")

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            flat = None
            if group["momentum"] != 0:
                flat = flat_group(self._flat, group, self.state, ("momentum_buffer",))
            if flat is not None:  # the whole group in one update (see flat.py)
                flat.gather()
                self._update(group, flat.param, flat.grad, flat.buffers["momentum_buffer"],
                             first=flat.fresh)
                flat.fresh = False
                flat.scatter()
                continue
            for p in group["params"]:
                if p.grad is None:
                    continue
                buf = None
                if group["momentum"] != 0:
                    state = self.state[p]
                    if state.get("momentum_buffer") is None:
                        state["momentum_buffer"] = Tensor._make(p._data * 0)
                        first = True
                    else:
                        first = False
                    buf = state["momentum_buffer"]._data
                self._update(group, p._data, p.grad._data, buf, first=buf is not None and first)
                p._version[0] += 1
        return loss

    def _update(self, group: dict, param, grad, buf, first: bool) -> None:
        """One SGD update of ``param`` in place (arrays: a parameter, or a whole flat group);
        ``first``: the momentum buffer starts as the gradient itself, as in PyTorch."""
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        xp = array_module(param)
        tmp, work, _ = self._buffers(param)
        d = _decayed_grad(grad, param, group["weight_decay"], group["maximize"], tmp)
        if buf is not None:
            if first:
                buf[...] = d
            else:
                buf *= momentum
                if dampening != 0:
                    buf += xp.multiply(d, 1 - dampening, out=work)
                else:
                    buf += d
            if group["nesterov"]:
                xp.multiply(buf, momentum, out=work)
                d = xp.add(d, work, out=work)
            else:
                d = buf
        param += xp.multiply(d, -lr, out=work)
