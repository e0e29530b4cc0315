"""A weather CSV to a clean table: regular time grid, numeric columns only, no gaps.

Real files are messy, so every fix is explicit and counted in a report that ends up in
`metrics.json`: sentinel values (Jena's -9999 wind speeds), empty cells and text in a column
of numbers (a sensor's `abc`, named with its line in a warning) become missing,
categorical columns are one-hot encoded as `<column>=<value>`, duplicated timestamps are
averaged, missing timestamps are re-inserted on the regular grid, and a missing value is
carried forward from the last observation before it: never filled from a later row, which
serving would not have. Rows before every column has been observed once are dropped.
`Table.observed` remembers which values were real, so that windows whose targets were
missing are left out of training and scoring. What cannot be fixed (no usable time column,
timestamps going backwards, a target with no values) is a `UserError` naming the column.
"""

import dataclasses
import sys
from pathlib import Path
from typing import Optional
from typing import Sequence

import numpy as np
import pandas as pd

from shared.errors import UserError

MAX_CATEGORIES = 50
NA_STRINGS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "-"]


@dataclasses.dataclass
class Table:
    """Rows on a regular `step` grid (a `DatetimeIndex`), float columns, no missing value.

    `observed` has the frame's shape: True where the value was in the file, False where it
    was carried forward.
    """

    frame: pd.DataFrame
    step: pd.Timedelta
    report: dict
    observed: Optional[pd.DataFrame] = None

    def unix_seconds(self) -> np.ndarray:
        return unix_seconds(self.frame.index)


def unix_seconds(index: pd.DatetimeIndex) -> np.ndarray:
    """Timestamps as int64 Unix seconds (clock times without a zone are read as UTC)."""
    return ((index - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")).to_numpy(np.int64)


def read_csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, na_values=NA_STRINGS, keep_default_na=True, low_memory=False)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{path}: cannot read as CSV ({reason})") from None
    if frame.empty:
        raise UserError(f"{path}: no data rows")
    return frame


def find_time_column(frame: pd.DataFrame, requested: str, path: Path) -> str:
    """The requested time column, else the first column whose name says date or time."""
    if requested:
        if requested not in frame.columns:
            raise UserError(
                f"{path}: no time column {requested!r} (--time_column); columns: "
                f"{', '.join(map(str, frame.columns))}"
            )
        return requested
    for column in frame.columns:
        if any(word in str(column).lower() for word in ("date", "time", "timestamp")):
            return column
    raise UserError(
        f"{path}: no column named like a date or time; pass --time_column "
        f"(columns: {', '.join(map(str, frame.columns))})"
    )


def parse_times(values: pd.Series, column: str, time_format: str, path: Path) -> pd.DatetimeIndex:
    """Parsed timestamps; unparsable or decreasing ones are an error naming the CSV line."""
    times = pd.to_datetime(values, format=time_format or None, errors="coerce")
    bad = times.isna()
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise UserError(
            f"{path}: column {column!r} line {row + 2}: cannot parse time "
            f"{values.iloc[row]!r}"
            + (f" with --time_format {time_format!r}" if time_format else " (set --time_format)")
        )
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    backwards = np.flatnonzero(np.diff(times.to_numpy()) < np.timedelta64(0))
    if len(backwards):
        row = int(backwards[0]) + 1
        raise UserError(
            f"{path}: column {column!r} is not in time order: line {row + 2} "
            f"({values.iloc[row]}) is earlier than line {row + 1} "
            f"({values.iloc[row - 1]})"
        )
    return pd.DatetimeIndex(times)


def split_columns(
    frame: pd.DataFrame, path: Path
) -> tuple[pd.DataFrame, dict[str, list[str]], dict[str, dict]]:
    """Numeric columns as floats plus one-hot `<column>=<value>` columns for categorical ones.

    A column whose cells are mostly numbers is numeric: its other cells (a sensor's `abc`) are
    read as missing, counted and named (CSV line and text) in the third value, and warned of.
    """
    numeric, categories, not_numbers = {}, {}, {}
    for column in frame.columns:
        values = frame[column]
        as_numbers = pd.to_numeric(values, errors="coerce")
        bad = as_numbers.isna() & values.notna()
        if not bad.any() or bad.sum() * 2 < values.notna().sum():
            numeric[str(column)] = as_numbers.astype("float64")
            if bad.any():
                first = int(np.flatnonzero(bad.to_numpy())[0])
                line, text = first + 2, str(values.iloc[first])  # line 1 is the header
                not_numbers[str(column)] = {"cells": int(bad.sum()), "first_line": line}
                print(
                    f"warning: {path}, line {line}, column {column!r}: {text!r} is not a number; "
                    f"{int(bad.sum())} such cell(s) in the column are read as missing",
                    file=sys.stderr,
                )
            continue
        labels = sorted(str(v) for v in values.dropna().unique())
        if len(labels) > MAX_CATEGORIES:
            raise UserError(
                f"{path}: column {column!r} is neither numeric nor categorical "
                f"({len(labels)} distinct text values); leave it out with "
                f"--input_columns"
            )
        categories[str(column)] = labels
        for label in labels:
            one_hot = (values.astype("string") == label).astype("float64")
            numeric[f"{column}={label}"] = one_hot.where(values.notna())
    return pd.DataFrame(numeric, index=frame.index), categories, not_numbers


def infer_step(times: pd.DatetimeIndex, path: Path) -> pd.Timedelta:
    """The most common gap between consecutive distinct timestamps."""
    gaps = pd.Series(np.diff(times.unique().to_numpy()))
    if gaps.empty:
        raise UserError(f"{path}: fewer than two distinct timestamps")
    return pd.Timedelta(gaps.mode().iloc[0])


def to_step(resample: str) -> pd.Timedelta:
    try:
        return pd.Timedelta(pd.tseries.frequencies.to_offset(resample))
    except (ValueError, TypeError):
        raise UserError(
            f"--resample: {resample!r} is not a fixed pandas frequency such as 10min, 1h or 1D"
        ) from None


def format_step(step: pd.Timedelta) -> str:
    """`1h`, `10min`, `1D`: a pandas frequency string for a time step."""
    text = pd.tseries.frequencies.to_offset(step).freqstr
    return text if text[0].isdigit() else f"1{text}"


def clean_table(
    frame: pd.DataFrame,
    path: Path,
    *,
    time_column: str,
    time_format: str = "",
    resample: str = "",
    sentinel_values: Sequence[float] = (),
) -> tuple[Table, str]:
    """The CSV's rows on a regular grid, every column numeric and filled; also the time column."""
    column = find_time_column(frame, time_column, path)
    times = parse_times(frame[column], column, time_format, path)
    values, categories, not_numbers = split_columns(frame.drop(columns=[column]), path)
    sentinels = values.isin(list(sentinel_values))
    values = values.mask(sentinels)
    values.index = times
    duplicates = int(times.duplicated().sum())
    values = values.groupby(level=0).mean()
    step = to_step(resample) if resample else infer_step(times, path)
    # Resampled bins start on whole periods (00:00, 01:00, ...); the native grid keeps its own.
    values = values.resample(step, origin="start_day" if resample else "start").mean()
    missing_steps = int(values.isna().all(axis=1).sum())
    missing = values.isna().sum()
    empty = [c for c in values.columns if missing[c] == len(values)]
    values = values.drop(columns=empty)
    # Carry the last observation forward; rows before a column's first one have no past.
    first_complete = int(values.notna().cummax().all(axis=1).to_numpy().argmax())
    leading = values.iloc[:first_complete].isna().sum()
    values = values.iloc[first_complete:]
    observed = values.notna()
    values = values.ffill()
    report = {
        "rows_read": int(len(frame)),
        "rows": int(len(values)),
        "step": format_step(step),
        "duplicate_timestamps": duplicates,
        "missing_steps": missing_steps,
        "sentinel_values": {c: int(n) for c, n in sentinels.sum().items() if n},
        "carried_forward_values": {c: int(n) for c, n in (~observed).sum().items() if n},
        "leading_rows_dropped": first_complete,
        "leading_missing_values": {c: int(n) for c, n in leading.items() if n},
        "empty_columns": empty,
        "categorical_columns": categories,
        "cells_not_numbers": not_numbers,
    }
    return Table(values, step, report, observed), column


def select_columns(
    table: Table, requested: Sequence[str], role: str, path: Optional[Path] = None
) -> tuple[str, ...]:
    """Resolve `--input_columns`/`--target_columns`; a categorical name means all its values."""
    categories = table.report["categorical_columns"]
    selected = []
    for name in requested:
        if name in table.frame.columns:
            selected.append(name)
        elif name in categories:
            selected.extend(
                f"{name}={label}"
                for label in categories[name]
                if f"{name}={label}" in table.frame.columns
            )
        elif name in table.report["empty_columns"]:
            raise UserError(f"{path or 'the data'}: column {name!r} (--{role}) has no values")
        else:
            raise UserError(
                f"{path or 'the data'}: no column {name!r} (--{role}); columns: "
                f"{', '.join(table.frame.columns)}"
            )
    return tuple(dict.fromkeys(selected))
