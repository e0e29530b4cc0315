"""Train a review sentiment classifier, evaluate it on the test split and export it for serving.

python -m apps.sentiment.train                               # TFDS imdb_reviews
python -m apps.sentiment.train --data_dir DIR                # DIR/<split>/<label>/*.txt
"""

from typing import Optional
from typing import Sequence

from apps.sentiment.task import SentimentTask
from shared.cli import command
from shared.runner import train_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return train_command(SentimentTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
