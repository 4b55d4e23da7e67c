"""Curves with matplotlib: every run's test accuracy and loss per epoch on shared axes."""

from __future__ import annotations

from pathlib import Path

from netspec.runs import Run


def plot_runs(runs: list[Run], output: Path) -> int:
    """Write the figure; return how many runs have a curve (runs without epochs have none)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, (accuracy, loss) = plt.subplots(1, 2, figsize=(12, 4.5))
    drawn = 0
    for run in runs:
        if not run.history:
            continue
        epochs = [e.epoch for e in run.history]
        name = Path(run.directory).name + ("" if run.status == "finished" else " (stopped)")
        accuracy.plot(epochs, [e.val_accuracy for e in run.history], marker="o", label=name)
        loss.plot(epochs, [e.val_loss for e in run.history], marker="o", label=name)
        drawn += 1
    for axes, what in ((accuracy, "test accuracy"), (loss, "test loss")):
        axes.set_xlabel("epoch")
        axes.set_ylabel(what)
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    accuracy.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(output, dpi=120)
    plt.close(figure)
    return drawn
