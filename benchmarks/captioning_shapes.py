"""Benchmark: can the captioner learn what it sees? Generated shapes, judged on meaning.

Writes the shapes set of `tests/apps/captioning/shapes.py` (one or two coloured shapes and
their spatial relation; 3,000 training images, 300 unseen test images at 64 pixels), trains
with `--backbone_weights none` (the small CNN, end to end) through the shared runner, then
captions every test image through the export and counts the captions whose meaning (colours,
shapes and relation, in either order) is right. The issue's target: at least 90% in under 15
minutes of training on 2 CPU cores.

    python benchmarks/captioning_shapes.py [--output_dir DIR] [extra train flags...]
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.apps.captioning.shapes

from apps.captioning.config import CaptioningConfig
from apps.captioning.data import read_folder
from apps.captioning.task import CaptioningTask
from shared.cli import parse_config
from shared.runner import train
from tests.apps.captioning.shapes import meaning_accuracy
from tests.apps.captioning.shapes import write_shapes

FLAGS = ["--backbone_weights", "none", "--image_size", "64", "--units", "256"]
FLAGS += ["--embedding_dim", "128", "--attention_units", "128"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output_dir", default=None)
    args, extra = parser.parse_known_args()
    root = Path(args.output_dir or tempfile.mkdtemp(prefix="captioning-shapes-"))
    data_dir = write_shapes(root / "data", {"train": 3000, "test": 300}, size=64, seed=1)
    argv = [*FLAGS, "--data_dir", str(data_dir), "--output_dir", str(root / "run")]
    argv += ["--cache_dir", str(root / "cache"), *extra]
    config = parse_config(CaptioningConfig, argv, "", prog="captioning_shapes")
    start = time.perf_counter()
    metrics = train(CaptioningTask(), config)
    total = time.perf_counter() - start
    test, _ = read_folder(data_dir / "test")
    serve = tf.saved_model.load(metrics["export"]).signatures["serving_default"]
    generated = {}
    for i in range(0, len(test.records), 50):
        batch = test.records[i : i + 50]
        images = tf.constant([r.path.read_bytes() for r in batch])
        for record, caption in zip(batch, serve(image_bytes=images)["caption"].numpy()):
            generated[record.name] = caption.decode("utf-8")
    references = {r.name: r.captions for r in test.records}
    accuracy = meaning_accuracy(generated, references)
    wrong = [
        (name, generated[name], references[name][0])
        for name in references
        if meaning_accuracy({name: generated[name]}, {name: references[name]}) < 1
    ]
    result = {
        "meaning_accuracy": round(accuracy, 4),
        "test_images": len(references),
        "train_seconds": metrics["train_seconds"],
        "total_seconds": round(total, 1),
        "epochs_trained": metrics["epochs_trained"],
        "beam": metrics["beam"],
        "greedy": metrics.get("greedy"),
        "baseline": metrics["baseline_most_frequent_caption"],
        "attention_map_change": metrics["attention_map_change"],
        "wrong_examples": wrong[:10],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
