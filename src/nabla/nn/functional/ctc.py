"""Connectionist temporal classification (CTC) loss, PyTorch's ``ctc_loss``.

CTC scores a label sequence l (length S) against per-frame class log-probabilities y (T frames,
C classes, one of them the blank) by summing over every alignment: every frame-wise path that
becomes l once repeats are merged and blanks dropped. The sum runs over the extended sequence
l' = (blank, l_1, blank, l_2, ..., l_S, blank) of length L = 2S + 1, in log space:

    alpha_0(0) = y_0(blank),  alpha_0(1) = y_0(l_1)   (others -inf; all values are logs)
    alpha_t(s) = y_t(l'_s) + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2))

where the jump from s - 2 is allowed only when l'_s != l'_{s-2} (a label differs from the one
two places back: a blank cannot be skipped between repeated labels). The loss of one sample is
-log p(l | y) = -logsumexp(alpha_{T-1}(L-1), alpha_{T-1}(L-2)). The backward recursion beta is
the mirror image (from the last frame back), and alpha_t(s) + beta_t(s) - y_t(l'_s) is the log
of the probability mass of the paths through position s at frame t, so

    d(-log p) / d y_t(c) = -exp(logsumexp_{s: l'_s = c}(alpha_t(s) + beta_t(s)) + nll - y_t(c)).

PyTorch returns this plus exp(y_t(c)) * grad (the gradient with respect to the logits when
y = log_softmax(logits), whose backward cancels the extra term): nabla returns the same values.
Frames past a sample's input length get zero gradient. The forward is one Python loop over time,
each step a few array ops over (batch, L); the backward runs the beta loop beside it.
"""

from typing import NamedTuple

from nabla.autograd.function import Op
from nabla.backend import array_module
from nabla.nn.functional._loss_base import reduction_of
from nabla.tensor import Tensor

__all__ = ["ctc_loss"]


class _Lattice(NamedTuple):
    """What the gradient needs from the forward: the extended labels (N, L), their
    log-probabilities (T, N, L), the allowed skips (N, L), the alphas (T, N, L), the per-sample
    negative log-likelihood (N,), the lengths (N,) and the samples whose gradient is zeroed."""

    ext: object
    lpe: object
    skip: object
    alphas: object
    nll: object
    input_lengths: object
    target_lengths: object
    zeroed: object


def _extended_labels(xp, targets, target_lengths, blank: int):
    """l' for every sample, (N, 2 * max(S_n) + 1): blank, l_1, blank, ..., blank (and blank
    past each sample's own length). 1-D targets are the label sequences concatenated."""
    n = target_lengths.shape[0]
    s_max = int(target_lengths.max()) if n else 0
    pos = xp.arange(s_max)
    used = pos[None, :] < target_lengths[:, None]
    if targets.ndim == 1:
        starts = xp.cumsum(target_lengths) - target_lengths
        labels = targets[xp.minimum(starts[:, None] + pos, max(targets.shape[0] - 1, 0))] \
            if targets.shape[0] else xp.zeros((n, s_max), targets.dtype)
    else:
        labels = targets[:, :s_max]
    ext = xp.full((n, 2 * s_max + 1), blank, xp.int64)
    ext[:, 1::2] = xp.where(used, labels, blank)
    return ext


def _skips(xp, ext):
    """Where the jump s - 2 -> s is allowed: l'_s != l'_{s-2} (never for s < 2)."""
    skip = xp.zeros(ext.shape, bool)
    skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    return skip


def _alphas(xp, lpe, skip, target_lengths, t_max: int):
    """The forward variables, (T, N, L); frames from t_max on are left at -inf."""
    t_len, n, length = lpe.shape
    # two -inf columns in front, so that s - 1 and s - 2 are slices
    ap = xp.full((t_len, n, length + 2), -xp.inf, lpe.dtype)
    if t_max == 0:
        return ap[:, :, 2:]
    ap[0, :, 2] = lpe[0, :, 0]
    if length > 1:
        ap[0, :, 3] = xp.where(target_lengths > 0, lpe[0, :, 1], -xp.inf)
    no_skip = xp.asarray(-xp.inf, lpe.dtype)
    for t in range(1, t_max):
        prev = ap[t - 1]
        m = xp.logaddexp(prev[:, 2:], prev[:, 1:-1])
        m = xp.logaddexp(m, xp.where(skip, prev[:, :-2], no_skip))
        ap[t, :, 2:] = m + lpe[t]
    return ap[:, :, 2:]


def _log_likelihood(xp, alphas, input_lengths, target_lengths):
    """log p(l | y) per sample from alpha at its last frame (0 or -inf for zero frames)."""
    n = input_lengths.shape[0]
    rows = xp.arange(n)
    end = xp.maximum(input_lengths - 1, 0)
    last = alphas[end, rows, 2 * target_lengths]
    before = alphas[end, rows, xp.maximum(2 * target_lengths - 1, 0)]
    ll = xp.logaddexp(last, xp.where(target_lengths > 0, before, -xp.inf))
    empty = xp.where(target_lengths == 0, 0.0, -xp.inf).astype(ll.dtype)
    return xp.where(input_lengths == 0, empty, ll)


def _betas(xp, lat: _Lattice, t_max: int):
    """The backward variables, (T, N, L): beta_t(s) = y_t(l'_s) + logsumexp(beta_{t+1}(s),
    beta_{t+1}(s+1), beta_{t+1}(s+2)), started at each sample's last frame."""
    lpe, il, tl = lat.lpe, lat.input_lengths, lat.target_lengths
    t_len, n, length = lpe.shape
    bp = xp.full((t_len, n, length + 2), -xp.inf, lpe.dtype)  # two -inf columns behind
    skip_next = xp.zeros((n, length), bool)
    skip_next[:, :-2] = lat.skip[:, 2:]
    rows = xp.arange(n)
    no_skip = xp.asarray(-xp.inf, lpe.dtype)
    for t in range(t_max - 1, -1, -1):
        if t + 1 < t_max:
            nxt = bp[t + 1]
            m = xp.logaddexp(nxt[:, :-2], nxt[:, 1:-1])
            m = xp.logaddexp(m, xp.where(skip_next, nxt[:, 2:], no_skip))
            bp[t, :, :-2] = xp.where((t < il - 1)[:, None], m + lpe[t], no_skip)
        start = rows[il - 1 == t]
        if start.size:
            last = 2 * tl[start]
            bp[t, start, last] = lpe[t, start, last]
            with_label = start[tl[start] > 0]
            bp[t, with_label, 2 * tl[with_label] - 1] = lpe[t, with_label,
                                                           2 * tl[with_label] - 1]
    return bp[:, :, :-2]


class CtcLoss(Op):
    """nll_n = -log sum over alignments of prod_t y_t (the alpha recursion of the module
    docstring), reduced;  d/dy_t(c) = (exp(y_t(c)) - gamma_t(c)) * grad_n (see CtcLossBackward)."""

    array_backward = True

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, reduction,
                zero_infinity):
        xp = array_module(log_probs)
        il, tl = input_lengths.astype(xp.int64), target_lengths.astype(xp.int64)
        _check_replayed(il, tl, targets, log_probs.shape[0])
        ext = _extended_labels(xp, targets, tl, blank)
        lpe = log_probs[:, xp.arange(ext.shape[0])[:, None], ext]
        skip = _skips(xp, ext)
        t_max = int(il.max()) if il.size else 0
        alphas = _alphas(xp, lpe, skip, tl, t_max)
        nll = -_log_likelihood(xp, alphas, il, tl)
        zeroed = xp.isinf(nll) if zero_infinity else xp.zeros(nll.shape, bool)
        loss = xp.where(zeroed, xp.asarray(0, nll.dtype), nll)
        # per-sample weight of the incoming gradient: 'mean' divides by the target length
        # (at least 1) and the batch size, as PyTorch
        dtype = log_probs.dtype
        scale = xp.ones(nll.shape, dtype)
        if reduction == "mean":
            scale = scale / (xp.maximum(tl, 1).astype(dtype) * nll.shape[0])
            loss = (loss / xp.maximum(tl, 1).astype(dtype)).mean()
        elif reduction == "sum":
            loss = loss.sum()
        ctx.scale = xp.where(zeroed, xp.asarray(0, dtype), scale)
        ctx.lattice = _Lattice(ext, lpe, skip, alphas, nll, il, tl, zeroed)
        ctx.save_for_backward(log_probs)
        return xp.asarray(loss, dtype)

    @staticmethod
    def backward(ctx, grad):
        (log_probs,) = ctx.saved_tensors
        grad_sample = grad * ctx.scale  # (N,) for every reduction
        return (CtcLossBackward.apply(grad_sample, log_probs, ctx.lattice),
                None, None, None, None, None, None)


class CtcLossBackward(Op):
    """grad_y[t, n, c] = (exp(y) - exp(logsumexp_{s: l'_s = c}(alpha + beta) + nll - y)) * g_n
    for t < input_length_n, else 0. Its own gradient is not implemented (neither in PyTorch)."""

    @staticmethod
    def forward(ctx, grad_sample, log_probs, lat: _Lattice):
        xp = array_module(log_probs)
        t_len, n, n_classes = log_probs.shape
        il = lat.input_lengths
        t_max = int(il.max()) if il.size else 0
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ab = lat.alphas + _betas(xp, lat, t_max)  # (T, N, L)
            m = ab.max(axis=2, keepdims=True)  # per frame and sample: exp(ab - m) <= 1
            m = xp.where(xp.isfinite(m), m, 0).astype(log_probs.dtype)
            one_hot = (lat.ext[:, :, None] == xp.arange(n_classes)).astype(log_probs.dtype)
            # sum over the positions s of each class c, batched over the samples
            mass = xp.matmul(xp.exp(ab - m).transpose(1, 0, 2), one_hot).transpose(1, 0, 2)
            log_mass = xp.log(mass) + m
            g = xp.exp(log_probs) - xp.exp(log_mass + lat.nll[None, :, None] - log_probs)
        live = (xp.arange(t_len)[:, None] < il[None, :]) & ~lat.zeroed[None, :]
        g = xp.where(live[:, :, None], g * grad_sample[None, :, None], 0)
        return g.astype(log_probs.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("ctc_loss: double backward (a gradient of the gradient, e.g. "
                           "autograd.grad(..., create_graph=True) then backward) is not "
                           "supported, as in PyTorch")


# -- argument checks ------------------------------------------------------------------------
def _check_replayed(il, tl, targets, t_len: int) -> None:
    """The lengths fit log_probs and the targets. ctc_loss checks its arguments before the op
    runs, with more detail; a replay of nabla.jit.trace runs the op alone on new lengths."""
    if il.size and (il.min() < 0 or il.max() > t_len or tl.min() < 0):
        raise RuntimeError(f"ctc_loss: input_lengths must lie in [0, {t_len}] (T) and "
                           f"target_lengths must not be negative, got {il.tolist()} and "
                           f"{tl.tolist()}")
    if (targets.ndim == 1 and int(tl.sum()) != targets.shape[0]) or \
            (targets.ndim == 2 and tl.size and int(tl.max()) > targets.shape[1]):
        raise RuntimeError(f"ctc_loss: target_lengths {tl.tolist()} do not fit targets of shape "
                           f"{tuple(targets.shape)} (padded: each length at most S; "
                           "concatenated: their sum is the size)")


def _lengths(what: str, value, n: int, bound: int | None, xp):
    """Lengths given as a Tensor or a tuple/list of ints, as an int64 array of n values in
    [0, bound]."""
    if isinstance(value, Tensor):
        arr = value._data
    elif isinstance(value, (tuple, list)):
        arr = xp.asarray(value)
    else:
        raise TypeError(f"ctc_loss: {what} must be a Tensor or a tuple/list of ints, got "
                        f"{type(value).__name__}")
    if arr.size and arr.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: {what} must be integral, got dtype {arr.dtype}")
    arr = arr.reshape(-1).astype(xp.int64)
    if arr.shape[0] != n:
        raise RuntimeError(f"ctc_loss: {what} must hold one length per sample (batch size "
                           f"{n}), got {arr.shape[0]} values")
    if n and arr.min() < 0:
        raise RuntimeError(f"ctc_loss: {what} must not be negative, got {int(arr.min())}")
    if n and bound is not None and arr.max() > bound:
        raise RuntimeError(f"ctc_loss: {what} must be at most {bound} (the number of frames "
                           f"T of log_probs), got {int(arr.max())}")
    return arr


def _check_targets(targets, tl, n: int, n_classes: int, xp) -> None:
    """Padded (N, S) targets long enough for every length, or concatenated ones whose size is
    the sum of the lengths; every label that is used in [0, C)."""
    if not isinstance(targets, Tensor):
        raise TypeError(f"ctc_loss: targets must be a Tensor, got {type(targets).__name__}")
    t = targets._data
    if t.ndim not in (1, 2) or (t.size and t.dtype.kind not in "iu"):
        raise RuntimeError(f"ctc_loss: targets must be integer labels, padded (N, S) or "
                           f"concatenated (sum(target_lengths),), got shape {tuple(t.shape)} "
                           f"and dtype {t.dtype}")
    if t.ndim == 2:
        if t.shape[0] != n:
            raise RuntimeError(f"ctc_loss: padded targets of shape {tuple(t.shape)} must have "
                               f"one row per sample (batch size {n})")
        s_max = int(tl.max()) if n else 0
        if s_max > t.shape[1]:
            raise RuntimeError(f"ctc_loss: a target length of {s_max} is longer than the "
                               f"padded targets of shape {tuple(t.shape)}")
        used = t[:, :s_max][xp.arange(s_max) < tl[:, None]]
    else:
        if t.shape[0] != int(tl.sum()):
            raise RuntimeError(f"ctc_loss: concatenated targets must have sum(target_lengths) "
                               f"= {int(tl.sum())} labels, got {t.shape[0]}")
        used = t
    if used.size and (used.min() < 0 or used.max() >= n_classes):
        bad = int(used.min()) if used.min() < 0 else int(used.max())
        raise RuntimeError(f"ctc_loss: target label {bad} is out of range for log_probs with "
                           f"C = {n_classes} classes (expected 0 <= label < {n_classes})")


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification loss: -log of the total probability of every
    alignment of each target sequence with its input frames (the math: see this module).

    Args:
        log_probs: (T, N, C) or unbatched (T, C) log-probabilities (e.g. log_softmax over C).
        targets: (N, S) label sequences padded to S, or 1-D (sum(target_lengths),) sequences
            concatenated; labels in [0, C) (the blank may appear; it then counts as a label).
        input_lengths: (N,) Tensor or tuple/list of frame counts, each <= T.
        target_lengths: (N,) Tensor or tuple/list of label counts, each <= S.
        blank: index of the blank class.
        reduction: 'none' gives (N,) (or () unbatched); 'sum' the sum; 'mean' the mean over the
            batch of each loss divided by its target length (at least 1).
        zero_infinity: impossible alignments (input too short for the target) give 0 and a
            zero gradient instead of inf.

    Returns:
        The loss, of log_probs' dtype. Its gradient is PyTorch's (see the module docstring).
    """
    reduction = reduction_of("ctc_loss", reduction)
    if not isinstance(log_probs, Tensor):
        raise TypeError(f"ctc_loss: log_probs must be a Tensor, got {type(log_probs).__name__}")
    if log_probs.ndim not in (2, 3) or log_probs.dtype.kind != "f":
        raise RuntimeError(f"ctc_loss: log_probs must be a float tensor (T, N, C) or (T, C), "
                           f"got shape {tuple(log_probs.shape)} and dtype {log_probs.dtype}")
    if log_probs.numel() == 0:
        raise RuntimeError(f"ctc_loss: log_probs must not be empty, got shape "
                           f"{tuple(log_probs.shape)}")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.reshape(log_probs.shape[0], 1, log_probs.shape[1])
    t_len, n, n_classes = log_probs.shape
    if not 0 <= blank < n_classes:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {n_classes}), got "
                           f"{blank}")
    xp = array_module(log_probs._data)
    il = _lengths("input_lengths", input_lengths, n, t_len, xp)
    tl = _lengths("target_lengths", target_lengths, n, None, xp)
    _check_targets(targets, tl, n, n_classes, xp)
    # Tensors stay Tensors, so that nabla.jit.trace reads them anew at every replay
    il = input_lengths.reshape(-1) if isinstance(input_lengths, Tensor) else il
    tl = target_lengths.reshape(-1) if isinstance(target_lengths, Tensor) else tl
    loss = CtcLoss.apply(log_probs, targets, il, tl, blank, reduction, zero_infinity)
    return loss.reshape(()) if unbatched and reduction == "none" else loss
