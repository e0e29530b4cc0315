"""Train a video classifier, evaluate it on the test split and export it for serving.

python -m apps.video.train                                   # TFDS ucf101 (split 1)
python -m apps.video.train --data_dir DIR                    # DIR/<split>/<label>/<clip>
python -m apps.video.train --data_dir DIR --backbone_weights none   # no pretrained CNN
"""

from typing import Optional
from typing import Sequence

from apps.video.task import VideoTask
from shared.cli import command
from shared.runner import train_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return train_command(VideoTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
