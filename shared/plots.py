"""PNG figures for the run directory, written atomically (matplotlib, no display needed)."""

import os
from typing import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from shared import io  # noqa: E402

_TIMING = {"epoch", "epoch_seconds", "fit_seconds", "learning_rate"}


def save_figure(figure: plt.Figure, path: os.PathLike) -> None:
    with io.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)


def plot_history(history: list[dict], path: os.PathLike, best_epoch: int | None = None) -> None:
    """One panel per metric: training and validation curves over epochs, best epoch marked."""
    names = [k for k in history[0] if k not in _TIMING and not k.startswith("val_")]
    epochs = [record["epoch"] for record in history]
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for axis, name in zip(axes[0], names):
        axis.plot(epochs, [r.get(name) for r in history], marker="o", label="train")
        if any(f"val_{name}" in r for r in history):
            axis.plot(
                epochs, [r.get(f"val_{name}") for r in history], marker="o", label="validation"
            )
        if best_epoch is not None:
            axis.axvline(best_epoch, color="grey", linestyle="--", linewidth=1, label="best")
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend()
    save_figure(figure, path)


def plot_fold_curves(
    curves: list[list[float]],
    labels: list[str],
    mean: list[float],
    best_epoch: int,
    metric: str,
    path: os.PathLike,
) -> None:
    """K-fold selection: each fold's validation curve (dotted where it had stopped and its last
    value stands in), their mean, and the epoch it chose."""
    figure, axis = plt.subplots(figsize=(6.5, 3.8))
    for curve, label in zip(curves, labels):
        (line,) = axis.plot(range(1, len(curve) + 1), curve, alpha=0.6, linewidth=1, label=label)
        if len(curve) < len(mean):
            axis.plot(
                [len(curve), len(mean)],
                [curve[-1]] * 2,
                color=line.get_color(),
                alpha=0.6,
                linewidth=1,
                linestyle=":",
            )
    axis.plot(range(1, len(mean) + 1), mean, color="black", linewidth=2, label="mean")
    axis.axvline(best_epoch, color="grey", linestyle="--", linewidth=1, label="chosen")
    axis.set_title(f"validation {metric.removeprefix('val_')} per fold")
    axis.set_xlabel("epoch")
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    save_figure(figure, path)


def plot_confusion_matrix(
    matrix: Sequence[Sequence[int]], class_names: Sequence[str], path: os.PathLike
) -> None:
    """Row-normalised colours (recall per true class) with the raw counts written in the cells."""
    counts = np.asarray(matrix)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.6 * len(class_names) + 2)
    figure, axis = plt.subplots(figsize=(size, size))
    image = axis.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=45, ha="right")
    axis.set_yticks(ticks, class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    for (row, column), value in np.ndenumerate(counts):
        colour = "white" if rates[row, column] > 0.5 else "black"
        axis.text(column, row, str(value), ha="center", va="center", color=colour)
    figure.colorbar(image, ax=axis, fraction=0.046, label="fraction of true class")
    save_figure(figure, path)
