"""Generalization on the digits: how to measure it and how to choose with it.

Topics: generalization (일반화), overfitting and the generalization gap, validation and test
sets, k-fold cross-validation (교차 검증), bootstrapping and bagging, feature normalization
(정규화).

1. A 4:3:3 train / validation / test split; the validation set picks the hidden size, the test set
   is touched once.
2. Min-max versus z-score scaling, fitted on the training part only.
3. 5-fold cross-validation of the chosen model: mean and spread of the accuracy.
4. Bagging: models trained on bootstrap samples, averaged; each model is scored on its
   out-of-bag samples.
Run: python examples/generalization.py
"""

import numpy as np

import nabla
from nabla import nn, optim
from nabla.train import Trainer, cross_validate
from nabla.utils.data import (
    DataLoader,
    MinMaxScaler,
    StandardScaler,
    TensorDataset,
    bootstrap,
    load_digits,
    train_val_test_split,
)


def mlp(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def fit(model, X, y, epochs=20, seed=0):
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=3e-3), nn.CrossEntropyLoss(),
                      progress=False, log=None)
    loader = DataLoader(TensorDataset(nabla.tensor(X), nabla.tensor(y)), 32, shuffle=True,
                        generator=nabla.Generator(seed))
    trainer.fit(loader, epochs=epochs)
    return trainer


def accuracy(model, X, y) -> float:
    model.eval()
    with nabla.no_grad():
        return float((model(nabla.tensor(X)).argmax(1).numpy() == y).mean())


def main(epochs: int = 20) -> dict:
    nabla.manual_seed(0)
    X_tr, y_tr, X_te, y_te = load_digits(normalize=False)
    X = np.concatenate([X_tr, X_te])
    y = np.concatenate([y_tr, y_te])
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(
        X, y, ratios=(4, 3, 3), stratify=y, seed=0)
    print(f"split 4:3:3 -> {len(X_train)} train, {len(X_val)} validation, {len(X_test)} test")

    for scaler in (MinMaxScaler(), StandardScaler()):
        scaler.fit(X_train)  # statistics of the training part only: no peeking at test data
        print(f"{type(scaler).__name__:>14}: train mean {scaler.transform(X_train).mean():+.3f}, "
              f"test mean {scaler.transform(X_test).mean():+.3f}")
    scaler = StandardScaler().fit(X_train)
    X_train, X_val, X_test = (scaler.transform(a).astype(np.float32)
                              for a in (X_train, X_val, X_test))

    scores = {}
    for hidden in (4, 32, 256):
        model = mlp(hidden)
        fit(model, X_train, y_train, epochs)
        train_acc, val_acc = accuracy(model, X_train, y_train), accuracy(model, X_val, y_val)
        scores[hidden] = val_acc
        print(f"hidden {hidden:>3}: train {train_acc:.3f}  validation {val_acc:.3f}  "
              f"gap {train_acc - val_acc:+.3f}")
    best = max(scores, key=scores.get)
    final = mlp(best)
    fit(final, np.concatenate([X_train, X_val]), np.concatenate([y_train, y_val]), epochs)
    test_acc = accuracy(final, X_test, y_test)
    print(f"chosen hidden size {best}; test accuracy (measured once) {test_acc:.3f}")

    data = TensorDataset(nabla.tensor(X_train), nabla.tensor(y_train))
    cv = cross_validate(lambda: mlp(best), data, k=5, epochs=epochs,
                        optimizer_fn=lambda p: optim.Adam(p, lr=3e-3),
                        loss_fn=nn.CrossEntropyLoss())
    print(f"5-fold CV accuracy {cv['mean']['accuracy']:.3f} +- {cv['std']['accuracy']:.3f}")

    votes = np.zeros((len(X_test), 10))
    for b in range(5):
        idx, oob = bootstrap(len(X_train), seed=b)
        model = mlp(best)
        fit(model, X_train[idx], y_train[idx], epochs, seed=b)
        oob_acc = accuracy(model, X_train[oob], y_train[oob])
        print(f"bootstrap model {b}: out-of-bag accuracy {oob_acc:.3f} on {len(oob)} samples")
        with nabla.no_grad():
            votes += nabla.softmax(model(nabla.tensor(X_test)), dim=1).numpy()
    bagged = float((votes.argmax(1) == y_test).mean())
    print(f"bagging 5 models: test accuracy {bagged:.3f}")
    return {"test": test_acc, "cv": cv["mean"]["accuracy"], "bagged": bagged}


if __name__ == "__main__":
    main()
