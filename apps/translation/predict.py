"""Translate sentences given as strings or as text files (one sentence per line), with a run.

python -m apps.translation.predict --run_dir runs/translation "A dog runs in the snow." notes.txt
"""

from pathlib import Path
from typing import Optional
from typing import Sequence

import tensorflow as tf

from shared.cli import command
from shared.errors import UserError
from shared.evaluation import prediction_parser
from shared.export import load_signature
from shared.io import read_user_text
from shared.run_dir import RunDir

BATCH = 64


def read_sentences(item: str) -> list[str]:
    """The non-empty lines of an existing file, else the argument itself as one sentence."""
    path = Path(item)
    if not path.is_file():
        return [item]
    sentences = [line for line in read_user_text(path).splitlines() if line.strip()]
    if not sentences:
        raise UserError(f"{path}: no sentence (the file is empty)")
    return sentences


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = prediction_parser(
        "python -m apps.translation.predict", __doc__, metavar="INPUT", help="Sentence or text file"
    )
    args = parser.parse_args(argv)
    serve = load_signature(RunDir(Path(args.run_dir)))
    sentences = [sentence for item in args.inputs for sentence in read_sentences(item)]
    for start in range(0, len(sentences), BATCH):
        batch = sentences[start : start + BATCH]
        translations = serve(text=tf.constant(batch))["translation"].numpy()
        for source, translation in zip(batch, translations):
            print(f"{source}\t{translation.decode('utf-8')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
