"""``jacrev``, ``jacfwd`` and ``hessian`` as in ``torch.func``: the Jacobian d out[i...] /
d in[j...] as a function, of shape output.shape + input.shape, and the Hessian as the Jacobian
of the gradient. All are computed by reverse mode, one backward pass per output element.
"""

import functools

from nabla.autograd.grad_mode import enable_grad, is_grad_enabled
from nabla.creation import eye, zeros
from nabla.func._levels import (
    check_argnums,
    check_outputs,
    prepare_args,
    pullback,
    reaches_outside,
    release,
    split_aux,
)
from nabla.func._pytree import tree_flatten, tree_unflatten
from nabla.ops.join import stack
from nabla.ops.shape import reshape

__all__ = ["jacrev", "jacfwd", "hessian"]

_RANDOMNESS = ("error", "different", "same")


def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size: int | None = None):
    """The Jacobian of ``func`` by reverse mode, as a function: J[i..., j...] = d out[i...] /
    d in[j...], one vector-Jacobian product (backward pass) per output element.

    Args:
        func: a function returning a Tensor or a container of Tensors (or ``(output, aux)``).
        argnums: the argument (int) or arguments (tuple) to differentiate.
        has_aux: func returns ``(output, aux)``; aux is passed through.
        chunk_size: accepted for PyTorch's signature (None or > 0); the rows are computed one
            at a time whatever it is.

    Returns:
        A function returning, per output, a Tensor of shape output.shape + input.shape (in the
        structure of ``args[argnums]``; a tuple over tuple argnums; outputs in func's
        structure), or ``(jacobian, aux)`` with ``has_aux``.
    """
    check_argnums("jacrev", argnums)
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args):
        return _jacobian("jacrev", func, argnums, has_aux, args)

    return wrapper


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The Jacobian of ``func`` with PyTorch's ``jacfwd`` signature and results.

    nabla has no forward mode: this computes the same Jacobian as ``jacrev`` (reverse mode,
    one backward pass per output element), so its cost grows with the output's size, not the
    input's as a true forward mode would. ``randomness`` is checked and has no effect: func
    runs once, not under a vmap.

    Returns:
        As ``jacrev``: per output, a Tensor of shape output.shape + input.shape.
    """
    check_argnums("jacfwd", argnums)
    if randomness not in _RANDOMNESS:
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args):
        return _jacobian("jacfwd", func, argnums, has_aux, args)

    return wrapper


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func``: H[i..., j...] = d^2 f / d in[i...] d in[j...], as the
    Jacobian of the gradient (``jacfwd(jacrev(func, argnums), argnums)``).

    Returns:
        A function returning a Tensor of shape input.shape + input.shape; for tuple argnums,
        a tuple of tuples: result[i][j] of shape in_i.shape + in_j.shape.
    """
    check_argnums("hessian", argnums)
    return jacfwd(jacrev(func, argnums), argnums)


def _jacobian(name: str, func, argnums, has_aux: bool, args: tuple):
    outer = is_grad_enabled()
    with enable_grad():
        args, inputs, rebuild = prepare_args(name, args, argnums, outer)
        output, aux = split_aux(name, func(*args), has_aux)
        outs, out_spec = tree_flatten(output)
        check_outputs(name, outs)
        keep = reaches_outside(outs + tree_flatten(aux)[0], inputs, outer)
        per_output = [rebuild(_blocks(out, inputs, keep)) for out in outs]
    jac = tree_unflatten(per_output, out_spec)
    return (jac, release(aux, keep)) if has_aux else jac


def _blocks(out, inputs: list, keep: bool) -> list:
    """Per input x, d out / d x of shape out.shape + x.shape: row k is the vjp with the k-th
    unit vector as cotangent."""
    n = out.numel()
    if n == 0:
        return [zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype) for x in inputs]
    units = eye(n, dtype=out.dtype)
    rows = []
    for k in range(n):
        grads = pullback([out], inputs, [reshape(units[k], tuple(out.shape))], keep)
        rows.append(grads if keep else [g.detach() for g in grads])
    return [reshape(stack([r[j] for r in rows], 0), tuple(out.shape) + tuple(x.shape))
            for j, x in enumerate(inputs)]
