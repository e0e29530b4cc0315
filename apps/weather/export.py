"""The serving model: raw-unit windows and their timestamps in, raw-unit forecasts out.

Inputs must be finite: a window holding NaN or inf is rejected with an InvalidArgument error
("window must hold finite numbers"), never turned into a silent NaN forecast.
"""

import tensorflow as tf

from apps.weather.config import WeatherConfig
from shared.export import Endpoint
from shared.pipeline import Pipeline

FINITE_MESSAGE = "window must hold finite numbers (no NaN or inf): fill gaps before forecasting"


def make_endpoints(model: Pipeline, config: WeatherConfig, sample: dict) -> dict[str, Endpoint]:
    """`serving_default`, the forecaster's own `serve` (statistics inside); `sample` holds a
    few real windows for the export check."""

    def serve(window, timestamps):
        window = tf.debugging.assert_all_finite(window, FINITE_MESSAGE)
        return {"forecast": model.serve({"window": window, "timestamps": timestamps})}

    signature = [
        tf.TensorSpec(
            [None, config.input_steps, len(config.input_columns)], tf.float32, name="window"
        ),
        tf.TensorSpec([None, config.input_steps], tf.int64, name="timestamps"),
    ]
    return {"serving_default": Endpoint(serve, signature, sample)}
