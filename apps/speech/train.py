"""Train a spoken-keyword classifier, evaluate it on the test split and export it for serving.

python -m apps.speech.train                               # TFDS speech_commands
python -m apps.speech.train --data_dir DIR                # DIR/<split>/<label>/*.wav
"""

from typing import Optional
from typing import Sequence

from apps.speech.task import SpeechTask
from shared.cli import command
from shared.runner import train_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return train_command(SpeechTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
