"""Classify video files (or folders of frames) with a finished run.

python -m apps.video.predict --run_dir runs/video clip.mp4 other.avi frames_folder/
"""

from shared.commands import app_command

main = app_command("video", "predict", __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
