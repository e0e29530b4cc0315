"""Evaluate a finished weather run again (through its export) and rewrite `metrics.json`.

python -m apps.weather.evaluate --run_dir runs/weather [--data_dir DIR | --csv FILE]
"""

import dataclasses
from typing import Callable
from typing import Optional
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from apps.weather import forecasts
from apps.weather.config import WeatherConfig
from apps.weather.data import WeatherData
from apps.weather.data import load_data
from apps.weather.plots import plot_horizon_errors
from apps.weather.plots import plot_sample_forecasts
from apps.weather.plots import sample_indices
from shared import io
from shared.cli import command
from shared.evaluation import evaluation_parser
from shared.evaluation import finished_run
from shared.evaluation import merged_metrics
from shared.evaluation import run_config
from shared.export import load_signature
from shared.run_dir import RunDir

ForecastFn = Callable[[dict], np.ndarray]


def test_windows(data: WeatherData, config: WeatherConfig) -> tuple[dict, np.ndarray]:
    """Raw inputs of every test window, and each window's last row in the whole table."""
    segment = data.segments["test"]
    count = segment.num_windows(config.input_steps, config.horizon)
    rows = np.arange(count)[:, None] + np.arange(config.input_steps)
    inputs = {"window": segment.features[rows], "timestamps": segment.timestamps[rows]}
    return inputs, forecasts.last_input_rows(segment.offset, count, config.input_steps)


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


def write_report(run: RunDir, metrics: dict, arrays: dict, data: WeatherData) -> None:
    io.write_json(run.metrics, metrics)
    plot_horizon_errors(metrics, f"{data.step_seconds / 3600:g} h", run.plots / "horizon_mae.png")
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
        run.plots / "sample_forecasts.png",
    )


def model_forecaster(model: keras.Model, data: WeatherData, batch_size: int = 256) -> ForecastFn:
    """Forecasts of an in-memory forecaster (normalized outputs) in raw units."""

    def forecast(inputs: dict) -> np.ndarray:
        normalized = model.predict(inputs, batch_size=batch_size, verbose=0)
        return normalized * data.target_std + data.target_mean

    return forecast


def export_forecaster(run: RunDir, batch_size: int = 256) -> ForecastFn:
    """Forecasts of a run's exported SavedModel (raw units in and out)."""
    serve = load_signature(run)

    def forecast(inputs: dict) -> np.ndarray:
        outputs = [
            serve(
                window=tf.constant(inputs["window"][i : i + batch_size]),
                timestamps=tf.constant(inputs["timestamps"][i : i + batch_size]),
            )["forecast"].numpy()
            for i in range(0, len(inputs["window"]), batch_size)
        ]
        return np.concatenate(outputs)

    return forecast


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = evaluation_parser("python -m apps.weather.evaluate", __doc__, tfds=False)
    parser.add_argument("--csv", help="Evaluate on this CSV instead")
    args = parser.parse_args(argv)
    run = finished_run(args.run_dir)
    config = run_config(WeatherConfig, run)
    if args.data_dir or args.csv:  # new data replaces the run's source entirely
        config = dataclasses.replace(config, data_dir=args.data_dir, csv=args.csv)
    forecaster = export_forecaster(run)
    data, _ = load_data(config)
    metrics, arrays = score(forecaster, data, config)
    metrics = merged_metrics(run, {**metrics, "data": data.report})
    write_report(run, metrics, arrays, data)
    print(
        f"test MAE {metrics['model']['mae']:.4f}; skill vs persistence "
        f"{metrics['skill']['mae_vs_persistence']:.3f}, vs seasonal naive "
        f"{metrics['skill']['mae_vs_seasonal_naive']:.3f} -> {run.metrics}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
