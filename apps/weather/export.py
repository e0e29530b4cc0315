"""The serving model: raw-unit windows and their timestamps in, raw-unit forecasts out.

Inputs must be finite: a window holding NaN or inf is rejected with an InvalidArgument error
("window must hold finite numbers"), never turned into a silent NaN forecast.
"""

import keras
import tensorflow as tf

from apps.weather.config import WeatherConfig
from apps.weather.data import Statistics
from shared.export import Endpoint

FINITE_MESSAGE = "window must hold finite numbers (no NaN or inf): fill gaps before forecasting"


def raw_forecast(model: keras.Model, statistics: Statistics):
    """`(window, timestamps) -> forecast` in raw units: the members' average, denormalized.

    `model` is the training view (`members_model`): `[batch, horizon, targets, members]`.
    """
    target_mean = tf.constant(statistics.target_mean)
    target_std = tf.constant(statistics.target_std)

    def forecast(window, timestamps):
        members = model({"window": window, "timestamps": timestamps}, training=False)
        return tf.reduce_mean(members, axis=-1) * target_std + target_mean

    return forecast


def make_endpoints(
    model: keras.Model, statistics: Statistics, config: WeatherConfig, sample: dict
) -> dict[str, Endpoint]:
    """`serving_default`; `sample` holds a few real windows for the export check."""
    forecast = raw_forecast(model, statistics)

    def serve(window, timestamps):
        window = tf.debugging.assert_all_finite(window, FINITE_MESSAGE)
        return {"forecast": forecast(window, timestamps)}

    signature = [
        tf.TensorSpec(
            [None, config.input_steps, len(config.input_columns)], tf.float32, name="window"
        ),
        tf.TensorSpec([None, config.input_steps], tf.int64, name="timestamps"),
    ]
    return {"serving_default": Endpoint(serve, signature, sample)}
