import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from apps.weather.config import WeatherConfig
from apps.weather.model import MemberLoss
from apps.weather.model import TimeFeatures
from apps.weather.model import build_model
from apps.weather.model import compile_model
from apps.weather.model import members_model
from apps.weather.table import unix_seconds


def test_time_features_of_known_instants():
    times = pd.DatetimeIndex(["1970-01-01 06:00", "2021-07-02 18:00", "2021-01-01 00:00"])
    features = np.asarray(TimeFeatures()(unix_seconds(times)[None]))[0]
    np.testing.assert_allclose(features[0, :2], [1.0, 0.0], atol=1e-5)  # 06:00: quarter day
    np.testing.assert_allclose(features[1, :2], [-1.0, 0.0], atol=1e-5)  # 18:00
    assert features[1, 3] < -0.99  # early July: half a year from January
    assert features[2, 3] > 0.99  # 1 January


def small_model(**overrides):
    config = WeatherConfig(input_steps=6, horizon=4, units=3, num_layers=1, **overrides)
    return config, build_model(config, num_features=2, target_indices=[0])


def sample_inputs(batch=3):
    """Normalized windows, as the network reads them (`Standardize` makes them)."""
    rng = np.random.default_rng(0)
    window = rng.normal(size=(batch, 6, 2)).astype("float32")
    start = 1_600_000_000
    timestamps = start + 3600 * np.arange(6)[None].repeat(batch, 0).astype("int64")
    return {"window": window, "timestamps": timestamps}


def test_residual_head_starts_from_the_last_value():
    _, model = small_model(members=2)
    for k in range(2):
        head = model.get_layer(f"head_{k}")
        head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    inputs = sample_inputs()
    forecast = model.predict(inputs, verbose=0)
    last_normalized = inputs["window"][:, -1, 0]
    assert forecast.shape == (3, 4, 1)
    np.testing.assert_allclose(forecast[..., 0], last_normalized[:, None].repeat(4, 1), atol=1e-5)


@pytest.mark.parametrize(
    "residual, time_features, members, pooled_head",
    [(True, True, 1, True), (False, False, 2, False)],
)
def test_model_trains_and_reloads(tmp_path, residual, time_features, members, pooled_head):
    config, model = small_model(
        residual=residual,
        time_features=time_features,
        members=members,
        pooled_head=pooled_head,
        bidirectional=True,
        cell="gru",
    )
    trainee = compile_model(members_model(model), config)
    trainee.jit_compile = False  # XLA compiles for ~10 s; what is tested here is the same without
    inputs = sample_inputs(batch=8)
    trainee.fit(inputs, np.zeros((8, 4, 1), "float32"), epochs=1, verbose=0)
    for trained in (model, trainee):  # the forecaster, and the checkpointed training view
        trained.save(tmp_path / "m.keras")
        restored = keras.saving.load_model(tmp_path / "m.keras")
        np.testing.assert_allclose(
            restored.predict(inputs, verbose=0), trained.predict(inputs, verbose=0), atol=1e-5
        )


def test_the_forecast_is_the_average_of_independent_members():
    _, model = small_model(members=3)
    inputs = sample_inputs()
    members = members_model(model).predict(inputs, verbose=0)
    assert members.shape == (3, 4, 1, 3)
    assert np.ptp(members, axis=-1).max() > 1e-3  # each member starts from its own weights
    np.testing.assert_allclose(model.predict(inputs, verbose=0), members.mean(-1), atol=1e-6)


@pytest.mark.parametrize("members", [1, 3])
def test_member_loss_scores_each_member_on_its_own(members):
    rng = np.random.default_rng(1)
    truth = rng.normal(size=(5, 4, 2)).astype("float32")
    predictions = rng.normal(size=(5, 4, 2, members)).astype("float32")
    expected = np.abs(predictions - truth[..., None]).mean()
    assert float(MemberLoss("mae")(truth, predictions)) == pytest.approx(expected, rel=1e-5)
    if members > 1:  # not the error of the average, which would train one wide model
        assert expected > np.abs(predictions.mean(-1) - truth).mean()


def test_a_members_gradient_ignores_the_other_members():
    """Each member learns from its own error: changing member 1 leaves member 0's gradient as
    it was (with a loss on their average, the shared error would couple them)."""
    config, model = small_model(members=2)
    trainee = members_model(model)
    inputs = sample_inputs(batch=8)
    truth = np.random.default_rng(2).normal(size=(8, 4, 1)).astype("float32")
    head_0, head_1 = model.get_layer("head_0"), model.get_layer("head_1")

    def head_0_gradient():
        with tf.GradientTape() as tape:
            loss = MemberLoss(config.loss)(truth, trainee(inputs, training=False))
        return tape.gradient(loss, head_0.kernel).numpy()

    before = head_0_gradient()
    head_1.set_weights([w + 3.0 for w in head_1.get_weights()])
    np.testing.assert_allclose(head_0_gradient(), before, atol=1e-6)
    assert np.abs(before).max() > 0


def test_a_batch_as_large_as_the_ensemble_forecasts_like_any_other():
    """Traced with an unknown batch size (as in the export), a batch of `members` windows gets
    the same forecast as in eager mode (a broadcast of the last value over the members axis
    once mixed the two up)."""
    _, model = small_model(members=3)
    inputs = sample_inputs(batch=3)
    signature = {
        "window": tf.TensorSpec([None, 6, 2], tf.float32),
        "timestamps": tf.TensorSpec([None, 6], tf.int64),
    }
    traced = tf.function(lambda x: model(x, training=False), input_signature=[signature])
    np.testing.assert_allclose(
        traced(inputs).numpy(), model(inputs, training=False).numpy(), atol=1e-5
    )
