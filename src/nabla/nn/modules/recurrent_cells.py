"""Recurrent cells: RNNCell, LSTMCell, GRUCell, one time step each, with PyTorch's parameter
names, layouts, init and semantics, so a PyTorch ``state_dict`` loads unchanged. The sequence
layers (RNN, LSTM, GRU) are in recurrent.py; both run the fused steps of
``nn.functional.recurrent``.
"""

import math

from nabla.creation import empty, zeros
from nabla.nn import init
from nabla.nn.functional.linear_maps import linear
from nabla.nn.functional.recurrent import GruStep, LstmStep, RnnStep
from nabla.nn.modules.module import Module
from nabla.nn.parameter import Parameter
from nabla.ops.shape import squeeze, unsqueeze
from nabla.tensor import Tensor

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def _reset_uniform(module: Module, hidden_size: int) -> None:
    """PyTorch's init of every recurrent weight and bias: U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class RNNCellBase(Module):
    """Shared parameters of the cells: weight_ih (G*H, I), weight_hh (G*H, H), bias_ih and
    bias_hh (G*H), G the number of gates."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, hx):
        """(batched input, hx or zeros, whether the input was unbatched)."""
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: expected input of 1 or 2 dims (I) or "
                             f"(N, I), got shape {tuple(input.shape)}")
        unbatched = input.ndim == 1
        if unbatched:
            input = unsqueeze(input, 0)
            hx = None if hx is None else tuple(unsqueeze(h, 0) for h in _as_tuple(hx))
        if hx is None:
            h = zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            hx = (h, h)
        return input, _as_tuple(hx), unbatched

    def _gates(self, input: Tensor) -> Tensor:
        return linear(input, self.weight_ih, self.bias_ih)


def _as_tuple(hx) -> tuple:
    return hx if isinstance(hx, tuple) else (hx,)


class RNNCell(RNNCellBase):
    """An Elman cell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Args:
        input_size, hidden_size: I and H.
        bias: learn b_ih and b_hh (default True).
        nonlinearity: "tanh" (default) or "relu".

    Shape: input (N, I) or (I), hx (N, H) or (H) (zeros if omitted) -> h' of hx's shape.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity '{nonlinearity}' (tanh or relu)")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h, *_), unbatched = self._prepare(input, hx)
        h = RnnStep.apply(self._gates(input), h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return squeeze(h, 0) if unbatched else h


class LSTMCell(RNNCellBase):
    """A long short-term memory cell (gates i, f, g, o in that order, as PyTorch):
    c' = f c + i g, h' = o tanh(c').

    Shape: input (N, I) or (I), hx = (h, c) each (N, H) or (H) (zeros if omitted) -> (h', c').
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        input, (h, c), unbatched = self._prepare(input, hx)
        h, c = LstmStep.apply(self._gates(input), h, c, self.weight_hh, self.bias_hh)
        return (squeeze(h, 0), squeeze(c, 0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """A gated recurrent unit (gates r, z, n, as PyTorch): n = tanh(W_in x + b_in +
    r (W_hn h + b_hn)), h' = (1 - z) n + z h.

    Shape: input (N, I) or (I), hx (N, H) or (H) (zeros if omitted) -> h' of hx's shape.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h, *_), unbatched = self._prepare(input, hx)
        h = GruStep.apply(self._gates(input), h, self.weight_hh, self.bias_hh)
        return squeeze(h, 0) if unbatched else h
