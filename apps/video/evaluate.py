"""Evaluate a finished video run again (through its export) and rewrite `metrics.json`.

python -m apps.video.evaluate --run_dir runs/video [--data_dir DIR]
"""

from typing import Optional
from typing import Sequence

from apps.video.task import VideoTask
from shared.cli import command
from shared.runner import evaluate_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return evaluate_command(VideoTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
