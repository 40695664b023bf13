"""``nabla.nn.functional``: the stateless layer functions (PyTorch's ``torch.nn.functional``)."""
# ruff: noqa: F401  (this file re-exports the public names)

from nabla.nn.functional.activation import (
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from nabla.nn.functional.dropout import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    feature_alpha_dropout,
)
from nabla.nn.functional.embedding import embedding, one_hot
from nabla.nn.functional.linear import bilinear, linear
from nabla.nn.functional.loss import *  # noqa: F403,E402  (the losses)
from nabla.nn.functional.normalization import batch_norm, group_norm, layer_norm
from nabla.nn.functional.attention import (  # noqa: E402
    multi_head_attention_forward,
    scaled_dot_product_attention,
)
