"""Derivatives of whole functions, as ``torch.autograd.functional``: jacobian, hessian, vjp, jvp,
vhp, hvp. Each is built from ``autograd.grad`` (reverse mode): a Jacobian is one backward pass
per output element, a Hessian the Jacobian of the gradient (``create_graph=True`` is what makes
the gradient differentiable again), and a Jacobian-vector product the "double backward" trick:
u -> J^T u is linear in u, so differentiating it with respect to u in the direction v gives J v.
"""

from nabla.autograd.engine import grad
from nabla.autograd.grad_mode import enable_grad
from nabla.creation import zeros_like
from nabla.ops.join import stack
from nabla.ops.shape import reshape
from nabla.tensor import Tensor

__all__ = ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"]


def _as_tuple(name: str, what: str, value) -> tuple[tuple, bool]:
    """(the Tensors as a tuple, whether they came as a tuple)."""
    is_tuple = isinstance(value, (tuple, list))
    values = tuple(value) if is_tuple else (value,)
    for v in values:
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}: the {what} must be Tensors or a tuple of Tensors, got "
                            f"{type(v).__name__}")
    return values, is_tuple


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs that require grad: fresh leaves, or (create_graph) views that keep the graph."""
    if create_graph:
        return tuple(x.view_as(x) if x.requires_grad else x.detach().requires_grad_()
                     for x in inputs)
    return tuple(x.detach().requires_grad_() for x in inputs)


def _grads(name: str, outputs, inputs, grad_outputs, create_graph: bool, strict: bool) -> tuple:
    """d(outputs . grad_outputs)/d(inputs); zeros for inputs the outputs do not depend on
    (an error with ``strict``)."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs, strict=True) if o.requires_grad]
    if not pairs:
        found = (None,) * len(inputs)
    else:
        found = grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                     retain_graph=True, create_graph=create_graph, allow_unused=True)
    result = []
    for i, (x, g) in enumerate(zip(inputs, found, strict=True)):
        if g is None:
            if strict:
                raise RuntimeError(f"{name}: the output does not depend on input {i} (shape "
                                   f"{tuple(x.shape)}); pass strict=False to get zeros")
            g = zeros_like(x)
        result.append(g)
    return tuple(result)


def _finish(values: tuple, create_graph: bool) -> tuple:
    return values if create_graph else tuple(v.detach() for v in values)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: d output[i...] / d input[j...].

    Returns:
        For one input and one output, a Tensor of shape output.shape + input.shape; a tuple
        over inputs, over outputs, or a tuple (outputs) of tuples (inputs) otherwise.
    """
    if strategy != "reverse-mode":
        raise NotImplementedError("jacobian: only strategy='reverse-mode' is available")
    inputs, in_tuple = _as_tuple("jacobian", "inputs", inputs)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs, out_tuple = _as_tuple("jacobian", "outputs of func", func(*inputs))
        rows = []  # per output: per input, a Tensor output.shape + input.shape
        for out in outputs:
            flat = reshape(out, (-1,))
            per_element = []
            for k in range(flat.shape[0]):
                seed = zeros_like(flat)
                seed._data[k] = 1
                per_element.append(_grads("jacobian", (flat,), inputs, (seed,), create_graph,
                                          strict))
            blocks = []
            for j, x in enumerate(inputs):
                if per_element:
                    block = stack([g[j] for g in per_element], 0)
                else:  # an empty output: an empty Jacobian
                    block = zeros_like(x).reshape((0,) + tuple(x.shape))
                blocks.append(reshape(block, tuple(out.shape) + tuple(x.shape)))
            rows.append(_finish(tuple(blocks), create_graph))
    if not out_tuple:
        return rows[0] if in_tuple else rows[0][0]
    return tuple(r if in_tuple else r[0] for r in rows)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar ``func``: d^2 f / d input_i d input_j.

    Returns:
        For one input, a Tensor of shape input.shape + input.shape; for a tuple of inputs, a
        tuple of tuples: result[i][j] of shape input_i.shape + input_j.shape.
    """
    inputs_t, in_tuple = _as_tuple("hessian", "inputs", inputs)

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("hessian: func must return a single-element Tensor, got "
                               f"{tuple(out.shape) if isinstance(out, Tensor) else type(out)}")
        return _grads("hessian", (reshape(out, ()),), xs, (None,), True, strict)

    result = jacobian(gradient, inputs_t, create_graph=create_graph, strict=strict,
                      strategy=outer_jacobian_strategy)
    return result if in_tuple else result[0][0]


def _direction(name: str, v, like: tuple, what: str) -> tuple:
    """``v`` as a tuple matching ``like`` in shapes; None only for single-element tensors."""
    if v is None:
        if any(t.numel() != 1 for t in like):
            raise RuntimeError(f"{name}: v may be omitted only when the {what} have a single "
                               "element; pass v of the same shapes")
        return tuple(zeros_like(t) + 1 for t in like)
    vs, _ = _as_tuple(name, "v", v)
    if len(vs) != len(like) or any(a.shape != b.shape for a, b in zip(vs, like, strict=True)):
        raise RuntimeError(f"{name}: v has shapes {[tuple(a.shape) for a in vs]}, the {what} "
                           f"have shapes {[tuple(b.shape) for b in like]}; they must match")
    return tuple(a.detach() for a in vs)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product, one backward pass."""
    inputs_t, in_tuple = _as_tuple("vjp", "inputs", inputs)
    with enable_grad():
        xs = _prepare(inputs_t, create_graph)
        outputs, out_tuple = _as_tuple("vjp", "outputs of func", func(*xs))
        vs = _direction("vjp", v, outputs, "outputs")
        result = _finish(_grads("vjp", outputs, xs, vs, create_graph, strict), create_graph)
    outs = _finish(outputs, create_graph)
    return (outs if out_tuple else outs[0]), (result if in_tuple else result[0])


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product, by differentiating u -> J^T u (linear
    in u) with respect to u in the direction v."""
    inputs_t, in_tuple = _as_tuple("jvp", "inputs", inputs)
    with enable_grad():
        xs = _prepare(inputs_t, create_graph)
        outputs, out_tuple = _as_tuple("jvp", "outputs of func", func(*xs))
        vs = _direction("jvp", v, xs, "inputs")
        us = tuple(zeros_like(o).requires_grad_() for o in outputs)
        transposed = _grads("jvp", outputs, xs, us, True, strict)  # J^T u, a graph in u
        result = _grads("jvp", transposed, us, vs, create_graph, strict)
        result = _finish(result, create_graph)
    outs = _finish(outputs, create_graph)
    return (outs if out_tuple else outs[0]), (result if out_tuple else result[0])


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H) for a scalar func: the gradient of (grad f . v)."""
    inputs_t, in_tuple = _as_tuple("vhp", "inputs", inputs)
    with enable_grad():
        xs = _prepare(inputs_t, create_graph)
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("vhp: func must return a single-element Tensor")
        vs = _direction("vhp", v, xs, "inputs")
        gradient = _grads("vhp", (reshape(out, ()),), xs, (None,), True, strict)
        result = _finish(_grads("vhp", gradient, xs, vs, create_graph, strict), create_graph)
    out = out if create_graph else out.detach()
    return out, (result if in_tuple else result[0])


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v) for a scalar func. The Hessian of a twice continuously
    differentiable function is symmetric, so H v = (v^T H)^T: computed as vhp."""
    return vhp(func, inputs, v, create_graph, strict)
