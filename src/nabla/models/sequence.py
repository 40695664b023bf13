"""Many-to-one recurrent models: read a sequence step by step, then map the final hidden state to
the outputs (class logits, or one value for regression). What ``nabla train --model
rnn|lstm|gru`` builds."""

from nabla import nn

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class SequenceClassifier(nn.Module):
    """An RNN, LSTM or GRU over the time steps, then a Linear on the last layer's final state.

    Inputs, batch first: (N, L) is L steps of one feature (a signal, as MNIST-1D); (N, L, F) is
    L steps of F features; (N, C, H, W) images are read one row per step (H steps of C*W
    features: the classic row-by-row RNN on digits).

    Args:
        in_features: features per step (1 for a signal, C*W for images).
        num_outputs: classes (or 1 for regression).
        cell: 'rnn' (tanh), 'lstm' or 'gru'.
        hidden_size: units per layer.
        num_layers: stacked recurrent layers.
        dropout: dropout between the recurrent layers.
    """

    def __init__(self, in_features: int, num_outputs: int, cell: str = "gru",
                 hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"SequenceClassifier: unknown cell {cell!r}; choose from "
                             f"{sorted(_CELLS)}")
        self.cell = cell
        self.rnn = _CELLS[cell](in_features, hidden_size, num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, num_outputs)

    def forward(self, x):
        if x.ndim == 2:  # (N, L): one feature per step
            x = x.unsqueeze(-1)
        elif x.ndim == 4:  # (N, C, H, W): rows as steps
            n, c, h, w = x.shape
            x = x.permute(0, 2, 1, 3).reshape(n, h, c * w)
        elif x.ndim != 3:
            raise ValueError(f"SequenceClassifier: expected (N, L), (N, L, F) or (N, C, H, W) "
                             f"input, got shape {tuple(x.shape)}")
        _, state = self.rnn(x)
        h = state[0] if self.cell == "lstm" else state  # the LSTM's state is (h, c)
        return self.head(h[-1])


def sequence_model_for(cell: str, sample_shape: tuple, num_outputs: int, hidden=(64,),
                       dropout: float = 0.0) -> SequenceClassifier:
    """A ``SequenceClassifier`` for samples of ``sample_shape`` (without the batch dim);
    ``hidden`` gives the width and, by its length, the number of layers (all of one width);
    ``dropout`` acts between the layers."""
    if len(sample_shape) not in (1, 2, 3):
        raise ValueError(f"{cell}: needs sequences (L,), (L, F) or images (C, H, W); the "
                         f"samples have shape {tuple(sample_shape)}")
    if len(set(hidden)) > 1:
        raise ValueError(f"{cell}: the recurrent layers share one width; got --hidden "
                         f"{','.join(map(str, hidden))}")
    features = {1: 1, 2: sample_shape[-1], 3: sample_shape[0] * sample_shape[-1]}
    width = hidden[0] if hidden else 64
    return SequenceClassifier(features[len(sample_shape)], num_outputs, cell, width,
                              max(len(hidden), 1), dropout)
