"""The weather model's preprocessing: raw units in and out, with the training statistics.

`Standardize` (the preprocessor) turns raw-unit windows into the normalized windows the network
reads; `Forecast` (the postprocessor) turns the members' normalized forecasts into one forecast
in raw units. Both keep the statistics of the training rows in their configs, so a saved model
(`best.keras`) forecasts from raw windows on its own.
"""

from typing import Sequence

import keras
import numpy as np
from keras import ops

from apps.weather.data import Statistics


def _floats(values: Sequence[float]) -> list[float]:
    return [float(v) for v in np.asarray(values).ravel()]


@keras.saving.register_keras_serializable(package="weather")
class Standardize(keras.layers.Layer):
    """`{"window": raw [batch, steps, features], "timestamps"}` -> the window normalized with
    the training means and standard deviations (timestamps unchanged); also normalizes
    targets for training (`targets`)."""

    def __init__(self, feature_mean, feature_std, target_mean, target_std, **kwargs):
        super().__init__(**kwargs)
        self.feature_mean, self.feature_std = _floats(feature_mean), _floats(feature_std)
        self.target_mean, self.target_std = _floats(target_mean), _floats(target_std)

    @classmethod
    def fit(cls, statistics: Statistics, **kwargs) -> "Standardize":
        return cls(
            statistics.feature_mean,
            statistics.feature_std,
            statistics.target_mean,
            statistics.target_std,
            **kwargs,
        )

    def features(self, window):
        mean, std = np.float32(self.feature_mean), np.float32(self.feature_std)
        return (window - mean) / std

    def targets(self, values):
        return (values - np.float32(self.target_mean)) / np.float32(self.target_std)

    def call(self, inputs):
        return {"window": self.features(inputs["window"]), "timestamps": inputs["timestamps"]}

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "feature_mean": self.feature_mean,
            "feature_std": self.feature_std,
            "target_mean": self.target_mean,
            "target_std": self.target_std,
        }


@keras.saving.register_keras_serializable(package="weather")
class Forecast(keras.layers.Layer):
    """Members' normalized forecasts `[batch, horizon, targets, members]` -> their average in
    raw units `[batch, horizon, targets]`."""

    def __init__(self, target_mean, target_std, **kwargs):
        super().__init__(**kwargs)
        self.target_mean, self.target_std = _floats(target_mean), _floats(target_std)

    def call(self, members):
        average = ops.mean(members, axis=-1)
        return average * np.float32(self.target_std) + np.float32(self.target_mean)

    def get_config(self) -> dict:
        config = super().get_config()
        return {**config, "target_mean": self.target_mean, "target_std": self.target_std}
