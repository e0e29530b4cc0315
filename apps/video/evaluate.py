"""Evaluate a finished video run again (through its export) and rewrite `metrics.json`.

python -m apps.video.evaluate --run_dir runs/video [--data_dir DIR]
"""

from shared.commands import app_command

main = app_command("video", "evaluate", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
