"""Train a video classifier, evaluate it on the test split and export it for serving.

python -m apps.video.train                                   # TFDS ucf101 (split 1)
python -m apps.video.train --data_dir DIR                    # DIR/<split>/<label>/<clip>
python -m apps.video.train --data_dir DIR --backbone_weights none   # no pretrained CNN
"""

from shared.commands import app_command

main = app_command("video", "train", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
