"""Test scoring of a forecaster against the naive baselines, and the report it writes."""

from pathlib import Path
from typing import Callable

import numpy as np
import tensorflow as tf

from apps.weather import forecasts
from apps.weather.config import WeatherConfig
from apps.weather.data import WeatherData
from apps.weather.plots import plot_horizon_errors
from apps.weather.plots import plot_sample_forecasts
from apps.weather.plots import sample_indices

ForecastFn = Callable[[dict], np.ndarray]


def test_windows(data: WeatherData, config: WeatherConfig) -> tuple[dict, np.ndarray]:
    """Raw inputs of every scored test window (all its targets observed), and each window's
    last row in the whole table."""
    segment = data.segments["test"]
    starts = segment.window_starts(config.input_steps, config.horizon)
    rows = starts[:, None] + np.arange(config.input_steps)
    inputs = {"window": segment.features[rows], "timestamps": segment.timestamps[rows]}
    return inputs, forecasts.last_input_rows(segment.offset, starts, config.input_steps)


def score(forecast_fn: ForecastFn, data: WeatherData, config: WeatherConfig) -> tuple[dict, dict]:
    """Errors of the model and both baselines on the test windows, plus the arrays behind them."""
    inputs, last_rows = test_windows(data, config)
    period = forecasts.season_steps(data.step_seconds)
    predictions = {
        "model": forecast_fn(inputs),
        "persistence": forecasts.persistence(data.targets, last_rows, config.horizon),
        "seasonal_naive": forecasts.seasonal_naive(data.targets, last_rows, config.horizon, period),
    }
    actual = forecasts.truth(data.targets, last_rows, config.horizon)
    metrics = forecasts.forecast_report(actual, predictions, data.target_columns)
    metrics["seasonal_period_steps"] = period
    arrays = {"inputs": inputs, "actual": actual, "predictions": predictions}
    return metrics, arrays


def plot_report(plots: Path, metrics: dict, arrays: dict, data: WeatherData) -> None:
    """`horizon_mae.png` and `sample_forecasts.png` of a scored test split."""
    plot_horizon_errors(metrics, f"{data.step_seconds / 3600:g} h", plots / "horizon_mae.png")
    picks = sample_indices(len(arrays["actual"]))
    target = data.target_columns[0]
    column = data.input_columns.index(target) if target in data.input_columns else None
    history = (
        arrays["inputs"]["window"][picks, :, column]
        if column is not None
        else np.full((len(picks), 1), np.nan)
    )
    plot_sample_forecasts(
        history,
        arrays["actual"][picks, :, 0],
        arrays["predictions"]["model"][picks, :, 0],
        target,
        plots / "sample_forecasts.png",
    )


def batched_forecaster(forecast_batch: Callable[..., np.ndarray], batch_size: int = 256):
    """A `ForecastFn` that sends the windows to `forecast_batch(window, timestamps)` in batches."""

    def forecast(inputs: dict) -> np.ndarray:
        outputs = [
            forecast_batch(
                tf.constant(inputs["window"][i : i + batch_size]),
                tf.constant(inputs["timestamps"][i : i + batch_size]),
            )
            for i in range(0, len(inputs["window"]), batch_size)
        ]
        return np.concatenate(outputs)

    return forecast
