"""Evaluate a finished speech run again (through its export) and rewrite `metrics.json`.

python -m apps.speech.evaluate --run_dir runs/speech [--data_dir DIR]

With folder data, the test clips are also sent to both endpoints (float waveforms and WAV
bytes) and `export_check` reports how often the two give the same label.
"""

from shared.commands import app_command

main = app_command("speech", "evaluate", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
