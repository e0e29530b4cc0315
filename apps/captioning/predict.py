"""Caption image files with a finished run.

python -m apps.captioning.predict --run_dir runs/captioning photo.jpg drawing.png
"""

from typing import Optional
from typing import Sequence

from apps.captioning.task import CaptioningTask
from shared.cli import command
from shared.runner import predict_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return predict_command(CaptioningTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
