"""Recognise the keyword in WAV files with a finished run.

python -m apps.speech.predict --run_dir runs/speech clip.wav other.wav
"""

from typing import Optional
from typing import Sequence

from apps.speech.task import SpeechTask
from shared.cli import command
from shared.runner import predict_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return predict_command(SpeechTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
