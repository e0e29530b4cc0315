"""Evaluate a finished speech run again (through its export) and rewrite `metrics.json`.

python -m apps.speech.evaluate --run_dir runs/speech [--data_dir DIR]

With folder data, the test clips are also sent to both endpoints (float waveforms and WAV
bytes) and `export_check` reports how often the two give the same label.
"""

from typing import Optional
from typing import Sequence

from apps.speech.task import SpeechTask
from shared.cli import command
from shared.runner import evaluate_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return evaluate_command(SpeechTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
