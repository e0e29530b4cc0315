"""Evaluate a finished captioning run again (through its export) and rewrite `metrics.json`.

python -m apps.captioning.evaluate --run_dir runs/captioning [--data_dir DIR]
"""

from typing import Optional
from typing import Sequence

from apps.captioning.task import CaptioningTask
from shared.cli import command
from shared.runner import evaluate_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return evaluate_command(CaptioningTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
