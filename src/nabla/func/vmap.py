"""``vmap`` as in ``torch.func.vmap``, with PyTorch's semantics and a loop for an engine: the
mapped arguments are sliced along their ``in_dims``, ``func`` runs once per index, and the
results are stacked along ``out_dims``. Slicing (``select``) and stacking are differentiable ops,
so ``vmap`` composes with ``grad`` either way round and with itself.
"""

import functools

from nabla.backend import array_module
from nabla.func._pytree import broadcast_prefix, tree_flatten, tree_unflatten
from nabla.ops.join import select, stack
from nabla.random import default_generator
from nabla.tensor import Tensor

__all__ = ["vmap"]

_RANDOMNESS = ("error", "different", "same")


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *,
         chunk_size: int | None = None):
    """``func`` mapped over a dimension of its inputs: out[b] = func(x[b]) for each b.

    This runs ``func`` once per element of the mapped dimension (a Python loop): PyTorch's
    semantics, not its speed. Use it for per-sample gradients and ensembles where the clarity
    matters more than the time; a batched op is much faster where one exists.

    Args:
        func: a function of Tensors (or containers of them) returning a Tensor or a
            tuple/list/dict of Tensors.
        in_dims: per argument, the dimension to map over, or None for an argument passed whole
            to every call; an int applies to all arguments; a tuple matches the arguments and
            may nest to match containers inside them. Keyword arguments are never mapped.
        out_dims: where the mapped dimension goes in each output (int, or a structure like the
            output); None for an output that is the same for every element (checked).
        randomness: 'error' raises if func draws from nabla's global generator (detected by
            its state changing during a call: a draw from a private ``Generator`` is not seen,
            and an outer 'error' vmap also refuses an inner vmap's draws); 'different' lets
            each element draw anew; 'same' gives every element the same draws (the generator is
            rewound before each call).
        chunk_size: accepted for PyTorch's signature (None or > 0); the loop takes one element
            at a time whatever it is.

    Returns:
        A function taking func's arguments with B at dimension ``in_dims`` of each mapped
        one, and returning func's outputs with B inserted at ``out_dims``.
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0, got {chunk_size}")
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...): expected in_dims to be "
                         "int or a (potentially nested) tuple matching the structure of inputs, "
                         f"got {type(in_dims).__name__}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        outputs = _per_element(func, in_dims, randomness, args, kwargs)
        return _stack_outputs(func, outputs, out_dims)

    return wrapper


def _per_element(func, in_dims, randomness: str, args: tuple, kwargs: dict) -> list:
    """[func(*args sliced at b along in_dims, **kwargs) for each b], under ``randomness``."""
    flat_args, args_spec = tree_flatten(args)
    flat_dims = _in_dims(func, in_dims, args, flat_args)
    size = _batch_size(func, in_dims, flat_args, flat_dims)
    outputs = []
    start = _rng_state()
    for b in range(size):
        sliced = [x if d is None else select(x, d, b)
                  for x, d in zip(flat_args, flat_dims, strict=True)]
        if randomness == "same":  # every element draws what the first one did
            default_generator.np.bit_generator.state = start
        before = _rng_state() if randomness == "error" else None
        outputs.append(func(*tree_unflatten(sliced, args_spec), **kwargs))
        if before is not None and _rng_state() != before:
            raise RuntimeError(
                f"vmap({_name(func)}): func drew random numbers while randomness='error'. "
                "Pass randomness='different' (a fresh draw per element) or 'same' (one "
                "draw shared by all elements), or draw outside the vmap")
    return outputs


def _name(func) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _rng_state() -> dict:
    return default_generator.np.bit_generator.state


def _in_dims(func, in_dims, args: tuple, flat_args: list) -> list:
    """One in_dim per leaf of ``args``, checked and made non-negative."""
    if not args:
        raise ValueError(f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to "
                         "add inputs, or you are trying to vmap over a function with no inputs. "
                         "The latter is unsupported.")
    if isinstance(in_dims, tuple) and len(in_dims) != len(args):
        flat = None
    else:
        flat = broadcast_prefix(in_dims, args)
    if flat is None:
        raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims is "
                         "not compatible with the structure of the inputs: give one entry per "
                         f"positional argument ({len(args)} here), nested like the argument")
    result = []
    for x, d in zip(flat_args, flat, strict=True):
        if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): got "
                             f"in_dim={d!r} for an input but in_dim must be either an integer "
                             "dimension or None.")
        if d is not None and not isinstance(x, Tensor):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): got "
                             f"in_dim={d} for an input but the input is of type "
                             f"{type(x).__name__}. We cannot vmap over non-Tensor arguments, "
                             "please use None as the respective in_dim")
        if d is not None and not -x.ndim <= d < x.ndim:
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): got "
                             f"in_dim={d} for an input of shape {tuple(x.shape)}, so in_dim must "
                             f"satisfy -{x.ndim} <= in_dim < {x.ndim}")
        result.append(None if d is None else d % x.ndim)
    return result


def _batch_size(func, in_dims, flat_args: list, flat_dims: list) -> int:
    sizes = [x.shape[d] for x, d in zip(flat_args, flat_dims, strict=True) if d is not None]
    if not sizes:
        raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): at least one "
                         "input must be mapped over (all in_dims are None); give the mapped "
                         "inputs an int in_dim")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): expected all "
                         "tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension. Make the inputs agree along their "
                         "in_dims, or pass None for an input that is the same for every element")
    if sizes[0] == 0:
        raise ValueError(f"vmap({_name(func)}): the mapped dimension has size 0; this vmap "
                         "calls func once per element, so it cannot tell the output's shape")
    return sizes[0]


def _stack_outputs(func, outputs: list, out_dims):
    """The per-element outputs joined along out_dims, in func's output structure."""
    flat0, spec = tree_flatten(outputs[0])
    flats = [flat0]
    for b, out in enumerate(outputs[1:], 1):
        flat, other = tree_flatten(out)
        if other != spec:
            raise ValueError(f"vmap({_name(func)}): func returned {spec} for element 0 but "
                             f"{other} for element {b}; it must return the same structure")
        flats.append(flat)
    dims = _out_dims(func, out_dims, outputs[0], spec)
    joined = []
    for j, d in enumerate(dims):
        column = [f[j] for f in flats]
        joined.append(_unbatched(func, column, j) if d is None else _stacked(func, column, d))
    return tree_unflatten(joined, spec)


def _out_dims(func, out_dims, output, spec) -> list:
    flat = broadcast_prefix(out_dims, output)
    if flat is None and isinstance(out_dims, tuple) and len(out_dims) == 1:
        flat = broadcast_prefix(out_dims[0], output)
    if flat is None:
        raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims "
                         f"is not compatible with the structure of the outputs {spec}")
    for d in flat:
        if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
            raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims}): out_dims must be "
                             "an int, None or a python collection of ints representing where in "
                             "the outputs the vmapped dimension should appear.")
    return flat


def _stacked(func, column: list, d: int) -> Tensor:
    first = column[0]
    if not isinstance(first, Tensor):
        raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, "
                         f"got type {type(first).__name__}. Did you mean to set out_dims= to "
                         "None for output?")
    if not -first.ndim - 1 <= d <= first.ndim:
        raise ValueError(f"vmap({_name(func)}, ...): out_dim={d} is out of range for an output "
                         f"of shape {tuple(first.shape)} per element (allowed: "
                         f"{-first.ndim - 1} to {first.ndim})")
    return stack(column, d)


def _unbatched(func, column: list, j: int):
    """An output with out_dim None: the same for every element, returned once."""
    first = column[0]
    for value in column[1:]:
        if isinstance(first, Tensor) and isinstance(value, Tensor):
            a, b = first._data, value._data
            same = a.shape == b.shape and array_module(a).array_equal(a, b, equal_nan=True)
        else:
            same = value is first or value == first
        if not same:
            raise ValueError(f"vmap({_name(func)}, ...): output {j} has out_dim None but "
                             "differs between elements; give it an int out_dim")
    return first
