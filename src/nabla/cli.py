"""The ``nabla`` command line: train a built-in model on a built-in data set, list data sets.

    nabla train --model mlp --dataset digits --epochs 20 --optimizer adam --lr 1e-3
    nabla datasets
    nabla info          # versions, BLAS, CPU features and speed advice (for bug reports)
"""

import argparse
import json
import os
import sys
import time

MODELS = {
    "mlp": "multi-layer perceptron (--hidden sizes, --activation, --dropout, --batch-norm)",
    "linear": "a single linear layer: softmax (multinomial logistic) regression",
    "gan": "MLP GAN (runs examples/gan_digits.py; --dataset digits)",
    "dcgan": "DCGAN on 16x16 digits (runs examples/dcgan_digits.py)",
    "vae": "MLP and conv VAEs (runs examples/vae_digits.py)",
    "simclr": "SimCLR + linear probe (runs examples/simclr_digits.py)",
    "cnn": "small CNN: ConvNet on images, cnn1d_bn on signals (mnist1d)",
    "lenet": "LeNet-5 (images of at least 12x12: mnist, fashion_mnist, cifar10)",
    "resnet20": "CIFAR ResNet-20 (images)",
    "rnn": "recurrent (tanh RNN) over the steps of a signal (mnist1d, sine) or the rows of an "
           "image (digits), its final state -> Linear (--hidden: one width per layer)",
    "lstm": "the same with an LSTM",
    "gru": "the same with a GRU",
}
CNN_MODELS = ("cnn", "lenet", "resnet20")  # fed (C, H, W) images or (C, L) signals
RECURRENT_MODELS = ("rnn", "lstm", "gru")  # fed (L,) signals, (L, F) sequences, image rows
# Generative and self-supervised models: their training loops and pictures live in an example.
EXAMPLE_MODELS = {"gan": "gan_digits", "dcgan": "dcgan_digits", "vae": "vae_digits",
                  "simclr": "simclr_digits"}
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw",
              "adamax", "nadam", "radam", "rprop", "asgd")
SCHEDULERS = ("none", "step", "cosine", "onecycle", "plateau")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nabla", description="nabla: a readable deep-learning framework on NumPy.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    train = sub.add_parser("train", help="train a model on a built-in data set",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--model", default="mlp", choices=sorted(MODELS),
                       help="; ".join(f"{k}: {v}" for k, v in MODELS.items()))
    train.add_argument("--dataset", default="digits", help="a name from `nabla datasets`")
    train.add_argument("--root", default=None, help="folder of the files of mnist/cifar10")
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--optimizer", default="adam", choices=OPTIMIZERS)
    train.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    train.add_argument("--weight-decay", type=float, default=0.0)
    train.add_argument("--scheduler", default="none", choices=SCHEDULERS)
    train.add_argument("--hidden", default=None,
                       help="hidden layer sizes, comma-separated (mlp: default 128,64; "
                            "rnn/lstm/gru: one equal width per layer, default 64)")
    train.add_argument("--activation", default="relu")
    train.add_argument("--dropout", type=float, default=0.0)
    train.add_argument("--batch-norm", action="store_true")
    train.add_argument("--label-smoothing", type=float, default=0.0)
    train.add_argument("--grad-clip", type=float, default=None, help="max gradient norm")
    train.add_argument("--val-fraction", type=float, default=0.2,
                       help="part of the training data held out for validation")
    train.add_argument("--patience", type=int, default=None, help="early stopping patience")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default=None, help="output folder (default runs/MODEL-DATASET)")
    train.add_argument("--resume", action="store_true",
                       help="continue from OUT/checkpoint.pt if it exists")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    train.add_argument("--threads", type=int, default=None,
                       help="CPU threads for BLAS and the convolutions (nabla.set_num_threads; "
                            "default: all cores); 1 is fastest where other processes keep the "
                            "cores busy")
    sub.add_parser("datasets", help="list the built-in data sets")
    sub.add_parser("info", help="versions, BLAS library, CPU features and speed advice")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        import nabla

        print(f"nabla {nabla.__version__}")
        return 0
    if args.command == "datasets":
        from nabla.utils.data.datasets import DATASETS

        width = max(map(len, DATASETS))
        for name, about in DATASETS.items():
            print(f"{name:<{width}}  {about}")
        return 0
    if args.command == "info":
        from nabla.utils.collect_env import main as info

        return info()
    if args.command == "train":
        if args.threads is not None:
            if args.threads < 1:
                print(f"nabla train: error: argument --threads: must be >= 1, got "
                      f"{args.threads}", file=sys.stderr)
                return 2
            import nabla

            nabla.set_num_threads(args.threads)
        return _train_example(args) if args.model in EXAMPLE_MODELS else _train(args)
    parser.print_help()
    return 0


def _optimizer(name: str, params, lr: float, weight_decay: float):
    from nabla import optim

    if name in ("sgd", "momentum", "nesterov"):
        momentum = 0.0 if name == "sgd" else 0.9
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=name == "nesterov",
                         weight_decay=weight_decay)
    classes = {"adagrad": optim.Adagrad, "adadelta": optim.Adadelta, "rmsprop": optim.RMSprop,
               "adam": optim.Adam, "adamw": optim.AdamW, "adamax": optim.Adamax,
               "nadam": optim.NAdam, "radam": optim.RAdam, "rprop": optim.Rprop,
               "asgd": optim.ASGD}
    if name == "rprop":  # full-batch by design; no weight decay, as torch.optim.Rprop
        if weight_decay:
            raise ValueError("--optimizer rprop has no weight decay (torch.optim.Rprop has "
                             "none either): drop --weight-decay")
        return classes[name](params, lr=lr)
    return classes[name](params, lr=lr, weight_decay=weight_decay)


def _scheduler(name: str, optimizer, epochs: int, steps_per_epoch: int):
    from nabla.optim import lr_scheduler as S

    if name == "step":
        return S.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1), "epoch"
    if name == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=epochs), "epoch"
    if name == "onecycle":
        max_lr = optimizer.param_groups[0]["lr"]
        return S.OneCycleLR(optimizer, max_lr=max_lr, total_steps=epochs * steps_per_epoch), \
            "batch"
    if name == "plateau":
        return S.ReduceLROnPlateau(optimizer, patience=2), "epoch"
    return None, "epoch"


def _data(args):
    """Train / validation / test datasets: validation is held out of the training split."""
    from nabla.utils.data import Subset
    from nabla.utils.data.datasets import get_dataset
    from nabla.utils.data.split import split_indices

    extra = {"root": args.root} if args.root else {}
    if (args.model in CNN_MODELS and args.dataset in ("digits", "mnist1d")) or \
            (args.model in RECURRENT_MODELS and args.dataset == "digits"):
        extra["flatten"] = False  # images (and signals for the CNN) keep their shape
    train_full = get_dataset(args.dataset, "train", **extra)
    test = get_dataset(args.dataset, "test", **extra)
    labels = getattr(train_full, "targets", None)
    labels = labels.numpy() if labels is not None and labels.dtype.kind == "i" else None
    if args.val_fraction <= 0:
        return train_full, None, test
    tr, va = split_indices(len(train_full), (1 - args.val_fraction, args.val_fraction),
                           stratify=labels, seed=args.seed)
    if hasattr(train_full, "tensors") and getattr(train_full, "transform", None) is None:
        from nabla.utils.data import TensorDataset

        xs, ys = (t.numpy() for t in train_full.tensors[:2])
        return TensorDataset(xs[tr], ys[tr]), TensorDataset(xs[va], ys[va]), test
    return Subset(train_full, tr.tolist()), Subset(train_full, va.tolist()), test


def _train_example(args) -> int:
    """Run examples/<model>_digits.py's main(epochs, out, seed): it trains and writes its PNGs."""
    import importlib.util
    import pathlib

    if args.dataset != "digits":
        print(f"nabla train: --model {args.model} runs on --dataset digits only",
              file=sys.stderr)
        return 2
    name = EXAMPLE_MODELS[args.model]
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / f"{name}.py"
    if not path.exists():
        print(f"nabla train: --model {args.model} needs {path} (a source checkout)",
              file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = args.out or os.path.join("runs", f"{args.model}-{args.dataset}")
    result = module.main(epochs=args.epochs, out=out, seed=args.seed)
    print(f"wrote {', '.join(os.path.basename(f) for f in result['files'])} to {out}/")
    return 0


def _regression_loss(output, target):
    from nabla.nn.functional import mse_loss

    return mse_loss(output.reshape(target.shape), target)


FILE_DATASETS = ("mnist", "fashion_mnist", "cifar10")  # read from --root, never downloaded


def _check_train_args(args) -> str | None:
    """What is wrong with the options of ``nabla train`` (None if nothing), before any data is
    loaded; sets ``args.hidden_sizes``."""
    from nabla.utils.data.datasets import DATASETS

    if args.dataset not in DATASETS:
        return (f"argument --dataset: invalid choice: {args.dataset!r} (choose from "
                f"{', '.join(DATASETS)}; see `nabla datasets`)")
    if args.dataset in FILE_DATASETS and args.root is None:
        return f"--dataset {args.dataset} is read from local files: pass --root FOLDER"
    for name, value, low in (("epochs", args.epochs, 1), ("batch-size", args.batch_size, 1),
                             ("patience", args.patience, 0)):
        if value is not None and value < low:
            return f"argument --{name}: must be >= {low}, got {value}"
    if not 0 <= args.val_fraction < 1:
        return f"argument --val-fraction: must be in [0, 1), got {args.val_fraction}"
    if not 0 <= args.label_smoothing <= 1:  # CrossEntropyLoss would only say so at step one
        return f"argument --label-smoothing: must be in [0, 1], got {args.label_smoothing}"
    if args.grad_clip is not None and not args.grad_clip > 0:
        return f"argument --grad-clip: must be > 0, got {args.grad_clip}"
    default = "64" if args.model in RECURRENT_MODELS else "128,64"
    try:
        args.hidden_sizes = tuple(int(h) for h in (args.hidden or default).split(",") if h)
    except ValueError:
        return f"argument --hidden: expected comma-separated integers such as 128,64, got " \
               f"{args.hidden!r}"
    if any(h < 1 for h in args.hidden_sizes):
        return f"argument --hidden: sizes must be >= 1, got {args.hidden!r}"
    out = args.out or os.path.join("runs", f"{args.model}-{args.dataset}")
    if os.path.exists(out) and not os.path.isdir(out):
        return f"argument --out: {out!r} is a file, not a folder"
    return None


def _model(args, x0, n_out: int):
    from nabla.models import MLP

    if args.model in CNN_MODELS:
        from nabla.models import cnn_for

        return cnn_for(args.model, tuple(x0.shape), n_out)
    if args.model in RECURRENT_MODELS:
        from nabla.models import sequence_model_for

        return sequence_model_for(args.model, tuple(x0.shape), n_out, args.hidden_sizes,
                                  args.dropout)
    hidden = args.hidden_sizes if args.model == "mlp" else ()
    return MLP(int(x0.numel()), hidden, n_out, activation=args.activation, dropout=args.dropout,
               batch_norm=args.batch_norm)


def _build(args) -> dict:
    """The data, model, loaders and Trainer of a ``nabla train`` run."""
    import nabla
    from nabla import nn
    from nabla.train import EarlyStopping, Trainer
    from nabla.utils.data import DataLoader

    nabla.manual_seed(args.seed)
    train, val, test = _data(args)
    x0, y0 = train[0]
    if y0.dtype.kind == "f":  # e.g. the next value of a sequence: one output, mean squared error
        n_out, metrics, loss_fn = 1, (), _regression_loss
    else:
        labels = getattr(test, "targets", None)
        n_out = int(max(labels.numpy().max(), y0.item()) + 1) if labels is not None else 10
        metrics = ("accuracy",)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    model = _model(args, x0, n_out)
    train_loader = DataLoader(train, args.batch_size, shuffle=True,
                              generator=nabla.Generator(args.seed))
    optimizer = _optimizer(args.optimizer, model.parameters(), args.lr, args.weight_decay)
    scheduler, interval = _scheduler(args.scheduler, optimizer, args.epochs, len(train_loader))
    callbacks = []
    if args.patience is not None:
        monitor = "val_loss" if val is not None else "loss"
        callbacks.append(EarlyStopping(monitor, args.patience, restore_best_weights=True))
    trainer = Trainer(model, optimizer, loss_fn, metrics=metrics, callbacks=callbacks,
                      scheduler=scheduler, scheduler_interval=interval,
                      grad_clip_norm=args.grad_clip, progress=not args.no_progress)
    return dict(train=train, val=val, test=test, model=model, trainer=trainer,
                train_loader=train_loader,
                val_loader=DataLoader(val, 512) if val is not None else None,
                test_loader=DataLoader(test, 512))


def _train(args) -> int:
    problem = _check_train_args(args)
    if problem is None:
        try:  # the files under --root, or a model that does not fit the data
            run = _build(args)
        except (ValueError, OSError, ImportError) as err:
            problem = str(err)
    if problem is not None:
        print(f"nabla train: error: {problem}", file=sys.stderr)
        return 2
    trainer = run["trainer"]
    out = args.out or os.path.join("runs", f"{args.model}-{args.dataset}")
    os.makedirs(out, exist_ok=True)
    ckpt_path = os.path.join(out, "checkpoint.pt")
    if args.resume and os.path.exists(ckpt_path):
        trainer.load_checkpoint(ckpt_path, run["train_loader"])
        print(f"resumed from {ckpt_path} at epoch {trainer.epoch}")
    n_params = sum(p.numel() for p in run["model"].parameters())
    val = run["val"]
    print(f"model {args.model}: {n_params:,} parameters; data {args.dataset}: "
          f"{len(run['train'])} train, {len(val) if val is not None else 0} validation, "
          f"{len(run['test'])} test")
    start = time.perf_counter()
    history = trainer.fit(run["train_loader"], run["val_loader"], args.epochs)
    seconds = time.perf_counter() - start
    _report(args, run, history, out, seconds)
    return 0


def _report(args, run: dict, history, out: str, seconds: float) -> None:
    """Evaluate the splits; write the checkpoint, the history, metrics.json and the plot."""
    from nabla.train import plot_history
    from nabla.utils.data import DataLoader

    trainer = run["trainer"]
    final = {"train": trainer.evaluate(DataLoader(run["train"], 512)),
             "test": trainer.evaluate(run["test_loader"]), "epochs": trainer.epoch,
             "seconds": round(seconds, 2)}
    if run["val_loader"] is not None:
        final["validation"] = trainer.evaluate(run["val_loader"])
    trainer.save_checkpoint(os.path.join(out, "checkpoint.pt"))
    history.to_csv(os.path.join(out, "history.csv"))
    history.to_json(os.path.join(out, "history.json"))
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(final, f, indent=1)
    files = ["checkpoint.pt", "history.csv", "history.json", "metrics.json"]
    try:
        plot_history(history, os.path.join(out, "learning_curves.png"),
                     title=f"{args.model} on {args.dataset}")
        files.append("learning_curves.png")
    except ImportError as err:
        print(f"(no plot: {err})", file=sys.stderr)
    for split in ("train", "validation", "test"):
        if split in final:
            scores = "  ".join(f"{k} {v:.4f}" for k, v in final[split].items())
            print(f"{split:>10}: {scores}")
    print(f"{trainer.epoch} epochs in {seconds:.1f}s; wrote {', '.join(files)} to {out}/")


if __name__ == "__main__":
    sys.exit(main())
