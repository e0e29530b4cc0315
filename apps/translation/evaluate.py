"""Evaluate a finished translation run again (through its export) and rewrite `metrics.json`.

python -m apps.translation.evaluate --run_dir runs/translation [--data_dir DIR]

The test sentences are sent to the export's `translate_with_attention` signature exactly as a
serving client would send them, so the BLEU reported is the served model's.
"""

from shared.commands import app_command

main = app_command("translation", "evaluate", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
