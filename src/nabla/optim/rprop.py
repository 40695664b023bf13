"""Rprop: a step size per weight, grown or shrunk by the sign changes of its gradient."""

from nabla.backend import array_module
from nabla.optim.optimizer import Optimizer, _implementation_flags, _step_tensor
from nabla.optim.validation import _check
from nabla.tensor import Tensor


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun, 1993), exactly as ``torch.optim.Rprop``.

    With the gradient ``g_t`` (negated when ``maximize``) and the step sizes ``Δ_0 = lr``::

        s ← sign(g_t·g_{t-1})                      (g_0 = 0)
        Δ_t ← clamp(Δ_{t-1}·(η+ if s > 0, η- if s < 0, 1 if s = 0), Δ_min, Δ_max)
        g_t ← 0 where s < 0                        (after a sign change, no step and no memory)
        θ_t ← θ_{t-1} - sign(g_t)·Δ_t

    Only the gradient's sign is used: each weight's step grows by η+ while its gradient keeps
    its sign, and shrinks by η- when it flips (a minimum was jumped over). This suits full-batch
    training; with mini-batches the signs are noisy.

    Args:
        params: iterable of tensors or of dicts defining parameter groups.
        lr: the initial step size Δ_0 (default: 1e-2).
        etas: (η-, η+), the factors that shrink and grow a step, 0 < η- < 1 < η+
            (default: (0.5, 1.2)).
        step_sizes: (Δ_min, Δ_max), the bounds of a step size (default: (1e-6, 50)).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1e-2, etas: tuple = (0.5, 1.2),
                 step_sizes: tuple = (1e-6, 50), *, capturable: bool = False, foreach=None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _implementation_flags(foreach, None, capturable, differentiable)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict) -> None:
        _check("Rprop", "learning rate", group["lr"])
        etas = group["etas"]
        if not isinstance(etas, (tuple, list)) or len(etas) != 2:
            raise TypeError(f"Rprop: etas must be a pair (eta_minus, eta_plus) such as "
                            f"(0.5, 1.2), got {etas!r}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Rprop: Invalid eta values: {etas[0]}, {etas[1]} (they must "
                             f"satisfy 0 < eta_minus < 1 < eta_plus, e.g. (0.5, 1.2)).")
        sizes = group["step_sizes"]
        if not isinstance(sizes, (tuple, list)) or len(sizes) != 2:
            raise TypeError(f"Rprop: step_sizes must be a pair (min, max) such as (1e-6, 50), "
                            f"got {sizes!r}")

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            (etaminus, etaplus), (size_min, size_max) = group["etas"], group["step_sizes"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                param, grad = p._data, p.grad._data
                xp = array_module(param)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor(0.0)
                    state["prev"] = Tensor._make(xp.zeros_like(param))
                    state["step_size"] = Tensor._make(xp.full_like(grad, group["lr"]))
                state["step"]._data[...] += 1
                prev, step_size = state["prev"]._data, state["step_size"]._data
                d, factor, work = self._buffers(param)
                if group["maximize"]:
                    xp.negative(grad, out=d)
                else:
                    d[...] = grad
                xp.sign(xp.multiply(d, prev, out=factor), out=factor)
                # in PyTorch's order: η+ and η- are positive, so the later masks miss them
                xp.copyto(factor, etaplus, where=factor > 0)
                xp.copyto(factor, etaminus, where=factor < 0)
                xp.copyto(factor, 1.0, where=factor == 0)
                step_size *= factor
                xp.clip(step_size, size_min, size_max, out=step_size)
                xp.copyto(d, 0.0, where=factor == etaminus)
                xp.multiply(xp.sign(d, out=work), step_size, out=work)
                param -= work
                prev[...] = d
                p._version[0] += 1
        return loss
