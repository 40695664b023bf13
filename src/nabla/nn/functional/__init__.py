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
from nabla.nn.functional.activation_more import *  # noqa: F403
from nabla.nn.functional.adaptive_pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
)
from nabla.nn.functional.attention import (
    multi_head_attention_forward,
    scaled_dot_product_attention,
)
from nabla.nn.functional.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from nabla.nn.functional.conv_volumes import conv3d, conv_transpose3d
from nabla.nn.functional.ctc import ctc_loss
from nabla.nn.functional.distance import cdist, cosine_similarity, normalize, pairwise_distance
from nabla.nn.functional.dropout_masks import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from nabla.nn.functional.embedding_bags import embedding_bag
from nabla.nn.functional.embedding_lookup import embedding, one_hot
from nabla.nn.functional.folding import fold, unfold
from nabla.nn.functional.fractional_pooling import *  # noqa: F403
from nabla.nn.functional.grid import *  # noqa: F403
from nabla.nn.functional.linear_maps import bilinear, linear
from nabla.nn.functional.loss import *  # noqa: F403  (the losses)
from nabla.nn.functional.loss_more import *  # noqa: F403
from nabla.nn.functional.normalization import batch_norm, group_norm, layer_norm
from nabla.nn.functional.normalization_more import *  # noqa: F403
from nabla.nn.functional.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from nabla.nn.functional.pooling3d import (
    avg_pool3d,
    lp_pool3d,
    max_pool3d,
    max_pool3d_with_indices,
    max_unpool3d,
)
from nabla.nn.functional.pooling_more import *  # noqa: F403
from nabla.nn.functional.sampling_more import *  # noqa: F403
from nabla.nn.functional.vision import (
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from nabla.ops.join import pad  # noqa: E402,F401  (F.pad, as torch.nn.functional.pad)
