"""Forecast the steps after the end of a CSV with a finished weather run.

    python -m apps.weather.predict --run_dir runs/weather recent.csv

The CSV has the training data's columns; it is cleaned the same way (resampling, sentinel
values, interpolation, one-hot encoding) and its last `input_steps` rows form the window.
"""

from pathlib import Path
from typing import Optional
from typing import Sequence

import numpy as np
import pandas as pd
import tensorflow as tf

from apps.weather.config import WeatherConfig
from apps.weather.data import read_clean_table
from shared.cli import command
from shared.config import read_config
from shared.errors import UserError
from shared.evaluation import prediction_parser
from shared.export import load_signature
from shared.run_dir import RunDir


def read_window(path: Path, config: WeatherConfig) -> tuple[np.ndarray, np.ndarray, pd.Timestamp]:
    """`[1, input_steps, features]` raw window, `[1, input_steps]` timestamps, the last time."""
    table, _ = read_clean_table(path, config)
    frame = table.frame
    missing = [c for c in config.input_columns if c not in frame.columns and "=" not in c]
    if missing:
        raise UserError(f"{path}: missing input column(s) {', '.join(missing)}")
    # A category absent from this file is simply never observed: its one-hot column is 0.
    frame = frame.reindex(columns=list(config.input_columns), fill_value=0.0)
    if len(frame) < config.input_steps:
        raise UserError(
            f"{path}: {len(frame)} rows after cleaning; the run needs the last "
            f"{config.input_steps} rows (--input_steps)"
        )
    frame = frame.iloc[-config.input_steps :]
    window = frame.to_numpy(np.float32)
    bad = ~np.isfinite(window)
    if bad.any():
        row, column = map(int, np.argwhere(bad)[0])
        raise UserError(
            f"{path}: column {frame.columns[column]!r} at {frame.index[row]} is "
            f"{window[row, column]}; the window must be finite"
        )
    timestamps = table.unix_seconds()[-config.input_steps :]
    return window[None], timestamps[None], frame.index[-1]


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = prediction_parser(
        "python -m apps.weather.predict", __doc__, metavar="CSV", help="Recent observations"
    )
    args = parser.parse_args(argv)
    run = RunDir(Path(args.run_dir))
    if not run.config.exists():
        raise UserError(f"{run.root}: no config.json; is this a run directory?")
    config = read_config(WeatherConfig, run.config)
    serve = load_signature(run)
    step = pd.Timedelta(config.resample) if config.resample else None
    for item in args.inputs:
        path = Path(item)
        window, timestamps, last = read_window(path, config)
        step = step or pd.Timedelta(seconds=int(timestamps[0, -1] - timestamps[0, -2]))
        forecast = serve(window=tf.constant(window), timestamps=tf.constant(timestamps))
        values = forecast["forecast"].numpy()[0]
        print(f"{path}: forecast after {last} ({', '.join(config.target_columns)})")
        for h, row in enumerate(values, start=1):
            cells = "  ".join(
                f"{name}={value:.3f}" for name, value in zip(config.target_columns, row)
            )
            print(f"  {last + h * step}  {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
