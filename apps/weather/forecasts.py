"""Naive baselines and forecast errors, on exactly the windows the model is scored on."""

import math
from typing import Sequence

import numpy as np


def last_input_rows(offset: int, starts: np.ndarray, input_steps: int) -> np.ndarray:
    """Whole-table row index of the last input row of the windows starting at `starts`."""
    return offset + np.asarray(starts) + input_steps - 1


def truth(targets: np.ndarray, last_rows: np.ndarray, horizon: int) -> np.ndarray:
    """`[windows, horizon, targets]`: the values 1..horizon rows after each window."""
    return targets[last_rows[:, None] + np.arange(1, horizon + 1)]


def persistence(targets: np.ndarray, last_rows: np.ndarray, horizon: int) -> np.ndarray:
    """Every future step equals the last observed value."""
    return np.repeat(targets[last_rows][:, None, :], horizon, axis=1)


def seasonal_naive(
    targets: np.ndarray, last_rows: np.ndarray, horizon: int, period: int
) -> np.ndarray:
    """Step h equals the value one season earlier (`period` rows, e.g. 24 hours).

    For steps beyond one season the last full season that has been observed repeats.
    """
    steps = np.arange(1, horizon + 1)
    back = period * np.ceil(steps / period).astype(int)
    rows = last_rows[:, None] + steps - back
    if rows.min() < 0:
        raise ValueError("not enough history before the first window for the seasonal baseline")
    return targets[rows]


def season_steps(step_seconds: int, season_seconds: int = 24 * 3600) -> int:
    return max(1, int(round(season_seconds / step_seconds)))


def errors(truth: np.ndarray, forecast: np.ndarray, target_names: Sequence[str]) -> dict:
    """MAE and RMSE in raw units: overall, per target, and per horizon step (averaged targets)."""
    difference = forecast.astype(np.float64) - truth.astype(np.float64)
    absolute, squared = np.abs(difference), difference**2
    return {
        "mae": float(absolute.mean()),
        "rmse": math.sqrt(float(squared.mean())),
        "per_target": {
            name: {
                "mae": float(absolute[..., i].mean()),
                "rmse": math.sqrt(float(squared[..., i].mean())),
                "mae_per_step": absolute[..., i].mean(axis=0).round(6).tolist(),
                "rmse_per_step": np.sqrt(squared[..., i].mean(axis=0)).round(6).tolist(),
            }
            for i, name in enumerate(target_names)
        },
        "mae_per_step": absolute.mean(axis=(0, 2)).round(6).tolist(),
        "rmse_per_step": np.sqrt(squared.mean(axis=(0, 2))).round(6).tolist(),
    }


def forecast_report(
    actual: np.ndarray, forecasts: dict[str, np.ndarray], target_names: Sequence[str]
) -> dict:
    """Errors of the model and each baseline, with skill ratios (model MAE / baseline MAE)."""
    report = {name: errors(actual, forecast, target_names) for name, forecast in forecasts.items()}
    model_mae = report["model"]["mae"]
    report["skill"] = {
        f"mae_vs_{name}": model_mae / report[name]["mae"]
        for name in forecasts
        if name != "model" and report[name]["mae"] > 0
    }
    return report
