"""Gradient flow: make vanishing and exploding gradients visible.

- ``gradient_norms(model)``: the norm of every parameter's gradient after ``backward()``.
- ``nabla.train.GradientFlow``: a training callback that records those norms at every step,
  plots them per layer (PNG) and warns when they vanish or explode, with the usual remedies.
- ``time_step_gradient_norms(hidden_states)``: for a recurrent model unrolled step by step, the
  norm of dLoss/dh_t for every time step t: BPTT multiplies one factor of the recurrent weight per
  step back, so in a vanilla RNN these norms shrink (or grow) geometrically.
"""

import math
import warnings

import numpy

VANISHING = 1e-7
EXPLODING = 1e3

REMEDIES_VANISHING = ("gated cells (LSTM, GRU), residual connections, ReLU-family activations "
                      "instead of sigmoid/tanh, careful initialization (Xavier/Kaiming), "
                      "batch or layer normalization, truncated BPTT")
REMEDIES_EXPLODING = ("gradient clipping (nn.utils.clip_grad_norm_ or Trainer(grad_clip_norm=1)), "
                      "a lower learning rate, careful initialization, normalization layers")


def gradient_norms(model, norm_type: float = 2.0) -> dict:
    """``{parameter name: norm of its .grad}`` for every parameter that has a gradient."""
    out = {}
    for name, p in model.named_parameters():
        if p.grad is not None:
            g = p.grad._data.astype(numpy.float64, copy=False)
            out[name] = float(numpy.linalg.norm(g.ravel(), ord=norm_type))
    return out


def check_gradients(norms: dict, vanishing: float = VANISHING, exploding: float = EXPLODING,
                    where: str = "") -> list:
    """Warn (RuntimeWarning) about gradient norms that are non-finite, above ``exploding`` or
    below ``vanishing``; returns the messages."""
    messages = []
    bad = [k for k, v in norms.items() if not math.isfinite(v)]
    big = [k for k, v in norms.items() if math.isfinite(v) and v > exploding]
    small = [k for k, v in norms.items() if v < vanishing]
    if bad or big:
        names = ", ".join((bad + big)[:4])
        messages.append(f"exploding gradients{where}: {names} (norm > {exploding:g} or "
                        f"non-finite); remedies: {REMEDIES_EXPLODING}")
    if small:
        messages.append(f"vanishing gradients{where}: {', '.join(small[:4])} (norm < "
                        f"{vanishing:g}); remedies: {REMEDIES_VANISHING}")
    for msg in messages:
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return messages


def time_step_gradient_norms(hidden_states) -> numpy.ndarray:
    """Norms of dLoss/dh_t, one per time step, after ``loss.backward()``.

    Call ``h.retain_grad()`` on each hidden state when you compute it (or use ``track``), then
    backpropagate, then call this on the list.
    """
    norms = []
    for h in hidden_states:
        norms.append(0.0 if h.grad is None else float(numpy.linalg.norm(h.grad._data.ravel())))
    return numpy.array(norms)


def track(hidden_state):
    """Keep the gradient of a non-leaf hidden state for ``time_step_gradient_norms``; returns it."""
    hidden_state.retain_grad()
    return hidden_state


def plot_gradient_flow(history: dict, path, steps=None, title: str = "") -> str:
    """Per-parameter gradient norms over training on a log scale (left) and their last values
    per layer, input side first (right). ``history`` maps names to lists of norms."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_gradient_flow needs matplotlib: pip install 'nabla[plot]'") \
            from None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(history)
    for name in names:
        xs = steps if steps is not None else range(1, len(history[name]) + 1)
        ax1.semilogy(xs, numpy.maximum(history[name], 1e-30), label=name, lw=1)
    ax1.set_xlabel("step")
    ax1.set_ylabel("gradient norm")
    if len(names) <= 12:
        ax1.legend(fontsize=7)
    last = [history[n][-1] for n in names]
    ax2.bar(range(len(names)), numpy.maximum(last, 1e-30), log=True)
    ax2.set_xticks(range(len(names)), names, rotation=70, fontsize=7)
    ax2.set_ylabel("last gradient norm")
    for ax in (ax1, ax2):
        ax.axhline(VANISHING, color="tab:blue", ls=":", lw=0.8)
        ax.axhline(EXPLODING, color="tab:red", ls=":", lw=0.8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def plot_time_step_norms(norms, path, labels=None, title: str = "dLoss/dh_t per time step") -> str:
    """One curve of ``time_step_gradient_norms`` per model (log scale): vanishing shows as a
    straight falling line toward early time steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = [norms] if numpy.ndim(norms[0]) == 0 else norms
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, curve in enumerate(curves):
        label = labels[i] if labels else None
        ax.semilogy(range(1, len(curve) + 1), numpy.maximum(curve, 1e-30), label=label)
    ax.set_xlabel("time step t")
    ax.set_ylabel("||dLoss/dh_t||")
    ax.set_title(title)
    if labels:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)
