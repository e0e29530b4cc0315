"""Train a multi-horizon weather forecaster, score it against naive baselines, export it.

python -m apps.weather.train                                   # Jena climate (downloaded)
python -m apps.weather.train --data_dir DIR --target_columns TEMP
"""

from shared.commands import app_command

main = app_command("weather", "train", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
