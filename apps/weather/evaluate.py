"""Evaluate a finished weather run again (through its export) and rewrite `metrics.json`.

python -m apps.weather.evaluate --run_dir runs/weather [--data_dir DIR | --csv FILE]
"""

from shared.commands import app_command

main = app_command("weather", "evaluate", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
