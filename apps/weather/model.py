"""The forecaster: a normalized window and its timestamps in, normalized forecasts out."""

import math
from typing import Sequence

import keras
from keras import ops

from apps.weather.config import WeatherConfig
from apps.weather.scaling import Forecast
from apps.weather.scaling import Standardize
from shared.distribute import xla_possible
from shared.layers import MaskedPooling
from shared.layers import RecurrentStack
from shared.pipeline import Pipeline
from shared.precision import FLOAT32
from shared.precision import dtype_policy
from shared.precision import network_precision
from shared.training import make_optimizer

SECONDS_PER_DAY = 86400
DAYS_PER_YEAR = 365.2425
MEMBERS = "members"


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
    config: WeatherConfig, *, num_features: int, target_indices: Sequence[int]
) -> keras.Model:
    """The forecaster over normalized windows (`Standardize`): add time features, then
    `config.members` recurrent blocks, each with a dense head emitting all
    `horizon x targets` values at once from the block's final output (and, with
    `pooled_head`, the mean and max of its outputs over every step); the forecast is the
    members' average.

    `target_indices` locates each target among the input columns; when every target is an
    input, each head predicts the change from the last observed value (a residual on
    persistence), which is far easier to learn than the level. Train the model returned by
    `members_model`, which exposes every member's forecast, so each learns on its own.
    """
    window = keras.Input((config.input_steps, num_features), name="window")
    timestamps = keras.Input((config.input_steps,), dtype="int64", name="timestamps")
    normalized = x = window
    if config.time_features:
        x = keras.layers.Concatenate(name="with_time")([x, TimeFeatures(name="time")(timestamps)])
    num_targets = len(target_indices)
    residual = config.residual and all(i >= 0 for i in target_indices)
    if residual:
        last = ops.take(normalized[:, -1, :], list(target_indices), axis=-1)[:, None, :]
    members = []
    for k in range(config.members):
        h = RecurrentStack(
            **config.recurrent_kwargs(), return_sequences=config.pooled_head, name=f"recurrent_{k}"
        )(x)
        if config.pooled_head:  # the final step, and the mean and max over every step
            pooled = MaskedPooling(("mean", "max"), name=f"pool_{k}")(h)
            h = keras.layers.Concatenate(name=f"summary_{k}")([h[:, -1], pooled])
        # The head and all after it stay float32 under --mixed_precision: a forecast added to
        # the last value in bfloat16 would keep about three significant digits.
        with dtype_policy(FLOAT32):
            h = keras.layers.Dense(config.horizon * num_targets, name=f"head_{k}")(h)
            member = keras.layers.Reshape((config.horizon, num_targets))(h)
            if residual:
                member = keras.layers.Add(name=f"from_last_value_{k}")([member, last])
            members.append(keras.layers.Reshape((config.horizon, num_targets, 1))(member))
    with dtype_policy(FLOAT32):  # [batch, horizon, targets, members]
        stacked = members[0] if len(members) == 1 else keras.layers.Concatenate()(members)
        stacked = keras.layers.Identity(name=MEMBERS)(stacked)
        forecast = keras.layers.Reshape((config.horizon, num_targets), name="forecast")(
            ops.mean(stacked, axis=-1)
        )
    return keras.Model({"window": window, "timestamps": timestamps}, forecast, name="weather")


def members_model(model: keras.Model) -> keras.Model:
    """The same layers and weights as `model`, returning `[batch, horizon, targets, members]`."""
    return keras.Model(model.inputs, model.get_layer(MEMBERS).output, name="weather_members")


@keras.saving.register_keras_serializable(package="weather")
class MemberLoss(keras.losses.Loss):
    """A forecasting loss (`"mae"`, `"mse"` or `"huber"`) averaged over ensemble members.

    `y_true` is `[batch, horizon, targets]`, `y_pred` `[batch, horizon, targets, members]`:
    each member is scored against the truth on its own, so members learn independently (a loss
    on their average would train one wide model instead of an ensemble).
    """

    def __init__(self, loss: str = "mae", name: str | None = None, **kwargs):
        super().__init__(name=name or f"member_{loss}", **kwargs)
        self.loss = loss
        self.loss_fn = keras.losses.get(loss)

    def call(self, y_true, y_pred):
        if len(y_pred.shape) == len(y_true.shape):  # Keras squeezed away a single member
            y_pred = ops.expand_dims(y_pred, -1)
        return self.loss_fn(ops.expand_dims(y_true, -1), y_pred)  # mean over members

    def get_config(self):
        return {**super().get_config(), "loss": self.loss}


@keras.saving.register_keras_serializable(package="weather")
def forecast_mae(y_true, y_pred):
    """MAE of the members' average forecast (what the exported model returns)."""
    if len(y_pred.shape) > len(y_true.shape):
        y_pred = ops.mean(y_pred, axis=-1)
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


def compile_model(model: keras.Model, config: WeatherConfig) -> keras.Model:
    """Compile a `members_model`: each member's loss, and the MAE of their average as `mae`.

    XLA fuses the small per-step operations of the recurrent loops: on CPU a training step
    takes about a sixth less time than without it, so it is on although Keras leaves it off
    on CPU by default (except under a distribution strategy over CPUs, which XLA cannot
    compile).
    """
    model.compile(
        optimizer=make_optimizer(config),
        loss=MemberLoss(config.loss),
        metrics=[keras.metrics.MeanMetricWrapper(forecast_mae, name="mae")],
        jit_compile=xla_possible(),
    )
    return model


def target_indices(config: WeatherConfig) -> list[int]:
    """Each target's position among the input columns, or -1 where it is not an input."""
    return [
        config.input_columns.index(t) if t in config.input_columns else -1
        for t in config.target_columns
    ]


def build_forecaster(config: WeatherConfig, scaler: Standardize) -> Pipeline:
    """The compiled forecaster owning its statistics: `predict` takes raw-unit windows and
    timestamps and returns the forecast in raw units. It trains the training view
    (`members_model`: every member's normalized forecast, each scored on its own); the
    forecast is the members' average (`Forecast`)."""
    with network_precision(config):
        network = build_model(
            config, num_features=len(scaler.feature_mean), target_indices=target_indices(config)
        )
    output = Forecast(scaler.target_mean, scaler.target_std, name="forecast")
    return compile_model(Pipeline(members_model(network), scaler, output, name="weather"), config)
