"""Backpropagation through a convolution is again a convolution, checked against autograd.

For y = conv2d(x, w) with stride 1 and padding p (x: (N, C, H, W), w: (O, C, k, k)):

    dL/dx = conv2d(dL/dy padded by k - 1 - p, w flipped in both spatial axes, with its in and
            out channels swapped)                       (a "full" convolution: conv_transpose2d)
    dL/dw = conv2d(x seen as C images of N channels, dL/dy seen as O kernels of N channels,
            padding p), channels back in place          (x correlated with dL/dy)

Each output pixel y[n, o, i, j] collected w[o, c, a, b] * x[n, c, i + a - p, j + b - p], so the
pixel x[n, c, r, s] receives the gradient of every output it fed, weighted by the kernel entry
that connected them: walking the kernel backwards, which is the flipped kernel. The weight
w[o, c, a, b] touched every (output, input) pair a fixed offset (a, b) apart, so its gradient
sums dL/dy times x over the whole image at that offset: a correlation of x with dL/dy.

Topics: backprop through a convolution (dX is a convolution of dY with the flipped kernel, dW a
convolution of X with dY), the transposed convolution. nabla's own rule
(``Conv2dBackwardInput`` in src/nabla/nn/functional/conv.py) computes the same with col2im.
Run: python examples/conv_backprop.py
"""

import numpy as np

import nabla
import nabla.nn.functional as F


def gradients_by_autograd(x, w, padding: int, grad_y):
    x = x.detach().requires_grad_()
    w = w.detach().requires_grad_()
    F.conv2d(x, w, padding=padding).backward(grad_y)
    return x.grad, w.grad


def gradients_as_convolutions(x, w, padding: int, grad_y):
    k = w.shape[-1]
    flipped = w.flip((2, 3)).transpose(0, 1)  # (C, O, k, k): out and in channels swapped
    grad_x = F.conv2d(grad_y, flipped, padding=k - 1 - padding)
    grad_w = F.conv2d(x.transpose(0, 1), grad_y.transpose(0, 1), padding=padding)
    return grad_x, grad_w.transpose(0, 1)


def main(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = nabla.tensor(rng.standard_normal((2, 3, 7, 6)))  # float64: differences are rounding
    w = nabla.tensor(rng.standard_normal((4, 3, 3, 3)))
    results = {}
    for padding in (0, 1, 2):
        grad_y = nabla.tensor(rng.standard_normal(F.conv2d(x, w, padding=padding).shape))
        auto = gradients_by_autograd(x, w, padding, grad_y)
        by_hand = gradients_as_convolutions(x, w, padding, grad_y)
        dx, dw = ((a - b).abs().max().item() for a, b in zip(auto, by_hand))
        results[padding] = (dx, dw)
        print(f"padding {padding}: |dx(autograd) - dx(flipped-kernel conv)| = {dx:.1e}, "
              f"|dw(autograd) - dw(conv of x with dy)| = {dw:.1e}")
    grad_y = nabla.tensor(rng.standard_normal((2, 4, 5, 4)))
    transposed = F.conv_transpose2d(grad_y, w)  # the same map, by its usual name
    diff = (transposed - gradients_as_convolutions(x, w, 0, grad_y)[0]).abs().max().item()
    print(f"conv_transpose2d(dy, w) vs the flipped-kernel convolution: {diff:.1e}")
    results["conv_transpose2d"] = diff
    return results


if __name__ == "__main__":
    main()
