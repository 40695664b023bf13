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
OPS_BY_NAME = {op.name: op for op in OP_DB}
assert len(OPS_BY_NAME) == len(OP_DB), "duplicate op names in OP_DB"
