"""Train a translation model, score it on the test split with BLEU and export it for serving.

python -m apps.translation.train                          # TFDS wmt14_translate/de-en, en -> de
python -m apps.translation.train --data_dir DIR           # DIR/train.tsv, DIR/test.tsv
"""

from typing import Optional
from typing import Sequence

from apps.translation.task import TranslationTask
from shared.cli import command
from shared.runner import train_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return train_command(TranslationTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
