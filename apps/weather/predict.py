"""Forecast the steps after the end of a CSV with a finished weather run.

    python -m apps.weather.predict --run_dir runs/weather recent.csv

The CSV has the training data's columns; it is cleaned the same way (resampling, sentinel
values, gaps carried forward, one-hot encoding) and its last `input_steps` rows form the window.
"""

from typing import Optional
from typing import Sequence

from apps.weather.task import WeatherTask
from shared.cli import command
from shared.runner import predict_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return predict_command(WeatherTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
