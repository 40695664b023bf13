"""Learning curves to PNG with matplotlib (optional extra ``plot``): loss and each metric per
epoch, training and validation side by side, so over- and underfitting can be seen."""


def plot_history(history, path, title: str | None = None) -> str:
    """Write the learning curves of ``history`` (a ``History`` or a dict of lists) to ``path``.

    Returns:
        The path written.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_history needs matplotlib: pip install 'nabla[plot]'") from None
    data = getattr(history, "history", history)
    names = [k for k in data if not k.startswith("val_") and k not in ("epoch", "lr")]
    if not names:
        raise ValueError("plot_history: the history holds no metric to plot")
    epochs = data.get("epoch") or list(range(1, len(data[names[0]]) + 1))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.plot(epochs, data[name], label=f"train {name}", marker=".")
        if f"val_{name}" in data:
            ax.plot(epochs, data[f"val_{name}"], label=f"validation {name}", marker=".")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)
