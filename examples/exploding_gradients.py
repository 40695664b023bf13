"""Exploding gradients in an RNN, the NaN that follows, where it came from, and the remedy.

A vanilla (tanh) RNN reads 100 steps of a noisy sine and predicts the next value. Its recurrent
weight starts orthogonal times 2 (every singular value 2, a careless initialization). BPTT
multiplies the gradient by one Jacobian of the recurrence, W_hh^T diag(tanh'), per step back,
so with singular values above 1 its norm can grow like 2^t over the 100 steps (tanh' < 1 only
partly holds it back).

Topics: exploding gradients in backpropagation through time; "once a weight is NaN every later
step is NaN" (an infinite loss gives NaN gradients, one optimizer step writes them into every
weight, and from then on every output is NaN); finding the first op that made a non-finite value
with ``nabla.autograd.detect_anomaly()``; the gradient-flow warning with its remedies
(``nabla.diagnostics.check_gradients``); the remedy, gradient clipping by norm
(``nn.utils.clip_grad_norm_``).

Measured (seed 0, SGD lr 0.1, 32 sequences per step): without clipping the gradient norm at
initialization is 1.5e6 (the gradient-flow check warns); that first step throws the weights far
away, the loss climbs to 3e36 and overflows float32 at step 31 (detect_anomaly names MseLoss's
forward, whose inputs were still finite), the next backward gives NaN gradients, and from then on
all 6 parameter tensors are NaN. With clip_grad_norm_(max_norm=1) the same run trains: the loss
falls from 0.83 to about 0.1 in 300 steps.
Writes runs/exploding_gradients/gradient_norms.png (log scale, both runs).
Run: python examples/exploding_gradients.py  [--fast]
"""

import argparse
import math
import os
import warnings

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.diagnostics import check_gradients, gradient_norms
from nabla.nn.utils import clip_grad_norm_
from nabla.utils.data.datasets.toy import make_sine_sequences

STEPS, BATCH = 100, 32


class SineRNN(nn.Module):
    """nn.RNN (tanh, hidden 32) over the window, a Linear head on the last hidden state."""

    def __init__(self, gain: float = 2.0) -> None:
        super().__init__()
        self.rnn = nn.RNN(1, 32, batch_first=True)
        self.head = nn.Linear(32, 1)
        with nabla.no_grad():  # singular values all equal to `gain`
            nn.init.orthogonal_(self.rnn.weight_hh_l0, gain=gain)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def train(clip: float | None, steps: int, data, seed: int = 0) -> dict:
    """SGD on the sine windows; returns the loss and the total gradient norm per step (before
    clipping), the first step whose loss is not finite, and the weights just before it."""
    nabla.manual_seed(seed)
    model = SineRNN()
    opt = nabla.optim.SGD(model.parameters(), lr=0.1)
    x_all, y_all = data
    losses, norms, first_bad, before_bad = [], [], None, None
    for step in range(steps):
        i = step * BATCH % len(x_all)
        x, y = x_all[i:i + BATCH], y_all[i:i + BATCH]
        snapshot = {k: v.clone() for k, v in model.state_dict().items()}
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        per_layer = gradient_norms(model)
        norms.append(math.sqrt(sum(v * v for v in per_layer.values())))
        losses.append(loss.item())
        if first_bad is None and not math.isfinite(losses[-1]):
            first_bad, before_bad = step, (snapshot, x, y)
        if step == 0 and clip is None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                check_gradients(per_layer, where=" at step 0")
            for w in caught:
                print("  warning:", w.message)
        if clip is not None:
            clip_grad_norm_(model.parameters(), clip)
        opt.step()
    nan_weights = sum(int(p.isnan().any().item()) for p in model.parameters())
    return {"loss": losses, "grad_norm": norms, "first_non_finite": first_bad,
            "before": before_bad, "nan_parameters": nan_weights,
            "parameters": len(list(model.parameters()))}


def find_the_op(before) -> str:
    """Re-run the first failing step from the weights it started with, under detect_anomaly:
    the error names the first op whose output (forward) or gradient (backward) is not finite
    and the line of user code that called it."""
    state, x, y = before
    model = SineRNN()
    model.load_state_dict(state)
    try:
        with nabla.autograd.detect_anomaly():
            F.mse_loss(model(x), y).backward()
    except FloatingPointError as err:  # detect_anomaly's error
        return str(err)
    return "detect_anomaly found nothing"


def _plot(runs: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, run in runs.items():
        finite = [(i, n) for i, n in enumerate(run["grad_norm"]) if math.isfinite(n) and n > 0]
        line, = ax.semilogy([i for i, _ in finite], [n for _, n in finite], label=label)
        if run["first_non_finite"] is not None:
            ax.axvline(run["first_non_finite"], ls=":", color=line.get_color(),
                       label="loss not finite (then NaN)")
    ax.set_xlabel("training step")
    ax.set_ylabel("gradient norm (before clipping)")
    ax.set_title("vanilla RNN, 100 steps, W_hh singular values 2")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(fast: bool = False, out: str = "runs/exploding_gradients") -> dict:
    x, y = make_sine_sequences(256, STEPS, seed=0)
    data = nabla.tensor(x), nabla.tensor(y)
    steps = 150 if fast else 300
    print("without clipping:")
    with warnings.catch_warnings():  # NumPy's overflow warnings: the run below shows them
        warnings.simplefilter("ignore", RuntimeWarning)
        plain = train(None, steps, data)
    bad = plain["first_non_finite"]
    print(f"  gradient norm at initialization: {plain['grad_norm'][0]:.3g}")
    if bad is not None:
        print(f"  loss at step {bad - 1}: {plain['loss'][bad - 1]:.3g}, at step {bad}: "
              f"{plain['loss'][bad]}, at the end: {plain['loss'][-1]}")
        print(f"  NaN in {plain['nan_parameters']} of {plain['parameters']} parameter tensors "
              "after training")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            print("  the same step under detect_anomaly():\n   ", find_the_op(plain["before"]))
    clipped = train(1.0, steps, data)
    print(f"with clip_grad_norm_(max_norm=1): loss {clipped['loss'][0]:.3f} -> "
          f"{sum(clipped['loss'][-20:]) / 20:.3f} (mean of the last 20 steps), "
          f"NaN in {clipped['nan_parameters']} parameter tensors")
    runs = {"no clipping": plain, "clip_grad_norm_(1)": clipped}
    try:
        os.makedirs(out, exist_ok=True)
        _plot(runs, os.path.join(out, "gradient_norms.png"))
        print(f"wrote {out}/gradient_norms.png")
    except ImportError:  # matplotlib is the optional 'plot' extra
        pass
    return runs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="150 steps instead of 300")
    main(parser.parse_args().fast)
