"""Train an image captioner, evaluate it on the test split and export it for serving.

python -m apps.captioning.train                                  # TFDS coco_captions
python -m apps.captioning.train --data_dir DIR                   # DIR/<split>/images + captions.tsv
python -m apps.captioning.train --data_dir DIR --backbone_weights none   # no pretrained CNN
"""

from typing import Optional
from typing import Sequence

from apps.captioning.task import CaptioningTask
from shared.cli import command
from shared.runner import train_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return train_command(CaptioningTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
