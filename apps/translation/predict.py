"""Translate sentences given as strings or as text files (one sentence per line), with a run.

python -m apps.translation.predict --run_dir runs/translation "A dog runs in the snow." notes.txt
"""

from shared.commands import app_command

main = app_command("translation", "predict", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
