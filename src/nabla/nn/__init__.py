"""``nabla.nn``: Module, Parameter and the layers (PyTorch's ``torch.nn``)."""
# ruff: noqa: F401  (this file re-exports the public names)

from nabla.nn import functional, init
from nabla.nn.modules import *  # noqa: F403  (every layer class, as torch.nn exposes them)
from nabla.nn.modules.loss import *  # noqa: F403  (the loss modules)
from nabla.nn.modules.module import Module
from nabla.nn.parameter import Parameter
from nabla.nn import utils  # noqa: E402  (nn.utils: clip_grad_norm_, parameters_to_vector, ...)
from nabla.nn.modules.attention import *  # noqa: F403,E402  (MultiheadAttention)
from nabla.nn.modules.transformer import *  # noqa: F403,E402  (Transformer and its layers)
from nabla.nn.modules.positional import *  # noqa: F403,E402  (positional encodings)
from nabla.nn.modules.recurrent import *  # noqa: F403,E402  (RNN, LSTM, GRU and their cells)
from nabla.nn.modules.conv import *  # noqa: F403,E402  (Conv1d/2d, ConvTranspose1d/2d)
from nabla.nn.modules.pooling import *  # noqa: F403,E402  (max/avg/adaptive pooling)
from nabla.nn.modules.vision import *  # noqa: F403,E402  (Upsample, PixelShuffle, ...)
