"""Variable-length sequences, as ``torch.nn.utils.rnn``.

A batch of sequences of different lengths is padded to the longest (``pad_sequence``), and then
packed (``pack_padded_sequence``): sorted by decreasing length, the time steps are laid out one
after another, each holding only the sequences still running at that step. ``batch_sizes[t]`` is
how many that is. A recurrent layer fed a ``PackedSequence`` runs each step on its first
``batch_sizes[t]`` rows, so no work is spent on padding and the final hidden state of every
sequence is the one at its own last step.

Every function here is one gather of rows (a single differentiable op), so gradients flow back to
the padded or listed inputs.
"""

from collections import namedtuple

from nabla.backend import array_module
from nabla.creation import full, tensor
from nabla.dtype import int64
from nabla.ops.join import cat
from nabla.ops.shape import reshape, transpose
from nabla.tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpack_sequence", "unpad_sequence", "invert_permutation"]


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """The packed form of a batch of variable-length sequences (build it with
    ``pack_padded_sequence`` or ``pack_sequence``, not by hand).

    Attributes:
        data: (sum of lengths, *) the steps of all sequences, time-major.
        batch_sizes: (max length,) int64, how many sequences are running at each step.
        sorted_indices: (B,) int64 or None, the order by decreasing length.
        unsorted_indices: (B,) int64 or None, its inverse.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._replace(data=data)

    @property
    def is_cuda(self) -> bool:
        return self.data.device != "cpu"


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation given as an index tensor."""
    if permutation is None:
        return None
    p = permutation._data
    inv = array_module(p).empty_like(p)
    inv[p] = array_module(p).arange(p.shape[0], dtype=p.dtype)
    return Tensor._make(inv)


def _ints(values) -> list:
    if isinstance(values, Tensor):
        values = values._data
    return [int(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]


def _gather_rows(rows: Tensor, index, padding_value) -> Tensor:
    """rows[index] where index -1 selects a row filled with ``padding_value`` (one gather)."""
    xp = array_module(rows._data)
    index = xp.asarray(index, dtype=xp.int64)
    if (index < 0).any():
        pad = full((1,) + tuple(rows.shape[1:]), padding_value, dtype=rows.dtype)
        rows = cat([rows, pad])
        index = xp.where(index < 0, rows.shape[0] - 1, index)
    return rows[index]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch of variable-length sequences.

    Args:
        input: (T, B, *) padded sequences, or (B, T, *) if batch_first.
        lengths: (B,) list or tensor of the sequences' lengths (each >= 1).
        batch_first: whether the batch is the first dimension of ``input``.
        enforce_sorted: require lengths sorted in decreasing order; if False they are sorted
            here and the permutation is kept, so that the layers restore the original order.

    Returns:
        A PackedSequence.
    """
    lengths = _ints(lengths)
    if batch_first:
        input = transpose(input, 0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if len(lengths) != batch:
        raise ValueError(f"pack_padded_sequence: expected {batch} lengths (the batch size), "
                         f"got {len(lengths)}")
    if min(lengths) <= 0:
        raise RuntimeError("pack_padded_sequence: every length must be at least 1, got "
                           f"{lengths}")
    if max(lengths) > steps:
        raise RuntimeError(f"pack_padded_sequence: a length {max(lengths)} exceeds the "
                           f"{steps} padded steps")
    if enforce_sorted:
        if any(lengths[i] < lengths[i + 1] for i in range(batch - 1)):
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in "
                               "decreasing order when `enforce_sorted` is True. You can pass "
                               "`enforce_sorted=False` to pack_padded_sequence and/or "
                               "pack_sequence to sidestep this requirement.")
        order = list(range(batch))
    else:
        order = sorted(range(batch), key=lambda b: -lengths[b])  # stable, as PyTorch's sort
    sorted_lengths = [lengths[b] for b in order]
    batch_sizes = [sum(1 for n in sorted_lengths if n > t) for t in range(sorted_lengths[0])]
    index = [t * batch + order[j] for t, bs in enumerate(batch_sizes) for j in range(bs)]
    data = _gather_rows(reshape(input, (steps * batch,) + tuple(input.shape[2:])), index, 0)
    sorted_indices = None if enforce_sorted else tensor(order, dtype=int64)
    return PackedSequence(data, tensor(batch_sizes, dtype=int64), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None) -> tuple:
    """Undo ``pack_padded_sequence``.

    Args:
        sequence: the PackedSequence.
        batch_first: return (B, T, *) instead of (T, B, *).
        padding_value: the value of the padded steps.
        total_length: pad to this many steps (at least the longest sequence).

    Returns:
        (padded, lengths): the padded tensor, and the (B,) int64 lengths in the original order.
    """
    batch_sizes = _ints(sequence.batch_sizes)
    steps, batch = len(batch_sizes), batch_sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is less than "
                             f"the longest sequence length ({steps})")
        steps = total_length
    order = (list(range(batch)) if sequence.sorted_indices is None
             else _ints(sequence.sorted_indices))
    index = [-1] * (steps * batch)
    row = 0
    for t, bs in enumerate(batch_sizes):
        for j in range(bs):
            index[t * batch + order[j]] = row
            row += 1
    data = sequence.data
    padded = reshape(_gather_rows(data, index, padding_value),
                     (steps, batch) + tuple(data.shape[1:]))
    sorted_lengths = [sum(1 for bs in batch_sizes if bs > j) for j in range(batch)]
    lengths = [0] * batch
    for j, b in enumerate(order):
        lengths[b] = sorted_lengths[j]
    if batch_first:
        padded = transpose(padded, 0, 1)
    return padded, tensor(lengths, dtype=int64)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths, padding them to the longest.

    Args:
        sequences: list of B tensors (L_i, *) with equal trailing dims.
        batch_first: return (B, T, *) instead of (T, B, *).
        padding_value: the value of the padding.
        padding_side: "right" (pad at the end) or "left".

    Returns:
        (T, B, *) or (B, T, *), T = max L_i.
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"'{padding_side}'")
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences]
    steps, batch = max(lengths), len(sequences)
    index, start = [-1] * (steps * batch), 0
    for b, n in enumerate(lengths):
        shift = 0 if padding_side == "right" else steps - n
        for t in range(n):
            index[(t + shift) * batch + b] = start + t
        start += n
    rows = _gather_rows(cat(sequences), index, padding_value)
    padded = reshape(rows, (steps, batch) + tuple(sequences[0].shape[1:]))
    return transpose(padded, 0, 1) if batch_first else padded


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) of different lengths (pad, then pack)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """Split a padded batch back into a list of sequences of their own lengths."""
    if batch_first:
        padded_sequences = transpose(padded_sequences, 0, 1)
    return [padded_sequences[:n, b] for b, n in enumerate(_ints(lengths))]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """Split a PackedSequence into the list of its sequences (in the original order)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
