"""Translate sentences given as strings or as text files (one sentence per line), with a run.

python -m apps.translation.predict --run_dir runs/translation "A dog runs in the snow." notes.txt
"""

from typing import Optional
from typing import Sequence

from apps.translation.task import TranslationTask
from shared.cli import command
from shared.runner import predict_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return predict_command(TranslationTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
