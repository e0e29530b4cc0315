"""Train a translation model, score it on the test split with BLEU and export it for serving.

python -m apps.translation.train                          # TFDS wmt14_translate/de-en, en -> de
python -m apps.translation.train --data_dir DIR           # DIR/train.tsv, DIR/test.tsv
"""

from shared.commands import app_command

main = app_command("translation", "train", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
