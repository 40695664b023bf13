"""The table of ops that drives tests/test_ops.py (PyTorch's OpInfo idea, small).

Each ``OpInfo`` names an op, says how to call it on a library (``nabla`` or ``torch``: the same
call, as a port only changes imports), and generates sample inputs. In a sample, a floating NumPy
array is a differentiable input, an integer or bool array a plain tensor (indices, masks),
``Const(array)`` a floating tensor that needs no grad; anything else (numbers, slices, tuples of
these) is passed as it is. Samples cover broadcasting, 0-d, size-1 and empty dimensions,
non-contiguous views (transposed, strided), each op's domain and points to avoid (kinks, ties).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class Const:
    """A floating array passed as a tensor that does not require grad."""

    array: np.ndarray


@dataclass
class Sample:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    name: str = ""
    match: str = ""  # error samples: a regex the error message must contain (default: the op)
    torch_backward: bool = True  # False where PyTorch's own backward fails on the sample
    known: dict = field(default_factory=dict)  # test kind -> why nabla fails it (a bug to fix)


@dataclass
class OpInfo:
    """One op: how to call it and on what.

    Attributes:
        name: the test id, and by default the function called: ``lib.<name>(*args, **kwargs)``.
        samples: ``Maker -> list[Sample]``.
        call: ``(lib, *args, **kwargs) -> result``, ``lib`` being the module ``nabla`` or
            ``torch``; for methods and operators (``lambda lib, x: x.T``).
        requires: the names that must exist in ``nabla.ops`` (default: ``name``).
        differentiable: whether gradients flow (False: integer or bool results).
        gradgrad: whether the second derivative is checked.
        errors: ``Maker -> list[Sample]`` of inputs PyTorch rejects; nabla must reject them with
            an error naming the op.
    """

    name: str
    samples: Callable
    call: Callable | None = None
    requires: tuple = ()
    differentiable: bool = True
    gradgrad: bool = True
    errors: Callable | None = None

    def __post_init__(self):
        if self.call is None:
            name = self.name
            self.call = lambda lib, *args, **kwargs: getattr(lib, name)(*args, **kwargs)
        if not self.requires:
            self.requires = (self.name,)


class Maker:
    """Sample arrays of one dtype. ``layout``: 'c' contiguous, 't' a transposed view of the last
    two dims, 's' a strided view (every second column)."""

    def __init__(self, rng: np.random.Generator, dtype) -> None:
        self.rng, self.dtype = rng, np.dtype(dtype)

    def __call__(self, *shape, low=-2.0, high=2.0, layout="c", avoid=()) -> np.ndarray:
        base = list(shape)
        if layout == "t":
            base[-2], base[-1] = base[-1], base[-2]
        elif layout == "s":
            base[-1] *= 2
        x = np.asarray(self.rng.uniform(low, high, size=tuple(base)))
        for p in avoid:  # keep clear of kinks: finite differences straddling one are wrong
            x = np.where(np.abs(x - p) < 0.05, p + 0.1, x)
        x = x.astype(self.dtype)
        if layout == "t":
            x = x.swapaxes(-1, -2)
        elif layout == "s":
            x = x[..., ::2]
        return x

    def pos(self, *shape, layout="c") -> np.ndarray:
        return self(*shape, low=0.5, high=2.0, layout=layout)

    def nonzero(self, *shape, layout="c") -> np.ndarray:
        """Magnitudes in [0.5, 2] with random signs (denominators, |x|, products)."""
        sign = np.where(self.rng.random(shape) < 0.5, -1, 1).astype(self.dtype)
        return _as_layout(np.asarray(self.pos(*shape) * sign), layout)

    def ints(self, high: int, *shape) -> np.ndarray:
        return self.rng.integers(0, high, size=shape).astype(np.int64)

    def mask(self, *shape) -> np.ndarray:
        return np.asarray(self.rng.random(shape) < 0.5)


def _as_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """The same values in a non-contiguous view."""
    if layout == "t":
        return np.ascontiguousarray(x.swapaxes(-1, -2)).swapaxes(-1, -2)
    if layout == "s":
        wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
        wide[..., ::2] = x
        return wide[..., ::2]
    return x


def S(*args, name="", match="", torch_backward=True, known=None, **kwargs) -> Sample:
    """A sample; ``known`` maps a test kind ('forward', 'backward', 'gradcheck', 'gradgrad',
    'no_grad') to the reason nabla is known to fail it: the test then expects that failure."""
    return Sample(args, kwargs, name, match, torch_backward, known or {})


# Known bugs go in a sample's ``known`` (see ``S``); there are none at the moment.


# -- elementwise --------------------------------------------------------------------------------
def _binary(other="any", scalar=True):
    """Pairs for a broadcasting binary op; ``other``: 'any', 'nonzero' or 'pos' (its domain)."""
    def samples(m):
        y = {"any": m, "nonzero": m.nonzero, "pos": m.pos}[other]
        out = [
            S(m(3, 4), y(3, 4), name="same shape"),
            S(m(2, 1, 4), y(3, 1), name="broadcast both"),
            S(m(), y(3), name="0-d and 1-d"),
            S(m(3), y(), name="1-d and 0-d"),
            S(m(), y(), name="0-d"),
            S(m(1, 4), y(3, 1), name="size-1 dims"),
            S(m(0, 3), y(3), name="empty"),
            S(m(3, 4, layout="t"), y(4), name="transposed view"),
            S(m(2, 3, layout="s"), y(2, 3, layout="t"), name="strided and transposed views"),
        ]
        if scalar:
            out.append(S(m(3, 2), 1.5 if other == "any" else 2.5, name="python scalar"))
            out.append(S(m.ints(5, 3, 2) + 1, 1.5, name="int tensor, python float: promotes"))
        out.append(S(m(3, 2), np.asarray(y(), np.float64), name="0-d float64 does not promote"))
        return out
    return samples


def _binary_errors(m):
    return [S(m(2, 3), m(4)), S(m(2, 3), m(3, 2))]


def _unary(domain="any", avoid=()):
    def samples(m):
        if domain == "any":
            def make(*s, layout="c"):
                return m(*s, layout=layout, avoid=avoid)
        else:
            make = {"pos": m.pos, "nonzero": m.nonzero,
                    "gt-1": lambda *s, layout="c": m(*s, low=-0.5, high=2.0, layout=layout),
                    "unit": lambda *s, layout="c": m(*s, low=-0.9, high=0.9, layout=layout),
                    "gt1": lambda *s, layout="c": m(*s, low=1.2, high=3.0, layout=layout),
                    "prob": lambda *s, layout="c": m(*s, low=0.05, high=0.95, layout=layout),
                    }[domain]
        return [S(make(3, 4), name="2-d"), S(make(), name="0-d"), S(make(0, 3), name="empty"),
                S(make(2, 1, 3), name="size-1 dim"), S(make(3, 4, layout="t"), name="transposed"),
                S(make(3, 2, layout="s"), name="strided")]
    return samples


def _pow_samples(m):
    return [
        S(m.pos(3, 4), m(3, 4), name="tensor exponent"),
        S(m.pos(2, 1, 3), m(4, 1), name="broadcast"),
        S(m.pos(), m(3), name="0-d base"),
        S(m.pos(3, 4, layout="t"), m(4), name="transposed"),
        S(m(3, 4), 2, name="square"),
        S(m(2, 3), 3, name="cube, negative base"),
        S(m.pos(2, 3), 0.5, name="sqrt"),
        S(m.pos(2, 3), -1.5, name="negative exponent"),
        S(m.pos(0, 2), 2.0, name="empty"),
    ]


def _where_samples(m):
    return [
        S(m.mask(3, 4), m(3, 4), m(3, 4), name="same shape"),
        S(m.mask(3, 1), m(1, 4), m(3, 4), name="broadcast"),
        S(m.mask(3, 4), m(3, 4, layout="t"), m(), name="transposed, 0-d"),
        S(m.mask(2, 3), m(2, 3), 0.0, name="python scalar"),
        S(m.mask(2, 3), 1.0, m(2, 3), name="python scalar first"),
        S(m.mask(0, 3), m(0, 3), m(3), name="empty"),
    ]


def _clamp_samples(m):
    def x(*s, layout="c"):
        return m(*s, layout=layout, avoid=(-0.5, 0.5))
    return [S(x(3, 4), -0.5, 0.5, name="both"), S(x(3, 4), min=-0.5, name="min"),
            S(x(3, 4), 0.5, -0.5, name="min > max"),
            S(x(3, 4), Const(x(3, 4) * 0 - 0.5), Const(x(4) * 0 + 0.5), name="tensor bounds"),
            S(x(3, 4), x(3, 4) * 0 - 0.5, x(4) * 0 + 0.5, name="tensor bounds with grad"),
            S(x(3, 4), x(4) * 0 + 0.5, x(3, 1) * 0 - 0.5, name="tensor bounds, min > max"),
            S(x(3, 4), None, x(1, 4) * 0 + 0.5, name="tensor max with grad"),
            S(x(3, 4, layout="t"), max=0.5, name="max, transposed"), S(x(), -0.5, 0.5, name="0-d"),
            S(x(0, 2), min=0.5, name="empty")]


def _masked_fill_samples(m):
    return [S(m(3, 4), m.mask(3, 4), 0.5, name="same shape"),
            S(m(3, 4), m.mask(3, 1), -1.0, name="broadcast mask"),
            S(m(3, 4, layout="t"), m.mask(4), 2.0, name="transposed"),
            S(m(), np.array(True), 1.0, name="0-d"),
            S(m(3, 4), m.mask(3, 4), Const(np.asarray(0.5, m.dtype)), name="0-d tensor value")]


# -- reductions ---------------------------------------------------------------------------------
def _reduce_samples(empty=True):
    def samples(m):
        x = m
        out = [S(x(3, 4), name="all"), S(x(3, 4), 1, name="dim 1"),
               S(x(2, 3, 4), (0, 2), keepdim=True, name="dims (0, 2), keepdim"),
               S(x(2, 3, 4), dim=-1, name="dim -1"), S(x(), name="0-d"),
               S(x(3, 4, layout="t"), 0, name="transposed"),
               S(x(2, 3, layout="s"), dim=1, keepdim=True, name="strided"),
               S(x(3, 1), 1, name="size-1 dim")]
        if empty:
            out += [S(x(0, 3), 0, name="empty, reduced"), S(x(0, 3), 1, name="empty, kept")]
        return out
    return samples


def _var_samples(m):
    return [S(m(3, 4), name="all"), S(m(3, 4), 1, name="dim 1"),
            S(m(3, 4), dim=0, correction=0, name="correction 0"),
            S(m(2, 3, 4), dim=(0, 2), keepdim=True, correction=2, name="correction 2"),
            S(m(2, 3, 4), dim=-1, unbiased=False, name="unbiased False"),
            S(m(4, 3, layout="t"), dim=1, name="transposed")]


def _maxmin_samples(m):
    # distinct random values: no ties, so the gradient is well defined
    return [S(m(3, 4), name="all"), S(m(3, 4), 1, name="dim 1"),
            S(m(2, 3, 4), dim=0, keepdim=True, name="dim 0, keepdim"),
            S(m(2, 3, 4), -1, name="dim -1"), S(m(), name="0-d"),
            S(m(3, 4, layout="t"), 0, name="transposed"), S(m(3, 1), 1, name="size-1 dim")]


def _amax_samples(m):
    return [S(m(3, 4), name="all"), S(m(3, 4), 1, name="dim 1"),
            S(m(2, 3, 4), (0, 2), keepdim=True, name="dims (0, 2)"),
            S(m(3, 4, layout="t"), -1, name="transposed"), S(m(), name="0-d")]


def _argmax_samples(m):
    ties = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], m.dtype)  # first index wins
    return [S(m(3, 4), name="all"), S(m(3, 4), 1, name="dim 1"),
            S(m(2, 3, 4), dim=0, keepdim=True, name="keepdim"),
            S(m(3, 4, layout="t"), 0, name="transposed"), S(ties, 1, name="ties"),
            S(ties, name="ties, all")]


def _dim_samples(m, empty=True):
    """For ops with one required dim (softmax, cumsum, logsumexp)."""
    out = [S(m(3, 4), 1, name="dim 1"), S(m(3, 4), 0, name="dim 0"),
           S(m(2, 3, 4), -1, name="dim -1"), S(m(3, 4, layout="t"), 1, name="transposed"),
           S(m(2, 4, layout="s"), 0, name="strided"), S(m(1, 5), 0, name="size-1 dim"),
           S(m(2, 3) + 50, 1, name="large values")]
    if empty:
        out.append(S(m(0, 3), 1, name="empty"))
    return out


def _masked(m):
    """-inf entries (an attention mask), at least one finite value per row."""
    x = m(3, 4)
    x[0, 1] = x[2, 0] = x[2, 3] = -np.inf
    return x


def _softmax_samples(m):
    return _dim_samples(m) + [S(_masked(m), -1, name="-inf entries")]


def _logsumexp_samples(m):
    return _dim_samples(m) + [S(m(2, 3, 4), (0, 2), keepdim=True, name="dims (0, 2)"),
                              S(_masked(m), 1, name="-inf entries")]


def _prod_samples(m):
    x = m.nonzero(3, 4)
    one_zero, two_zeros = x.copy(), x.copy()
    one_zero[1, 2] = 0
    two_zeros[2, 0] = two_zeros[2, 3] = 0
    return [S(m.nonzero(3, 4), name="all"), S(m.nonzero(3, 4), 1, name="dim 1"),
            S(m.nonzero(2, 3, 2), dim=0, keepdim=True, name="keepdim"),
            S(m.nonzero(3, 4, layout="t"), 0, name="transposed"),
            S(one_zero, 1, name="one zero"), S(two_zeros, 1, name="two zeros in a row"),
            S(one_zero, name="one zero, all")]


# -- linear algebra -----------------------------------------------------------------------------
def _matmul_samples(m):
    return [S(m(4), m(4), name="1-d @ 1-d"), S(m(3, 4), m(4), name="2-d @ 1-d"),
            S(m(4), m(4, 2), name="1-d @ 2-d"), S(m(3, 4), m(4, 2), name="2-d @ 2-d"),
            S(m(2, 3, 4), m(4, 2), name="batched @ 2-d"), S(m(4), m(2, 4, 3), name="1-d @ batch"),
            S(m(2, 1, 3, 4), m(3, 4, 2), name="batch broadcast"),
            S(m(3, 4, layout="t"), m(4, 2, layout="t"), name="transposed views"),
            S(m(0, 3), m(3, 2), name="empty rows"), S(m(3, 0), m(0, 2), name="empty inner")]


def _matmul_errors(m):
    return [S(m(3, 4), m(5, 6)), S(m(2, 3, 4), m(3, 4, 2)), S(m(3), m(4))]


def _einsum_samples(m):
    return [S("ij,jk->ik", m(3, 4), m(4, 2), name="matmul"),
            S("bij,bjk->bik", m(2, 3, 4), m(2, 4, 2), name="batched"),
            S("i,i->", m(4), m(4), name="dot"), S("i,j->ij", m(3), m(2), name="outer"),
            S("ij->ji", m(3, 4, layout="t"), name="transpose"), S("ij->", m(3, 4), name="sum"),
            S("ii->i", m(3, 3), name="diagonal"), S("bij,jk", m(2, 3, 4), m(4, 2), name="implicit"),
            S("...ij,...jk->...ik", m(2, 3, 4), m(4, 2), name="ellipsis"),
            S("ij,jk->ik", [m(3, 4), m(4, 2)], name="operands as a list")]


# -- shape --------------------------------------------------------------------------------------
def _reshape_samples(m):
    return [S(m(3, 4), (2, 6), name="2-d"), S(m(3, 4), (-1,), name="-1"),
            S(m(3, 4), (3, 4), name="same shape"),
            S(m(), (1, 1), name="0-d"), S(m(1), (), name="to 0-d"),
            S(m(0, 3), (3, 0), name="empty"),
            S(m(3, 4, layout="t"), (12,), name="transposed (copies)"),
            S(m(2, 3, layout="s"), (3, 2), name="strided")]


def _flatten_samples(m):
    return [S(m(2, 3, 4), name="all"), S(m(2, 3, 4), 1, name="start 1"),
            S(m(2, 3, 4, 2), 1, 2, name="middle"), S(m(), name="0-d"),
            S(m(3, 4, layout="t"), name="transposed")]


def _permute_samples(m):
    return [S(m(2, 3, 4), (2, 0, 1)), S(m(3, 4, layout="t"), (1, 0), name="transposed"),
            S(m(2, 0, 3), (1, 2, 0), name="empty"), S(m(2, 3, 4), (-1, 0, 1), name="negative")]


def _transpose_samples(m):
    return [S(m(2, 3, 4), 0, 2), S(m(3, 4), -1, -2, name="negative"),
            S(m(3, 4, layout="s"), 0, 1, name="strided"), S(m(2, 1, 3), 1, 1, name="same dim")]


def _squeeze_samples(m):
    return [S(m(3, 1, 4, 1), name="all"), S(m(3, 1, 4), 1, name="dim 1"),
            S(m(3, 4), 0, name="not size 1: no-op"), S(m(1, 3, 1), (0, 2), name="dims tuple"),
            S(m(1, 1), name="to 0-d"), S(m(), name="0-d")]


def _unsqueeze_samples(m):
    return [S(m(3, 4), 0), S(m(3, 4), -1, name="dim -1"), S(m(3, 4), 1, name="middle"),
            S(m(), 0, name="0-d"), S(m(3, 4, layout="t"), 2, name="transposed")]


def _expand_samples(m):
    return [S(m(1, 4), (3, 4)), S(m(3, 1), (-1, 4), name="-1"), S(m(4), (2, 3, 4), name="new dims"),
            S(m(), (2, 2), name="0-d"), S(m(1, 3, layout="t"), (2, 3, 3), name="transposed")]


def _repeat_samples(m):
    return [S(m(2, 3), (2, 3)), S(m(3), (2, 2), name="adds a dim"), S(m(2, 3), (1, 1), name="ones"),
            S(m(), (3,), name="0-d"), S(m(2, 3, layout="t"), (2, 1, 2), name="transposed"),
            S(m(2, 3), (0, 2), name="zero repeats")]


def _cat_samples(m):
    return [S([m(2, 3), m(4, 3)], name="dim 0"), S([m(2, 3), m(2, 1), m(2, 2)], 1, name="dim 1"),
            S([m(2, 3), m(2, 3, layout="t")], dim=-1, name="transposed"),
            S([m(0, 3), m(2, 3)], name="with empty"), S((m(3),), name="one tensor, tuple")]


def _cat_errors(m):
    return [S([m(2, 3), m(2, 4)]), S([m(2, 3), m(3)], 0)]


def _stack_samples(m):
    return [S([m(2, 3), m(2, 3)]), S([m(2, 3), m(2, 3), m(2, 3)], 1, name="dim 1"),
            S([m(3), m(3, layout="s")], dim=-1, name="dim -1, strided"),
            S([m(), m()], name="0-d"), S([m(0, 2), m(0, 2)], 1, name="empty")]


def _stack_errors(m):
    return [S([m(2, 3), m(3, 2)])]


def _split_samples(m):
    return [S(m(5, 3), 2, name="size 2"), S(m(5, 3), [1, 4], name="sections"),
            S(m(3, 4), 3, 1, name="dim 1"), S(m(3, 4, layout="t"), [2, 0, 2], dim=-1,
                                              name="empty section, transposed")]


def _chunk_samples(m):
    return [S(m(5, 3), 2), S(m(6, 3), 3, name="even"), S(m(3, 4), 2, 1, name="dim 1"),
            S(m(3, 4, layout="t"), 4, -1, name="transposed")]


def _pad_samples(m):
    return [S(m(2, 3), (1, 2)), S(m(2, 3), (1, 1, 2, 0), name="two dims"),
            S(m(2, 3, 4), (0, 1), value=1.5, name="value"), S(m(3, 4, layout="t"), (2, 0)),
            S(m(3, 4), (-1, 1), name="negative pad crops")]


def _tri_samples(m):
    return [S(m(3, 4)), S(m(4, 3), 1, name="diagonal 1"), S(m(3, 4), diagonal=-1, name="-1"),
            S(m(2, 3, 4), name="batched"), S(m(3, 3, layout="t"), name="transposed")]


# -- indexing -----------------------------------------------------------------------------------
def _getitem_samples(m):
    return [
        S(m(4, 3), 1, name="int"), S(m(4, 3), -1, name="negative int"),
        S(m(4, 3), (slice(1, 3), slice(None, None, 2)), name="slices"),
        S(m(2, 3, 4), (None, Ellipsis, 0), name="None, Ellipsis"),
        S(m(4, 3), m.rng.random((4, 3)) < 0.5, name="bool mask"),
        S(m(4, 3), np.array([True, False, True, True]), name="bool rows"),
        S(m(4, 3), np.array([0, 2, 0, 3, 2]), name="int array, duplicates"),
        S(m(4, 3), (np.array([0, 0, 3]), np.array([1, 1, 2])), name="two int arrays, duplicates"),
        S(m(4, 3), (slice(None), np.array([[2, 2], [0, 1]])), name="2-d int array after slice"),
        S(m(4, 3, layout="t"), (slice(1, None), 1), name="transposed"),
        S(m(4, 3), slice(2, 2), name="empty slice"), S(m(), (), name="0-d, empty key"),
        S(m(4, 3), slice(5, 10), name="slice past the end"),
        S(m(4, 3), np.zeros((4, 3), bool), name="all-False mask"),
        S(m(4, 3), np.asarray(2), name="0-d int tensor"),
        S(m(4, 3), [0, 2, 2], name="python list"),
        S(m(2, 3, 4), (np.array([0, 1]), slice(None), np.array([1, 3])),
          name="separated int arrays (dims move to the front)"),
    ]


def _gather_samples(m):
    return [S(m(3, 4), 1, m.ints(4, 3, 5), name="dim 1, duplicates"),
            S(m(3, 4), 0, m.ints(3, 2, 4), name="dim 0"),
            S(m(2, 3, 4), -1, m.ints(4, 2, 3, 2), name="dim -1"),
            S(m(3, 4, layout="t"), 1, m.ints(4, 3, 2), name="transposed"),
            S(m(3, 4), 1, m.ints(4, 3, 0), name="empty index")]


def _scatter_add_samples(m):
    return [S(m(3, 4), 1, m.ints(4, 3, 5), m(3, 5), name="dim 1, duplicates"),
            S(m(3, 4), 0, m.ints(3, 2, 4), m(2, 4), name="dim 0"),
            S(m(3, 4), 0, m.ints(3, 2, 3), m(3, 4), name="index smaller than src",
              torch_backward=False),  # PyTorch's ScatterAddBackward0 rejects this shape
            S(m(3, 4, layout="t"), 1, m.ints(4, 3, 2), m(3, 2, layout="s"), name="views")]


def _index_select_samples(m):
    return [S(m(4, 3), 0, np.array([0, 2, 2, 1]), name="duplicates"),
            S(m(4, 3), 1, np.array([2]), name="dim 1"),
            S(m(2, 3, 4), -1, np.array([3, 0, 3]), name="dim -1"),
            S(m(4, 3, layout="t"), 0, np.array([], np.int64), name="empty, transposed"),
            S(m(4, 3), 1, np.asarray(1), name="0-d index")]


# -- comparisons and logic (no gradient) --------------------------------------------------------
def _compare_samples(m):
    x = m(3, 4)
    y = np.where(m.mask(3, 4), x, m(3, 4))  # about half the elements equal
    return [S(x, y, name="with ties"), S(m(3, 1), m(4), name="broadcast"),
            S(m(3, 4), 0.5, name="python scalar"), S(m(), m(2), name="0-d")]


def _logical_samples(m):
    return [S(m.mask(3, 4), m.mask(3, 4)), S(m.mask(3, 1), m.mask(4), name="broadcast")]


def _special_values(m):
    x = m(3, 4)
    x[0, 0], x[1, 1], x[2, 2] = np.nan, np.inf, -np.inf
    return [S(x), S(m(2, 3)), S(m())]


def _op(name, samples, **kw) -> OpInfo:
    return OpInfo(name, samples, **kw)


def _method(name, samples, call, requires=None, **kw) -> OpInfo:
    return OpInfo(name, samples, call=call, requires=requires or (), **kw)


def _F_pad(lib, *args, **kwargs):
    return (torch.nn.functional.pad if lib is torch else lib.pad)(*args, **kwargs)


no_grad_op = {"differentiable": False, "gradgrad": False}
_INTEGERS = (-2.0, -1.0, 0.0, 1.0, 2.0)  # rounding ops jump there: finite differences stay away
_HALVES = (-1.5, -0.5, 0.5, 1.5)

OP_DB = [
    # elementwise arithmetic
    _op("add", _binary(), errors=_binary_errors),
    _op("sub", _binary(), errors=_binary_errors),
    _op("mul", _binary(), errors=_binary_errors),
    _op("div", _binary("nonzero"), errors=_binary_errors),
    _method("operators", _binary("nonzero"), lambda lib, x, y: (x + y) * x - y / x + (-x),
            requires=("add", "mul", "sub", "div", "neg")),
    _op("neg", _unary()),
    _op("pow", _pow_samples, errors=_binary_errors),
    _method("rpow", lambda m: [S(m(3, 4), 2.0), S(m(), 0.5, name="0-d"),
                               S(m(2, 3, layout="t"), 3.0, name="transposed")],
            lambda lib, x, base: base ** x, requires=("rpow",)),
    _op("exp", _unary()), _op("log", _unary("pos")), _op("log1p", _unary("gt-1")),
    _op("expm1", _unary()), _op("sqrt", _unary("pos")), _op("rsqrt", _unary("pos")),
    _op("abs", _unary("nonzero")), _op("sign", _unary("nonzero")),
    _op("sin", _unary()), _op("cos", _unary()), _op("tanh", _unary()), _op("sigmoid", _unary()),
    _op("relu", _unary(avoid=(0.0,))),
    _op("log2", _unary("pos")), _op("log10", _unary("pos")), _op("exp2", _unary()),
    _op("logit", _unary("prob")), _op("erf", _unary()), _op("erfc", _unary()),
    _op("lgamma", _unary("pos")), _op("digamma", _unary("pos")),
    _op("polygamma 1", _unary("pos"), call=lambda lib, x: lib.polygamma(1, x),
        requires=("polygamma",)),
    _op("polygamma 2", _unary("gt1"), call=lambda lib, x: lib.polygamma(2, x),
        requires=("polygamma",)),
    _op("mvlgamma", lambda m: [S(m(3, 4, low=1.6, high=4.0), 3, name="p=3"),
                               S(m(2, 3, low=0.6, high=2.0, layout="t"), 1, name="p=1")]),
    _op("hypot", _binary("nonzero", scalar=False)),
    _op("lerp", lambda m: [S(m(3, 4), m(3, 4), 0.3, name="scalar weight"),
                           S(m(2, 1, 4), m(3, 1), m(4), name="tensor weight, broadcast"),
                           S(m(3, 4, layout="t"), m(4), m(), name="transposed")]),
    _op("addcmul", lambda m: [S(m(3, 4), m(3, 4), m(4), value=0.5, name="value"),
                              S(m(2, 3, layout="s"), m(3), m(2, 1), name="broadcast")]),
    _op("addcdiv", lambda m: [S(m(3, 4), m(3, 4), m.nonzero(4), value=-2.0, name="value"),
                              S(m(2, 3, layout="t"), m(3), m.nonzero(2, 1), name="broadcast")]),
    _op("logaddexp", _binary(scalar=False)), _op("xlogy", _binary("pos", scalar=False)),
    _op("tan", _unary("unit")), _op("sinh", _unary()), _op("cosh", _unary()),
    _op("asin", _unary("unit")), _op("acos", _unary("unit")), _op("atan", _unary()),
    _op("atan2", _binary("nonzero", scalar=False)),
    _op("asinh", _unary()), _op("acosh", _unary("gt1")), _op("atanh", _unary("unit")),
    _op("floor", _unary(avoid=_INTEGERS)), _op("ceil", _unary(avoid=_INTEGERS)),
    _op("trunc", _unary(avoid=_INTEGERS)), _op("frac", _unary(avoid=_INTEGERS)),
    _op("round", _unary(avoid=_INTEGERS + _HALVES)),
    _method("round_decimals", lambda m: [S(m(3, 4)), S(m(2, 3, layout="t"), name="transposed")],
            lambda lib, x: lib.round(x, decimals=1), requires=("round",)),
    _op("maximum", _binary(scalar=False), errors=_binary_errors),
    _op("minimum", _binary(scalar=False), errors=_binary_errors),
    _op("clamp", _clamp_samples),
    _op("where", _where_samples, errors=lambda m: [S(m.mask(2, 3), m(3, 2), m(2, 3))]),
    _op("masked_fill", _masked_fill_samples),
    # reductions
    _op("sum", _reduce_samples()), _op("mean", _reduce_samples(empty=False)),
    _op("var", _var_samples), _op("std", _var_samples),
    _op("max", _maxmin_samples), _op("min", _maxmin_samples),
    _op("amax", _amax_samples), _op("amin", _amax_samples),
    _op("argmax", _argmax_samples, **no_grad_op), _op("argmin", _argmax_samples, **no_grad_op),
    _op("logsumexp", _logsumexp_samples), _op("prod", _prod_samples),
    _op("cumsum", _dim_samples), _op("softmax", _softmax_samples), _op("log_softmax", _dim_samples),
    # linear algebra
    _op("matmul", _matmul_samples, errors=_matmul_errors),
    _method("matmul_operator", _matmul_samples, lambda lib, a, b: a @ b, requires=("matmul",)),
    _op("einsum", _einsum_samples),
    # shape
    _op("reshape", _reshape_samples),
    _method("view", lambda m: [S(m(3, 4), 2, 6), S(m(3, 4), -1, name="-1")],
            lambda lib, x, *s: x.view(*s), requires=("reshape",)),
    _op("flatten", _flatten_samples), _op("permute", _permute_samples),
    _op("transpose", _transpose_samples),
    _method("T", lambda m: [S(m(3, 4)), S(m(4, 3, layout="t"))], lambda lib, x: x.T,
            requires=("permute",)),
    _method("mT", lambda m: [S(m(2, 3, 4))], lambda lib, x: x.mT, requires=("transpose",)),
    _op("squeeze", _squeeze_samples), _op("unsqueeze", _unsqueeze_samples),
    _method("expand", _expand_samples, lambda lib, x, s: x.expand(*s)),
    _op("broadcast_to", _expand_samples),
    _method("repeat", _repeat_samples, lambda lib, x, s: x.repeat(*s)),
    _op("cat", _cat_samples, errors=_cat_errors),
    _op("stack", _stack_samples, errors=_stack_errors),
    _op("split", _split_samples), _op("chunk", _chunk_samples),
    _method("pad", _pad_samples, _F_pad), _op("tril", _tri_samples), _op("triu", _tri_samples),
    # indexing
    _method("getitem", _getitem_samples, lambda lib, x, key: x[key]),
    _op("gather", _gather_samples), _op("scatter_add", _scatter_add_samples),
    _op("index_select", _index_select_samples),
    # comparisons and logic
    *[_op(n, _compare_samples, **no_grad_op) for n in ("eq", "ne", "lt", "le", "gt", "ge")],
    _method("compare_operators", _compare_samples,
            lambda lib, x, y: ((x < y) | (x >= y)) & ~(x == y), requires=("lt", "eq"),
            **no_grad_op),
    *[_op(n, _logical_samples, **no_grad_op) for n in ("logical_and", "logical_or",
                                                        "logical_xor")],
    _op("logical_not", lambda m: [S(m.mask(3, 4)), S(m.mask())], **no_grad_op),
    *[_op(n, _special_values, **no_grad_op) for n in ("isnan", "isinf", "isfinite")],
]


# integer inputs: the result dtype follows PyTorch (sum of ints is int64, comparisons are bool)
OP_DB += [
    _method("sum_int", lambda m: [S(m.ints(5, 3, 4)), S(m.ints(5, 3, 4), 1)],
            lambda lib, x, *a: lib.sum(x, *a), requires=("sum",), **no_grad_op),
]


# -- beyond the required list: the rest of nabla.ops that PyTorch also has -----------------------
def _remainder_samples(m):
    """x / y kept away from integers, where remainder jumps."""
    y = m.pos(3, 4)
    x = (m.ints(5, 3, 4) - 2 + m(3, 4, low=0.2, high=0.8)) * y
    return [S(x.astype(m.dtype), y, name="positive divisor"),
            S(x.astype(m.dtype), -y, name="negative divisor")]


def _scatter_samples(m):
    perm = np.stack([m.rng.permutation(4)[:3] for _ in range(3)])  # no two writes collide
    return [S(m(3, 4), 1, perm, m(3, 3), name="src"),
            S(m(3, 4), 1, perm, value=0.5, name="value")]


def _index_add_samples(m):
    return [S(m(4, 3), 0, np.array([0, 2, 2]), m(3, 3), name="duplicates"),
            S(m(4, 3), 1, np.array([1, 1]), m(4, 2), alpha=2.0, name="alpha")]


OP_DB += [
    _op("square", _unary()), _op("reciprocal", _unary("nonzero")),
    _op("rsub", _binary("any", scalar=False)), _op("clip", _clamp_samples),
    _op("remainder", _remainder_samples),
    _op("fmod", _remainder_samples),
    _op("floor_divide", lambda m: [S(m(3, 4), m.pos(3, 4)), S(m(3, 4), 0.7)], **no_grad_op),
    _op("norm", lambda m: [S(m(3, 4)), S(m(3, 4), 2, 1, name="dim 1"),
                           S(m.nonzero(3, 4), 1, (0, 1), keepdim=True, name="p=1"),
                           S(m(2, 3, 4), 3, -1, name="p=3")]),
    _op("dot", lambda m: [S(m(4), m(4)), S(m(0), m(0), name="empty")]),
    _op("outer", lambda m: [S(m(3), m(4))]),
    _op("mm", lambda m: [S(m(3, 4), m(4, 2)), S(m(3, 4, layout="t"), m(4, 2))]),
    _op("bmm", lambda m: [S(m(2, 3, 4), m(2, 4, 2))]),
    _op("all", lambda m: [S(m.mask(3, 4)), S(m.mask(3, 4), 1, name="dim"),
                          S(m(3, 4), name="floats")], **no_grad_op),
    _op("any", lambda m: [S(m.mask(3, 4)), S(m.mask(3, 4), 0, name="dim"),
                          S(np.zeros((2, 2), m.dtype), name="floats")], **no_grad_op),
    _op("flip", lambda m: [S(m(3, 4), (0,)), S(m(2, 3, 4), (0, 2), name="two dims")]),
    _op("roll", lambda m: [S(m(3, 4), 1, 0), S(m(3, 4), (1, -2), (0, 1), name="two dims"),
                           S(m(3, 4), 5, name="flattened")]),
    _op("unbind", lambda m: [S(m(3, 4)), S(m(3, 4), 1, name="dim 1")]),
    _op("narrow", lambda m: [S(m(4, 3), 0, 1, 2), S(m(4, 3), -1, 0, 0, name="empty")]),
    _op("movedim", lambda m: [S(m(2, 3, 4), 0, -1), S(m(2, 3, 4), (0, 1), (2, 0), name="two")]),
    _op("swapaxes", lambda m: [S(m(2, 3, 4), 0, 2)]),
    _op("unflatten", lambda m: [S(m(2, 12), 1, (3, 4)), S(m(6), 0, (-1, 2), name="-1")]),
    _op("index_add", _index_add_samples),
    _op("masked_select", lambda m: [S(m(3, 4), m.mask(3, 4)),
                                    S(m(3, 4), m.mask(4), name="broadcast mask")]),
    _op("take_along_dim", lambda m: [S(m(3, 4), m.ints(4, 3, 2), 1),
                                     S(m(3, 4), m.ints(12, 5), name="flattened")]),
    _op("scatter", _scatter_samples),
]


# -- products in BLAS's shapes (ops/blas_ops.py) ------------------------------------------------
def _addmm_samples(m):
    return [S(m(2, 4), m(2, 3), m(3, 4), name="same shape"),
            S(m(4), m(2, 3), m(3, 4), name="broadcast row"),
            S(m(2, 1), m(2, 3), m(3, 4), beta=0.5, alpha=-2.0, name="size-1 dim, beta, alpha"),
            S(m(), m(2, 3), m(3, 4), name="0-d input"),
            S(m(2, 4), m(2, 3), m(3, 4), beta=0, name="beta 0"),
            S(m(2, 4, layout="s"), m(2, 3, layout="t"), m(3, 4, layout="t"), name="views"),
            S(m(0, 4), m(0, 3), m(3, 4), name="empty rows"),
            S(m(2, 4), m(2, 0), m(0, 4), alpha=3, name="empty inner")]


def _addmm_errors(m):
    return [S(m(2, 4), m(2, 3), m(4, 4), name="inner", match="addmm.*3 != 4"),
            S(m(3, 4), m(2, 3), m(3, 4), name="input", match="addmm.*input"),
            S(m(2, 4), m(3), m(3, 4), name="1-d mat1", match="addmm.*mat1")]


def _addbmm_samples(m):
    return [S(m(3, 4), m(2, 3, 5), m(2, 5, 4), name="same shape"),
            S(m(4), m(2, 3, 5), m(2, 5, 4), beta=2.0, alpha=0.5, name="broadcast, beta, alpha"),
            S(m(), m(1, 3, 2), m(1, 2, 4), name="0-d input, one matrix"),
            S(m(3, 4, layout="t"), m(2, 3, 5, layout="t"), m(2, 5, 4, layout="s"),
              name="views"),
            S(m(3, 4), m(0, 3, 5), m(0, 5, 4), name="empty batch"),
            S(m(3, 4), m(2, 3, 5), m(2, 5, 4), beta=0, name="beta 0")]


def _batch_errors(m):
    return [S(m(3, 4), m(2, 3, 5), m(3, 5, 4), name="batch sizes", match="batch1 and batch2"),
            S(m(3, 4), m(2, 3, 5), m(2, 4, 4), name="inner", match="5 != 4"),
            S(m(3, 4), m(3, 5), m(2, 5, 4), name="2-d batch1", match="batch1")]


def _baddbmm_samples(m):
    return [S(m(2, 3, 4), m(2, 3, 5), m(2, 5, 4), name="same shape"),
            S(m(3, 1), m(2, 3, 5), m(2, 5, 4), beta=-1.0, alpha=2.0,
              name="broadcast, beta, alpha"),
            S(m(), m(2, 3, 5), m(2, 5, 4), name="0-d input"),
            S(m(2, 3, 4, layout="s"), m(2, 3, 5, layout="t"), m(2, 5, 4, layout="t"),
              name="views"),
            S(m(0, 3, 4), m(0, 3, 5), m(0, 5, 4), name="empty batch"),
            S(m(2, 3, 4), m(2, 3, 5), m(2, 5, 4), beta=0, name="beta 0")]


def _addmv_samples(m):
    return [S(m(3), m(3, 4), m(4), name="same shape"), S(m(), m(3, 4), m(4), name="0-d input"),
            S(m(1), m(3, 4), m(4), beta=0.5, alpha=2.0, name="size-1, beta, alpha"),
            S(m(3, layout="s"), m(3, 4, layout="t"), m(4, layout="s"), name="views"),
            S(m(0), m(0, 4), m(4), name="empty rows"), S(m(3), m(3, 0), m(0), name="empty inner"),
            S(m(3), m(3, 4), m(4), beta=0, name="beta 0")]


def _addr_samples(m):
    return [S(m(3, 4), m(3), m(4), name="same shape"), S(m(4), m(3), m(4), name="broadcast"),
            S(m(), m(3), m(4), beta=2.0, alpha=-0.5, name="0-d input, beta, alpha"),
            S(m(3, 4, layout="t"), m(3, layout="s"), m(4), name="views"),
            S(m(0, 4), m(0), m(4), name="empty"), S(m(3, 4), m(3), m(4), beta=0, name="beta 0")]


def _inner_samples(m):
    return [S(m(4), m(4), name="1-d"), S(m(2, 4), m(3, 4), name="2-d"),
            S(m(2, 3, 4), m(4), name="3-d and 1-d"), S(m(4), m(2, 3, 4), name="1-d and 3-d"),
            S(m(), m(2, 3), name="0-d"), S(m(2, 4, layout="t"), m(3, 4, layout="s"), name="views"),
            S(m(2, 0), m(3, 0), name="empty last dim"), S(m(0, 4), m(3, 4), name="empty rows")]


def _dist_samples(m):
    return [S(m(3, 4), m(3, 4), name="p=2"), S(m(3, 1), m(4), name="broadcast"),
            S(m(3, 4), m(3, 4) + 3, 1, name="p=1"), S(m(2, 3), m(2, 3), 3, name="p=3"),
            S(m(2, 3), m(2, 3), float("inf"), name="p=inf"),
            S(m.nonzero(2, 3), Const(np.zeros((2, 3), m.dtype)), -1.5, name="p=-1.5"),
            S(m(), m(), name="0-d"), S(m(3, 4, layout="t"), m(4, layout="s"), name="views")]


_PRODUCT_OPS = [
    _op("addmm", _addmm_samples, errors=_addmm_errors),
    _op("addbmm", _addbmm_samples, errors=_batch_errors),
    _op("baddbmm", _baddbmm_samples, errors=_batch_errors),
    _op("addmv", _addmv_samples,
        errors=lambda m: [S(m(3), m(3, 4), m(5), match="addmv.*4 != 5"),
                          S(m(2), m(3, 4), m(4), match="addmv.*input")]),
    _op("addr", _addr_samples,
        errors=lambda m: [S(m(3, 5), m(3), m(4), match="addr.*input"),
                          S(m(3, 4), m(3, 1), m(4), match="addr.*vec1")]),
    _op("mv", lambda m: [S(m(3, 4), m(4)), S(m(3, 4, layout="t"), m(4, layout="s"), name="views"),
                         S(m(0, 4), m(4), name="empty")],
        errors=lambda m: [S(m(3, 4), m(5)), S(m(2, 3, 4), m(4))]),
    _op("inner", _inner_samples, errors=lambda m: [S(m(2, 3), m(4)), S(m(2, 3), m(3, 2))]),
    _op("vdot", lambda m: [S(m(4), m(4)), S(m(4, layout="s"), m(4), name="strided"),
                           S(m(0), m(0), name="empty")],
        errors=lambda m: [S(m(2, 3), m(2, 3)), S(m(3), m(4))]),
    _op("dist", _dist_samples, errors=lambda m: [S(m(2, 3), m(4))]),
]


# -- PyTorch's other names, and the small ops beside them (ops/aliases.py) ----------------------
def _divide_samples(m):
    """x / y kept away from integers, where a rounded quotient jumps."""
    y = m.nonzero(3, 4)
    x = ((m.ints(7, 3, 4) - 3) + m(3, 4, low=0.2, high=0.8)) * y
    return [S(x.astype(m.dtype), y, name="same shape"),
            S(x.astype(m.dtype), Const(y), name="divisor without grad"),
            S(m.ints(9, 3, 4) - 4, np.array([3, -2, 4, -5]), name="integers"),
            S(m.ints(9, 2, 3) - 4, 2.5, name="int tensor, python float: promotes")]


def _clamp_one(bound):
    def samples(m):
        def x(*s, layout="c"):
            return m(*s, layout=layout, avoid=(-0.5, 0.5))
        return [S(x(3, 4), bound), S(x(3, 4, layout="t"), Const(x(4) * 0 + bound),
                                     name="tensor bound, transposed"),
                S(x(), bound, name="0-d"), S(x(0, 2), bound, name="empty")]
    return samples


def _alias_errors(pattern):
    """Bad shapes for an alias: the error names the op it calls (``pattern``)."""
    return lambda m: [S(*e.args, match=pattern) for e in _binary_errors(m)]


def _heaviside_samples(m):
    x = np.where(m.mask(3, 4), 0.0, m(3, 4)).astype(m.dtype)
    x[0, 0] = np.nan
    return [S(x, m(3, 4), name="zeros, NaN"), S(x, m(4), name="broadcast values"),
            S(m.ints(3, 3, 4) - 1, np.array(7), name="integers")]


def _signbit_samples(m):
    x = m(3, 4)
    x[0, 0], x[1, 1], x[2, 2] = -0.0, np.nan, -np.inf
    return [S(x), S(m.ints(5, 4) - 2, name="integers"), S(m(), name="0-d")]


def _float_power_samples(m):
    return [S(m.pos(3, 4), m(3, 4), name="tensor exponent"),
            S(m.pos(2, 1, 3), m(4, 1), name="broadcast"), S(m(3, 4), 2, name="square"),
            S(m(2, 3), 3, name="cube, negative base"), S(m.pos(2, 3), -1.5, name="negative"),
            S(m.pos(3, 2, layout="t"), 0.5, name="transposed"),
            S(m.ints(4, 2, 3), 2, name="integers: float64")]


_ALIAS_OPS = [
    _op("absolute", _unary("nonzero")), _op("arccos", _unary("unit")),
    _op("arcsin", _unary("unit")), _op("arctan", _unary()),
    _op("arctan2", _binary("nonzero", scalar=False)), _op("arcsinh", _unary()),
    _op("arccosh", _unary("gt1")), _op("arctanh", _unary("unit")),
    _op("divide", _binary("nonzero"), errors=_alias_errors("div")),
    *[_method(f"divide_{mode}", _divide_samples,
              lambda lib, x, y, mode=mode: lib.divide(x, y, rounding_mode=mode),
              requires=("divide",)) for mode in ("trunc", "floor")],
    _op("multiply", _binary(), errors=_alias_errors("mul")),
    _op("subtract", _binary(), errors=_alias_errors("sub")),
    _method("subtract_alpha", _binary(scalar=False),
            lambda lib, x, y: lib.subtract(x, y, alpha=-1.5), requires=("subtract",)),
    _op("negative", _unary()), _op("true_divide", _binary("nonzero")),
    *[_op(n, _compare_samples, **no_grad_op) for n in ("greater", "greater_equal", "less",
                                                        "less_equal", "not_equal")],
    # sgn = sign; PyTorch's sgn gradient is a ZeroTensor, which its double backward cannot use
    _op("sgn", _unary("nonzero"), gradgrad=False), _op("fix", _unary(avoid=_INTEGERS)),
    _op("clamp_min", _clamp_one(-0.5)), _op("clamp_max", _clamp_one(0.5)),
    _op("deg2rad", _unary()), _op("rad2deg", _unary()),
    # NaN and ties: test_ops_blas_aliases.py (finite differences are NaN or one-sided there)
    _op("fmax", _binary(scalar=False), errors=_binary_errors),
    _op("fmin", _binary(scalar=False), errors=_binary_errors),
    _op("copysign", lambda m: [*_binary(scalar=False)(m)[:-1],  # x = 0 is a kink of |x|
                               S(m.nonzero(3, 2), -1.5, name="python scalar"),
                               S(m.ints(5, 3, 2) - 2, 1.5, name="int tensor: promotes")]),
    _op("sinc", _unary(avoid=(0.0,))),
    _op("float_power", _float_power_samples),
    _op("logaddexp2", _binary(scalar=False), errors=_binary_errors),
    _op("heaviside", _heaviside_samples, **no_grad_op),
    _op("signbit", _signbit_samples, **no_grad_op),
]
OP_DB += _PRODUCT_OPS + _ALIAS_OPS

# -- arrangement, index sets, statistics (ops/arrangement.py, grids.py, statistics.py) ----------
# More (the one-argument repeat_interleave, tril/triu_indices, unravel_index, broadcast_shapes,
# logspace, ties, warnings, methods): tests/test_ops_arrangement.py
def _repeat_interleave_samples(m):
    return [S(m(3, 4), 2, name="flattened"), S(m(3, 4), 2, 1, name="dim 1"),
            S(m(3, 4), np.array([1, 0, 2]), 0, name="tensor repeats, a zero"),
            S(m(3, 4, layout="t"), np.array([2]), -1, name="one-count tensor, transposed"),
            S(m(2, 3, layout="s"), np.array(2), 1, output_size=6, name="0-d repeats, strided"),
            S(m(), 3, name="0-d"), S(m(0, 2), 2, 0, name="empty")]


def _tensor_split_samples(m):
    return [S(m(7, 2), 3, name="sections"), S(m(2, 7), [1, 5], 1, name="indices"),
            S(m(7, 2), [5, 2, 10], name="unordered, past the end"),
            S(m(7, 2), (-2, 6), name="negative index"), S(m(2, 2), 4, name="more sections"),
            S(m(3, 4, layout="t"), np.array([1, 3]), dim=-1, name="tensor indices, transposed"),
            S(m(6, 3), np.array(4), name="0-d tensor sections"), S(m(0, 3), 2, name="empty")]


def _split_errors(*samples):
    return lambda m: [S(m(*shape), spec) for shape, spec in samples]


def _flip_samples(min_ndim):
    return lambda m: [S(m(3, 4)), S(m(2, 3, 4), name="3-d"), S(m(3, 4, layout="t"), name="t"),
                      S(m(0, 3), name="empty")] + ([S(m(5), name="1-d")] if min_ndim < 2 else [])


def _rot90_samples(m):
    return [S(m(2, 3)), S(m(2, 3), 2, name="k=2"), S(m(2, 3), -1, name="k=-1"),
            S(m(2, 3, 4), 3, (2, 0), name="k=3, dims (2, 0)"),
            S(m(2, 3, 4), 1, [-1, 1], name="negative dims"), S(m(2, 3), 4, name="k=4 copies"),
            S(m(3, 4, layout="t"), 1, name="transposed"), S(m(0, 3), 1, name="empty")]


def _atleast_samples(m):
    return [S(m(), name="0-d"), S(m(3), name="1-d"), S(m(2, 3), name="2-d"),
            S(m(2, 3, 4), name="3-d"), S([m(), m(3, 2, layout="t")], name="a list"),
            S(m(), m(2), m(0, 2), name="several")]


def _diag_embed_samples(m):
    return [S(m(2, 3)), S(m(2, 3), 1, name="offset 1"), S(m(2, 3), -2, 0, 2, name="dims 0, 2"),
            S(m(2, 3, layout="t"), 1, 2, 0, name="transposed, dims reversed"),
            S(m(3), name="1-d"), S(m(2, 0), 1, name="empty")]


def _cov_samples(m):
    f = np.array([1, 2, 0, 3, 1])
    return [S(m(3, 5)), S(m(5), name="1-d"), S(m(3, 5), correction=0, name="correction 0"),
            S(m(2, 5), correction=2, fweights=f, name="fweights"),
            S(m(3, 5), aweights=m.pos(5), name="aweights (differentiable)"),
            S(m(2, 5), fweights=f, aweights=Const(m.pos(5)), name="both weights"),
            S(m(2, 5), correction=-1, fweights=f, aweights=m.pos(5), name="both, correction -1"),
            S(m(4, 3, layout="t"), name="transposed"), S(m(1, 4), name="one variable: 0-d")]


OP_DB += [
    _op("repeat_interleave", _repeat_interleave_samples,
        errors=lambda m: [S(m(2, 3), np.array([1, 2, 3]), 0), S(m(2, 3), -1)]),
    _op("tensor_split", _tensor_split_samples, errors=_split_errors(((), 2), ((3,), 0))),
    _op("hsplit", lambda m: [S(m(2, 6), 3), S(m(6), [2, 3], name="1-d, indices"),
                             S(m(3, 4, layout="t"), [1], name="transposed")],
        errors=_split_errors(((2, 3), 2), ((), 1))),
    _op("vsplit", lambda m: [S(m(6, 2), 2), S(m(4, 3, layout="s"), [1, 3], name="strided")],
        errors=_split_errors(((3,), 1), ((3, 2), 2))),
    _op("dsplit", lambda m: [S(m(2, 2, 6), 3), S(m(2, 3, 4), [1], name="indices")],
        errors=_split_errors(((2, 3), 1))),
    _op("rot90", _rot90_samples,
        errors=lambda m: [S(m(3)), S(m(2, 3), 1, (0, -2)), S(m(2, 3), 1, (0, 1, 1))]),
    _op("fliplr", _flip_samples(2), errors=lambda m: [S(m(3))]),
    _op("flipud", _flip_samples(1), errors=lambda m: [S(m())]),
    *[_op(f"atleast_{n}d", _atleast_samples) for n in (1, 2, 3)],
    _op("broadcast_tensors", lambda m: [S(m(3, 1), m(4), m()), S(m(3, 4), name="one"),
                                        S(m(2, 1, 3, layout="t"), m(3, 1), name="transposed"),
                                        S(m(0, 1), m(3), name="empty")],
        errors=lambda m: [S(m(2, 3), m(4))]),
    _op("column_stack", lambda m: [S([m(3), m(3, 2, layout="t"), m(3)]),
                                   S([m(), m(1, 2)], name="0-d"), S((m(4),), name="one 1-d"),
                                   S([m(0), m(0, 2)], name="empty")],
        errors=lambda m: [S([m(3), m(4)])]),
    _op("row_stack", lambda m: [S([m(3), m(2, 3, layout="s")]), S([m(), m(1)], name="0-d")]),
    _op("diag_embed", _diag_embed_samples,
        errors=lambda m: [S(m(2, 3), 0, 1, -2), S(m(2, 3), 0, 0, 3)]),
    _op("diagflat", lambda m: [S(m(2, 3)), S(m(), 1, name="0-d"), S(m(3), -1, name="below"),
                               S(m(2, 2, layout="s"), 2, name="strided"),
                               S(m(0), 1, name="empty")]),
    _op("block_diag", lambda m: [S(m(2, 2), m(), m(3), m(0, 2), name="2-d, 0-d, 1-d, empty"),
                                 S(m(2, 3, layout="t"), m(1, 2), name="transposed"),
                                 S(m(2, 2), name="one")],
        errors=lambda m: [S(m(2, 2, 2))]),
    _op("cartesian_prod", lambda m: [S(m(2), m(3)), S(m(2), m(1), m(3), name="three"),
                                     S(m(3), name="one tensor"), S(m(2), m(0), name="empty"),
                                     S(m(3, layout="s"), m(2), name="strided")],
        errors=lambda m: [S(m(2, 2))]),
    _op("combinations", lambda m: [S(m(4)), S(m(4), 3, name="r=3"),
                                   S(m(3), 2, True, name="with replacement"),
                                   S(m(4, layout="s"), r=3, with_replacement=True,
                                     name="r=3, with replacement, strided"),
                                   S(m(3), 1, name="r=1"), S(m(3), 0, name="r=0"),
                                   S(m(2), 3, name="r > n"), S(m(0), name="empty")],
        errors=lambda m: [S(m(2, 2)), S(m(3), -1)]),
    _op("argwhere", lambda m: [S(np.where(m.mask(3, 4), m(3, 4), 0)), S(m.mask(2, 3)),
                               S(m.ints(3, 2, 3)), S(m(), name="0-d"),
                               S(np.zeros((), m.dtype), name="0-d zero"),
                               S(m(0, 3), name="empty")], **no_grad_op),
    _op("aminmax", lambda m: [S(m(3, 4)), S(m(3, 4), dim=1, name="dim 1"),
                              S(m(2, 3, 4), dim=-1, keepdim=True, name="dim -1, keepdim"),
                              S(m(3, 4), keepdim=True, name="all, keepdim"),
                              S(m(), dim=0, name="0-d"), S(m(3, 4, layout="t"), dim=0, name="t"),
                              S(m(0, 3), dim=1, name="empty, kept")],
        errors=lambda m: [S(m(0, 3)), S(m(0, 3), dim=0)]),
    _op("cov", _cov_samples, errors=lambda m: [
        S(m(2, 2, 2)), S(m(2, 3), fweights=np.array([1, -1, 1])),
        S(m(2, 3), aweights=np.array([1, 2, 3])), S(m(2, 3), fweights=np.array([1, 2]))]),
    _op("corrcoef", lambda m: [S(m(3, 5)), S(m(5), name="1-d"),
                               S(m(4, 3, layout="t"), name="transposed"),
                               S(m(1, 4), name="one variable")],
        errors=lambda m: [S(m(2, 2, 2))]),
]

OPS_BY_NAME = {op.name: op for op in OP_DB}
assert len(OPS_BY_NAME) == len(OP_DB), "duplicate op names in OP_DB"
