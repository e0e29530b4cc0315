"""Evaluate a finished weather run again (through its export) and rewrite `metrics.json`.

python -m apps.weather.evaluate --run_dir runs/weather [--data_dir DIR | --csv FILE]
"""

from typing import Optional
from typing import Sequence

from apps.weather.task import WeatherTask
from shared.cli import command
from shared.runner import evaluate_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return evaluate_command(WeatherTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
