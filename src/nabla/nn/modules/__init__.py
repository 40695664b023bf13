"""The layers of ``nabla.nn``, one file per family."""

from nabla.nn.modules.activation import (
    ELU,
    GELU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from nabla.nn.modules.container import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)
from nabla.nn.modules.distance import CosineSimilarity, PairwiseDistance
from nabla.nn.modules.dropout import (
    AlphaDropout,
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    FeatureAlphaDropout,
)
from nabla.nn.modules.flatten import Flatten, Unflatten
from nabla.nn.modules.linear import Bilinear, Identity, Linear
from nabla.nn.modules.module import Module
from nabla.nn.modules.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    GroupNorm,
    LayerNorm,
)
from nabla.nn.modules.sparse import Embedding

__all__ = [
    "ELU",
    "GELU",
    "SELU",
    "Hardtanh",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "ReLU",
    "ReLU6",
    "Sigmoid",
    "SiLU",
    "Softmax",
    "Softplus",
    "Tanh",
    "ModuleDict",
    "ModuleList",
    "ParameterDict",
    "ParameterList",
    "Sequential",
    "AlphaDropout",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "FeatureAlphaDropout",
    "Flatten",
    "Unflatten",
    "Bilinear",
    "Identity",
    "Linear",
    "Module",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "GroupNorm",
    "LayerNorm",
    "Embedding",
    "CosineSimilarity",
    "PairwiseDistance",
]
from nabla.nn.modules.attention import *  # noqa: F403  (MultiheadAttention)
from nabla.nn.modules.conv import *  # noqa: F403  (Conv1d/2d/3d, ConvTranspose1d/2d/3d)
from nabla.nn.modules.loss import *  # noqa: F403  (the loss modules)
from nabla.nn.modules.pooling import *  # noqa: F403  (max/avg/adaptive pooling)
from nabla.nn.modules.positional import *  # noqa: F403  (positional encodings)
from nabla.nn.modules.recurrent import *  # noqa: F403  (RNN, LSTM, GRU and their cells)
from nabla.nn.modules.transformer import *  # noqa: F403  (Transformer and its layers)
from nabla.nn.modules.vision import *  # noqa: F403  (Upsample, PixelShuffle, ...)
