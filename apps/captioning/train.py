"""Train an image captioner, evaluate it on the test split and export it for serving.

python -m apps.captioning.train                                  # TFDS coco_captions
python -m apps.captioning.train --data_dir DIR                   # DIR/<split>/images + captions.tsv
python -m apps.captioning.train --data_dir DIR --backbone_weights none   # no pretrained CNN
"""

from shared.commands import app_command

main = app_command("captioning", "train", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
