"""Multi-layer perceptrons: the perceptron (one linear threshold unit) could only separate
classes with a line; hidden layers with a nonlinearity between them can carve any region."""

from nabla import nn

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
                "silu": nn.SiLU, "leaky_relu": nn.LeakyReLU}


class MLP(nn.Sequential):
    """Linear -> [BatchNorm] -> activation -> [Dropout], repeated, then a Linear output layer.

    Args:
        in_features: input size (e.g. 64 for 8x8 digits). Inputs of more dimensions are flattened.
        hidden: sizes of the hidden layers, e.g. (128, 64); () gives logistic regression.
        out_features: number of classes (or 1 for regression).
        activation: 'relu', 'tanh', 'sigmoid', 'gelu', 'silu' or 'leaky_relu'.
        dropout: dropout probability after each hidden activation (0 turns it off).
        batch_norm: insert BatchNorm1d after each hidden Linear.

    Shape: (N, *) -> (N, out_features).
    """

    def __init__(self, in_features: int, hidden=(128,), out_features: int = 10,
                 activation: str = "relu", dropout: float = 0.0,
                 batch_norm: bool = False) -> None:
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; choose from "
                             f"{sorted(_ACTIVATIONS)}")
        layers = [nn.Flatten()]
        width = in_features
        for size in hidden:
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
