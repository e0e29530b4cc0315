"""Evaluate a finished captioning run again (through its export) and rewrite `metrics.json`.

python -m apps.captioning.evaluate --run_dir runs/captioning [--data_dir DIR]
"""

from shared.commands import app_command

main = app_command("captioning", "evaluate", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
