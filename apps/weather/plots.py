"""Weather figures: error per horizon step against the baselines, and sample forecasts."""

import os
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from shared.plots import save_figure


def plot_horizon_errors(report: dict, step_label: str, path: os.PathLike) -> None:
    """Test MAE at each horizon step for the model and every baseline (targets averaged)."""
    figure, axis = plt.subplots(figsize=(7, 4))
    for name in ("model", "persistence", "seasonal_naive"):
        steps = np.arange(1, len(report[name]["mae_per_step"]) + 1)
        axis.plot(
            steps,
            report[name]["mae_per_step"],
            marker="o",
            markersize=3,
            label=f"{name} (mean {report[name]['mae']:.3f})",
        )
    axis.set_xlabel(f"steps ahead ({step_label} each)")
    axis.set_ylabel("MAE (raw units)")
    axis.set_title("Test error by horizon")
    axis.grid(alpha=0.3)
    axis.legend()
    save_figure(figure, path)


def plot_sample_forecasts(
    history: np.ndarray,
    truth: np.ndarray,
    forecast: np.ndarray,
    target_name: str,
    path: os.PathLike,
) -> None:
    """A few test windows: the history, what happened next, and the model's forecast.

    Arrays are `[samples, time]` for one target: history `input_steps`, the others `horizon`.
    """
    samples = len(history)
    figure, axes = plt.subplots(samples, 1, figsize=(8, 2.2 * samples), squeeze=False)
    past = np.arange(-history.shape[1] + 1, 1)
    future = np.arange(1, truth.shape[1] + 1)
    for axis, h, t, f in zip(axes[:, 0], history, truth, forecast):
        axis.plot(past, h, color="grey", label="history")
        axis.plot(future, t, color="black", label="truth")
        axis.plot(future, f, color="tab:red", linestyle="--", label="forecast")
        axis.axvline(0.5, color="grey", linewidth=0.5)
        axis.set_ylabel(target_name)
        axis.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper left", fontsize=8)
    axes[-1, 0].set_xlabel("steps relative to the last observation")
    save_figure(figure, path)


def sample_indices(num_windows: int, count: int = 4) -> Sequence[int]:
    """Evenly spaced test windows, so the samples span the test period."""
    return np.linspace(0, num_windows - 1, num=min(count, num_windows)).astype(int).tolist()
