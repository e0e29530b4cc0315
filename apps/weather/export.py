"""The serving model: raw-unit windows and their timestamps in, raw-unit forecasts out.

Inputs must be finite: a window holding NaN or inf is rejected with an InvalidArgument error
("window must hold finite numbers"), never turned into a silent NaN forecast.
"""

from pathlib import Path

import keras
import tensorflow as tf

from apps.weather.config import WeatherConfig
from apps.weather.data import WeatherData
from shared.export import Endpoint
from shared.export import export_saved_model

FINITE_MESSAGE = "window must hold finite numbers (no NaN or inf): fill gaps before forecasting"


def make_endpoints(
    model: keras.Model, data: WeatherData, config: WeatherConfig, sample: dict
) -> dict[str, Endpoint]:
    target_mean = tf.constant(data.target_mean)
    target_std = tf.constant(data.target_std)

    def serve(window, timestamps):
        window = tf.debugging.assert_all_finite(window, FINITE_MESSAGE)
        normalized = model({"window": window, "timestamps": timestamps}, training=False)
        return {"forecast": normalized * target_std + target_mean}

    signature = [
        tf.TensorSpec(
            [None, config.input_steps, len(data.input_columns)], tf.float32, name="window"
        ),
        tf.TensorSpec([None, config.input_steps], tf.int64, name="timestamps"),
    ]
    return {"serving_default": Endpoint(serve, signature, sample)}


def export_model(
    model: keras.Model, data: WeatherData, config: WeatherConfig, sample: dict, export_root: Path
) -> Path:
    """Write and verify the next `export/<version>/`; `sample` holds a few real windows."""
    return export_saved_model(
        export_root, make_endpoints(model, data, config, sample), track=[model]
    )
