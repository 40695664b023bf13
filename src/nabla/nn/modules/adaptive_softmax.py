"""Adaptive softmax (Grave et al., 2017, "Efficient softmax approximation for GPUs"), PyTorch's
``nn.AdaptiveLogSoftmaxWithLoss``: its submodule names (``head``, ``tail``), state_dict keys,
checks and results.

Classes are split by frequency at the cutoffs c_0 < c_1 < ... < c_k = n_classes: the shortlist
[0, c_0) is scored by the head, which also has one column per tail cluster [c_{i-1}, c_i); a
class in cluster i gets log p = log p_head(cluster i) + log p_tail_i(class), where tail i is a
low-rank Linear(in, in / div^i) -> Linear(., cluster size). The forward composes nabla ops
(linear, log_softmax, gather, index_select, index_add), so it has no gradient rule of its own;
the targets' clusters and rows are ops too (bucketize, nonzero), so that ``nabla.jit.trace``
recomputes them for each call's targets. Eagerly, a cluster no target falls in is skipped, as
in PyTorch (its tail gets no gradient); a trace runs every cluster (an empty one gives its tail
a zero gradient), as the replay cannot know which will be empty.
"""

from collections import namedtuple

from nabla import dtype as _dt
from nabla.autograd.grad_mode import _trace
from nabla.backend import array_module
from nabla.nn.functional.activation import log_softmax
from nabla.nn.modules.container import ModuleList, Sequential
from nabla.nn.modules.linear import Linear
from nabla.nn.modules.module import Module
from nabla.ops import argmax, bucketize, cat, gather, index_add, index_copy, index_select, nonzero
from nabla.ops.elementwise import where
from nabla.tensor import Tensor

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])  # PyTorch's name for the pair


def _check_cutoffs(cutoffs: list, n_classes: int) -> None:
    """Unique, increasing integers in [1, n_classes - 1], as PyTorch requires."""
    if not cutoffs:
        raise ValueError("AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of length "
                         "larger than 0")
    ok = (all(isinstance(c, int) or float(c).is_integer() for c in cutoffs)
          and cutoffs == sorted(cutoffs) and len(set(cutoffs)) == len(cutoffs)
          and min(cutoffs) > 0 and max(cutoffs) <= n_classes - 1)
    if not ok:
        raise ValueError(f"AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of unique, "
                         f"positive integers sorted in an increasing order, where each value is "
                         f"between 1 and n_classes-1 = {n_classes - 1}; got {cutoffs}")


class AdaptiveLogSoftmaxWithLoss(Module):
    """Log-probabilities of the targets under an adaptive softmax, and their mean NLL.

    Args:
        in_features: size of each input sample.
        n_classes: number of classes.
        cutoffs: increasing class indices in [1, n_classes - 1] where clusters start.
        div_value: each cluster's hidden size is in_features // div_value ** (i + 1).
        head_bias: give the head Linear a bias.

    Shape: input (N, in_features) or (in_features,); target (N,) or () class indices;
    forward returns (output, loss) with output (N,) (or ()) the target log-probabilities and
    loss = mean(-output).
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        _check_cutoffs(cutoffs, n_classes)
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = [int(c) for c in cutoffs] + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, dtype=dtype),
                                        Linear(hidden, size, bias=False, dtype=dtype)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection:
                layer.reset_parameters()

    def forward(self, input: Tensor, target: Tensor) -> _ASMoutput:
        x, t, batched = self._check_pair(input, target)
        labels = t._data
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: target values should be in "
                               f"[0, {self.n_classes - 1}], but values in range "
                               f"[{int(labels.min())}, {int(labels.max())}] were found")
        labels = t if t.dtype == _dt.int64 else t.long()
        # the cluster of each target (0: the shortlist) and its column in the head
        starts = Tensor._make(array_module(labels._data).asarray(self.cutoffs[:-1], _dt.int64))
        cluster = bucketize(labels, starts, right=True)
        column = where(cluster == 0, labels, cluster + (self.shortlist_size - 1))
        head_lp = log_softmax(self.head(x), 1)
        output = gather(head_lp, 1, column.reshape(-1, 1)).reshape(-1)
        for i, projection in enumerate(self.tail):
            rows = nonzero(cluster == i + 1, as_tuple=True)[0]
            if rows.shape[0] == 0 and _trace.tracer is None:  # see the module docstring
                continue
            tail_lp = log_softmax(projection(index_select(x, 0, rows)), 1)
            local = index_select(labels, 0, rows) - self.cutoffs[i]
            output = index_add(output, 0, rows, gather(tail_lp, 1, local.reshape(-1, 1))
                               .reshape(-1))
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.reshape(()), loss)

    def _check_pair(self, input: Tensor, target: Tensor) -> tuple:
        """(input (N, in), target (N,), whether batched), as PyTorch checks them."""
        name = "AdaptiveLogSoftmaxWithLoss"
        if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
            raise TypeError(f"{name}: target must be an integer Tensor of class indices")
        if target.ndim == 1:
            if input.ndim != 2:
                raise RuntimeError(f"{name}: 1D target tensor expects 2D input tensors, but "
                                   f"found inputs with size {tuple(input.shape)}")
            if input.shape[0] != target.shape[0]:
                raise RuntimeError(f"{name}: input and target should have the same size in the "
                                   f"batch dimension, got input {tuple(input.shape)} and target "
                                   f"{tuple(target.shape)}")
            return input, target, True
        if target.ndim == 0:
            if input.ndim != 1:
                raise RuntimeError(f"{name}: 0D target tensor expects 1D input tensors, but "
                                   f"found inputs with size {tuple(input.shape)}")
            return input.reshape(1, -1), target.reshape(1), False
        raise RuntimeError(f"{name}: 0D or 1D target tensor expected, multi-target not "
                           f"supported (got target of shape {tuple(target.shape)})")

    def _full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        """log p of every class (N, n_classes) from the head's output."""
        head_lp = log_softmax(head_output, 1)
        parts = [head_lp[:, :self.shortlist_size]]
        for i, projection in enumerate(self.tail):
            col = self.shortlist_size + i
            parts.append(log_softmax(projection(input), 1) + head_lp[:, col:col + 1])
        return cat(parts, 1)

    def _check_matrix(self, op: str, input: Tensor) -> None:
        if input.ndim != 2 or input.shape[1] != self.in_features:
            raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss.{op}: expected input of shape "
                               f"(N, {self.in_features}), got {tuple(input.shape)}")

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of all classes: (N, in_features) -> (N, n_classes)."""
        self._check_matrix("log_prob", input)
        return self._full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most probable class of each row, (N,) int64: log_prob(input).argmax(1), with
        the tails evaluated only for rows whose head prefers a cluster."""
        self._check_matrix("predict", input)
        head_output = self.head(input)
        best = argmax(head_output, 1)
        rows = nonzero(best >= self.shortlist_size, as_tuple=True)[0]
        if rows.shape[0] == 0 and _trace.tracer is None:
            return best
        full = self._full_log_prob(index_select(input, 0, rows),
                                   index_select(head_output, 0, rows))
        return index_copy(best, 0, rows, argmax(full, 1))
