"""``grad``, ``grad_and_value``, ``vjp``, ``jvp`` and ``linearize`` as in ``torch.func``:
transforms that take a function and return its derivative as a function, built on nabla's
reverse mode (``autograd.grad``). They nest (``grad(grad(f))`` is f''), see ``_levels`` for how.
"""

import functools

from nabla.autograd.engine import grad as autograd_grad
from nabla.autograd.grad_mode import enable_grad, is_grad_enabled
from nabla.creation import zeros_like
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
from nabla.tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize"]


def grad(func, argnums=0, has_aux: bool = False):
    """The gradient of a scalar function, as a function: ``grad(f)(x)`` = df/dx.

    Args:
        func: a function of Tensors (or dicts/tuples/lists of them) returning a 0-d Tensor, or
            ``(output, aux)`` with ``has_aux``.
        argnums: the argument (int) or arguments (tuple of ints) to differentiate.
        has_aux: func returns ``(output, aux)``; aux is passed through.

    Returns:
        A function of func's arguments returning the gradient (shaped like ``args[argnums]``;
        a tuple of them for tuple argnums), or ``(gradient, aux)`` with ``has_aux``.
    """
    check_argnums("grad", argnums)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradient, (_, aux) = _grad_and_value("grad", func, argnums, has_aux, args, kwargs)
        return (gradient, aux) if has_aux else gradient

    return wrapper


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """As ``grad``, returning ``(gradient, value)``: ``(df/dx, f(x))``; with ``has_aux``,
    ``(gradient, (value, aux))``."""
    check_argnums("grad_and_value", argnums)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradient, (value, aux) = _grad_and_value("grad_and_value", func, argnums, has_aux,
                                                 args, kwargs)
        return (gradient, (value, aux)) if has_aux else (gradient, value)

    return wrapper


def _grad_and_value(name: str, func, argnums, has_aux: bool, args: tuple, kwargs: dict):
    """(gradient, (value, aux)) of func at args."""
    outer = is_grad_enabled()
    with enable_grad():
        args, inputs, rebuild = prepare_args(name, args, argnums, outer)
        output, aux = split_aux(name, func(*args, **kwargs), has_aux)
        if not isinstance(output, Tensor):
            raise RuntimeError(f"{name}(f)(*args): expected f(*args) to return a Tensor, got "
                               f"{type(output).__name__}")
        if output.ndim != 0:
            raise RuntimeError(
                f"{name}(f)(*args): expected f(*args) to return a scalar Tensor, got a tensor "
                f"of shape {tuple(output.shape)}. Reduce it (.sum(), .mean()), or use vjp or "
                "jacrev for a non-scalar output")
        keep = reaches_outside([output, *tree_flatten(aux)[0]], inputs, outer)
        gradient = pullback([output], inputs, [None], keep, retain_graph=False)
    return rebuild(release(gradient, keep)), (release(output, keep), release(aux, keep))


def vjp(func, *primals, has_aux: bool = False):
    """``(func(*primals), vjp_fn)``: vjp_fn(v) = v^T J, the vector-Jacobian product.

    Args:
        func: a function of the primals returning a Tensor or a tuple/list/dict of them (or
            ``(output, aux)`` with ``has_aux``).
        primals: the Tensors (or containers of Tensors) at which J is taken.

    Returns:
        ``(output, vjp_fn)``, or ``(output, vjp_fn, aux)``. ``vjp_fn(cotangents)`` takes
        cotangents shaped like the output and returns a tuple with one gradient per primal,
        each shaped like it; it may be called many times.
    """
    if not primals:
        raise RuntimeError("vjp(f, *primals): expected at least one primal")
    outer = is_grad_enabled()
    with enable_grad():
        args, inputs, rebuild = prepare_args("vjp", primals, tuple(range(len(primals))), outer)
        output, aux = split_aux("vjp(f, *primals)", func(*args), has_aux)
        outs, out_spec = tree_flatten(output)
        check_outputs("vjp(f, *primals)", outs)
        keep = reaches_outside(outs + tree_flatten(aux)[0], inputs, outer)

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
        cots, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError(
                "vjp_fn: expected the cotangents to have the structure of the outputs of f: "
                f"outputs {out_spec}, cotangents {cot_spec}")
        _check_shapes("vjp_fn", "cotangent", cots, "output", outs)
        if create_graph is None:
            create_graph = is_grad_enabled() and (
                keep or any(c.requires_grad for c in cots))
        return rebuild(pullback(outs, inputs, cots, create_graph, retain_graph))

    output = release(output, keep)
    if has_aux:
        return output, vjp_fn, release(aux, keep)
    return output, vjp_fn


def _check_shapes(name: str, what: str, given: list, like_what: str, like: list) -> None:
    for i, (g, x) in enumerate(zip(given, like, strict=True)):
        if not isinstance(g, Tensor):
            raise RuntimeError(f"{name}: expected the {what}s to be Tensors, got "
                               f"{type(g).__name__}")
        if g.shape != x.shape:
            raise RuntimeError(f"{name}: {what} {i} has shape {tuple(g.shape)} but the "
                               f"{like_what} has shape {tuple(x.shape)}; they must match")


def jvp(func, primals: tuple, tangents: tuple, *, strict: bool = False, has_aux: bool = False):
    """``(func(*primals), J v)``: the Jacobian-vector product, v = ``tangents``.

    nabla has no forward mode: J v is computed by the double-vjp trick on its reverse mode.
    u -> J^T u is linear in u, so its vjp with cotangent v is (J^T)^T v = J v: two backward
    passes (the first with create_graph) instead of one forward pass; the values are the same.

    Args:
        func: a function of the primals returning a Tensor or a container of Tensors.
        primals: a tuple of func's arguments (Tensors or containers of them).
        tangents: the direction v, with the structure and shapes of ``primals``.
        strict: raise if the outputs do not depend on the primals.

    Returns:
        ``(output, jvp_out)`` with jvp_out shaped like the output; ``(output, jvp_out, aux)``
        with ``has_aux``.
    """
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): expected primals to be a tuple, so that "
                           "f(*primals) is the call; wrap a single Tensor as (x,)")
    flat_tangents = _matching_tangents("jvp(f, primals, tangents)", primals, tangents)
    outer = is_grad_enabled()
    with enable_grad():
        args, inputs, _ = prepare_args("jvp", primals, tuple(range(len(primals))), outer)
        output, aux = split_aux("jvp(f, primals, tangents)", func(*args), has_aux)
        outs, out_spec = tree_flatten(output)
        check_outputs("jvp(f, primals, tangents)", outs)
        keep = reaches_outside(outs + tree_flatten(aux)[0], inputs, outer) or (
            outer and any(t.requires_grad for t in flat_tangents))
        us, transposed = _transposed(outs, inputs)
        tangent_out = _forward(outs, us, transposed, flat_tangents, keep, keep, strict)
    output = release(output, keep)
    tangent_out = tree_unflatten(release(tangent_out, keep), out_spec)
    if has_aux:
        return output, tangent_out, release(aux, keep)
    return output, tangent_out


def _matching_tangents(name: str, primals: tuple, tangents) -> list:
    flat_primals, primal_spec = tree_flatten(primals)
    flat_tangents, tangent_spec = tree_flatten(tangents)
    if primal_spec != tangent_spec:
        raise RuntimeError(
            f"{name}: expected primals and tangents to have the same structure, got "
            f"primals {primal_spec} and tangents {tangent_spec}")
    if not flat_primals:
        raise RuntimeError(f"{name}: expected primals to hold a Tensor")
    _check_shapes(name, "tangent", flat_tangents, "primal", flat_primals)
    return flat_tangents


def _transposed(outs: list, inputs: list) -> tuple[list, list]:
    """(u per output, J^T u per input): a graph in the fresh leaves u, linear in them."""
    us = [zeros_like(o).requires_grad_() for o in outs]
    return us, pullback(outs, inputs, us, create_graph=True)


def _forward(outs: list, us: list, transposed: list, tangents: list, create_graph: bool,
             retain_graph: bool, strict: bool = False) -> list:
    """J v per output: the vjp (cotangent v) of u -> J^T u, which is linear in u."""
    pairs = [(g, v) for g, v in zip(transposed, tangents, strict=True) if g.requires_grad]
    found = None
    if pairs:
        found = autograd_grad([g for g, _ in pairs], us, [v for _, v in pairs],
                              retain_graph=retain_graph or create_graph,
                              create_graph=create_graph, allow_unused=True)
    if found is None or all(f is None for f in found):
        if strict:
            raise RuntimeError("jvp(f, primals, tangents, strict=True): the output of f is "
                               "independent of the inputs. This is not allowed with strict=True")
        found = (None,) * len(outs)
    return [zeros_like(o) if f is None else f for o, f in zip(outs, found, strict=True)]


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)``: jvp_fn(*tangents) = J v at the primals, for many v.

    As ``jvp``, by the double-vjp trick: the first backward pass (J^T u, a graph in u) is made
    once here, and each call of jvp_fn is one more backward pass.

    Returns:
        ``(output, jvp_fn)``; jvp_fn takes tangents with the structure and shapes of the
        primals and returns J v in the structure of the output.
    """
    if not primals:
        raise RuntimeError("linearize(f, *primals): expected at least one primal")
    outer = is_grad_enabled()
    with enable_grad():
        args, inputs, _ = prepare_args("linearize", primals, tuple(range(len(primals))), outer)
        output = func(*args)
        outs, out_spec = tree_flatten(output)
        check_outputs("linearize", outs)
        keep = reaches_outside(outs, inputs, outer)
        us, transposed = _transposed(outs, inputs)

    def jvp_fn(*tangents):
        flat = _matching_tangents("linearize: jvp_fn(*tangents)", primals, tangents)
        create_graph = is_grad_enabled() and (keep or any(t.requires_grad for t in flat))
        out = _forward(outs, us, transposed, flat, create_graph, retain_graph=True)
        return tree_unflatten(release(out, create_graph), out_spec)

    return release(output, keep), jvp_fn
