"""Recurrent layers: RNN, LSTM, GRU (whole sequences, several layers, both directions), with
PyTorch's parameter names, layouts, init and semantics, so a PyTorch ``state_dict`` loads
unchanged; their one-step cells (RNNCell, LSTMCell, GRUCell) are in recurrent_cells.py and
importable from here too.

How a sequence layer runs: the input projection of all time steps is one matrix product (it does
not depend on the past), then one fused op per step (``nn.functional.recurrent``) does the
recurrence and all the gates. Sequences of different lengths come as a ``PackedSequence``: step t
then runs on the first ``batch_sizes[t]`` rows only, so every sequence ends at its own length.
The graph is a chain of one node per step, which the iterative engine walks for thousands of
steps (backpropagation through time).
"""

from nabla.autograd.grad_mode import is_grad_enabled
from nabla.creation import empty, zeros
from nabla.nn.functional.dropout_masks import dropout
from nabla.nn.functional.linear_maps import linear
from nabla.nn.functional.recurrent import GruStep, LstmStep, RnnStep
from nabla.nn.functional.recurrent_backward import DeferredWeightGrad
from nabla.nn.modules.module import Module
from nabla.nn.modules.recurrent_cells import (
    GRUCell,
    LSTMCell,
    RNNCell,
    RNNCellBase,
    _as_tuple,
    _reset_uniform,
)
from nabla.nn.parameter import Parameter
from nabla.nn.utils.rnn import PackedSequence, _ints
from nabla.ops.join import cat, split, stack, unbind
from nabla.ops.selection import index_select
from nabla.ops.shape import reshape, squeeze, transpose, unsqueeze
from nabla.tensor import Tensor

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """A multi-layer, optionally bidirectional recurrent layer over whole sequences.

    Parameters per layer k and direction (suffix "" or "_reverse"), registered in PyTorch's
    order: weight_ih_l{k} (G*H, I_k), weight_hh_l{k} (G*H, H_out), bias_ih_l{k}, bias_hh_l{k}
    (G*H), and for an LSTM with proj_size > 0 weight_hr_l{k} (proj_size, H). I_0 = input_size,
    I_k = H_out * num_directions; H_out = proj_size or hidden_size.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout should be a number in range [0, 1], got {dropout}")
        if num_layers < 1 or hidden_size < 1:
            raise ValueError("num_layers and hidden_size must be positive integers")
        if proj_size < 0 or (proj_size and mode != "LSTM"):
            raise ValueError("proj_size must be >= 0, and is supported by LSTM only")
        if proj_size >= hidden_size and proj_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:2 if bidirectional else 1]:
                in_size = input_size if layer == 0 else out_size * (2 if bidirectional else 1)
                shapes = [("weight_ih", (gate_size, in_size)), ("weight_hh", (gate_size, out_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    full = f"{name}_l{layer}{suffix}"
                    setattr(self, full, Parameter(empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(full)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """A no-op (PyTorch compacts cuDNN weights here)."""

    @property
    def all_weights(self) -> list:
        d = 2 if self.bidirectional else 1
        names = self._flat_weights_names
        per = len(names) // (self.num_layers * d)
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for key, default in (("proj_size", 0), ("num_layers", 1), ("bias", True),
                             ("batch_first", False), ("dropout", 0.0),
                             ("bidirectional", False)):
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s

    # -- forward ---------------------------------------------------------------------------------
    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        if packed:
            rows, batch_sizes = input.data, _ints(input.batch_sizes)
            unbatched = False
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{type(self).__name__}: expected input of 2 or 3 dims, "
                                 f"got shape {tuple(input.shape)}")
            unbatched = input.ndim == 2
            if unbatched:
                input = unsqueeze(input, 1)
                hx = None if hx is None else tuple(unsqueeze(h, 1) for h in _as_tuple(hx))
            elif self.batch_first:
                input = transpose(input, 0, 1)
            steps, batch = input.shape[0], input.shape[1]
            rows = reshape(input, (steps * batch, input.shape[2]))
            batch_sizes = [batch] * steps
        if rows.shape[-1] != self.input_size:
            raise RuntimeError(f"{type(self).__name__}: input.size(-1) must be equal to "
                               f"input_size. Expected {self.input_size}, got {rows.shape[-1]}")
        states = self._initial_states(hx, batch_sizes[0], rows.dtype,
                                      input.sorted_indices if packed else None)
        out, finals = self._layers(rows, batch_sizes, states)
        if packed:
            output = PackedSequence(out, input.batch_sizes, input.sorted_indices,
                                    input.unsorted_indices)
            unsorted = input.unsorted_indices
            finals = [f if unsorted is None else index_select(f, 1, unsorted) for f in finals]
        else:
            output = reshape(out, (steps, batch, out.shape[-1]))
            if unbatched:
                output, finals = squeeze(output, 1), [squeeze(f, 1) for f in finals]
            elif self.batch_first:
                output = transpose(output, 0, 1)
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def _initial_states(self, hx, batch: int, dtype, sorted_indices) -> list:
        """Per state kind (h, and c for an LSTM): a list of (N, size) tensors, one per layer and
        direction, in PyTorch's order (layer-major)."""
        d = 2 if self.bidirectional else 1
        sizes = [self.proj_size or self.hidden_size]
        if self.mode == "LSTM":
            sizes.append(self.hidden_size)
        if hx is None:
            return [[zeros(batch, n, dtype=dtype)] * (self.num_layers * d) for n in sizes]
        hx = _as_tuple(hx)
        if len(hx) != len(sizes):
            raise RuntimeError(f"{type(self).__name__}: expected {len(sizes)} initial state "
                               f"tensor(s), got {len(hx)}")
        states = []
        for h, n in zip(hx, sizes, strict=True):
            want = (self.num_layers * d, batch, n)
            if tuple(h.shape) != want:
                raise RuntimeError(f"{type(self).__name__}: expected hidden size {want}, "
                                   f"got {tuple(h.shape)}")
            if sorted_indices is not None:
                h = index_select(h, 1, sorted_indices)
            states.append(list(unbind(h, 0)))
        return states

    def _layers(self, rows: Tensor, batch_sizes: list, states: list) -> tuple:
        """Run every layer and direction; returns (last layer's output rows, final states)."""
        d = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for direction in range(d):
                k = layer * d + direction
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                out, last = self._direction(rows, batch_sizes, [s[k] for s in states], suffix,
                                            reverse=direction == 1)
                outs.append(out)
                for f, s in zip(finals, last, strict=True):
                    f.append(s)
            rows = outs[0] if d == 1 else cat(outs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                rows = dropout(rows, self.dropout, True)
        return rows, [stack(f, 0) for f in finals]

    def _direction(self, rows: Tensor, batch_sizes: list, init: list, suffix: str,
                   reverse: bool) -> tuple:
        """One layer in one direction: the input projection of all steps in one product, then
        one fused op per step. Returns (output rows, [h_n, (c_n)])."""
        w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
        b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
        b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
        w_hr = getattr(self, "weight_hr" + suffix) if self.proj_size else None
        mode = self.mode
        if b_ih is not None and mode != "GRU":  # both biases add to the pre-activation
            b_ih, b_hh = b_ih + b_hh, None
        gates = linear(rows, w_ih, b_ih)
        pieces = split(gates, batch_sizes, 0) if len(batch_sizes) > 1 else (gates,)
        order = range(len(pieces) - 1, -1, -1) if reverse else range(len(pieces))
        state = [s[:batch_sizes[-1]] if reverse else s for s in init]
        outs, done = [None] * len(pieces), []
        nonlinearity = "relu" if mode == "RNN_RELU" else "tanh"
        collector = None
        if w_hh.requires_grad and is_grad_enabled():
            offsets = [0]
            for bs in batch_sizes:
                offsets.append(offsets[-1] + bs)
            collector = DeferredWeightGrad(offsets, order[0])
        for t in order:
            bs = batch_sizes[t]
            if bs != state[0].shape[0]:  # packed: sequences end (forward) or start (reverse)
                if reverse:
                    state = [cat([s, s0[s.shape[0]:bs]]) for s, s0 in zip(state, init)]
                else:
                    done.append([s[bs:] for s in state])
                    state = [s[:bs] for s in state]
            gi = pieces[t]
            if mode == "LSTM":
                h, c = LstmStep.apply(gi, state[0], state[1], w_hh, b_hh,
                                      None if collector is None else (collector, t))
                state = [h if w_hr is None else linear(h, w_hr), c]
            elif mode == "GRU":
                state = [GruStep.apply(gi, state[0], w_hh, b_hh,
                                       None if collector is None else (collector, t))]
            else:
                state = [RnnStep.apply(gi, state[0], w_hh, b_hh, nonlinearity,
                                       None if collector is None else (collector, t))]
            outs[t] = state[0]
        if done:  # the final state of each sequence, back in batch order
            state = [cat([s] + [p[i] for p in reversed(done)]) for i, s in enumerate(state)]
        return (cat(outs) if len(outs) > 1 else outs[0]), state


class RNN(RNNBase):
    """A multi-layer Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).

    Args:
        input_size, hidden_size: I and H.
        num_layers: stacked layers (default 1).
        nonlinearity: "tanh" (default) or "relu".
        bias, batch_first, dropout (between layers, training only), bidirectional: as PyTorch.

    Shape: input (L, N, I) ((N, L, I) if batch_first, (L, I) unbatched, or a PackedSequence),
    h_0 (num_layers * D, N, H) -> output (L, N, D * H), h_n (num_layers * D, N, H).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity '{nonlinearity}' (tanh or relu)")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         0, device, dtype)


class LSTM(RNNBase):
    """A multi-layer LSTM (gates i, f, g, o): c_t = f c_{t-1} + i g, h_t = o tanh(c_t), then
    h_t = h_t W_hr^T if proj_size > 0.

    Args: as RNN (no nonlinearity), plus proj_size (default 0: no projection).

    Shape: input as RNN; (h_0, c_0) of shapes (num_layers * D, N, H_out) and
    (num_layers * D, N, H) -> output (L, N, D * H_out), (h_n, c_n) of the same shapes.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """A multi-layer GRU (gates r, z, n): n_t = tanh(W_in x_t + b_in + r (W_hn h_{t-1} + b_hn)),
    h_t = (1 - z) n_t + z h_{t-1}.

    Args and shapes: as RNN (no nonlinearity).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)
