"""Small hourly weather CSVs with a known signal and the usual defects, written per test."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def signal_frame(hours: int = 1500, seed: int = 0) -> pd.DataFrame:
    """A daily sine plus a slow trend (temp), a related humidity and a wind direction code."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2021-01-01", periods=hours, freq="1h")
    t = np.arange(hours)
    temp = 10 + 6 * np.sin(2 * np.pi * t / 24) + 0.004 * t + rng.normal(0, 0.3, hours)
    humidity = 60 - 2 * temp + rng.normal(0, 1.0, hours)
    wind = np.where(np.sin(2 * np.pi * t / 24) > 0, "S", "N")
    return pd.DataFrame(
        {
            "timestamp": times.strftime("%Y-%m-%d %H:%M:%S"),
            "temp": temp.round(3),
            "humidity": humidity.round(3),
            "wind": wind,
            "pressure": (1010 + rng.normal(0, 2, hours)).round(2),
        }
    )


def messy(frame: pd.DataFrame) -> pd.DataFrame:
    """Two NA cells, one -9999 sentinel, one duplicated row and one missing hour."""
    frame = frame.copy()
    frame.loc[5, "pressure"] = np.nan
    frame.loc[7, "humidity"] = np.nan
    frame.loc[9, "pressure"] = -9999
    frame = pd.concat([frame.iloc[:20], frame.iloc[[20]], frame.iloc[20:]], ignore_index=True)
    return frame.drop(index=30).reset_index(drop=True)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, na_rep="NA")
    return path


@pytest.fixture
def weather_dir(tmp_path) -> Path:
    write_csv(messy(signal_frame()), tmp_path / "weather" / "station.csv")
    return tmp_path / "weather"
