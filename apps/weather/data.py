"""Weather data: a clean table, split in time, with training statistics and window datasets."""

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from apps.weather.config import JENA_URL
from apps.weather.config import WeatherConfig
from apps.weather.table import Table
from apps.weather.table import clean_table
from apps.weather.table import format_step
from apps.weather.table import read_csv
from apps.weather.table import select_columns
from shared.data import AUTOTUNE
from shared.data import with_options
from shared.errors import UserError
from shared.sharding import InputShard

if TYPE_CHECKING:  # scaling.py imports this module
    from apps.weather.scaling import Standardize

SPLITS = ("train", "val", "test")


@dataclasses.dataclass
class Segment:
    """One chronological split: raw features, raw targets and Unix-second timestamps per row."""

    features: np.ndarray  # float32 [rows, features]
    targets: np.ndarray  # float32 [rows, targets]
    timestamps: np.ndarray  # int64 [rows]
    offset: int  # index of the first row in the whole table
    observed: np.ndarray  # bool [rows]: every target of the row was in the file

    def all_windows(self, input_steps: int, horizon: int) -> int:
        """Windows that fit in the segment, whether their targets were observed or not."""
        return max(0, len(self.timestamps) - input_steps - horizon + 1)

    def window_starts(self, input_steps: int, horizon: int) -> np.ndarray:
        """First rows of the windows whose targets were all observed (none carried forward):
        a forecast is never trained on or scored against a value that was not measured."""
        count = self.all_windows(input_steps, horizon)
        if count == 0:
            return np.zeros(0, np.int64)
        missing = np.concatenate([[0], np.cumsum(~self.observed)])
        first, last = np.arange(count) + input_steps, np.arange(count) + input_steps + horizon
        return np.flatnonzero(missing[last] == missing[first]).astype(np.int64)

    def num_windows(self, input_steps: int, horizon: int) -> int:
        return len(self.window_starts(input_steps, horizon))

    def unscored_windows(self, input_steps: int, horizon: int) -> int:
        """Windows left out because a target value in their horizon was missing."""
        return self.all_windows(input_steps, horizon) - self.num_windows(input_steps, horizon)


@dataclasses.dataclass
class WeatherData:
    segments: dict[str, Segment]
    targets: np.ndarray  # the whole table's targets, for baselines that look further back
    input_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    step_seconds: int
    report: dict

    def train_and_val(self) -> Segment:
        """The training and validation rows as one segment (they are adjacent in time)."""
        train, val = self.segments["train"], self.segments["val"]
        return Segment(
            np.concatenate([train.features, val.features]),
            np.concatenate([train.targets, val.targets]),
            np.concatenate([train.timestamps, val.timestamps]),
            train.offset,
            np.concatenate([train.observed, val.observed]),
        )


def find_csv(config: WeatherConfig) -> Path:
    """`--csv`, else the single `*.csv` in `--data_dir`, else the Jena CSV (downloaded once)."""
    if config.csv:
        return Path(config.csv)
    if config.data_dir:
        root = Path(config.data_dir)
        if not root.is_dir():
            raise UserError(f"--data_dir {root}: no such folder")
        found = sorted(root.glob("*.csv"))
        if len(found) != 1:
            raise UserError(
                f"--data_dir {root}: expected one *.csv file, found {len(found)}; "
                f"name the file with --csv"
            )
        return found[0]
    try:
        folder = keras.utils.get_file(origin=JENA_URL, extract=True)
    except Exception as error:  # Keras raises a bare Exception for URL and HTTP failures
        if not isinstance(error, OSError) and not str(error).startswith("URL fetch failure"):
            raise
        raise UserError(
            f"cannot download the Jena climate CSV ({str(error)[:200]}); check the "
            f"network, or pass --data_dir/--csv with your own CSV"
        ) from None
    found = sorted(Path(folder).rglob("jena_climate_2009_2016.csv"))
    if not found:
        raise UserError(f"{folder}: the downloaded archive holds no jena_climate_2009_2016.csv")
    return found[0]


def read_clean_table(path: Path, config: WeatherConfig) -> tuple[Table, str]:
    """Read a CSV and clean it the way the config says (time column, grid, sentinels)."""
    return clean_table(
        read_csv(path),
        path,
        time_column=config.time_column,
        time_format=config.time_format,
        resample=config.resample,
        sentinel_values=config.sentinel_values,
    )


def load_data(config: WeatherConfig) -> tuple[WeatherData, WeatherConfig]:
    """The cleaned, split data and the config with its detected columns filled in."""
    config = config.with_data_defaults()
    path = find_csv(config)
    table, time_column = read_clean_table(path, config)
    target_columns = resolve_targets(table, config, path)
    input_columns = select_columns(
        table, config.input_columns or tuple(table.frame.columns), "input_columns", path
    )
    config = dataclasses.replace(
        config, time_column=time_column, target_columns=target_columns, input_columns=input_columns
    )
    return split_table(table, config), config


def resolve_targets(table: Table, config: WeatherConfig, path: Path) -> tuple[str, ...]:
    numeric = [c for c in table.frame.columns if "=" not in c]
    if not config.target_columns:
        raise UserError(
            f"--target_columns: name the column(s) to forecast in {path} "
            f"(numeric columns: {', '.join(numeric)})"
        )
    targets = select_columns(table, config.target_columns, "target_columns", path)
    for name in targets:
        if name not in numeric:
            raise UserError(
                f"--target_columns: {name!r} is categorical; forecast numeric "
                f"columns ({', '.join(numeric)})"
            )
    return targets


def split_table(table: Table, config: WeatherConfig) -> WeatherData:
    """Chronological train/val/test segments; statistics come from the training rows only."""
    frame = table.frame
    features = frame[list(config.input_columns)].to_numpy(np.float32)
    targets = frame[list(config.target_columns)].to_numpy(np.float32)
    timestamps = table.unix_seconds()
    observed = table.observed[list(config.target_columns)].to_numpy().all(axis=1)
    ends = np.cumsum([int(round(f * len(frame))) for f in config.split_fractions])
    ends[-1] = len(frame)
    starts = np.concatenate([[0], ends[:-1]])
    need = config.input_steps + config.horizon
    segments = {}
    for name, start, end in zip(SPLITS, starts, ends):
        if end - start < need:
            raise UserError(
                f"the {name} split has {end - start} rows of {format_step(table.step)}; one "
                f"window needs --input_steps + --horizon = {need}; use more data "
                f"or shorter windows"
            )
        segments[name] = Segment(
            features[start:end],
            targets[start:end],
            timestamps[start:end],
            int(start),
            observed[start:end],
        )
        if segments[name].num_windows(config.input_steps, config.horizon) == 0:
            raise UserError(
                f"the {name} split has no window whose {config.horizon} target rows were all "
                f"observed (--target_columns {','.join(config.target_columns)} are missing "
                f"there); use more data or other split fractions"
            )
    return WeatherData(
        segments=segments,
        targets=targets,
        input_columns=config.input_columns,
        target_columns=config.target_columns,
        step_seconds=int(table.step.total_seconds()),
        report={
            **table.report,
            "split_rows": {n: int(e - s) for n, s, e in zip(SPLITS, starts, ends)},
            "windows_with_missing_targets": {
                name: segment.unscored_windows(config.input_steps, config.horizon)
                for name, segment in segments.items()
            },
        },
    )


@dataclasses.dataclass
class Statistics:
    """Mean and standard deviation of every input and target column over the training rows."""

    feature_mean: np.ndarray
    feature_std: np.ndarray
    target_mean: np.ndarray
    target_std: np.ndarray

    @classmethod
    def fit(cls, train: Segment) -> "Statistics":
        return cls(
            train.features.mean(axis=0),
            safe_std(train.features),
            train.targets.mean(axis=0),
            safe_std(train.targets),
        )


def safe_std(values: np.ndarray) -> np.ndarray:
    """Standard deviation per column; a constant column gets 1 so it normalizes to 0."""
    std = values.std(axis=0)
    return np.where(std > 1e-6, std, 1.0).astype(np.float32)


def make_dataset(
    segment: Segment,
    scaler: "Standardize",
    config: WeatherConfig,
    *,
    training: bool,
    shard: InputShard = InputShard(),
) -> tf.data.Dataset:
    """Batches of `({"window", "timestamps"}, targets [horizon, targets])`, normalized by the
    model's `scaler` (`apps.weather.scaling.Standardize`) once for the whole segment.

    Window `i` holds rows `i .. i+input_steps-1`; its targets are the rows `1..horizon` steps
    after the window's last row. Windows stay inside the segment, so none straddles two splits,
    and windows with a missing target value are left out (`Segment.window_starts`). Only
    this worker's `shard` of the windows is read.
    """
    steps, horizon = config.input_steps, config.horizon
    features = tf.constant(np.asarray(scaler.features(segment.features), np.float32))
    timestamps = tf.constant(segment.timestamps)
    targets = tf.constant(np.asarray(scaler.targets(segment.targets), np.float32))
    input_offsets = tf.range(steps, dtype=tf.int64)
    target_offsets = tf.range(steps, steps + horizon, dtype=tf.int64)

    def gather(starts):
        rows = starts[:, None] + input_offsets
        inputs = {"window": tf.gather(features, rows), "timestamps": tf.gather(timestamps, rows)}
        return inputs, tf.gather(targets, starts[:, None] + target_offsets)

    starts = shard.take(segment.window_starts(steps, horizon))
    dataset = tf.data.Dataset.from_tensor_slices(starts)
    if training:
        dataset = dataset.shuffle(len(starts), seed=config.seed)
    dataset = dataset.batch(config.batch_size).map(gather, num_parallel_calls=AUTOTUNE)
    return with_options(dataset.prefetch(AUTOTUNE))


def read_window(path: Path, config: WeatherConfig) -> tuple[np.ndarray, np.ndarray, pd.Timestamp]:
    """A `predict` input: the last `input_steps` rows of a CSV cleaned as in training.

    Returns the `[1, input_steps, features]` raw window, its `[1, input_steps]` timestamps and
    the last time.
    """
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
