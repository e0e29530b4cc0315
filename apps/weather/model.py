"""The forecaster: a raw-unit window and its timestamps in, normalized forecasts out."""

import math
from typing import Sequence

import keras
import numpy as np
from keras import ops

from apps.weather.config import WeatherConfig
from shared.layers import RecurrentStack
from shared.training import make_optimizer

SECONDS_PER_DAY = 86400
DAYS_PER_YEAR = 365.2425


@keras.saving.register_keras_serializable(package="weather")
class TimeFeatures(keras.layers.Layer):
    """Hour of day and day of year as sin/cos pairs from int64 Unix seconds.

    Call arguments:
        timestamps: int64 tensor `[batch, time]`, seconds since 1970-01-01 (clock time as UTC).

    Returns float `[batch, time, 4]`: sin/cos of the hour angle, then of the year angle.
    """

    def call(self, timestamps):
        seconds_of_day = ops.cast(ops.mod(timestamps, SECONDS_PER_DAY), "float32")
        days = ops.cast(ops.floor_divide(timestamps, SECONDS_PER_DAY), "float32")
        day_angle = 2 * math.pi * seconds_of_day / SECONDS_PER_DAY
        year_angle = (
            2 * math.pi * (days - DAYS_PER_YEAR * ops.floor(days / DAYS_PER_YEAR)) / (DAYS_PER_YEAR)
        )
        angles = [ops.sin(day_angle), ops.cos(day_angle), ops.sin(year_angle), ops.cos(year_angle)]
        return ops.stack(angles, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape, 4)


def build_model(
    config: WeatherConfig,
    *,
    feature_mean: np.ndarray,
    feature_std: np.ndarray,
    target_indices: Sequence[int],
) -> keras.Model:
    """Normalize (training statistics kept in the model), add time features, recurrent block,
    then one dense layer emitting all `horizon x targets` values at once.

    `target_indices` locates each target among the input columns; when every target is an
    input, the head predicts the change from the last observed value (a residual on
    persistence), which is far easier to learn than the level.
    """
    num_features = len(feature_mean)
    window = keras.Input((config.input_steps, num_features), name="window")
    timestamps = keras.Input((config.input_steps,), dtype="int64", name="timestamps")
    normalized = keras.layers.Normalization(
        mean=feature_mean, variance=np.square(feature_std), name="normalize"
    )(window)
    x = normalized
    if config.time_features:
        x = keras.layers.Concatenate(name="with_time")([x, TimeFeatures(name="time")(timestamps)])
    x = RecurrentStack(**config.recurrent_kwargs(), name="recurrent")(x)
    num_targets = len(target_indices)
    x = keras.layers.Dense(config.horizon * num_targets, name="head")(x)
    forecast = keras.layers.Reshape((config.horizon, num_targets), name="forecast")(x)
    if config.residual and all(i >= 0 for i in target_indices):
        last = ops.take(normalized[:, -1, :], list(target_indices), axis=-1)
        forecast = keras.layers.Add(name="from_last_value")([forecast, last[:, None, :]])
    return keras.Model({"window": window, "timestamps": timestamps}, forecast, name="weather")


def compile_model(model: keras.Model, config: WeatherConfig) -> keras.Model:
    model.compile(optimizer=make_optimizer(config), loss=config.loss, metrics=["mae"])
    return model
