"""A small convolutional network on scikit-learn's 8x8 digits, as a PyTorch user would write it.

Topics: convolution (합성곱) as a shared 3x3 kernel slid over the image, padding ("same" size),
channels, max pooling, batch normalization, output size O = (H + 2P - K) / S + 1, data
augmentation by random shifts (RandomCrop with padding), nabla.summary.
The images are only 8x8, so the network pads every 3x3 convolution and pools twice
(8 -> 4 -> 2). Measured: 100% test accuracy (360 of 360) after 30 epochs, about 20 s of CPU
on one core (the MLP of mlp_digits.py stops near 97%). Run: python examples/cnn_digits.py [--fast]
"""

import sys

import nabla
import nabla.nn.functional as F
from nabla import transforms
from nabla.models import ConvNet
from nabla.utils.data import DataLoader, TensorDataset, load_digits


def main(epochs: int = 30, seed: int = 0, augment: bool = True, verbose: bool = True) -> float:
    nabla.manual_seed(seed)
    X_train, y_train, X_test, y_test = load_digits(flatten=False)  # (N, 1, 8, 8) in [0, 1]
    train = DataLoader(TensorDataset(nabla.tensor(X_train), nabla.tensor(y_train)),
                       batch_size=64, shuffle=True)
    # a shift of up to one pixel: pad by 1 and cut a random 8x8 window (the same for a batch)
    shift = transforms.RandomCrop(8, padding=1)

    # conv(1->32) -> pool -> conv(32->64) -> pool -> conv(64->64) -> 2x2 map -> linear(256->10)
    model = ConvNet(in_channels=1, num_classes=10, channels=(32, 64, 64), pool_size=2,
                    dropout=0.2)
    if verbose:
        print(nabla.summary(model, (1, 8, 8)))
    optimizer = nabla.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
    scheduler = nabla.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    for epoch in range(epochs):
        model.train()
        for xb, yb in train:
            if augment:
                xb = nabla.stack([shift(x) for x in xb])  # a new shift for every image
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        if verbose and (epoch % 5 == 4 or epoch == epochs - 1):
            print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}")

    model.eval()
    with nabla.no_grad():
        test_acc = (model(nabla.tensor(X_test)).argmax(1) == nabla.tensor(y_test)).float().mean()
    if verbose:
        print(f"test accuracy {test_acc.item():.4f}")
    return test_acc.item()


if __name__ == "__main__":
    main(epochs=2 if "--fast" in sys.argv else 30)
