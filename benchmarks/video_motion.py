"""Benchmark: does the video model see time? Generated motion clips, reversed pairs.

Writes the motion set of `tests/apps/video/motion.py` (six classes: a shape moving left,
right, up or down, growing or shrinking; 60 training and 20 test clips per class; mixed .mp4,
.avi and PNG-frame folders; 10-36 frames; several frame sizes; noisy scenes with static
distractors shared by the clips of a group), runs `python -m apps.video.train --data_dir <set>
--backbone_weights none` with the app's defaults, and reports the test accuracy, the
bag-of-frames baseline and, within each time-reversed pair, how often each tells the two apart
(0.5 = chance). The issue's target: at least 95% in under 15 minutes on 2 CPU cores, with the
bag-of-frames baseline near chance on the reversed pairs.

    python benchmarks/video_motion.py [--output_dir DIR] [extra train flags...]
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.apps.video.motion

from apps.video.config import VideoConfig
from apps.video.task import VideoTask
from shared.cli import parse_config
from shared.runner import train
from tests.apps.video.motion import reversed_pair_accuracy
from tests.apps.video.motion import write_motion


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output_dir", default=None)
    parser.add_argument("--seed", type=int, default=0, help="Seed of the generated clips")
    args, extra = parser.parse_known_args()
    root = Path(args.output_dir or tempfile.mkdtemp(prefix="video-motion-"))
    start = time.perf_counter()
    data_dir = write_motion(root / "data", {"train": 60, "test": 20}, seed=args.seed)
    generated = time.perf_counter() - start
    argv = ["--backbone_weights", "none", "--data_dir", str(data_dir)]
    argv += ["--output_dir", str(root / "run"), "--cache_dir", str(root / "cache"), *extra]
    config = parse_config(VideoConfig, argv, "", prog="video_motion")
    start = time.perf_counter()
    metrics = train(VideoTask(), config)
    total = time.perf_counter() - start
    names = tuple(json.loads((root / "run" / "config.json").read_text())["class_names"])
    report = {
        "test_accuracy": round(metrics["accuracy"], 4),
        "bag_of_frames_accuracy": round(metrics["bag_of_frames"]["accuracy"], 4),
        "majority_accuracy": round(metrics["baseline_majority"]["accuracy"], 4),
        "reversed_pairs_model": reversed_pair_accuracy(metrics["confusion_matrix"], names),
        "reversed_pairs_bag_of_frames": reversed_pair_accuracy(
            metrics["bag_of_frames"]["confusion_matrix"], names
        ),
        "epochs": metrics["epochs_trained"],
        "best_epoch": metrics["best_epoch"],
        "train_seconds": round(metrics["train_seconds"], 1),
        "command_seconds": round(total, 1),
        "generation_seconds": round(generated, 1),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
