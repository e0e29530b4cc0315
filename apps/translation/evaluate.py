"""Evaluate a finished translation run again (through its export) and rewrite `metrics.json`.

python -m apps.translation.evaluate --run_dir runs/translation [--data_dir DIR]

The test sentences are sent to the export's `translate_with_attention` signature exactly as a
serving client would send them, so the BLEU reported is the served model's.
"""

from typing import Optional
from typing import Sequence

from apps.translation.task import TranslationTask
from shared.cli import command
from shared.runner import evaluate_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return evaluate_command(TranslationTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
