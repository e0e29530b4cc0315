"""Evaluate a finished sentiment run again (through its export) and rewrite `metrics.json`.

python -m apps.sentiment.evaluate --run_dir runs/sentiment [--data_dir DIR]
"""

from shared.commands import app_command

main = app_command("sentiment", "evaluate", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
