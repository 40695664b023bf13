"""A 1-D convolutional network on MNIST-1D: the same kernel slides along the 40-step signal, so a
digit's pattern is recognized wherever the generator shifted it, which an MLP has to learn
separately for every position.

Topics: 1-D convolution (Conv1d: kernel, stride, padding, channels), output length
O = (L + 2P - K) / S + 1, batch normalization, dropout, parameter sharing vs a dense layer,
cosine learning-rate schedule.
Measured (4,000 training / 1,000 test signals, one core): ``cnn1d_bn`` (37,962 parameters)
reaches 94.8% test accuracy after 5 epochs, 98.1% after 10 and 98.2% after 20 (about 25 s of
CPU in all); the MNIST-1D paper reports ~94% for its CNN and ~68% for its MLP (mlp_mnist1d.py
reaches ~72%).
``--paper`` trains the paper's 5,210-parameter ConvBase instead (~89% here: it overfits).
Run: python examples/cnn_mnist1d.py [--fast] [--paper]
"""

import sys

import nabla
import nabla.nn.functional as F
from nabla.models import CNN1d, cnn1d_bn
from nabla.nn.utils.conv_utils import conv_output_size
from nabla.utils.data import DataLoader, TensorDataset, load_mnist1d


def accuracy(model, X, y) -> float:
    model.eval()
    with nabla.no_grad():
        return (model(nabla.tensor(X)).argmax(1) == nabla.tensor(y)).float().mean().item()


def main(epochs: int = 20, paper: bool = False, seed: int = 0, verbose: bool = True) -> float:
    nabla.manual_seed(seed)
    X_train, y_train, X_test, y_test = load_mnist1d(flatten=False)  # (N, 1, 40) signals
    train = DataLoader(TensorDataset(nabla.tensor(X_train), nabla.tensor(y_train)),
                       batch_size=100, shuffle=True)
    model = CNN1d() if paper else cnn1d_bn()
    if verbose:
        print(nabla.summary(model, (1, 40)))
        first = model.features[0]
        length = conv_output_size(40, first.kernel_size[0], first.stride[0], first.padding[0])
        outputs = first.out_channels * length
        print(f"first layer: {first.weight.numel() + first.bias.numel():,} parameters as a "
              f"convolution; a dense layer with the same {outputs:,} outputs would need "
              f"{40 * outputs + outputs:,}")
    optimizer = nabla.optim.Adam(model.parameters(), lr=1e-2 if paper else 3e-3)
    scheduler = nabla.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for epoch in range(epochs):
        model.train()
        for xb, yb in train:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        if verbose and (epoch % 5 == 4 or epoch == epochs - 1):
            print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  "
                  f"test accuracy {accuracy(model, X_test, y_test):.3f}")
    test_acc = accuracy(model, X_test, y_test)
    if verbose:
        print(f"test accuracy {test_acc:.4f}")
    return test_acc


if __name__ == "__main__":
    main(epochs=2 if "--fast" in sys.argv else 20, paper="--paper" in sys.argv)
