"""``nabla.nn``: Module, Parameter and the layers (PyTorch's ``torch.nn``)."""
# ruff: noqa: F401, F403  (this file re-exports the public names)

from nabla.nn import functional, init, parameter, utils
from nabla.nn.modules import *  # the core layers (Linear, activations, norms, containers, ...)
from nabla.nn.modules.activation_more import *  # PReLU, Hardswish, Softshrink, ...
from nabla.nn.modules.adaptive_softmax import *  # AdaptiveLogSoftmaxWithLoss
from nabla.nn.modules.attention import *  # MultiheadAttention
from nabla.nn.modules.conv import *  # Conv1d/2d/3d, ConvTranspose1d/2d/3d
from nabla.nn.modules.ctc_loss import *  # CTCLoss
from nabla.nn.modules.fractional_pooling import *  # FractionalMaxPool2d/3d
from nabla.nn.modules.lazy import *  # LazyLinear, LazyConv2d, LazyBatchNorm2d, ...
from nabla.nn.modules.loss import *  # the loss modules
from nabla.nn.modules.loss_more import *  # GaussianNLLLoss, TripletMarginLoss, ...
from nabla.nn.modules.module import Module
from nabla.nn.modules.normalization_more import *  # InstanceNorm, RMSNorm, ...
from nabla.nn.modules.padding import *  # ZeroPad2d, ReflectionPad2d, ...
from nabla.nn.modules.pooling import *  # max/avg/adaptive pooling
from nabla.nn.modules.pooling_more import *  # LPPool, MaxUnpool
from nabla.nn.modules.positional import *  # positional encodings
from nabla.nn.modules.recurrent import *  # RNN, LSTM, GRU and their cells
from nabla.nn.modules.sparse_more import *  # EmbeddingBag, ChannelShuffle
from nabla.nn.modules.transformer import *  # Transformer and its layers
from nabla.nn.modules.vision import *  # Upsample, PixelShuffle, ...
from nabla.nn.parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

# nn.utils' submodules that build on Module load after it (nn.utils is imported first)
from nabla.nn.utils import parametrizations as _parametrizations  # and parametrize
from nabla.nn.utils import prune as _prune
