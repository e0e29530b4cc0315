"""Train a review sentiment classifier, evaluate it on the test split and export it for serving.

python -m apps.sentiment.train                               # TFDS imdb_reviews
python -m apps.sentiment.train --data_dir DIR                # DIR/<split>/<label>/*.txt
"""

from shared.commands import app_command

main = app_command("sentiment", "train", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
