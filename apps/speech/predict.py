"""Recognise the keyword in WAV files with a finished run.

python -m apps.speech.predict --run_dir runs/speech clip.wav other.wav
"""

from pathlib import Path
from typing import Optional
from typing import Sequence

import tensorflow as tf

from apps.speech.wav import wav_error
from shared.cli import command
from shared.errors import UserError
from shared.evaluation import prediction_parser
from shared.export import load_signature
from shared.io import read_json
from shared.run_dir import RunDir


def read_wav(item: str) -> bytes:
    path = Path(item)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        return path.read_bytes()
    except OSError as error:
        raise UserError(f"{path}: cannot read ({error.strerror})") from None


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = prediction_parser(
        "python -m apps.speech.predict",
        __doc__,
        metavar="WAV",
        help="WAV file (any rate or format)",
    )
    parser.add_argument("--top", type=int, default=3, help="Most probable classes to show")
    args = parser.parse_args(argv)
    run = RunDir(Path(args.run_dir))
    serve = load_signature(run, "audio_wav")
    class_names = read_json(run.config)["class_names"]
    for item in args.inputs:  # one at a time, so a bad file is named
        contents = read_wav(item)
        try:
            outputs = serve(wav_bytes=tf.constant([contents]))
        except tf.errors.InvalidArgumentError as error:
            raise UserError(f"{item}: {wav_error(error)}") from None
        row = outputs["probabilities"].numpy()[0]
        best = row.argsort()[::-1][: args.top]
        scores = "  ".join(f"{class_names[i]}={row[i]:.3f}" for i in best)
        print(f"{outputs['label'].numpy()[0].decode()}\t{scores}\t{item}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
