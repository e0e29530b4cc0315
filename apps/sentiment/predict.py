"""Predict the sentiment of reviews given as text files or as strings, with a finished run.

python -m apps.sentiment.predict --run_dir runs/sentiment review.txt "A wonderful film."
"""

from pathlib import Path
from typing import Optional
from typing import Sequence

import tensorflow as tf

from shared.cli import command
from shared.evaluation import prediction_parser
from shared.export import load_signature
from shared.io import read_json
from shared.io import read_user_text
from shared.run_dir import RunDir


def read_input(item: str) -> tuple[str, str]:
    """(text, display name): the contents of an existing file, else the argument itself."""
    path = Path(item)
    if not path.is_file():
        return item, repr(item if len(item) <= 60 else item[:57] + "...")
    return read_user_text(path), str(path)


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = prediction_parser(
        "python -m apps.sentiment.predict",
        __doc__,
        metavar="INPUT",
        help="Text file or review string",
    )
    args = parser.parse_args(argv)
    run = RunDir(Path(args.run_dir))
    serve = load_signature(run)
    class_names = read_json(run.config)["class_names"]
    texts, names = zip(*(read_input(item) for item in args.inputs))
    outputs = serve(text=tf.constant(texts))
    for name, label, row in zip(names, outputs["label"].numpy(), outputs["probabilities"].numpy()):
        scores = "  ".join(f"{c}={p:.3f}" for c, p in zip(class_names, row))
        print(f"{label.decode()}\t{scores}\t{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
