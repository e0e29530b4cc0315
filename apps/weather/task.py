"""The weather app as a `shared.task.Task`: what the shared runner needs to know of it."""

import argparse
from pathlib import Path
from typing import Callable
from typing import Mapping

import pandas as pd
import tensorflow as tf

from apps.weather.config import WeatherConfig
from apps.weather.data import Statistics
from apps.weather.data import WeatherData
from apps.weather.data import load_data
from apps.weather.data import make_dataset
from apps.weather.data import read_window
from apps.weather.export import make_endpoints
from apps.weather.model import build_forecaster
from apps.weather.scaling import Standardize
from apps.weather.scoring import batched_forecaster
from apps.weather.scoring import plot_report
from apps.weather.scoring import score
from apps.weather.scoring import test_windows
from shared.pipeline import Pipeline
from shared.sharding import input_shard
from shared.task import Datasets
from shared.task import Evaluation
from shared.task import Serving
from shared.task import Task


class WeatherTask(Task[WeatherConfig, WeatherData, Standardize]):
    test_metric = "model.mae"
    test_mode = "min"
    config_class = WeatherConfig
    # Early stopping watches the validation MAE of the average forecast, the exported model.
    selection_metric = "val_mae"

    def load_data(self, config: WeatherConfig) -> tuple[WeatherData, WeatherConfig]:
        return load_data(config)

    def fit_preprocessing(self, config: WeatherConfig, data: WeatherData) -> Standardize:
        return Standardize.fit(Statistics.fit(data.segments["train"]), name="standardize")

    def make_datasets(
        self, config: WeatherConfig, data: WeatherData, scaler: Standardize
    ) -> Datasets:
        shard = input_shard(config)  # this worker's share of the windows
        segments = {**data.segments, "train_and_val": data.train_and_val()}
        train, val, train_and_val = (
            make_dataset(segments[name], scaler, config, training=name != "val", shard=shard)
            for name in ("train", "val", "train_and_val")
        )
        windows = {
            name: shard.size(segments[name].num_windows(config.input_steps, config.horizon))
            for name in ("train", "val", "train_and_val")
        }
        return Datasets(train, val, windows, train_and_val)

    def build_model(
        self, config: WeatherConfig, scaler: Standardize, *, steps_per_epoch: int
    ) -> Pipeline:
        return build_forecaster(config, scaler)

    def serving(self, model: Pipeline, config: WeatherConfig, data: WeatherData) -> Serving:
        inputs, _ = test_windows(data, config)
        sample = {name: values[:4] for name, values in inputs.items()}
        return Serving(make_endpoints(model, config, sample), track=[model])

    def evaluate(self, evaluation: Evaluation[WeatherConfig, WeatherData]) -> dict:
        serve = evaluation.serving["serving_default"]
        forecast = batched_forecaster(
            lambda window, timestamps: serve(window=window, timestamps=timestamps)[
                "forecast"
            ].numpy()
        )
        data = evaluation.data
        metrics, arrays = score(forecast, data, evaluation.config)
        plot_report(evaluation.plots, metrics, arrays, data)
        windows = len(arrays["actual"])
        return {**metrics, "data": data.report, "examples": {"test": windows}}

    def summary(self, metrics: dict) -> str:
        return (
            f"test MAE {metrics['model']['mae']:.4f} vs persistence "
            f"{metrics['persistence']['mae']:.4f} and seasonal naive "
            f"{metrics['seasonal_naive']['mae']:.4f} (skill "
            f"{metrics['skill']['mae_vs_seasonal_naive']:.3f} of seasonal naive)"
        )

    def predict(
        self,
        serving: Mapping[str, Callable[..., dict]],
        config: WeatherConfig,
        args: argparse.Namespace,
    ) -> None:
        step = pd.Timedelta(config.resample) if config.resample else None
        for item in args.inputs:
            path = Path(item)
            window, timestamps, last = read_window(path, config)
            step = step or pd.Timedelta(seconds=int(timestamps[0, -1] - timestamps[0, -2]))
            outputs = serving["serving_default"](
                window=tf.constant(window), timestamps=tf.constant(timestamps)
            )
            print(f"{path}: forecast after {last} ({', '.join(config.target_columns)})")
            for h, row in enumerate(outputs["forecast"].numpy()[0], start=1):
                cells = "  ".join(
                    f"{name}={value:.3f}" for name, value in zip(config.target_columns, row)
                )
                print(f"  {last + h * step}  {cells}")
