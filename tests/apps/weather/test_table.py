import numpy as np
import pandas as pd
import pytest

from apps.weather.table import clean_table
from apps.weather.table import read_csv
from apps.weather.table import select_columns
from shared.errors import UserError
from tests.apps.weather.conftest import signal_frame
from tests.apps.weather.conftest import write_csv


def clean(path, **options):
    defaults = dict(time_column="", sentinel_values=(-9999.0,))
    return clean_table(read_csv(path), path, **{**defaults, **options})


def test_messy_rows_are_fixed_and_counted(weather_dir):
    table, time_column = clean(weather_dir / "station.csv")
    report = table.report
    assert time_column == "timestamp"
    assert report["duplicate_timestamps"] == 1
    assert report["missing_steps"] == 1
    assert report["sentinel_values"] == {"pressure": 1}
    # pressure: one NA, one sentinel, one missing hour; humidity: one NA, one missing hour.
    assert report["carried_forward_values"]["pressure"] == 3
    assert report["carried_forward_values"]["humidity"] == 2
    assert report["leading_rows_dropped"] == 0
    assert report["categorical_columns"] == {"wind": ["N", "S"]}
    assert report["rows"] == 1500 and report["step"] == "1h"
    frame = table.frame
    assert list(frame.columns) == ["temp", "humidity", "wind=N", "wind=S", "pressure"]
    assert not frame.isna().any().any()
    assert (np.diff(frame.index.to_numpy()) == np.timedelta64(1, "h")).all()
    assert frame["pressure"].min() > 1000  # the sentinel did not leak into the data


def test_gaps_are_filled_from_the_past_only(tmp_path):
    """A gap takes the last value before it, never a later row (serving has no future)."""
    frame = signal_frame(hours=48)
    frame.loc[10:12, "temp"] = np.nan
    frame.loc[0:2, "humidity"] = np.nan  # no past: these leading rows are dropped
    table, _ = clean(write_csv(frame, tmp_path / "a.csv"))
    assert table.report["leading_rows_dropped"] == 3
    assert table.report["leading_missing_values"] == {"humidity": 3}
    temp = table.frame["temp"]
    assert len(temp) == 45 and temp.iloc[0] == pytest.approx(frame.loc[3, "temp"])
    assert temp.iloc[7:10].tolist() == pytest.approx([frame.loc[9, "temp"]] * 3)
    assert not table.observed["temp"].iloc[7:10].any() and table.observed["temp"].iloc[10]
    # Changing the rows after a gap changes nothing inside it.
    later = frame.copy()
    later.loc[13:, "temp"] += 100.0
    shifted, _ = clean(write_csv(later, tmp_path / "b.csv"))
    assert shifted.frame["temp"].iloc[:10].tolist() == pytest.approx(temp.iloc[:10].tolist())


def test_resampling_averages_into_the_coarser_grid(tmp_path):
    times = pd.date_range("2021-01-01 00:10", periods=12, freq="10min")
    frame = pd.DataFrame({"Date Time": times.strftime("%d.%m.%Y %H:%M:%S"), "x": np.arange(12.0)})
    table, _ = clean(
        write_csv(frame, tmp_path / "jena.csv"),
        time_column="Date Time",
        time_format="%d.%m.%Y %H:%M:%S",
        resample="1h",
    )
    # 00:10-00:50 (rows 0-4), 01:00-01:50 (rows 5-10), 02:00 (row 11)
    assert table.frame["x"].tolist() == [2.0, 7.5, 11.0]
    assert table.report["step"] == "1h"


def test_categorical_name_selects_all_its_values(weather_dir):
    table, _ = clean(weather_dir / "station.csv")
    assert select_columns(table, ["temp", "wind"], "input_columns") == ("temp", "wind=N", "wind=S")
    with pytest.raises(UserError, match="no column 'rain'.*--input_columns"):
        select_columns(table, ["rain"], "input_columns")


def test_unparsable_time_names_column_and_line(tmp_path):
    frame = signal_frame(hours=30)
    frame.loc[4, "timestamp"] = "yesterday noon"
    with pytest.raises(UserError, match="'timestamp' line 6.*yesterday noon"):
        clean(write_csv(frame, tmp_path / "a.csv"))


def test_time_going_backwards_names_the_column(tmp_path):
    frame = signal_frame(hours=30)
    frame.loc[[10, 11], "timestamp"] = frame.loc[[11, 10], "timestamp"].to_numpy()
    with pytest.raises(
        UserError, match="'timestamp' is not in time order: line 13 .* is earlier than line 12"
    ):
        clean(write_csv(frame, tmp_path / "a.csv"))


def test_missing_time_column(tmp_path):
    frame = signal_frame(hours=30).rename(columns={"timestamp": "when"})
    with pytest.raises(UserError, match="no column named like a date or time"):
        clean(write_csv(frame, tmp_path / "a.csv"))
    with pytest.raises(UserError, match="no time column 'stamp'"):
        clean(tmp_path / "a.csv", time_column="stamp")


def test_free_text_column_is_refused(tmp_path):
    frame = signal_frame(hours=80)
    frame["note"] = [f"note {i}" for i in range(80)]
    with pytest.raises(UserError, match="'note' is neither numeric nor categorical"):
        clean(write_csv(frame, tmp_path / "a.csv"))


def test_unreadable_files(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_csv(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(UserError, match="empty.csv: cannot read as CSV"):
        read_csv(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("timestamp,temp\n")
    with pytest.raises(UserError, match="no data rows"):
        read_csv(tmp_path / "header.csv")


def test_bad_resample_frequency(weather_dir):
    with pytest.raises(UserError, match="--resample"):
        clean(weather_dir / "station.csv", resample="hourly")


def test_text_in_a_column_of_numbers_is_a_named_missing_cell(tmp_path, capsys):
    """A sensor's `abc` in a numeric input or target column is one missing value, counted and
    named by line (before: the input column became 46 one-hot columns; in the target, an
    error naming neither line nor cell)."""
    frame = signal_frame(hours=200).astype({"humidity": object, "temp": object})
    frame.loc[6, "humidity"] = "abc"
    frame.loc[[10, 11], "temp"] = "n/a?"
    table, _ = clean(write_csv(frame, tmp_path / "station.csv"))
    assert list(table.frame.columns) == ["temp", "humidity", "wind=N", "wind=S", "pressure"]
    assert table.report["cells_not_numbers"] == {
        "temp": {"cells": 2, "first_line": 12},
        "humidity": {"cells": 1, "first_line": 8},
    }
    assert not table.observed["humidity"].iloc[6] and table.observed["humidity"].iloc[7]
    assert select_columns(table, ["temp"], "target_columns") == ("temp",)
    out = capsys.readouterr().err
    path = tmp_path / "station.csv"
    assert f"warning: {path}, line 8, column 'humidity': 'abc' is not a number" in out
