"""Predict the sentiment of reviews given as text files or as strings, with a finished run.

python -m apps.sentiment.predict --run_dir runs/sentiment review.txt "A wonderful film."
"""

from typing import Optional
from typing import Sequence

from apps.sentiment.task import SentimentTask
from shared.cli import command
from shared.runner import predict_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return predict_command(SentimentTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
