"""ASGD: SGD whose iterates are averaged (Polyak-Ruppert averaging)."""

from nabla.backend import array_module
from nabla.optim.optimizer import (
    Optimizer,
    _decayed_grad,
    _implementation_flags,
    _step_tensor,
)
from nabla.optim.validation import _check
from nabla.tensor import Tensor


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky, 1992), exactly as ``torch.optim.ASGD``.

    With the gradient ``g_t`` (negated when ``maximize``), at step t (η_0 = lr, μ_0 = 1)::

        g_t ← g_t + λ·θ_{t-1}                      (weight_decay λ ≠ 0)
        θ_t ← (1 - λ_d·η_{t-1})·θ_{t-1} - η_{t-1}·g_t          (decay λ_d = lambd)
        ā_t ← ā_{t-1} + μ_{t-1}·(θ_t - ā_{t-1})    (ā_t ← θ_t while μ = 1)
        η_t ← lr / (1 + λ_d·lr·t)^α,   μ_t ← 1 / max(1, t - t0)

    The parameters follow SGD with a slowly decaying rate; the running average ``ax`` of the
    iterates after step ``t0`` converges faster than the iterates themselves (copy it into the
    model to evaluate). The step only updates ``ax``; it does not use it.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: learning rate (default: 1e-2).
        lambd: decay term λ_d (default: 1e-4).
        alpha: power α of the rate's decay (default: 0.75).
        t0: the step at which averaging starts (default: 1e6).
        weight_decay: L2 penalty λ (default: 0).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach=None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _implementation_flags(foreach, None, capturable, differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        _check("ASGD", "learning rate", group["lr"])
        _check("ASGD", "weight_decay value", group["weight_decay"])

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                param = p._data
                xp = array_module(param)
                state = self.state[p]
                if len(state) == 0:
                    # η and μ are 0-d tensors of the step's dtype, as PyTorch keeps them: a
                    # float32 η rounds the step as PyTorch's does
                    state["step"] = _step_tensor(0.0)
                    state["eta"] = _step_tensor(lr)
                    state["mu"] = _step_tensor(1.0)
                    state["ax"] = Tensor._make(xp.zeros_like(param))
                step_t, eta, mu = state["step"]._data, state["eta"]._data, state["mu"]._data
                ax = state["ax"]._data
                step_t += 1
                tmp, work, _ = self._buffers(param)
                d = _decayed_grad(p.grad._data, param, group["weight_decay"],
                                  group["maximize"], tmp)
                eta_value = eta.item()
                param *= 1 - lambd * eta_value
                param += xp.multiply(d, -eta_value, out=work)
                if mu.item() != 1:
                    xp.subtract(param, ax, out=work)
                    work *= mu.item()
                    ax += work
                else:
                    ax[...] = param
                step = step_t.item()
                # rounded to the step's dtype even where a loaded state made η and μ float64:
                # PyTorch makes them with torch.as_tensor(float), of the default dtype
                eta[...] = _step_tensor(lr / ((1 + lambd * lr * step) ** alpha))._data
                mu[...] = _step_tensor(1 / max(1, step - t0))._data
                p._version[0] += 1
        return loss
