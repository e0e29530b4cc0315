import keras
import numpy as np
import pandas as pd
import pytest

from apps.weather.config import WeatherConfig
from apps.weather.model import TimeFeatures
from apps.weather.model import build_model
from apps.weather.model import compile_model
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
    mean, std = np.array([10.0, 50.0], "float32"), np.array([2.0, 5.0], "float32")
    return config, build_model(config, feature_mean=mean, feature_std=std, target_indices=[0])


def sample_inputs(batch=3):
    rng = np.random.default_rng(0)
    window = (rng.normal(size=(batch, 6, 2)) * [2, 5] + [10, 50]).astype("float32")
    start = 1_600_000_000
    timestamps = start + 3600 * np.arange(6)[None].repeat(batch, 0).astype("int64")
    return {"window": window, "timestamps": timestamps}


def test_residual_head_starts_from_the_last_value():
    _, model = small_model()
    head = model.get_layer("head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    inputs = sample_inputs()
    forecast = model.predict(inputs, verbose=0)
    last_normalized = (inputs["window"][:, -1, 0] - 10.0) / 2.0
    assert forecast.shape == (3, 4, 1)
    np.testing.assert_allclose(forecast[..., 0], last_normalized[:, None].repeat(4, 1), atol=1e-5)


@pytest.mark.parametrize("residual, time_features", [(True, True), (False, False)])
def test_model_trains_and_reloads(tmp_path, residual, time_features):
    config, model = small_model(
        residual=residual, time_features=time_features, bidirectional=True, cell="gru"
    )
    compile_model(model, config)
    inputs = sample_inputs(batch=8)
    model.fit(inputs, np.zeros((8, 4, 1), "float32"), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(
        restored.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=1e-5
    )
