"""A multi-layer perceptron on scikit-learn's 8x8 digits: the four parts of every deep-learning
system (data, model, loss, optimization algorithm) in one page, written as a PyTorch user would.

Topics: MLP (다층 퍼셉트론), mini-batch (미니배치), epoch, train/validation/test split,
cross-entropy for classification, Adam. Reaches >= 95% test accuracy in a few seconds.
Run: python examples/mlp_digits.py
"""

import nabla
import nabla.nn as nn
import nabla.nn.functional as F
from nabla.utils.data import DataLoader, TensorDataset, load_digits, train_val_test_split


def main(epochs: int = 30, seed: int = 0) -> float:
    nabla.manual_seed(seed)
    # data: 1,797 images of 8x8 pixels, scaled to [0, 1]; hold out validation from training
    X_train, y_train, X_test, y_test = load_digits()
    X_train, X_val, y_train, y_val = train_val_test_split(
        X_train, y_train, ratios=(0.8, 0.2), stratify=y_train, seed=seed)
    train = DataLoader(TensorDataset(nabla.tensor(X_train), nabla.tensor(y_train)),
                       batch_size=64, shuffle=True)

    # model: 64 inputs -> 128 -> 64 -> 10 class scores (logits)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    optimizer = nabla.optim.Adam(model.parameters(), lr=1e-3)

    for epoch in range(epochs):
        model.train()
        for xb, yb in train:  # one iteration per mini-batch
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()  # backpropagation: gradients of the loss w.r.t. every weight
            optimizer.step()
        model.eval()
        with nabla.no_grad():
            val_acc = (model(nabla.tensor(X_val)).argmax(1) == nabla.tensor(y_val)).float().mean()
        if epoch % 5 == 4:
            print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  "
                  f"val accuracy {val_acc.item():.3f}")

    with nabla.no_grad():
        test_acc = (model(nabla.tensor(X_test)).argmax(1) == nabla.tensor(y_test)).float().mean()
    print(f"test accuracy {test_acc.item():.3f}")
    return test_acc.item()


if __name__ == "__main__":
    main()
