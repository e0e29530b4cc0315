"""Caption image files with a finished run.

python -m apps.captioning.predict --run_dir runs/captioning photo.jpg drawing.png
"""

from shared.commands import app_command

main = app_command("captioning", "predict", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
