"""Forecast the steps after the end of a CSV with a finished weather run.

    python -m apps.weather.predict --run_dir runs/weather recent.csv

The CSV has the training data's columns; it is cleaned the same way (resampling, sentinel
values, gaps carried forward, one-hot encoding) and its last `input_steps` rows form the window.
"""

from shared.commands import app_command

main = app_command("weather", "predict", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
