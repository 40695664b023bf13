"""Backpropagation through time on arrays: the plain-backward rules of the fused recurrent steps
(``RnnStep``, ``LstmStep``, ``GruStep`` in ``recurrent.py``), written in place with few
temporaries because they are the hot loop of BPTT, and ``DeferredWeightGrad``, which gathers the
W_hh gradient of a whole sequence into one matrix product.

Each rule is the same math as its step's ``backward`` (which runs it when grad mode is off, and
writes the rule in recorded nabla ops under ``create_graph``); it returns one gradient per input
of the step, None where no gradient is needed.
"""

from nabla.backend import array_module


def rnn_backward_arrays(ctx, grad, h, w_hh, out):
    """RnnStep's rule on arrays."""
    xp = array_module(out)
    need = ctx.needs_input_grad
    deferred = ctx.deferred if need[2] else None  # None, or (collector, step index)
    d_pre = xp.empty_like(out) if deferred is None else deferred[0].rows(deferred[1], out)
    if ctx.nonlinearity == "tanh":
        xp.multiply(out, out, out=d_pre)
        xp.subtract(1, d_pre, out=d_pre)
        d_pre *= grad
    else:
        xp.multiply(grad, out > 0, out=d_pre)
    dw = None
    if need[2]:
        dw = xp.matmul(d_pre.T, h) if deferred is None else deferred[0].add(deferred[1], h)
    dh = xp.matmul(d_pre, w_hh) if need[1] else None
    return (d_pre if need[0] else None), dh, dw, (d_pre if need[3] else None), None, None


def lstm_backward_arrays(ctx, grad_h, grad_c, h, c, w_hh, act, tc, need):
    """LstmStep's rule on arrays with few temporaries (the hot loop of BPTT)."""
    xp = array_module(act)
    n = c.shape[-1]
    i, f, g, o = act[:, :n], act[:, n:2 * n], act[:, 2 * n:3 * n], act[:, 3 * n:]
    deriv = 1 - act
    deriv *= act  # s (1 - s) for the sigmoid gates
    g_deriv = deriv[:, 2 * n:3 * n]
    xp.multiply(g, g, out=g_deriv)
    xp.subtract(1, g_deriv, out=g_deriv)  # 1 - g^2 for the tanh gate
    dc = tc * tc
    xp.subtract(1, dc, out=dc)
    dc *= o
    dc *= grad_h
    dc += grad_c
    up = xp.empty_like(act)  # the gradient reaching each gate's output
    xp.multiply(dc, g, out=up[:, :n])
    xp.multiply(dc, c, out=up[:, n:2 * n])
    xp.multiply(dc, i, out=up[:, 2 * n:3 * n])
    xp.multiply(grad_h, tc, out=up[:, 3 * n:])
    deferred = ctx.deferred if need[3] else None  # None, or (collector, step index)
    if deferred is None:
        d_pre = xp.multiply(up, deriv, out=up)
        dw = xp.matmul(d_pre.T, h) if need[3] else None
    else:  # written straight into the collector's rows: no copy
        d_pre = xp.multiply(up, deriv, out=deferred[0].rows(deferred[1], act))
        dw = deferred[0].add(deferred[1], h)
    dh = xp.matmul(d_pre, w_hh) if need[1] else None
    dc_prev = dc * f if need[2] else None
    return (d_pre if need[0] else None), dh, dc_prev, dw, (d_pre if need[4] else None), None


def gru_backward_arrays(ctx, grad, h, w_hh, rz, new, gh_n, need):
    """GruStep's rule on arrays with few temporaries."""
    xp = array_module(rz)
    n = h.shape[-1]
    r, z = rz[:, :n], rz[:, n:]
    d_gi = 1 - rz
    d_gi *= rz  # s (1 - s) of r and z, then times their upstream gradients
    d_gi = xp.concatenate([d_gi, new * new], axis=1)
    dn = d_gi[:, 2 * n:]
    xp.subtract(1, dn, out=dn)
    dn *= grad
    dn *= 1 - z  # dn = grad (1 - z) (1 - n^2)
    d_gi[:, :n] *= dn
    d_gi[:, :n] *= gh_n  # dr = dn gh_n r (1 - r)
    dz = d_gi[:, n:2 * n]
    dz *= grad
    dz *= h - new  # dz = grad (h - n) z (1 - z)
    deferred = ctx.deferred if need[2] else None  # None, or (collector, step index)
    d_gh = xp.empty_like(d_gi) if deferred is None else deferred[0].rows(deferred[1], d_gi)
    d_gh[...] = d_gi
    d_gh[:, 2 * n:] *= r
    dw = None
    if need[2]:
        dw = xp.matmul(d_gh.T, h) if deferred is None else deferred[0].add(deferred[1], h)
    dh = None
    if need[1]:
        dh = xp.matmul(d_gh, w_hh)
        dh += grad * z
    return (d_gi if need[0] else None), dh, dw, (d_gh if need[3] else None), None


class DeferredWeightGrad:
    """Collects the W_hh gradient of a chain of steps into one matrix product.

    dW_hh = sum_t d_pre_t^T h_{t-1}: per step that is a product with an inner dimension of only
    the batch size (slow, and one accumulation into W_hh.grad per step). A sequence layer passes
    one collector to all its steps instead: each step's plain backward writes its d_pre and
    h_{t-1} into rows of two buffers, and the step that ran first in forward, which backward
    reaches last (every later step depends on it), returns the whole sum as a single product
    (T*N, G)^T @ (T*N, H). Rows of steps that got no gradient in this pass are zeroed.
    """

    def __init__(self, offsets: list, first: int) -> None:
        self.offsets, self.first = offsets, first  # row offset of each step; index of the first
        self.d_rows = self.h_rows = None
        self.written = set()

    def rows(self, step: int, like):
        """The block of rows where step ``step`` writes its d_pre (shape and dtype of ``like``)."""
        if self.d_rows is None:
            xp = array_module(like)
            self.d_rows = xp.empty((self.offsets[-1], like.shape[1]), like.dtype)
        lo = self.offsets[step]
        return self.d_rows[lo:lo + like.shape[0]]

    def add(self, step: int, h):
        """Record step ``step``'s h_{t-1} (its d_pre is in ``rows(step)``); the first step
        returns dW_hh of all steps, the others None."""
        if self.h_rows is None:
            self.h_rows = array_module(h).empty((self.offsets[-1], h.shape[1]), h.dtype)
        lo = self.offsets[step]
        self.h_rows[lo:lo + h.shape[0]] = h
        self.written.add(step)
        if step != self.first:
            return None
        for k in range(len(self.offsets) - 1):
            if k not in self.written:
                self.d_rows[self.offsets[k]:self.offsets[k + 1]] = 0
        self.written = set()
        return array_module(h).matmul(self.d_rows.T, self.h_rows)
