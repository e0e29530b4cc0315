"""The serving model: raw-unit windows and their timestamps in, raw-unit forecasts out.

Windows must be finite: one holding NaN or inf gets a NaN forecast and the reason in `error`
("window must hold finite numbers"), never a made-up number; the rest of the batch is
forecast as usual (`shared.served`).
"""

import tensorflow as tf

from apps.weather.config import WeatherConfig
from shared.export import Endpoint
from shared.pipeline import Pipeline
from shared.served import finite_rows
from shared.served import with_errors
from shared.served import zero_rows

NOT_FINITE = "window must hold finite numbers (no NaN or inf): fill gaps before forecasting"


def make_endpoints(model: Pipeline, config: WeatherConfig, sample: dict) -> dict[str, Endpoint]:
    """`serving_default`, the forecaster's own `serve` (statistics inside); `sample` holds a
    few real windows for the export check."""

    def serve(window, timestamps):
        finite = finite_rows(window)
        inputs = {"window": zero_rows(window, finite), "timestamps": timestamps}
        outputs = {"forecast": model.serve(inputs)}
        return with_errors(outputs, finite, NOT_FINITE, fill={"forecast": float("nan")})

    signature = [
        tf.TensorSpec(
            [None, config.input_steps, len(config.input_columns)], tf.float32, name="window"
        ),
        tf.TensorSpec([None, config.input_steps], tf.int64, name="timestamps"),
    ]
    return {"serving_default": Endpoint(serve, signature, sample)}
