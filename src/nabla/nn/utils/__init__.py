"""``nabla.nn.utils``: gradient clipping and parameter/vector conversion (``torch.nn.utils``)."""

from nabla.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from nabla.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters"]
from nabla.nn.utils import rnn  # noqa: E402  (nn.utils.rnn: PackedSequence, pack/pad helpers)
from nabla.nn.utils.conv_utils import conv_output_size  # noqa: E402

__all__ += ["conv_output_size"]
