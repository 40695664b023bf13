"""Fused recurrent cells: one op per time step computes every gate at once.

A recurrent layer splits its work in two. The input projection ``x_t W_ih^T + b_ih`` does not
depend on the past, so the layer computes it for all time steps in one matrix product and hands
each step its slice ``gi`` (N, G). What remains per step is the recurrence: ``gi + h W_hh^T (+
b_hh)`` followed by the gate nonlinearities. Each op below does exactly that, in one node: its
forward runs on arrays, its backward is the closed-form rule (array_backward) that gives every
gate's gradient in a handful of array expressions, so the engine walks one node per step.

Backpropagation through time is nothing but the engine walking these nodes in reverse: the
gradient of h_{t-1} is ``dG W_hh``, one factor of W_hh per step back, and ``dW_hh`` sums
``dG_t^T h_{t-1}`` over the steps. A sequence layer hands its steps a ``DeferredWeightGrad`` so
that this sum is one matrix product at the end instead of one thin product per step. The plain
backward's in-place array rules and ``DeferredWeightGrad`` are in ``recurrent_backward.py``.

Second derivatives: in create_graph mode the rules recompute the gate activations from the saved
inputs with differentiable nabla ops, so the gradient graph is complete.
"""

from nabla.autograd.function import Op
from nabla.autograd.grad_mode import is_grad_enabled
from nabla.backend import array_module
from nabla.nn.functional.linear_maps import linear
from nabla.nn.functional.recurrent_backward import (
    gru_backward_arrays,
    lstm_backward_arrays,
    rnn_backward_arrays,
)
from nabla.ops.elementwise import sigmoid, tanh
from nabla.ops.join import Cat
from nabla.ops.linalg import matmul
from nabla.ops.reduce import _quiet
from nabla.ops.shape import transpose
from nabla.tensor import Tensor

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell", "rnn_step", "lstm_step",
           "gru_step"]


def _recurrent_preact(xp, gi, h, w_hh, b_hh):
    """gi + h W_hh^T (+ b_hh) as a fresh array (N, G)."""
    pre = xp.matmul(h, w_hh.T)
    pre += gi
    if b_hh is not None:
        pre += b_hh
    return pre


def _sigmoid_(xp, a):
    """sigmoid in place through tanh: 0.5 tanh(x / 2) + 0.5 cannot overflow."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _graph_preact(gi, h, w_hh, b_hh):
    """The pre-activation again, recorded (create_graph mode: the rule must be differentiable)."""
    pre = gi + matmul(h, transpose(w_hh, 0, 1))
    return pre if b_hh is None else pre + b_hh


def _param_grads(ctx, d_pre, h, w_hh, at_h: int, at_w: int):
    """The gradients that flow through h W_hh^T + b_hh, from the pre-activation's d_pre:
    (dh, dW_hh, db_hh), for h at input position at_h and W_hh, b_hh at at_w, at_w + 1."""
    need = ctx.needs_input_grad
    dh = matmul(d_pre, w_hh) if need[at_h] else None
    dw = matmul(transpose(d_pre, 0, 1), h) if need[at_w] else None
    db = d_pre if need[at_w + 1] else None  # the engine sums it over the batch
    return dh, dw, db


# -- Elman RNN -----------------------------------------------------------------------------------
class RnnStep(Op):
    """h' = act(gi + h W_hh^T + b_hh), act = tanh or relu;
    d_pre = grad * (1 - h'^2) (tanh) or grad * [h' > 0] (relu); dgi = d_pre, dh = d_pre W_hh,
    dW_hh = d_pre^T h, db_hh = sum_N d_pre."""

    array_backward = True

    @staticmethod
    def forward(ctx, gi, h, w_hh, b_hh, nonlinearity, deferred=None):
        xp = array_module(gi)
        out = _recurrent_preact(xp, gi, h, w_hh, b_hh)
        if nonlinearity == "tanh":
            xp.tanh(out, out=out)
        else:
            xp.maximum(out, 0, out=out)
        ctx.nonlinearity, ctx.deferred = nonlinearity, deferred
        ctx.save_for_backward(gi, h, w_hh, b_hh, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        gi, h, w_hh, b_hh, out = ctx.saved_tensors
        if not is_grad_enabled():  # plain backward: the same rule on arrays
            return rnn_backward_arrays(ctx, grad, h, w_hh, out)
        if ctx.nonlinearity == "tanh":  # create_graph: recompute h' with recorded ops
            d_pre = grad * (1 - tanh(_graph_preact(gi, h, w_hh, b_hh)) ** 2)
        else:
            d_pre = grad * (out > 0)
        return (d_pre if ctx.needs_input_grad[0] else None,) + _param_grads(
            ctx, d_pre, h, w_hh, 1, 2) + (None, None)


def rnn_step(gi: Tensor, hx: Tensor, w_hh: Tensor, b_hh: Tensor | None = None,
             nonlinearity: str = "tanh", deferred: tuple | None = None) -> Tensor:
    """One Elman step from a precomputed input projection: h' = act(gi + h W_hh^T + b_hh).

    Args:
        gi: (N, H) the input projection x W_ih^T + b_ih of this step.
        hx: (N, H) the previous hidden state.
        w_hh: (H, H); b_hh: (H) or None.
        nonlinearity: "tanh" or "relu".
        deferred: (DeferredWeightGrad, step index) to collect dW_hh over a whole sequence.

    Returns:
        (N, H) the new hidden state.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_step: unknown nonlinearity '{nonlinearity}' (tanh or relu)")
    return RnnStep.apply(gi, hx, w_hh, b_hh, nonlinearity, deferred)


# -- LSTM ----------------------------------------------------------------------------------------
class LstmStep(Op):
    """[i f g o] = [sig sig tanh sig](gi + h W_hh^T + b_hh); c' = f c + i g; h' = o tanh(c');
    dc' = grad_c + grad_h o (1 - tanh(c')^2); d[i f g o] = [dc' g, dc' c, dc' i, grad_h tanh(c')]
    times the gates' derivatives; dc = dc' f; dh, dW_hh, db_hh through the pre-activation."""

    array_backward = True

    @staticmethod
    def forward(ctx, gi, h, c, w_hh, b_hh, deferred=None):
        xp = array_module(gi)
        n = c.shape[-1]
        act = _recurrent_preact(xp, gi, h, w_hh, b_hh)
        # one exp for all four gates: tanh(x) = 2 sigmoid(2x) - 1 (exp is ~3x cheaper than tanh)
        act[:, 2 * n:3 * n] *= 2
        xp.negative(act, out=act)
        with _quiet(xp, over="ignore"):  # exp(-x) = inf for very negative x: sigmoid 0, exact
            xp.exp(act, out=act)
        act += 1
        xp.reciprocal(act, out=act)
        g = act[:, 2 * n:3 * n]
        g *= 2
        g -= 1
        i, f, o = act[:, :n], act[:, n:2 * n], act[:, 3 * n:]
        c_new = f * c
        c_new += i * g
        tc = xp.tanh(c_new)
        h_new = o * tc
        ctx.deferred = deferred
        ctx.save_for_backward(gi, h, c, w_hh, b_hh, act, tc)
        return h_new, c_new

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        gi, h, c, w_hh, b_hh, act, tc = ctx.saved_tensors
        n = c.shape[-1]
        need = ctx.needs_input_grad
        if not is_grad_enabled():  # plain backward: the same rule on arrays, in place
            return lstm_backward_arrays(ctx, grad_h, grad_c, h, c, w_hh, act, tc, need)
        # create_graph: recompute the gates with recorded ops, so the rule is differentiable
        pre = _graph_preact(gi, h, w_hh, b_hh)
        act = Cat.apply(1, sigmoid(pre[:, :2 * n]), tanh(pre[:, 2 * n:3 * n]),
                        sigmoid(pre[:, 3 * n:]))
        tc = tanh(act[:, n:2 * n] * c + act[:, :n] * act[:, 2 * n:3 * n])
        i, f, g, o = act[:, :n], act[:, n:2 * n], act[:, 2 * n:3 * n], act[:, 3 * n:]
        dc = grad_c + grad_h * o * (1 - tc * tc)
        d_sig = act * (1 - act)  # the sigmoid derivative (its g block is unused)
        d_pre = Cat.apply(1, dc * g * d_sig[:, :n], dc * c * d_sig[:, n:2 * n],
                          dc * i * (1 - g * g), grad_h * tc * d_sig[:, 3 * n:])
        dh, dw, db = _param_grads(ctx, d_pre, h, w_hh, 1, 3)
        return (d_pre if need[0] else None), dh, (dc * f if need[2] else None), dw, db, None


def lstm_step(gi: Tensor, hx: Tensor, cx: Tensor, w_hh: Tensor, b_hh: Tensor | None = None,
              deferred: tuple | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step from a precomputed input projection (gate order i, f, g, o as PyTorch).

    Args:
        gi: (N, 4H) the input projection x W_ih^T + b_ih of this step.
        hx: (N, P) the previous hidden state (P = H, or proj_size with a projection).
        cx: (N, H) the previous cell state.
        w_hh: (4H, P); b_hh: (4H) or None.
        deferred: (DeferredWeightGrad, step index) to collect dW_hh over a whole sequence.

    Returns:
        (h', c'): (N, H) each; h' is before any projection.
    """
    return LstmStep.apply(gi, hx, cx, w_hh, b_hh, deferred)


# -- GRU -----------------------------------------------------------------------------------------
class GruStep(Op):
    """[r z] = sig(gi_rz + gh_rz), n = tanh(gi_n + r gh_n), h' = (1 - z) n + z h, where
    gh = h W_hh^T + b_hh (PyTorch's formula); dn = grad (1 - z) (1 - n^2), dz = grad (h - n) z(1-z),
    dr = dn gh_n r(1-r); dgi = [dr dz dn], dgh = [dr dz dn r], dh = grad z + dgh W_hh."""

    array_backward = True

    @staticmethod
    def forward(ctx, gi, h, w_hh, b_hh, deferred=None):
        xp = array_module(gi)
        n = h.shape[-1]
        gh = xp.matmul(h, w_hh.T)
        if b_hh is not None:
            gh += b_hh
        rz = gi[:, :2 * n] + gh[:, :2 * n]
        xp.negative(rz, out=rz)
        with _quiet(xp, over="ignore"):  # exp(-x) = inf for very negative x: sigmoid 0, exact
            xp.exp(rz, out=rz)
        rz += 1
        xp.reciprocal(rz, out=rz)
        r, z = rz[:, :n], rz[:, n:]
        new = r * gh[:, 2 * n:]
        new += gi[:, 2 * n:]
        xp.tanh(new, out=new)
        h_new = h - new
        h_new *= z
        h_new += new  # (1 - z) n + z h = n + z (h - n)
        ctx.deferred = deferred
        ctx.save_for_backward(gi, h, w_hh, b_hh, rz, new, gh[:, 2 * n:])
        return h_new

    @staticmethod
    def backward(ctx, grad):
        gi, h, w_hh, b_hh, rz, new, gh_n = ctx.saved_tensors
        n = h.shape[-1]
        need = ctx.needs_input_grad
        if not is_grad_enabled():  # plain backward: the same rule on arrays, in place
            return gru_backward_arrays(ctx, grad, h, w_hh, rz, new, gh_n, need)
        # create_graph: recompute the gates with recorded ops, so the rule is differentiable
        gh = matmul(h, transpose(w_hh, 0, 1))
        gh = gh if b_hh is None else gh + b_hh
        rz = sigmoid(gi[:, :2 * n] + gh[:, :2 * n])
        gh_n = gh[:, 2 * n:]
        new = tanh(gi[:, 2 * n:] + rz[:, :n] * gh_n)
        r, z = rz[:, :n], rz[:, n:]
        d_rz = rz * (1 - rz)
        dn = grad * (1 - z) * (1 - new * new)
        dr = dn * gh_n * d_rz[:, :n]
        dz = grad * (h - new) * d_rz[:, n:]
        d_gh = Cat.apply(1, dr, dz, dn * r)
        dh = grad * z + matmul(d_gh, w_hh) if need[1] else None
        dw = matmul(transpose(d_gh, 0, 1), h) if need[2] else None
        d_gi = Cat.apply(1, dr, dz, dn) if need[0] else None
        return d_gi, dh, dw, (d_gh if need[3] else None), None


def gru_step(gi: Tensor, hx: Tensor, w_hh: Tensor, b_hh: Tensor | None = None,
             deferred: tuple | None = None) -> Tensor:
    """One GRU step from a precomputed input projection (gate order r, z, n as PyTorch).

    Args:
        gi: (N, 3H) the input projection x W_ih^T + b_ih of this step.
        hx: (N, H) the previous hidden state.
        w_hh: (3H, H); b_hh: (3H) or None (it stays inside r * (W_hn h + b_hn)).
        deferred: (DeferredWeightGrad, step index) to collect dW_hh over a whole sequence.

    Returns:
        (N, H) the new hidden state.
    """
    return GruStep.apply(gi, hx, w_hh, b_hh, deferred)


# -- the cells with PyTorch's signature (input, hx, w_ih, w_hh, b_ih, b_hh) ----------------------
def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh); input (N, I), hx (N, H) -> (N, H)."""
    return RnnStep.apply(linear(input, w_ih, b_ih), hx, w_hh, b_hh, "tanh")


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh); input (N, I), hx (N, H) -> (N, H)."""
    return RnnStep.apply(linear(input, w_ih, b_ih), hx, w_hh, b_hh, "relu")


def lstm_cell(input: Tensor, hx: tuple, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step; input (N, I), hx = (h (N, H), c (N, H)) -> (h', c')."""
    return LstmStep.apply(linear(input, w_ih, b_ih), hx[0], hx[1], w_hh, b_hh)


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step; input (N, I), hx (N, H) -> (N, H)."""
    return GruStep.apply(linear(input, w_ih, b_ih), hx, w_hh, b_hh)
