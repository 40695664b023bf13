"""k-fold cross-validation: train a fresh model on k-1 folds, score it on the held-out fold,
k times; report each fold's scores with their mean and spread (for when data is scarce)."""

import numpy

from nabla.train.trainer import Trainer


def _item(value):
    return value.item() if hasattr(value, "item") else value


def _class_labels(targets: numpy.ndarray) -> numpy.ndarray:
    """Targets as int64 class indices; 0.0 / 1.0 will do, 0.37 (a regression target) will not."""
    if targets.dtype.kind in "iub":
        return targets.astype(numpy.int64)
    odd = targets if targets.dtype.kind != "f" else targets[targets != numpy.round(targets)]
    if odd.size:
        raise ValueError(f"cross_validate: stratified=True needs class indices as targets, got "
                         f"values such as {odd.tolist()[0]!r}; pass stratified=False for "
                         f"regression")
    return targets.astype(numpy.int64)


def cross_validate(model_fn, dataset, k: int = 5, *, optimizer_fn, loss_fn, epochs: int = 10,
                   batch_size: int = 32, stratified: bool = True, seed: int = 0,
                   metrics=("accuracy",), **trainer_kwargs) -> dict:
    """Score a model by k-fold cross-validation.

    Args:
        model_fn: ``model_fn() -> nn.Module``, called once per fold (fresh weights).
        dataset: a map-style dataset of ``(input, target)``.
        k: the number of folds.
        optimizer_fn: ``optimizer_fn(parameters) -> Optimizer``.
        loss_fn: the loss.
        stratified: keep class proportions in every fold (targets must be class indices).

    Returns:
        ``{"folds": [scores per fold], "mean": {...}, "std": {...}}`` where scores are the
        validation loss and metrics after training.
    """
    from nabla.random import Generator
    from nabla.utils.data import DataLoader, KFold, StratifiedKFold, Subset

    n = len(dataset)
    if stratified:
        targets = _class_labels(numpy.array([_item(dataset[i][1]) for i in range(n)]))
        splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
        folds = splitter.split(numpy.zeros(n), targets)
    else:
        folds = KFold(k, shuffle=True, random_state=seed).split(numpy.zeros(n))
    results = []
    for fold, (train_idx, val_idx) in enumerate(folds):
        model = model_fn()
        trainer = Trainer(model, optimizer_fn(model.parameters()), loss_fn, metrics=metrics,
                          progress=False, log=None, **trainer_kwargs)
        gen = Generator(seed + fold)
        train = DataLoader(Subset(dataset, train_idx.tolist()), batch_size, shuffle=True,
                           generator=gen)
        val = DataLoader(Subset(dataset, val_idx.tolist()), batch_size)
        trainer.fit(train, epochs=epochs)
        results.append(trainer.evaluate(val))
    keys = results[0].keys()
    return {
        "folds": results,
        "mean": {key: float(numpy.mean([r[key] for r in results])) for key in keys},
        "std": {key: float(numpy.std([r[key] for r in results])) for key in keys},
    }
