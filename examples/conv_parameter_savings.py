"""How many parameters a convolution saves against a dense layer with the same input and output
sizes, VGG's argument for stacks of 3x3 kernels (2 * 9 < 25), and GoogLeNet's 1x1 reductions.

Topics: parameter sharing (가중치 공유) and locality of convolution, parameter counts
(C_out * C_in * K * K + C_out against (C_in H W) * (C_out H' W') + C_out H' W'), receptive field
(measured with autograd: the input pixels that reach one output pixel), output size
O = (H + 2P - K) / S + 1, VGG (two 3x3 layers see 5x5 with 18 C^2 weights instead of 25 C^2),
1x1 convolutions that cut channels (GoogLeNet).
Measured: an 8x8 digit to 32 maps of 8x8 needs 320 parameters as a 3x3 convolution and 133,120
as a dense layer (416x); a 224x224 RGB image to 64 maps: 1,792 against 4.8e11. Two 3x3 layers of
256 channels see 5x5 with 1,180,160 parameters, one 5x5 layer needs 1,638,656.
Run: python examples/conv_parameter_savings.py
"""

import nabla
import nabla.nn as nn
from nabla.nn.utils.conv_utils import conv_output_size


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def conv_vs_dense(c_in: int, size: int, c_out: int, k: int, padding: int) -> tuple[int, int]:
    """Parameters of a k x k convolution and of a dense layer mapping the same input to the same
    number of outputs (without building the dense layer: it may not fit in memory)."""
    conv = c_out * c_in * k * k + c_out
    out = conv_output_size(size, k, 1, padding)
    n_in, n_out = c_in * size * size, c_out * out * out
    return conv, n_in * n_out + n_out


def receptive_field(model: nn.Module, c_in: int, size: int) -> int:
    """Side of the square of input pixels whose gradient reaches the centre output pixel."""
    x = nabla.randn(1, c_in, size, size, requires_grad=True)
    y = model(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    touched = (x.grad.abs().sum((0, 1)) > 0).numpy()
    rows = touched.any(1).nonzero()[0]
    return int(rows.max() - rows.min() + 1)


def main(verbose: bool = True) -> dict:
    results = {}
    say = print if verbose else (lambda *a, **k: None)
    say("1. Convolution against a dense layer with the same input and output sizes")
    for name, c_in, size, c_out in [("8x8 digit -> 32 maps", 1, 8, 32),
                                    ("28x28 MNIST -> 32 maps", 1, 28, 32),
                                    ("32x32 RGB (CIFAR) -> 64 maps", 3, 32, 64),
                                    ("224x224 RGB (ImageNet) -> 64 maps", 3, 224, 64)]:
        conv, dense = conv_vs_dense(c_in, size, c_out, 3, 1)
        results[name] = (conv, dense)
        say(f"   {name:<34} 3x3 conv {conv:>6,}   dense {dense:>16,}   {dense / conv:>12,.0f}x")
    # the count of the formula is the count of the layer nabla builds
    assert n_params(nn.Conv2d(1, 32, 3, padding=1)) == results["8x8 digit -> 32 maps"][0]
    assert n_params(nn.Linear(64, 32 * 64)) == results["8x8 digit -> 32 maps"][1]

    say("\n2. VGG: stacks of 3x3 kernels see as far as one big kernel, with fewer weights")
    nabla.manual_seed(0)
    c = 256
    for n_layers, k in [(2, 5), (3, 7)]:
        stack = nn.Sequential(*[nn.Conv2d(c, c, 3, padding=1) for _ in range(n_layers)])
        big = nn.Conv2d(c, c, k, padding=k // 2)
        small_c = 4  # receptive fields measured on narrow twins (same kernels, quick)
        rf_stack = receptive_field(
            nn.Sequential(*[nn.Conv2d(small_c, small_c, 3, padding=1) for _ in range(n_layers)]),
            small_c, 15)
        rf_big = receptive_field(nn.Conv2d(small_c, small_c, k, padding=k // 2), small_c, 15)
        results[f"{n_layers}x3x3"] = (n_params(stack), rf_stack)
        results[f"{k}x{k}"] = (n_params(big), rf_big)
        say(f"   {f'{n_layers} x 3x3 ({c} ch):':<19}{n_params(stack):>10,} parameters, "
            f"receptive field {rf_stack}x{rf_stack}")
        say(f"   {f'one {k}x{k} ({c} ch):':<19}{n_params(big):>10,} parameters, receptive field "
            f"{rf_big}x{rf_big}   ({n_layers} * 9 = {n_layers * 9} < {k * k})")

    say("\n3. GoogLeNet: a 1x1 convolution cuts the channels before the expensive kernel")
    direct = nn.Conv2d(192, 32, 5, padding=2)
    reduced = nn.Sequential(nn.Conv2d(192, 16, 1), nn.ReLU(), nn.Conv2d(16, 32, 5, padding=2))
    results["5x5 direct"], results["1x1 then 5x5"] = n_params(direct), n_params(reduced)
    say(f"   192 -> 32 channels, 5x5: {n_params(direct):,} parameters; through a 1x1 to 16 "
        f"channels first: {n_params(reduced):,} ({n_params(direct) / n_params(reduced):.1f}x "
        "fewer)")

    say("\n4. Where VGG-16's 138,357,544 parameters sit: the convolutions hold 14.7 M, the first"
        "\n   dense layer (512*7*7 -> 4096) alone holds 102.8 M; global average pooling (ResNet,"
        "\n   GoogLeNet) removes that layer, so ResNet-18 has 11.7 M in all.")
    conv_part = sum(o * i * 9 + o for i, o in zip(
        [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512],
        [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]))
    results["vgg16 conv"] = conv_part
    say(f"   VGG-16 convolutions: {conv_part:,}; first dense layer: {25088 * 4096 + 4096:,}")
    return results


if __name__ == "__main__":
    main()
