"""Evaluate a finished sentiment run again (through its export) and rewrite `metrics.json`.

python -m apps.sentiment.evaluate --run_dir runs/sentiment [--data_dir DIR]
"""

from typing import Optional
from typing import Sequence

from apps.sentiment.task import SentimentTask
from shared.cli import command
from shared.runner import evaluate_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return evaluate_command(SentimentTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
