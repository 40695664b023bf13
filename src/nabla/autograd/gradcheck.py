"""Gradient checking: compare the gradients autograd computes with finite differences.

``gradcheck`` multiplies the Jacobian by a *random* upstream gradient ``v`` on both sides:

    analytical   v^T J   from one backward pass,
    numerical    v^T J   from central differences (f(x + eps e_j) - f(x - eps e_j)) / (2 eps).

A random ``v`` matters: with ``v`` all ones, a check of ``softmax`` sees ``d sum(softmax(x)) / dx``,
which is zero for *any* backward that returns a zero-sum vector, so a wrong rule passes.
On a mismatch the report names the input, the element, both values and the output that
disagrees (down to the output element when the Jacobian is small enough to build in full).

``gradgradcheck`` runs the same check on the function ``(inputs, v) -> grad`` built with
``create_graph=True``: the second derivative.
"""

from collections.abc import Callable, Sequence

import numpy

from nabla.autograd.engine import grad as _grad
from nabla.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]

_FULL_JACOBIAN_LIMIT = 4096  # input elements x output elements: above this, report less detail


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` / ``gradgradcheck`` when analytical and numerical gradients
    differ."""


def gradcheck(
    func: Callable,
    inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    grad_outputs=None,
    seed: int = 0,
) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    Args:
        func: a function of the inputs returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of arguments; the Tensors with ``requires_grad`` are checked
            and must be float64.
        eps: the finite-difference step.
        atol, rtol: an element passes when
            ``|analytical - numerical| <= atol + rtol * |numerical|``.
        raise_exception: raise ``GradcheckError`` on failure (else return False).
        nondet_tol: how much two backward passes over the same graph may differ.
        grad_outputs: upstream gradients to check with (one per floating output); default random.
            Passing all-ones tensors reproduces the weak check that misses zero-sum errors.
        seed: seed of the private generator drawing the random upstream gradients.

    Returns:
        True when the gradients agree.
    """
    inputs = _as_tuple(inputs)
    diff_idx = _checked_inputs(inputs, "gradcheck")
    outputs = _as_tuple(func(*inputs))
    out_idx = [k for k, o in enumerate(outputs) if _is_float_tensor(o)]
    if not diff_idx or not out_idx:
        return True
    vs = _upstream_grads(grad_outputs, outputs, out_idx, seed)
    if vs is None:
        return _fail(raise_exception, "gradcheck: grad_outputs must give one gradient per "
                     f"floating output, shaped {[tuple(outputs[k].shape) for k in out_idx]}")
    analytical = _analytical_vjp(inputs, diff_idx, outputs, out_idx, vs)
    msg = _nondeterminism(func, inputs, diff_idx, out_idx, vs, analytical, nondet_tol)
    if msg is None:
        jacobians = _numerical_jacobians(func, inputs, diff_idx, out_idx, eps)
        msg = _mismatch(func, inputs, diff_idx, outputs, out_idx, vs, analytical, jacobians,
                        atol, rtol, grad_outputs is None)
    return True if msg is None else _fail(raise_exception, msg)


def _upstream_grads(grad_outputs, outputs, out_idx, seed: int) -> list | None:
    """The upstream gradients v as float64 arrays, one per floating output: random (from a
    private generator seeded with ``seed``) or the given ones; None if the given ones misfit."""
    if grad_outputs is None:
        rng = numpy.random.default_rng(seed)
        return [rng.standard_normal(outputs[k].shape) for k in out_idx]
    vs = [numpy.asarray(g._data if isinstance(g, Tensor) else g, dtype=numpy.float64)
          for g in _as_tuple(grad_outputs)]
    if len(vs) != len(out_idx) or any(v.shape != outputs[k].shape
                                      for v, k in zip(vs, out_idx, strict=True)):
        return None
    return vs


def _nondeterminism(func, inputs, diff_idx, out_idx, vs, analytical, nondet_tol) -> str | None:
    """The error message if a second forward and backward pass gives other gradients."""
    again = _analytical_vjp(inputs, diff_idx, _as_tuple(func(*inputs)), out_idx, vs)
    for i, a, b in zip(diff_idx, analytical, again, strict=True):
        if a.size and numpy.max(numpy.abs(a - b)) > nondet_tol:
            return (f"gradcheck: backward is not reentrant: two backward passes gave gradients "
                    f"of input {i} that differ by {numpy.max(numpy.abs(a - b)):.3g} > "
                    f"nondet_tol = {nondet_tol}")
    return None


def _mismatch(func, inputs, diff_idx, outputs, out_idx, vs, analytical, jacobians, atol, rtol,
              random_v: bool) -> str | None:
    """The error message for the first input whose v^T J from backward differs from the one
    from finite differences (naming its worst element), or None when all agree."""
    for n, i in enumerate(diff_idx):
        numerical = numpy.zeros(inputs[i].shape)
        for v, jac in zip(vs, jacobians[n], strict=False):  # no Jacobians for an empty input
            numerical = numerical + (v.reshape(-1) @ jac).reshape(inputs[i].shape)
        a = analytical[n]
        if a.shape != numerical.shape:
            return (f"gradcheck: the gradient of input {i} has shape {a.shape}, expected "
                    f"{numerical.shape}")
        excess = numpy.abs(a - numerical) - (atol + rtol * numpy.abs(numerical))
        if excess.size and not (excess <= 0).all():  # also catches NaN
            bad = numpy.where(numpy.isnan(excess), numpy.inf, excess)
            j = numpy.unravel_index(int(numpy.argmax(bad)), a.shape)
            return _report(func, inputs, i, n, j, a, numerical, outputs, out_idx, vs, jacobians,
                           atol, rtol, random_v)
    return None


def gradgradcheck(
    func: Callable,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    seed: int = 0,
) -> bool:
    """Check second derivatives: ``gradcheck`` of ``(inputs, v) -> d(v . func(inputs))/d inputs``
    built with ``create_graph=True``.

    Args:
        func, inputs, eps, atol, rtol, raise_exception, nondet_tol, seed: as in ``gradcheck``.
        grad_outputs: the upstream gradients ``v`` (float64 Tensors, one per floating output);
            default random, requiring grad so the check covers their derivative too.

    Returns:
        True when the second derivatives agree.
    """
    inputs = _as_tuple(inputs)
    diff_idx = _checked_inputs(inputs, "gradgradcheck")
    outputs = _as_tuple(func(*inputs))
    out_idx = [k for k, o in enumerate(outputs) if _is_float_tensor(o)]
    if not diff_idx or not out_idx:
        return True
    grad_outputs = _second_order_upstream(grad_outputs, outputs, out_idx, seed)
    n_in = len(inputs)
    first_derivative = _first_derivative(func, n_in, diff_idx, out_idx)
    try:
        return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                         raise_exception=raise_exception, nondet_tol=nondet_tol, seed=seed + 2)
    except GradcheckError as err:
        raise GradcheckError(
            f"gradgradcheck: the second derivative is wrong. Below, the function checked maps "
            f"(inputs, grad_outputs) to the gradients of inputs {diff_idx}; inputs {n_in} and up "
            f"are the grad_outputs.\n{err}"
        ) from None


def _second_order_upstream(grad_outputs, outputs, out_idx, seed: int) -> tuple:
    """gradgradcheck's upstream gradients v: the given ones, checked (float64, one per floating
    output), or random ones that require grad (seeded with ``seed + 1``)."""
    if grad_outputs is None:
        rng = numpy.random.default_rng(seed + 1)
        grad_outputs = tuple(
            Tensor._make(rng.standard_normal(outputs[k].shape)).requires_grad_()
            for k in out_idx
        )
    grad_outputs = _as_tuple(grad_outputs)
    _checked_inputs(grad_outputs, "gradgradcheck (grad_outputs)")
    if len(grad_outputs) != len(out_idx):
        raise ValueError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for "
                         f"{len(out_idx)} floating outputs")
    return grad_outputs


def _first_derivative(func: Callable, n_in: int, diff_idx: list, out_idx: list) -> Callable:
    """The function (*inputs, *grad_outputs) -> the gradients of the inputs at diff_idx of
    sum_k grad_outputs[k] . func(*inputs)[out_idx[k]], built with create_graph=True."""

    def first_derivative(*args):
        ins, vs = args[:n_in], args[n_in:]
        outs = _as_tuple(func(*ins))
        pairs = [(outs[k], v) for k, v in zip(out_idx, vs, strict=True) if outs[k].requires_grad]
        if not pairs:
            return ()
        grads = _grad([o for o, _ in pairs], [ins[i] for i in diff_idx], [v for _, v in pairs],
                      create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return first_derivative


# -- the two sides --------------------------------------------------------------------------------
def _analytical_vjp(inputs, diff_idx, outputs, out_idx, vs) -> list:
    """v^T J for each checked input, by one backward pass (zeros where no gradient flows)."""
    roots, grads = [], []
    for k, v in zip(out_idx, vs, strict=True):
        o = outputs[k]
        if o.requires_grad:
            roots.append(o)
            grads.append(Tensor._make(v.astype(o.dtype)))
    result = [None] * len(diff_idx)
    if roots:
        result = _grad(roots, [inputs[i] for i in diff_idx], grads, retain_graph=True,
                       allow_unused=True)
    return [numpy.zeros(inputs[i].shape) if g is None else numpy.array(g._data, numpy.float64)
            for i, g in zip(diff_idx, result, strict=True)]


def _numerical_jacobians(func, inputs, diff_idx, out_idx, eps) -> list:
    """jacobians[n][m]: d output out_idx[m] / d input diff_idx[n], shape (out numel, in numel),
    by central differences, perturbing each input element in place and restoring it exactly."""
    jacobians = []
    for i in diff_idx:
        data = inputs[i]._data
        cols = []
        for j in numpy.ndindex(data.shape):
            orig = data[j].copy()
            data[j] = orig + eps
            plus = _evaluate(func, inputs, out_idx)
            data[j] = orig - eps
            minus = _evaluate(func, inputs, out_idx)
            data[j] = orig
            cols.append([(p - m).reshape(-1) / (2 * eps) for p, m in zip(plus, minus, strict=True)])
        jacobians.append([numpy.stack([c[m] for c in cols], axis=1) for m in range(len(out_idx))]
                         if cols else [])
    return jacobians


def _evaluate(func, inputs, out_idx) -> list:
    outputs = _as_tuple(func(*inputs))
    # copy: an output may be a view of the input that is about to be restored
    return [numpy.array(outputs[k]._data, numpy.float64) for k in out_idx]


# -- reporting ------------------------------------------------------------------------------------
def _report(func, inputs, i, n, j, analytical, numerical, outputs, out_idx, vs, jacobians,
            atol, rtol, random_v) -> str:
    """Name the worst element, and the output (element) whose Jacobian entries disagree."""
    a, num = analytical[j], numerical[j]
    kind = "random" if random_v else "given"
    lines = [
        f"gradcheck: gradient mismatch for input {i} (shape {tuple(inputs[i].shape)}) at element "
        f"{tuple(int(t) for t in j)}:",
        f"  analytical {a:.10g} vs numerical {num:.10g} (difference {abs(a - num):.3g}, allowed "
        f"{atol + rtol * abs(num):.3g} = atol + rtol * |numerical|), with a {kind} upstream "
        "gradient",
    ]
    col = int(numpy.ravel_multi_index(j, inputs[i].shape))
    worst = None
    for m, k in enumerate(out_idx):  # one backward per output element, where affordable
        o = outputs[k]
        if not o.requires_grad or o._data.size * inputs[i]._data.size > _FULL_JACOBIAN_LIMIT:
            continue
        for r in range(o._data.size):
            onehot = numpy.zeros(o._data.size)
            onehot[r] = 1.0
            va = [onehot.reshape(o.shape) if mm == m else numpy.zeros(vv.shape)
                  for mm, vv in enumerate(vs)]
            row = _analytical_vjp(inputs, [i], outputs, out_idx, va)[0].reshape(-1)
            d = abs(row[col] - jacobians[n][m][r, col])
            if worst is None or d > worst[0]:
                worst = (d, k, r, row[col], jacobians[n][m][r, col], o.shape)
    if worst is not None and worst[0] > 0:
        d, k, r, ja, jn, shape = worst
        idx = tuple(int(t) for t in numpy.unravel_index(r, shape))
        lines.append(f"  worst Jacobian entry: d output[{k}]{list(idx)} / d input[{i}]"
                     f"{list(int(t) for t in j)}: analytical {ja:.10g} vs numerical {jn:.10g}")
    else:
        per_output = []
        for m, k in enumerate(out_idx):
            va = [vv if mm == m else numpy.zeros(vv.shape) for mm, vv in enumerate(vs)]
            part = _analytical_vjp(inputs, [i], outputs, out_idx, va)[0]
            per_output.append((abs(part[j] - vs[m].reshape(-1) @ jacobians[n][m][:, col]), k))
        lines.append(f"  the output that disagrees most: output {max(per_output)[1]}")
    return "\n".join(lines)


# -- helpers --------------------------------------------------------------------------------------
def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_float_tensor(x) -> bool:
    return isinstance(x, Tensor) and x._data.dtype.kind == "f"


def _checked_inputs(inputs: Sequence, where: str) -> list:
    """Indices of the inputs that require grad; each must be float64."""
    idx = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x._data.dtype != numpy.float64:
                raise ValueError(
                    f"{where}: input {i} requires grad but has dtype {x._data.dtype}; finite "
                    "differences need float64 inputs (float32 rounding swamps a step of 1e-6). "
                    "Convert it with .double()."
                )
            idx.append(i)
    return idx


def _fail(raise_exception: bool, msg: str) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False
