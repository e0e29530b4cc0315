"""Recognise the keyword in WAV files with a finished run.

python -m apps.speech.predict --run_dir runs/speech clip.wav other.wav
"""

from shared.commands import app_command

main = app_command("speech", "predict", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
