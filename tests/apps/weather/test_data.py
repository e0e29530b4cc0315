import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest

from apps.weather import forecasts
from apps.weather.config import WeatherConfig
from apps.weather.data import Statistics
from apps.weather.data import load_data
from apps.weather.data import make_dataset
from apps.weather.scaling import Standardize
from apps.weather.scoring import test_windows as scoring_windows
from shared.errors import UserError
from tests.apps.weather.conftest import signal_frame
from tests.apps.weather.conftest import write_csv


def counter_csv(tmp_path, rows=200):
    """`count` equals the row number, so every window's position can be read off its values."""
    times = pd.date_range("2022-03-01", periods=rows, freq="1h")
    frame = pd.DataFrame(
        {
            "time": times,
            "count": np.arange(rows, dtype=float),
            "noise": np.random.default_rng(0).normal(size=rows),
        }
    )
    return write_csv(frame, tmp_path / "counter" / "data.csv")


def config_for(path, **overrides) -> WeatherConfig:
    values = dict(
        csv=str(path),
        target_columns=("count",),
        input_steps=5,
        horizon=3,
        batch_size=7,
        output_dir="unused",
    )
    return WeatherConfig(**{**values, **overrides})


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_targets_are_the_horizon_rows_after_the_last_input(tmp_path, split):
    data, config = load_data(config_for(counter_csv(tmp_path)))
    segment = data.segments[split]
    statistics = Statistics.fit(data.segments["train"])
    count_column = config.input_columns.index("count")
    seen = 0
    scaler = Standardize.fit(statistics)
    for inputs, targets in make_dataset(segment, scaler, config, training=split == "train"):
        # The model's scaler normalized windows and targets; back to raw units:
        window = inputs["window"].numpy()[..., count_column]
        window = (
            window * statistics.feature_std[count_column] + statistics.feature_mean[count_column]
        )
        raw_targets = targets.numpy()[..., 0] * statistics.target_std[0] + statistics.target_mean[0]
        last = window[:, -1]
        np.testing.assert_allclose(window, last[:, None] + np.arange(-4, 1), atol=1e-3)
        np.testing.assert_allclose(raw_targets, last[:, None] + np.arange(1, 4), atol=1e-3)
        seconds = inputs["timestamps"].numpy()
        assert (np.diff(seconds, axis=1) == 3600).all()
        # Windows and targets stay inside the split: rows offset .. offset + rows - 1.
        assert window.min() >= segment.offset - 1e-3
        assert raw_targets.max() <= segment.offset + len(segment.timestamps) - 1 + 1e-3
        seen += len(window)
    assert seen == len(segment.timestamps) - 5 - 3 + 1


def test_windows_whose_targets_were_missing_are_neither_trained_nor_scored(tmp_path):
    path = counter_csv(tmp_path)
    frame = pd.read_csv(path)
    frame.loc[20, "count"] = np.nan  # a target gap in the training rows
    frame.loc[190, "count"] = np.nan  # and one in the test rows (180-199)
    frame.loc[40, "noise"] = np.nan  # an input gap only: its windows stay
    data, config = load_data(config_for(write_csv(frame, path)))
    train = data.segments["train"]
    # With horizon 3, three windows have row 20 among their targets, three have row 190.
    assert data.report["windows_with_missing_targets"] == {"train": 3, "val": 0, "test": 3}
    assert data.targets[20, 0] == 19.0  # the gap holds the last value before it
    statistics = Statistics.fit(train)
    trained = []  # row number of each training window's last input row
    for inputs, _ in make_dataset(train, Standardize.fit(statistics), config, training=True):
        seconds = inputs["timestamps"].numpy()[:, -1] - train.timestamps[0]
        trained += (seconds // 3600).tolist()
    every = set(range(4, len(train.timestamps) - 3))  # last input rows of all windows
    assert sorted(trained) == sorted(every - {17, 18, 19})
    _, last_rows = scoring_windows(data, config)
    assert set(last_rows) == set(range(184, 197)) - {187, 188, 189}


def test_splits_are_chronological_and_statistics_come_from_train(tmp_path):
    data, _ = load_data(config_for(counter_csv(tmp_path), split_fractions=(0.5, 0.25, 0.25)))
    assert [s.offset for s in data.segments.values()] == [0, 100, 150]
    statistics = Statistics.fit(data.segments["train"])
    assert statistics.target_mean[0] == pytest.approx(49.5)  # mean of rows 0..99 only
    assert data.report["split_rows"] == {"train": 100, "val": 50, "test": 50}


def test_default_inputs_are_every_column_after_one_hot(tmp_path):
    path = write_csv(signal_frame(hours=200), tmp_path / "a.csv")
    _, config = load_data(config_for(path, target_columns=("temp",)))
    assert config.input_columns == ("temp", "humidity", "wind=N", "wind=S", "pressure")
    assert config.time_column == "timestamp"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"target_columns": ()}, "--target_columns: name the column"),
        ({"target_columns": ("wind",)}, "is categorical"),
        ({"target_columns": ("rain",)}, "no column 'rain'"),
        ({"input_steps": 40}, "the val split has 40 rows of 1h; one window needs .* = 43"),
    ],
)
def test_unusable_settings_are_clear_errors(tmp_path, overrides, message):
    path = write_csv(signal_frame(hours=200), tmp_path / "a.csv")
    with pytest.raises(UserError, match=message):
        load_data(config_for(path, **{"target_columns": ("temp",), **overrides}))


def test_target_with_no_values(tmp_path):
    frame = signal_frame(hours=100)
    frame["temp"] = np.nan
    path = write_csv(frame, tmp_path / "a.csv")
    with pytest.raises(UserError, match="'temp' .*has no values"):
        load_data(config_for(path, target_columns=("temp",)))


def test_data_dir_needs_exactly_one_csv(tmp_path):
    counter_csv(tmp_path)
    write_csv(signal_frame(hours=50), tmp_path / "counter" / "other.csv")
    config = dataclasses.replace(config_for(None), csv=None, data_dir=str(tmp_path / "counter"))
    with pytest.raises(UserError, match="expected one \\*.csv file, found 2"):
        load_data(config)


def test_baselines_on_a_known_series():
    targets = np.arange(100, dtype=float)[:, None]
    last_rows = np.array([50, 60])
    np.testing.assert_array_equal(
        forecasts.truth(targets, last_rows, 3)[..., 0], [[51, 52, 53], [61, 62, 63]]
    )
    np.testing.assert_array_equal(
        forecasts.persistence(targets, last_rows, 3)[..., 0], [[50, 50, 50], [60, 60, 60]]
    )
    seasonal = forecasts.seasonal_naive(targets, last_rows, horizon=6, period=4)[..., 0]
    # Steps 1-4 repeat one season back; steps 5-6 repeat two seasons back.
    np.testing.assert_array_equal(seasonal[0], [47, 48, 49, 50, 47, 48])
    assert forecasts.season_steps(3600) == 24 and forecasts.season_steps(600) == 144


def test_errors_per_target_and_step():
    actual = np.zeros((2, 3, 2))
    predicted = np.zeros((2, 3, 2))
    predicted[:, :, 0] = [1.0, 2.0, 3.0]
    report = forecasts.errors(actual, predicted, ["a", "b"])
    assert report["per_target"]["a"]["mae"] == pytest.approx(2.0)
    assert report["per_target"]["b"]["mae"] == 0.0
    assert report["mae_per_step"] == [0.5, 1.0, 1.5]
    assert report["rmse"] == pytest.approx(np.sqrt((1 + 4 + 9) * 2 / 12))


def test_default_data_download_failure_is_one_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    config = WeatherConfig(output_dir="unused")
    assert config.with_data_defaults().target_columns == ("T (degC)",)
    with pytest.raises(UserError, match="cannot download the Jena climate CSV.*--csv"):
        load_data(config)
