"""Train a multi-horizon weather forecaster, score it against naive baselines, export it.

python -m apps.weather.train                                   # Jena climate (downloaded)
python -m apps.weather.train --data_dir DIR --target_columns TEMP
"""

from typing import Optional
from typing import Sequence

from apps.weather.task import WeatherTask
from shared.cli import command
from shared.runner import train_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return train_command(WeatherTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
