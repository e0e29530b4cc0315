"""Train a spoken-keyword classifier, evaluate it on the test split and export it for serving.

python -m apps.speech.train                               # TFDS speech_commands
python -m apps.speech.train --data_dir DIR                # DIR/<split>/<label>/*.wav
"""

from shared.commands import app_command

main = app_command("speech", "train", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
