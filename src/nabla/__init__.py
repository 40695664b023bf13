"""nabla: a define-by-run deep-learning framework on NumPy, with the API of PyTorch."""

from nabla import accelerator, autograd, backends, cuda, special, viz
from nabla.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from nabla.backend import device
from nabla.backends import are_deterministic_algorithms_enabled, use_deterministic_algorithms
from nabla.creation import (
    arange,
    as_tensor,
    asarray,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    scalar_tensor,
    tensor,
    zeros,
    zeros_like,
)
from nabla.dtype import (
    bool,
    can_cast,
    double,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    is_floating_point,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
)
from nabla.ops import *  # noqa: F403  (the functional API: nabla.exp, nabla.matmul, ...)
from nabla.printing import set_printoptions
from nabla.random import (
    Generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from nabla.serialization import load, save
from nabla.tensor import Tensor

__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


# Subpackages reachable as attributes after `import nabla`, as torch.nn / torch.optim are.
# transforms: torchvision-style data augmentation.
from nabla import diagnostics, distributions, jit, linalg, nn, onnx, optim, transforms, utils  # noqa: E402,I001
from nabla.diagnostics.summary import summary  # noqa: E402
from nabla import amp  # noqa: E402  (loss scaling; autocast runs in full precision)
from nabla.amp import GradScaler, autocast, is_autocast_enabled  # noqa: E402
from nabla.jit import compile  # noqa: E402  (torch.compile: a no-op here, see jit.py)
from nabla import func  # noqa: E402  (torch.func: grad, vjp, jacrev, vmap, functional_call)
from nabla.func import vmap  # noqa: E402  (torch.vmap)

# torch's top-level names of matrix functions (the functions live in nabla.linalg)
from nabla.linalg import det, matrix_power, slogdet  # noqa: E402
from nabla.linalg import inv as inverse  # noqa: E402
from nabla.linalg.inverse import logdet  # noqa: E402
from nabla.linalg.pseudoinverse import pinverse  # noqa: E402
from nabla.linalg.legacy import (  # noqa: E402  (the pre-torch.linalg names, as torch.svd)
    chain_matmul,
    cholesky,
    eig,
    frobenius_norm,
    lstsq,
    lu,
    lu_solve,
    matrix_rank,
    nuclear_norm,
    qr,
    solve,
    svd,
    symeig,
)
from nabla.linalg.householder import geqrf, ormqr  # noqa: E402
from nabla.linalg.householder import householder_product as orgqr  # noqa: E402
from nabla.linalg.lowrank import pca_lowrank, svd_lowrank  # noqa: E402
from nabla.linalg.lu_factorization import lu_unpack  # noqa: E402
from nabla.linalg.triangular import (  # noqa: E402
    cholesky_inverse,
    cholesky_solve,
    triangular_solve,
)
from nabla.ops.linalg import outer as ger  # noqa: E402  (torch's older name of outer)
from nabla.nn.functional._parallel import get_num_threads, set_num_threads  # noqa: E402

# torch's older and lower-level top-level names: typed constructors, Size, range, settings,
# queries, bit shifts, incomplete gamma, and the in-place functions (torch.exp_(x), ...)
from nabla.autograd.grad_mode import is_inference_mode_enabled  # noqa: E402
from nabla.inplace_functions import *  # noqa: E402,F403
from nabla.legacy import (  # noqa: E402
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    Size,
    get_default_device,
    get_float32_matmul_precision,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    range,
    set_anomaly_enabled,
    set_default_device,
    set_float32_matmul_precision,
    typename,
)
from nabla.ops.bitshift import bitwise_left_shift, bitwise_right_shift  # noqa: E402
from nabla.ops.incomplete_gamma import igamma, igammac  # noqa: E402
from nabla.tensor_methods_lowlevel import empty_strided, narrow_copy  # noqa: E402
from nabla.tensor_queries import (  # noqa: E402
    is_complex,
    is_conj,
    is_inference,
    is_neg,
    is_nonzero,
    is_same_size,
    is_signed,
    layout,
    strided,
)
from nabla.memory_layout import (  # noqa: E402
    channels_last,
    channels_last_3d,
    contiguous_format,
    memory_format,
    preserve_format,
)
from nabla.nn.functional.distance import cdist  # noqa: E402  (torch.cdist)

# torch's top-level names of nn.functional ops (torch.conv2d, torch.layer_norm, torch.selu_, ...):
# the same functions where torch's signature is F's; below, small wrappers where torch orders or
# names the arguments differently. Left out: torch.embedding_bag (it returns the kernel's four
# internal tensors).
from nabla.nn.functional import (  # noqa: E402
    adaptive_avg_pool1d,
    avg_pool1d,
    bilinear,
    celu,
    celu_,
    channel_shuffle,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    cosine_similarity,
    group_norm,
    hardshrink,
    layer_norm,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    pairwise_distance,
    pdist,
    pixel_shuffle,
    pixel_unshuffle,
    prelu,
    relu_,
    rms_norm,
    rrelu,
    rrelu_,
    selu,
    selu_,
    threshold,
    threshold_,
)
from nabla.nn import functional as _F  # noqa: E402

_REDUCTIONS = ("none", "mean", "sum")  # torch's integer codes 0, 1, 2 of a loss's reduction


def _reduction(name: str, reduction) -> str:
    if reduction not in (0, 1, 2):
        raise TypeError(f"{name}: reduction must be 0 (none), 1 (mean) or 2 (sum) in the "
                        f"top-level torch.{name}, got {reduction!r}; nn.functional.{name} "
                        "takes the names ('mean', ...)")
    return _REDUCTIONS[reduction]


def adaptive_max_pool1d(input, output_size):
    """torch.adaptive_max_pool1d: (values, indices) always (F's with return_indices=True)."""
    return _F.adaptive_max_pool1d(input, output_size, return_indices=True)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """torch.batch_norm: F.batch_norm with weight and bias before the running statistics."""
    return _F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                         eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    """torch.instance_norm: F.instance_norm with weight and bias before the running stats."""
    return _F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                            momentum, eps)


def dropout(input, p, train):
    """torch.dropout: F.dropout(input, p, training=train)."""
    return _F.dropout(input, p, train)


def alpha_dropout(input, p, train):
    """torch.alpha_dropout: F.alpha_dropout(input, p, training=train)."""
    return _F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    """torch.feature_alpha_dropout: F.feature_alpha_dropout(input, p, training=train)."""
    return _F.feature_alpha_dropout(input, p, train)


def dropout_(input, p, train):
    """torch.dropout_: dropout written into ``input``."""
    return input._apply_("dropout_", _F.dropout, p, train)


def alpha_dropout_(input, p, train):
    """torch.alpha_dropout_: alpha dropout written into ``input``."""
    return input._apply_("alpha_dropout_", _F.alpha_dropout, p, train)


def feature_alpha_dropout_(input, p, train):
    """torch.feature_alpha_dropout_: feature alpha dropout written into ``input``."""
    return input._apply_("feature_alpha_dropout_", _F.feature_alpha_dropout, p, train)


def sigmoid_(input):
    """torch.sigmoid_: x.sigmoid_()."""
    return input.sigmoid_()


def tanh_(input):
    """torch.tanh_: x.tanh_()."""
    return input.tanh_()


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """torch.embedding: F.embedding with the table first; a negative padding_idx means none."""
    return _F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                        scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def kl_div(input, target, reduction=1, *, log_target=False):
    """torch.kl_div: F.kl_div with an integer reduction (1 is 'mean' over all elements)."""
    return _F.kl_div(input, target, reduction=_reduction("kl_div", reduction),
                     log_target=log_target)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    """torch.cosine_embedding_loss: F's, with an integer reduction."""
    return _F.cosine_embedding_loss(input1, input2, target, margin,
                                    reduction=_reduction("cosine_embedding_loss", reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    """torch.margin_ranking_loss: F's, with an integer reduction."""
    return _F.margin_ranking_loss(input1, input2, target, margin,
                                  reduction=_reduction("margin_ranking_loss", reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    """torch.hinge_embedding_loss: F's, with an integer reduction."""
    return _F.hinge_embedding_loss(input, target, margin,
                                   reduction=_reduction("hinge_embedding_loss", reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        reduction=1):
    """torch.triplet_margin_loss: F's, with an integer reduction."""
    return _F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                  reduction=_reduction("triplet_margin_loss", reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):  # noqa: F811 (torch's name)
    """torch.poisson_nll_loss: F's, every argument positional, the reduction an integer."""
    return _F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                               reduction=_reduction("poisson_nll_loss", reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    """torch.binary_cross_entropy_with_logits: F's, pos_weight before an integer reduction."""
    return _F.binary_cross_entropy_with_logits(
        input, target, weight, pos_weight=pos_weight,
        reduction=_reduction("binary_cross_entropy_with_logits", reduction))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
             zero_infinity=False):
    """torch.ctc_loss: F.ctc_loss with an integer reduction."""
    return _F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                       _reduction("ctc_loss", reduction), zero_infinity)


# torch's constants: nabla.pi, nabla.e, nabla.inf, nabla.nan, and nabla.newaxis (None) for indexing
from math import e, inf, nan, pi  # noqa: E402

newaxis = None
