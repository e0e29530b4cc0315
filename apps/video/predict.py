"""Classify video files (or folders of frames) with a finished run.

python -m apps.video.predict --run_dir runs/video clip.mp4 other.avi frames_folder/
"""

from typing import Optional
from typing import Sequence

from apps.video.task import VideoTask
from shared.cli import command
from shared.runner import predict_command


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    return predict_command(VideoTask(), argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
