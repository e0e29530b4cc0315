"""Benchmark: weather training speed and forecast skill against the naive baselines.

On `$RNN_SUITE_DATA/weather` (hourly Beijing data, target TEMP) with a 24-hour history and a
24-step horizon, it measures in one run:
  1. input-pipeline throughput (windows/second) of the app's batched window gather against
     `keras.utils.timeseries_dataset_from_array`, alternating passes so both see the same load;
  2. training examples/second of the default model;
  3. the skill ratios: model test MAE / persistence MAE and / seasonal-naive MAE.

    python benchmarks/weather_forecast.py [--csv FILE --target COLUMN] [--epochs 8]
Without the data folder it generates an hourly CSV with a daily cycle.
"""

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from dev_data import data_dir

from apps.weather.config import WeatherConfig
from apps.weather.task import WeatherTask
from shared.runner import train as train_run

DEFAULT_CSV = data_dir("weather") / "beijing_pm25_2010_2013.csv"


def generate_csv(path: Path, hours: int = 20000) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(hours)
    temp = 12 + 8 * np.sin(2 * np.pi * t / 24) + 10 * np.sin(2 * np.pi * t / 8766)
    temp += np.cumsum(rng.normal(0, 0.3, hours)) * 0.1
    frame = pd.DataFrame(
        {
            "datetime": pd.date_range("2015-01-01", periods=hours, freq="1h"),
            "TEMP": temp,
            "PRES": 1010 + rng.normal(0, 3, hours),
        }
    )
    frame.to_csv(path, index=False)
    return path


def keras_utility_dataset(segment, scaler, config):
    """The same windows and targets through `timeseries_dataset_from_array` (window only)."""
    count = segment.num_windows(config.input_steps, config.horizon)
    rows = np.arange(count)[:, None] + config.input_steps + np.arange(config.horizon)
    targets = scaler.targets(segment.targets[rows])
    return keras.utils.timeseries_dataset_from_array(
        scaler.features(segment.features[: count + config.input_steps - 1]),
        targets,
        sequence_length=config.input_steps,
        batch_size=config.batch_size,
        shuffle=True,
        seed=config.seed,
    )


def windows_per_second(dataset) -> float:
    start, count = time.perf_counter(), 0
    for _, targets in dataset:
        count += int(targets.shape[0])
    return count / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv", default=None, help="CSV file (default: the Beijing data)")
    parser.add_argument("--target", default="TEMP")
    parser.add_argument("--input_steps", type=int, default=24)
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    csv = Path(args.csv) if args.csv else DEFAULT_CSV
    scratch = tempfile.TemporaryDirectory()
    if not csv.is_file():
        print(f"{csv} not found: generating a CSV", file=sys.stderr)
        csv = generate_csv(Path(scratch.name) / "weather.csv")

    config = WeatherConfig(
        csv=str(csv),
        target_columns=(args.target,),
        input_steps=args.input_steps,
        horizon=args.horizon,
        epochs=args.epochs,
    )
    task = WeatherTask()
    data, config = task.load_data(config)
    train = data.segments["train"]
    scaler = task.fit_preprocessing(config, data)
    ours = task.make_datasets(config, data, scaler).train
    utility = keras_utility_dataset(train, scaler, config)
    speeds = {"app_pipeline": [], "keras_utility": []}
    for _ in range(3):
        speeds["app_pipeline"].append(windows_per_second(ours))
        speeds["keras_utility"].append(windows_per_second(utility))
    pipeline = {name: round(float(np.median(values)), 1) for name, values in speeds.items()}

    # The app's own training run (no fine-tuning), into a scratch run directory.
    config = dataclasses.replace(config, refit="none")
    metrics = train_run(task, config, Path(scratch.name) / "run")
    summary = {
        "csv": str(csv),
        "target": args.target,
        "input_steps": config.input_steps,
        "horizon": config.horizon,
        "train_windows": metrics["examples"]["train"],
        "pipeline_windows_per_second": pipeline,
        "pipeline_speedup_over_keras_utility": round(
            pipeline["app_pipeline"] / pipeline["keras_utility"], 2
        ),
        "epochs": metrics["epochs_trained"],
        "best_epoch": metrics["best_epoch"],
        "train_seconds": metrics["train_seconds"],
        "train_examples_per_second": metrics["train_examples_per_second"],
        "test_mae": {
            name: round(metrics[name]["mae"], 4)
            for name in ("model", "persistence", "seasonal_naive")
        },
        "skill": {name: round(value, 4) for name, value in metrics["skill"].items()},
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
