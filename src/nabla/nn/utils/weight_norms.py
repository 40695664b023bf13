"""Weight reparametrizations as ``torch.nn.utils``: ``weight_norm`` (w = g v / ||v||, the
direction and the length learned apart) and ``spectral_norm`` (w = w_orig / sigma(w_orig), the
largest singular value estimated by power iteration: a 1-Lipschitz layer, as in SN-GAN).

Both replace the parameter ``name`` by the parameters they learn (``name_g`` and ``name_v``, or
``name_orig`` plus the buffers ``name_u`` and ``name_v``, PyTorch's state_dict keys) and
recompute ``module.<name>`` from them in a forward pre-hook, so the layer's own forward is
unchanged and the gradient reaches the new parameters through the recomputation.
"""

from nabla.autograd.grad_mode import no_grad
from nabla.creation import randn
from nabla.nn.functional.distance import normalize
from nabla.nn.parameter import Parameter
from nabla.ops import dot, permute, reshape
from nabla.ops import sum as sum_

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


def _norm_except_dim(v, dim: int):
    """The 2-norm of ``v`` over every dim but ``dim`` (kept with size 1); over all if dim=-1."""
    if dim == -1:
        return (v * v).sum().sqrt()
    dims = tuple(d for d in range(v.ndim) if d != dim)
    return sum_(v * v, dims, keepdim=True).sqrt()


class _WeightNorm:
    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute(self, module):
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute(module))


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Reparametrize ``module.<name>`` as g * v / ||v||, the norm over every dim but ``dim``
    (None: over all). Returns the module, with parameters ``<name>_g`` and ``<name>_v``."""
    weight = getattr(module, name)
    dim = -1 if dim is None else dim % weight.ndim
    fn = _WeightNorm(name, dim)
    del module._parameters[name]
    with no_grad():
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach().clone()))
    setattr(module, name, fn.compute(module))
    module._weight_norm_hook = (fn, module.register_forward_pre_hook(fn))
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Undo ``weight_norm``: ``module.<name>`` becomes one parameter again (its current value)."""
    fn, handle = _hook(module, "_weight_norm_hook", name, "weight_norm")
    weight = fn.compute(module).detach()
    handle.remove()
    del module._weight_norm_hook
    delattr(module, name)
    del module._parameters[name + "_g"], module._parameters[name + "_v"]
    module.register_parameter(name, Parameter(weight))
    return module


class _SpectralNorm:
    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        self.name, self.n, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight):
        """The weight as a (size of ``dim``, rest) matrix."""
        if self.dim != 0:
            order = (self.dim,) + tuple(d for d in range(weight.ndim) if d != self.dim)
            weight = permute(weight, order)
        return reshape(weight, (weight.shape[0], -1))

    def compute(self, module, power_iteration: bool):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        w = self.matrix(weight)
        if power_iteration:
            with no_grad():
                for _ in range(self.n):  # v <- W^T u / ||.||, u <- W v / ||.||, in the buffers
                    v.copy_(normalize(w.detach().T @ u, dim=0, eps=self.eps))
                    u.copy_(normalize(w.detach() @ v, dim=0, eps=self.eps))
            if self.n > 0:  # the values backward reads must not change with the next update
                u, v = u.clone(), v.clone()
        sigma = dot(u, w @ v)
        return weight / sigma

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute(module, power_iteration=module.training))


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None):
    """Divide ``module.<name>`` by its largest singular value, estimated with
    ``n_power_iterations`` steps of power iteration per training forward (the estimate is kept
    in the buffers ``<name>_u``, ``<name>_v``). ``dim``: the output dimension (default 0, 1 for
    transposed convolutions). Returns the module."""
    if n_power_iterations <= 0:
        raise ValueError(f"spectral_norm: n_power_iterations must be positive, got "
                         f"{n_power_iterations}")
    weight = getattr(module, name)
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    fn = _SpectralNorm(name, n_power_iterations, dim, eps)
    with no_grad():
        h, w = fn.matrix(weight).shape
        u = normalize(randn(h, dtype=weight.dtype), dim=0, eps=eps)
        v = normalize(randn(w, dtype=weight.dtype), dim=0, eps=eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    setattr(module, name, weight.detach())
    module._spectral_norm_hook = (fn, module.register_forward_pre_hook(fn))
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Undo ``spectral_norm``: ``module.<name>`` becomes one parameter (the normalized weight)."""
    fn, handle = _hook(module, "_spectral_norm_hook", name, "spectral_norm")
    with no_grad():
        weight = fn.compute(module, power_iteration=False).detach()
    handle.remove()
    del module._spectral_norm_hook
    delattr(module, name)
    del module._parameters[name + "_orig"]
    del module._buffers[name + "_u"], module._buffers[name + "_v"]
    module.register_parameter(name, Parameter(weight))
    return module


def _hook(module, attribute: str, name: str, what: str):
    found = module.__dict__.get(attribute)
    if found is None or found[0].name != name:
        raise ValueError(f"remove_{what}: {what} of '{name}' not found in {type(module).__name__}")
    return found
