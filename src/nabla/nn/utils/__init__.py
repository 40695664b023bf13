"""``nabla.nn.utils``: gradient clipping, parameter/vector conversion and the weight_norm /
spectral_norm reparametrizations (``torch.nn.utils``)."""

from nabla.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from nabla.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from nabla.nn.utils.weight_norms import (
    remove_spectral_norm,
    remove_weight_norm,
    spectral_norm,
    weight_norm,
)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "weight_norm", "remove_weight_norm",
           "spectral_norm", "remove_spectral_norm"]
from nabla.nn.utils import rnn  # noqa: E402  (nn.utils.rnn: PackedSequence, pack/pad helpers)
from nabla.nn.utils.conv_utils import conv_output_size  # noqa: E402

__all__ += ["conv_output_size"]
