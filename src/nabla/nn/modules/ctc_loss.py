"""The CTC loss module: a holder of ``blank``, the reduction and ``zero_infinity`` around
``nn.functional.ctc.ctc_loss``, with PyTorch's constructor arguments."""

from nabla.nn.functional.ctc import ctc_loss
from nabla.nn.modules.loss import _Loss
from nabla.tensor import Tensor

__all__ = ["CTCLoss"]


class CTCLoss(_Loss):
    """Connectionist temporal classification loss: -log of the summed probability of every
    alignment of a target sequence with the input frames.

    Args:
        blank: index of the blank class (default 0).
        reduction: 'none' | 'mean' (each loss divided by its target length, then averaged
            over the batch) | 'sum'.
        zero_infinity: give 0 (and a zero gradient) for impossible alignments instead of inf.

    Shape: log_probs (T, N, C) or (T, C); targets (N, S) padded or 1-D concatenated;
    input_lengths and target_lengths (N,) Tensors or tuples; output () or, with 'none', (N,).
    """

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths,
                target_lengths) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)
